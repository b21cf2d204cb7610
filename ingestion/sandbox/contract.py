"""The contract between the synthetic school group (``synthetic.py``) and the sandbox server (``server.py``).

The generator builds a :class:`SchoolGroup`; the server only ever reads it through these types, so either
side can change its internals freely.

Records are *element dicts*: the Json.NET shape of one Batch item (``"@Attr"`` keys for XML attributes,
``{"@Legacy": "True", "#text": "..."}`` for legacy duplicates, every leaf a ``str`` or ``None``), except that a
repeated child element is always a ``list`` (the server collapses single items the way iSAMS does).
A leaf that iSAMS would omit is simply absent from the dict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

ElementDict = dict[str, Any]


class SandboxSchool(Protocol):
    """One school of the synthetic group, as the sandbox serves it."""

    code: str  # short school code, e.g. "NHS"; used in every warehouse key
    name: str
    api_key: str  # the Batch API key that selects this school
    rest_client_id: str | None  # None when the school has no REST API access
    rest_client_secret: str | None

    def batch_records(self, dataset: str) -> list[ElementDict]:
        """Items of a non-register Batch dataset (names from ``ingestion.isams.datasets``), as of today."""

    def registration_statuses(self, start: date, end: date) -> Iterator[ElementDict]:
        """Register marks with ``start <= date < end`` and date <= today, AM and PM, in date order."""

    def absence_codes(self) -> list[dict[str, Any]]:
        """REST ``absenceCodes`` items (camelCase, typed JSON values, with ``governmentCode``)."""

    def present_codes(self) -> list[dict[str, Any]]:
        """REST ``presentCodes`` items."""

    def rest_terms(self) -> list[dict[str, Any]]:
        """REST ``terms`` items: id, name, schoolYear, startDate, finishDate."""

    def former_pupils(self) -> list[dict[str, Any]]:
        """REST ``alumni`` items: leavers before today with their attributes as they left (Student fields)."""


@dataclass
class SchoolGroup:
    """A deterministic synthetic school group: what the sandbox serves."""

    seed: int
    today: date
    schools: list[SandboxSchool] = field(default_factory=list)

    def by_api_key(self, api_key: str) -> SandboxSchool | None:
        return next((s for s in self.schools if s.api_key == api_key), None)

    def by_client_id(self, client_id: str) -> SandboxSchool | None:
        return next((s for s in self.schools if s.rest_client_id and s.rest_client_id == client_id), None)

    def by_code(self, code: str) -> SandboxSchool | None:
        return next((s for s in self.schools if s.code.lower() == code.lower()), None)
