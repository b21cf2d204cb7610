"""``ops.quarantine`` and ``ops.quarantined_records``: the contract between validation and dbt staging.

``ops.quarantine`` is append-only history, one row per (school_code, dataset, record_id, rule, load_id):
which record of which load failed which rule, and why (a sentence; personal values are withheld). Writing
the same failure again (a rerun over the same load) adds nothing.

``ops.quarantined_records (school_code, dataset, record_id)`` lists, once each, the records whose
*current* raw row (scd2: ``_dlt_valid_to is null``; registers: the merged row) carries a load that failed
a rule. A record fixed at source arrives in a later load, no longer matches, and drops out by itself.

Contract for staging (``models/staging/<source>/stg_<source>__<dataset>``, via the macro ``staging_from``):
keep a raw row only when no quarantined record matches it, i.e. anti-join on the dataset name and the record
id, as text::

    left join {{ source('ops', 'quarantined_records') }} q
        on q.school_code = r.school_code and q.dataset = '<dataset>'
       and q.record_id = cast(r.<key> as varchar)  -- key: rules.BY_SCHEMA_DATASET[(schema, dataset)].key
    where q.record_id is null

``record_id`` is the dataset's key (iSAMS: ``id``, ``person_id`` for contacts; SEEMiS: ``record_id``), or
``_dlt_id=<_dlt_id>`` for a row whose key is null. The view covers every raw schema (``raw_isams``,
``raw_seemis``); ``dataset`` is the bare table name, which two schemas may share (``pupils``, ``terms``): a
school has one MIS, so ``school_code`` tells them apart. Both objects exist once ``validate_landed`` (or
``ensure``) has run, even when empty.

Lines a source refused to land at read time (a SEEMiS line that does not parse: rules ``structure:*`` and
``parse:*``, record ``<file>:<line>``) are in ``ops.quarantine`` too but never in the view (there is no raw
row to skip); ``unloaded_lines`` counts those still missing, for ``schoolwh status``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Protocol

from ingestion.core.warehouse import Connection


class DatasetRules(Protocol):
    """What the view needs of a dataset's rules (``ingestion.validation.rules.DatasetRules``; ops sits below
    validation, so it names the shape, not the class)."""

    name: str
    key: str
    scd2: bool
    schema: str  # the raw schema holding the table (raw_isams, raw_seemis)

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
            f"_dlt_load_id as load_id from {_schema(rules)}.\"{rules.name}\"{current}")


def _schema(rules: DatasetRules) -> str:
    return getattr(rules, "schema", "raw_isams")


def create_view(
    con: Connection, rules: Mapping[Hashable, DatasetRules], columns: Mapping[Hashable, list[str]]
) -> None:
    """(Re)create the view over the raw tables that exist now (rerun after a new table first lands).

    ``rules`` and ``columns`` share their keys: the dataset name, or (schema, name) when several raw schemas
    are covered; each dataset's raw table is read from its rules' ``schema``."""
    ordered = sorted(rules.items(), key=lambda item: (_schema(item[1]), item[1].name))
    parts = [_current_sql(r, columns[key]) for key, r in ordered
             if {"school_code", "_dlt_load_id"} <= set(columns.get(key, ()))]
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


READ_TIME_RULES = ("structure:", "parse:")  # lines a source refused to land (ingestion/seemis/exports.py)
_FILE_SOURCES = {"attendance": "source_file"}  # raw_seemis tables whose rows name their file (files add up)


def unloaded_lines(con: Connection, schema: str = "raw_seemis") -> dict[str, int]:
    """Per school, the lines quarantined at read time (never landed) that are still missing from ``schema``.

    A line ``<file>:<line>`` of ``dataset`` stays missing until the school sends a replacement:
    - attendance (files add up): until rows of that same file land in a later load (the file re-sent);
    - snapshots and terms: until a later run reads the dataset again and lands rows (``ops.run_log``).
    A re-sent file that still has the bad line quarantines it again under the new load: counted once.
    """
    if not con.table_exists("ops", "quarantine"):
        return {}
    read_time = " or ".join(f"q.rule like '{prefix}%'" for prefix in READ_TIME_RULES)
    superseded = []
    for dataset, file_column in _FILE_SOURCES.items():
        if con.table_exists(schema, dataset) and file_column in con.columns(schema, dataset):
            # load ids are dlt's unix-time strings of one length; 'file:<name>': the run loaded nothing at all
            superseded.append(f"""(q.dataset = '{dataset}' and exists (
                select 1 from {schema}."{dataset}" r
                where r.school_code = q.school_code
                  and substr(q.record_id, 1, length(r.{file_column}) + 1) = r.{file_column} || ':'
                  and (r._dlt_load_id > q.load_id or q.load_id like 'file:%')))""")
    if con.table_exists("ops", "run_log"):
        files = ", ".join(f"'{d}'" for d in _FILE_SOURCES) or "''"
        superseded.append(f"""(q.dataset not in ({files}) and exists (
            select 1 from ops.run_log l
            where l.school_code = q.school_code and l.dataset = q.dataset
              and l.started_at > q.quarantined_at and l.rows_landed > 0))""")
    still = f"and not ({' or '.join(superseded)})" if superseded else ""
    rows = con.execute(f"""
        select q.school_code, count(distinct q.dataset || ' ' || q.record_id)
        from ops.quarantine q
        where ({read_time}) {still}
        group by 1
    """).fetchall()
    return {code: int(n) for code, n in rows}
