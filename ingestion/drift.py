"""Schema drift: which fields a school's iSAMS started sending, stopped sending, or sends in a new shape.

During extraction the source notes, per dataset, every field it received and the JSON *kinds* of its values
(``string``/``number``/``boolean``/``object``/``list``; a null says nothing about the kind). After the run,
:func:`record_drift` compares that with what the same school sent before, kept in ``ops.schema_fields``,
and logs every change to ``ops.schema_drift``. The first observation of a (school, dataset) is the baseline
and reports nothing.

Nothing is lost whatever drifts: a new field lands as a new column (dlt evolves the table), a missing field
lands as null, and a value whose kind changed from scalar to object/list is kept as its JSON text in the
original column (see ``ingestion.isams.source``), so staging's column types never change under it.

Field names are warehouse column names (dlt snake_case); ``a__b`` is field ``b`` of object ``a`` (dlt's
own column name for it) and ``a[].b`` is field ``b`` of the items of list ``a`` (the nested table
``<dataset>__a``). ``school_code`` is ours, not the API's, and is never observed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from rich.table import Table

from ingestion.warehouse import Connection, Warehouse, as_warehouse

Shapes = dict[str, set[str]]  # field -> kinds of its non-null values (empty: only nulls seen)
DriftKind = Literal["new_field", "missing_field", "changed_type"]
NULL_SHAPE = "null"
OWN_COLUMNS = frozenset({"school_code"})  # added by the source, not sent by iSAMS

DDL = """
create schema if not exists ops;
create table if not exists ops.schema_fields (
    school_code varchar not null,
    dataset varchar not null,
    field varchar not null,
    shape varchar not null,            -- kinds joined by '|' (e.g. 'string', 'object|string'), or 'null'
    first_seen_run varchar not null,
    last_seen_run varchar not null,
    missing_since_run varchar,         -- set when a complete fetch no longer had it; null while sent
    primary key (school_code, dataset, field)
);
create table if not exists ops.schema_drift (
    run_id varchar not null,
    detected_at timestamp not null,
    school_code varchar not null,
    dataset varchar not null,
    kind varchar not null,             -- 'new_field' | 'missing_field' | 'changed_type'
    field varchar not null,
    detail varchar
);
"""


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


def _walk(record: Mapping[str, Any], naming: Any, prefix: str, out: Shapes) -> None:
    for key, value in record.items():
        name = naming(key)
        if name in OWN_COLUMNS:
            continue
        path = prefix + name
        kinds = out.setdefault(path, set())
        kind = kind_of(value)
        if kind is not None:
            kinds.add(kind)
        if kind == "object":
            _walk(value, naming, path + "__", out)
        elif kind == "list":
            for item in value:
                if isinstance(item, dict):
                    _walk(item, naming, path + "[].", out)


def record_shapes(records: Iterable[Mapping[str, Any]], naming: Any = str) -> Shapes:
    """Union of the fields and value kinds of ``records`` (nested objects and list items included).

    ``naming`` maps a source key to its column name (the source passes dlt's naming convention).
    """
    out: Shapes = {}
    for record in records:
        _walk(record, naming, "", out)
    return out


def merge_shapes(into: Shapes, more: Mapping[str, Iterable[str]]) -> Shapes:
    for name, kinds in more.items():
        into.setdefault(name, set()).update(kinds)
    return into


def shape_label(kinds: Iterable[str]) -> str:
    return "|".join(sorted(set(kinds))) or NULL_SHAPE


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
    failed = {f.dataset for f in result.failures}
    return [
        DatasetFields(result.school, dataset, shapes, complete=dataset not in failed)
        for dataset, shapes in sorted(result.shapes.items()) if shapes
    ]


@dataclass(frozen=True)
class DriftEvent:
    school: str
    dataset: str
    kind: DriftKind
    field: str
    detail: str


_LABELS = {"new_field": "[green]new field[/]", "missing_field": "[yellow]missing field[/]",
           "changed_type": "[red]changed type[/]"}


@dataclass
class DriftReport:
    run_id: str
    events: list[DriftEvent] = field(default_factory=list)
    baselined: list[tuple[str, str]] = field(default_factory=list)  # (school, dataset) first seen this run

    @property
    def ok(self) -> bool:
        return not self.events

    def of_kind(self, kind: DriftKind) -> list[DriftEvent]:
        return [e for e in self.events if e.kind == kind]

    def summary(self) -> str:
        if self.ok:
            return "no schema drift"
        counts = {k: len(self.of_kind(k)) for k in ("new_field", "missing_field", "changed_type")}
        return "schema drift: " + ", ".join(f"{n} {k.replace('_', ' ')}(s)" for k, n in counts.items() if n)

    def table(self) -> Table:
        """The events for the run summary (rich)."""
        grid = Table(title=f"Schema drift this run ({len(self.events)} change(s); data kept, see ops.schema_drift)")
        for column in ("school", "dataset", "change", "field", "detail"):
            grid.add_column(column)
        for e in sorted(self.events, key=lambda e: (e.school, e.dataset, e.kind, e.field)):
            grid.add_row(e.school, e.dataset, _LABELS[e.kind], e.field, e.detail)
        return grid


@dataclass
class _Known:
    shape: str
    last_seen_run: str
    missing_since_run: str | None


def _compare(obs: DatasetFields, known: dict[str, _Known]) -> Iterator[DriftEvent]:
    seen = {name: shape_label(kinds) for name, kinds in obs.fields.items()}
    for name, shape in sorted(seen.items()):
        before = known.get(name)
        if before is None:
            yield DriftEvent(obs.school, obs.dataset, "new_field", name, f"first sent as {shape}; landed as a new column")
        elif NULL_SHAPE not in (before.shape, shape) and before.shape != shape:
            yield DriftEvent(obs.school, obs.dataset, "changed_type", name,
                             f"was {before.shape}, now {shape}; kept (non-scalar values as JSON text)")
    if obs.complete:
        for name in sorted(set(known) - set(seen)):
            if known[name].missing_since_run is None:
                yield DriftEvent(obs.school, obs.dataset, "missing_field", name,
                                 f"not sent (last seen in run {known[name].last_seen_run}); lands as null")


def _known(con: Connection, school: str, dataset: str) -> dict[str, _Known]:
    rows = con.execute(
        "select field, shape, last_seen_run, missing_since_run from ops.schema_fields "
        "where school_code = ? and dataset = ?", [school, dataset],
    ).fetchall()
    return {f: _Known(s, last, missing) for f, s, last, missing in rows}


def _store(con: Connection, obs: DatasetFields, known: dict[str, _Known], run_id: str) -> None:
    rows = []
    for name, kinds in obs.fields.items():
        shape = shape_label(kinds)
        if shape == NULL_SHAPE and name in known:
            shape = known[name].shape  # a null says nothing about the kind: keep what we knew
        rows.append((obs.school, obs.dataset, name, shape, run_id, run_id, None))
    con.executemany(
        "insert into ops.schema_fields values (?, ?, ?, ?, ?, ?, ?) on conflict (school_code, dataset, field) "
        "do update set "
        "shape = excluded.shape, last_seen_run = excluded.last_seen_run, missing_since_run = null",
        rows,
    )
    if obs.complete:
        gone = [(run_id, obs.school, obs.dataset, name) for name, k in known.items()
                if name not in obs.fields and k.missing_since_run is None]
        if gone:
            con.executemany(
                "update ops.schema_fields set missing_since_run = ? where school_code = ? and dataset = ? and field = ?",
                gone,
            )


def record_drift(warehouse: Warehouse | Path, run_id: str, observations: Iterable[DatasetFields]) -> DriftReport:
    """Compare this run's fields with what each school sent before; persist both; return the changes.

    A missing field is reported once, when it first goes missing; it is reported as nothing again until it
    comes back and goes again. Observations without fields (nothing fetched) are ignored.
    """
    report = DriftReport(run_id)
    now = datetime.now()
    with as_warehouse(warehouse).connect() as con:
        con.execute(DDL)
        for obs in observations:
            if not obs.fields:
                continue
            known = _known(con, obs.school, obs.dataset)
            if known:
                report.events.extend(_compare(obs, known))
            else:
                report.baselined.append((obs.school, obs.dataset))
            _store(con, obs, known, run_id)
        if report.events:
            con.executemany(
                "insert into ops.schema_drift values (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, now, e.school, e.dataset, e.kind, e.field, e.detail) for e in report.events],
            )
    return report
