"""``ops.quarantine`` and ``ops.quarantined_records``: the contract between validation and dbt staging.

``ops.quarantine`` is append-only history, one row per (school_code, dataset, record_id, rule, load_id):
which record of which load failed which rule, and why (a sentence; personal values are withheld). Writing
the same failure again (a rerun over the same load) adds nothing.

``ops.quarantined_records (school_code, dataset, record_id)`` lists, once each, the records whose
*current* raw row (scd2: ``_dlt_valid_to is null``; registers: the merged row) carries a load that failed
a rule. A record fixed at source arrives in a later load, no longer matches, and drops out by itself.

Contract for staging (``models/staging/isams/stg_isams__<dataset>``): keep a raw row only when no
quarantined record matches it, i.e. anti-join on the dataset name and the record id, as text::

    left join {{ source('ops', 'quarantined_records') }} q
        on q.school_code = r.school_code and q.dataset = '<dataset>'
       and q.record_id = cast(r.<key> as varchar)            -- key: rules.BY_DATASET[dataset].key
    where q.record_id is null

``record_id`` is the dataset's key (``id``; ``person_id`` for contacts), or ``_dlt_id=<_dlt_id>`` for a row
whose key is null. Both objects exist once ``validate_landed`` (or ``ensure``) has run, even when empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ingestion.core.warehouse import Connection


class DatasetRules(Protocol):
    """What the view needs of a dataset's rules (``ingestion.validation.rules.DatasetRules``; ops sits below
    validation, so it names the shape, not the class)."""

    name: str
    key: str
    scd2: bool

DDL = """
create schema if not exists ops;
create table if not exists ops.quarantine (
    run_id varchar not null,
    school_code varchar not null,
    dataset varchar not null,
    record_id varchar not null,
    rule varchar not null,              -- e.g. 'accepted:registered'
    reason varchar not null,            -- e.g. 'registered is ''2'', expected ''0'' or ''1'''
    load_id varchar not null,           -- the raw row's _dlt_load_id
    quarantined_at timestamp not null
);
"""

_EMPTY_VIEW = """
create or replace view ops.quarantined_records as
select distinct school_code, dataset, record_id from ops.quarantine where false
"""


def ensure(con: Connection) -> None:
    con.execute(DDL)
    if not con.table_exists("ops", "quarantined_records"):
        con.execute(_EMPTY_VIEW)


def record(con: Connection, rows: list[tuple]) -> int:
    """Append failures not already recorded for the same key; return how many were new."""
    if not rows:
        return 0
    con.execute("drop table if exists _q")
    con.execute(
        "create temp table _q (run_id varchar, school_code varchar, dataset varchar, record_id varchar, "
        "rule varchar, reason varchar, load_id varchar, quarantined_at timestamp)"
    )
    con.executemany("insert into _q values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    before = con.execute("select count(*) from ops.quarantine").fetchall()[0][0]
    con.execute("""
        insert into ops.quarantine
        select min(run_id), school_code, dataset, record_id, rule, min(reason), load_id,
               min(quarantined_at)
        from _q n
        where not exists (
            select 1 from ops.quarantine q
            where q.school_code = n.school_code and q.dataset = n.dataset and q.record_id = n.record_id
              and q.rule = n.rule and q.load_id = n.load_id)
        group by school_code, dataset, record_id, rule, load_id
    """)
    con.execute("drop table _q")
    return con.execute("select count(*) from ops.quarantine").fetchall()[0][0] - before


def _current_sql(rules: DatasetRules, columns: list[str]) -> str:
    key = f'cast("{rules.key}" as varchar)' if rules.key in columns else "null"
    fallback = " || _dlt_id" if "_dlt_id" in columns else ""
    record_id = f"coalesce({key}, '_dlt_id='{fallback})" if fallback else key
    current = " where _dlt_valid_to is null" if rules.scd2 and "_dlt_valid_to" in columns else ""
    return (f"select school_code, '{rules.name}' as dataset, {record_id} as record_id, "
            f"_dlt_load_id as load_id from raw_isams.\"{rules.name}\"{current}")


def create_view(
    con: Connection, rules: Mapping[str, DatasetRules], columns: Mapping[str, list[str]]
) -> None:
    """(Re)create the view over the raw tables that exist now (rerun after a new table first lands)."""
    parts = [_current_sql(r, columns[name]) for name, r in sorted(rules.items())
             if {"school_code", "_dlt_load_id"} <= set(columns.get(name, ()))]
    if not parts:
        con.execute(_EMPTY_VIEW)
        return
    con.execute(f"""
        create or replace view ops.quarantined_records as
        with current_rows as ({" union all ".join(parts)})
        select distinct q.school_code, q.dataset, q.record_id
        from ops.quarantine q
        join current_rows c
          on c.school_code = q.school_code and c.dataset = q.dataset
         and c.record_id = q.record_id and c.load_id = q.load_id
    """)
