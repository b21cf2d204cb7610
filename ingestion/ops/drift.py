"""Schema drift: which fields a school's iSAMS started sending, stopped sending, or sends in a new shape.

During extraction the source notes, per dataset, every field it received and the JSON *kinds* of its values
(``string``/``number``/``boolean``/``object``/``list``; a null says nothing about the kind). After the run,
:func:`record_drift` compares that with what the same school sent before, kept in ``ops.schema_fields``,
and logs every change to ``ops.schema_drift``. The first observation of a (school, dataset) is the baseline
and reports nothing.

Nothing is lost whatever drifts: a new field lands as a new column (dlt evolves the table), a missing field
lands as null, and a value whose kind changed from scalar to object/list is kept as its JSON text in the
original column (see ``ingestion.isams.source``), so staging's column types never change under it.

**Values drift too.** Every iSAMS leaf is a string, so the JSON kind rarely changes; what changes is what
the strings hold. Each non-blank string is classed as ``integer``, ``date``, ``flag`` (true/false/yes/no) or
``text``, and the classes a field has always had are kept in ``ops.schema_fields.value_types``. A field whose
values were always numbers, dates or flags and now include another class (NCYear ``"Year 10"`` where it was
``"10"``) is a ``changed_values`` event, with up to three example **record ids** (never the values: they may
be personal); ``value_drift_since_run`` stays set until the field's values parse again, and ``schoolwh
status`` counts such fields per school. Value classes and examples travel with the JSON kinds in the same
:data:`Shapes` sets, as ``value:<class>`` and ``example:<class>:<record id>`` tokens (:func:`shape_label`
ignores them).

A scalar field that becomes an object or a list (or back) is one ``changed_type`` event of that field; the
sub-fields that appear or vanish with it are part of that change, not new or missing fields of their own.

Field names are warehouse column names (dlt snake_case); ``a__b`` is field ``b`` of object ``a`` (dlt's
own column name for it) and ``a[].b`` is field ``b`` of the items of list ``a`` (the nested table
``<dataset>__a``). ``school_code`` is ours, not the API's, and is never observed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ingestion.core.shapes import (
    NULL_SHAPE,
    TYPED_CLASSES,
    DatasetFields,
    shape_label,
    value_classes,
    value_examples,
)
from ingestion.core.warehouse import Connection, Warehouse

DriftKind = Literal["new_field", "missing_field", "changed_type", "changed_values"]

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
alter table ops.schema_fields add column if not exists value_types varchar;  -- e.g. 'integer'; 'date|text'
alter table ops.schema_fields add column if not exists value_drift_since_run varchar;  -- values stopped parsing
create table if not exists ops.schema_drift (
    run_id varchar not null,
    detected_at timestamp not null,
    school_code varchar not null,
    dataset varchar not null,
    kind varchar not null,             -- 'new_field' | 'missing_field' | 'changed_type' | 'changed_values'
    field varchar not null,
    detail varchar
);
"""


@dataclass(frozen=True)
class DriftEvent:
    school: str
    dataset: str
    kind: DriftKind
    field: str
    detail: str


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
        counts = {k: len(self.of_kind(k)) for k in ("new_field", "missing_field", "changed_type", "changed_values")}
        return "schema drift: " + ", ".join(f"{n} {k.replace('_', ' ')}(s)" for k, n in counts.items() if n)



@dataclass
class _Known:
    shape: str
    last_seen_run: str
    missing_since_run: str | None
    value_types: str | None = None  # value classes the field has had, '|'-joined; None = not known yet
    value_drift_since_run: str | None = None


def _established(known: _Known | None) -> set[str]:
    """The typed value classes a field has always had (empty when it holds text, or nothing is known)."""
    classes = set((known.value_types or "").split("|")) - {""} if known else set()
    return classes if classes and classes <= TYPED_CLASSES else set()


def _new_value_classes(kinds: Iterable[str], known: _Known | None) -> set[str]:
    established = _established(known)
    return value_classes(kinds) - established if established else set()


def _under(name: str, parent: str) -> bool:
    return name.startswith((parent + "__", parent + "[]."))


def _compare(obs: DatasetFields, known: dict[str, _Known]) -> Iterator[DriftEvent]:
    seen = {name: shape_label(kinds) for name, kinds in obs.fields.items()}
    changed = {name for name, shape in seen.items() if name in known
               and NULL_SHAPE not in (known[name].shape, shape) and known[name].shape != shape}
    for name, shape in sorted(seen.items()):
        before = known.get(name)
        if any(_under(name, parent) for parent in changed):
            continue  # a sub-field of a field that changed shape: part of that change
        if before is None:
            yield DriftEvent(obs.school, obs.dataset, "new_field", name, f"first sent as {shape}; landed as a new column")
        elif name in changed:
            parts = sorted(n for n in set(seen) | set(known) if _under(n, name))
            inner = f" (with {', '.join(parts)})" if parts else ""
            yield DriftEvent(obs.school, obs.dataset, "changed_type", name,
                             f"was {before.shape}, now {shape}{inner}; kept (non-scalar values as JSON text)")
        else:
            new = _new_value_classes(obs.fields[name], before)
            if new and before is not None and before.value_drift_since_run is None:
                examples = value_examples(obs.fields[name], new)
                shown = f", e.g. record(s) {', '.join(examples)}" if examples else ""
                yield DriftEvent(obs.school, obs.dataset, "changed_values", name,
                                 f"values were always {before.value_types}, now also {'|'.join(sorted(new))}{shown}; "
                                 "those do not parse (null in staging, see monitoring_cast_failures)")
    if obs.complete:
        for name in sorted(set(known) - set(seen)):
            if any(_under(name, parent) for parent in changed):
                continue
            if known[name].missing_since_run is None:
                yield DriftEvent(obs.school, obs.dataset, "missing_field", name,
                                 f"not sent (last seen in run {known[name].last_seen_run}); lands as null")


def _known(con: Connection, school: str, dataset: str) -> dict[str, _Known]:
    rows = con.execute(
        "select field, shape, last_seen_run, missing_since_run, value_types, value_drift_since_run "
        "from ops.schema_fields where school_code = ? and dataset = ?", [school, dataset],
    ).fetchall()
    return {f: _Known(s, last, missing, types, since) for f, s, last, missing, types, since in rows}


def _store(con: Connection, obs: DatasetFields, known: dict[str, _Known], run_id: str) -> None:
    rows = []
    for name, kinds in obs.fields.items():
        before = known.get(name)
        shape = shape_label(kinds)
        if shape == NULL_SHAPE and before is not None:
            shape = before.shape  # a null says nothing about the kind: keep what we knew
        classes = value_classes(kinds)
        if _new_value_classes(kinds, before):
            # values stopped parsing: keep the type the field always had, and since when it has drifted
            types = before.value_types if before else None
            since = (before.value_drift_since_run if before else None) or run_id
        else:
            types = "|".join(sorted(classes | set(((before.value_types if before else None) or "").split("|")) - {""})) \
                or None
            since = None if classes else (before.value_drift_since_run if before else None)
        rows.append((obs.school, obs.dataset, name, shape, run_id, run_id, None, types, since))
    con.executemany(
        "insert into ops.schema_fields (school_code, dataset, field, shape, first_seen_run, last_seen_run, "
        "missing_since_run, value_types, value_drift_since_run) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "on conflict (school_code, dataset, field) do update set "
        "shape = excluded.shape, last_seen_run = excluded.last_seen_run, missing_since_run = null, "
        "value_types = excluded.value_types, value_drift_since_run = excluded.value_drift_since_run",
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


def record_drift(warehouse: Warehouse, run_id: str, observations: Iterable[DatasetFields]) -> DriftReport:
    """Compare this run's fields with what each school sent before; persist both; return the changes.

    A missing field is reported once, when it first goes missing; it is reported as nothing again until it
    comes back and goes again. Values that stop parsing are reported the same way: once, when they start
    (``value_drift_since_run`` keeps the state until they parse again). Observations without fields (nothing fetched) are ignored.
    """
    report = DriftReport(run_id)
    now = datetime.now()
    with warehouse.connect() as con:
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


def value_drift_per_school(con: Connection) -> dict[str, int]:
    """Fields per school whose values currently do not parse as the type they always had (for ``status``)."""
    if "value_drift_since_run" not in con.columns("ops", "schema_fields"):
        return {}
    return dict(con.execute("select school_code, count(*) from ops.schema_fields "
                            "where value_drift_since_run is not null group by 1").fetchall())
