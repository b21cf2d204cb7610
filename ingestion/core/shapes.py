"""Record shapes: which fields a batch of records carried, the JSON kinds of their values and the classes of
their string values, observed while a source extracts (the hot path, so no warehouse and no tools here).

A source (``ingestion.isams``) notes per dataset a :data:`Shapes` mapping: field -> the kinds of its non-null
values (``string``/``number``/``boolean``/``object``/``list``), plus ``value:<class>`` tokens for the classes
of its string values (``integer``, ``date``, ``flag``, ``text``) and ``example:<class>:<record id>`` tokens
naming up to three records of each class (record ids, never values: they may be personal). Comparing these
with what a school sent before is ``ingestion.ops.drift``'s job.

Field names are warehouse column names (dlt snake_case); ``a__b`` is field ``b`` of object ``a`` and
``a[].b`` is field ``b`` of the items of list ``a``. ``school_code`` is ours, not the API's, and is never
observed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Shapes = dict[str, set[str]]  # field -> kinds of its non-null values (empty: only nulls seen)
NULL_SHAPE = "null"
VALUE = "value:"  # token prefix: a class of the field's string values (integer, date, flag, text)
EXAMPLE = "example:"  # token prefix: example:<class>:<record id>
MAX_EXAMPLES = 3  # example record ids kept per field and value class
TYPED_CLASSES = frozenset({"integer", "date", "flag"})
RECORD_ID_KEYS = ("@Id", "Id", "id", "@PersonId", "person_id")  # the record's own id, as sent or as dlt names it
OWN_COLUMNS = frozenset({"school_code"})  # added by the source, not sent by iSAMS


def kind_of(value: Any) -> str | None:
    """The JSON kind of a value; None for null (no evidence either way)."""
    if value is None:
        return None
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


_INTEGER = re.compile(r"[-+]?[0-9]+\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?\Z")
_FLAGS = frozenset({"true", "false", "yes", "no"})


def value_class(text: str) -> str | None:
    """What a string holds: 'integer', 'date' (ISO, a real day), 'flag', 'text'; None when blank."""
    value = text.strip()
    if not value:
        return None
    if _INTEGER.match(value):
        return "integer"
    if _DATE.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "text"
        return "date"
    return "flag" if value.lower() in _FLAGS else "text"


def _add_value(kinds: set[str], cls: str, record_id: str | None) -> None:
    kinds.add(VALUE + cls)
    if record_id is not None:
        prefix = f"{EXAMPLE}{cls}:"
        if sum(1 for k in kinds if k.startswith(prefix)) < MAX_EXAMPLES:
            kinds.add(prefix + record_id)


def _record_id(record: Mapping[str, Any]) -> str | None:
    for key in RECORD_ID_KEYS:
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return None


def _walk(record: Mapping[str, Any], naming: Any, prefix: str, out: Shapes, record_id: str | None) -> None:
    for key, value in record.items():
        name = naming(key)
        if name in OWN_COLUMNS:
            continue
        path = prefix + name
        kinds = out.setdefault(path, set())
        kind = kind_of(value)
        if kind is not None:
            kinds.add(kind)
        if kind == "string":
            cls = value_class(value)
            if cls is not None:
                _add_value(kinds, cls, record_id)
        elif kind == "object":
            _walk(value, naming, path + "__", out, record_id)
        elif kind == "list":
            for item in value:
                if isinstance(item, dict):
                    _walk(item, naming, path + "[].", out, record_id)


def record_shapes(records: Iterable[Mapping[str, Any]], naming: Any = str) -> Shapes:
    """Union of the fields and value kinds of ``records`` (nested objects and list items included), with the
    classes of their string values and a few example record ids per class (see the module docstring).

    ``naming`` maps a source key to its column name (the source passes dlt's naming convention).
    """
    out: Shapes = {}
    for record in records:
        _walk(record, naming, "", out, _record_id(record))
    return out


def column_value_tokens(table: Any, column: str, id_column: str = "id") -> set[str]:
    """The value classes (and example ids) of one all-string Arrow column, vectorised for the register
    tables: integer, date (ISO shape), flag, text, like :func:`value_class` (dates are not checked day by day)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if values.null_count == len(values) or not pa.types.is_string(values.type):
        return set()
    text = pc.utf8_trim_whitespace(values)
    patterns = {
        "integer": r"^[-+]?[0-9]+$",
        "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?$",
        "flag": r"^(?i)(true|false|yes|no)$",
    }
    ids = table.column(id_column) if id_column in table.column_names else None
    # a class depends on the text alone: classify the distinct texts (a register column has a handful:
    # flags, codes, dates), then find the rows of a class only to name its first example ids
    distinct = pc.unique(text)
    per_row = len(distinct) * 2 > len(text)  # mostly distinct (ids): classify the rows themselves
    if per_row:
        distinct = text
    left = pc.invert(pc.fill_null(pc.equal(distinct, ""), True))
    tokens: set[str] = set()
    for cls, pattern in (*patterns.items(), ("text", None)):
        hit = left if pattern is None else pc.and_(left, pc.fill_null(pc.match_substring_regex(distinct, pattern), False))
        if not pc.any(hit).as_py():
            continue
        tokens.add(VALUE + cls)
        if ids is not None:
            rows = hit if per_row else pc.fill_null(pc.is_in(text, value_set=pc.filter(distinct, hit)), False)
            for record_id in pc.filter(ids, rows).slice(0, MAX_EXAMPLES).to_pylist():
                if record_id is not None:
                    tokens.add(f"{EXAMPLE}{cls}:{record_id}")
        left = pc.and_(left, pc.invert(hit))
    return tokens


def merge_shapes(into: Shapes, more: Mapping[str, Iterable[str]]) -> Shapes:
    for name, kinds in more.items():
        into.setdefault(name, set()).update(kinds)
    return into


def _is_kind(token: str) -> bool:
    return not token.startswith((VALUE, EXAMPLE))


def shape_label(kinds: Iterable[str]) -> str:
    """The JSON kinds of a field as stored ('object|string'); value classes and examples are not part of it."""
    return "|".join(sorted({k for k in kinds if _is_kind(k)})) or NULL_SHAPE


def value_classes(kinds: Iterable[str]) -> set[str]:
    return {k[len(VALUE):] for k in kinds if k.startswith(VALUE)}


def value_examples(kinds: Iterable[str], classes: Iterable[str]) -> list[str]:
    """Example record ids of the given value classes (at most MAX_EXAMPLES, sorted)."""
    wanted = tuple(f"{EXAMPLE}{c}:" for c in classes)
    return sorted({k.split(":", 2)[2] for k in kinds if k.startswith(wanted)})[:MAX_EXAMPLES]


@dataclass(frozen=True)
class DatasetFields:
    """The fields one school sent for one dataset this run.

    ``complete`` is False when part of the fetch failed: then an absent field proves nothing.
    """

    school: str
    dataset: str
    fields: Mapping[str, Iterable[str]]
    complete: bool = True


class _IngestResult(Protocol):  # ``ingestion.isams.source.SchoolIngestResult`` (not imported: dlt is slow)
    school: str
    shapes: dict[str, Shapes]
    failures: list[Any]


def observations_from(result: _IngestResult) -> list[DatasetFields]:
    """What a school's ingest observed, marking datasets with a failure (e.g. one register window) partial."""
    # a SEEMiS file refused for its header is a complete observation of that header (its missing columns)
    failed = {f.dataset for f in result.failures} - set(getattr(result, "header_drift", ()) or ())
    return [
        DatasetFields(result.school, dataset, shapes, complete=dataset not in failed)
        for dataset, shapes in sorted(result.shapes.items()) if shapes
    ]
