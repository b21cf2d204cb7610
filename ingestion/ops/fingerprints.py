"""What each school's small datasets held when they last loaded (``ops.dataset_fingerprints``).

A quiet night sends the same pupils, contacts, sets and code lists as the night before. Handing them to dlt
again changes nothing (its scd2 merge finds no new version) but cost most of a next-day ingestion: about 3 s of
CPU a school, in record shapes, dlt's row normaliser and a merge per table (benchmarks/README.md). So a source
compares what it fetched with the fingerprint recorded here (``ingestion.core.ingest.DatasetFingerprint``) and
loads a dataset only when it differs.

Safe by construction:

- a fingerprint is recorded only after the load that landed those records succeeded (the pipeline writes it
  once ``ingest_school`` returned), never from dlt's own state, which moves on before a load that may fail;
- it is offered back only while the dataset's raw table holds rows of the school (a dropped, rebuilt or
  emptied table reloads);
- an explicit ``--datasets`` or ``--backfill`` run ignores it and reloads what it names;
- registers never use it: they are re-read over the look-back and merged, corrections and all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ingestion.core.ingest import DatasetFingerprint
from ingestion.core.warehouse import Warehouse

DDL = """
create schema if not exists ops;
create table if not exists ops.dataset_fingerprints (
    source_system varchar not null,    -- 'isams' | 'seemis'
    school_code varchar not null,
    dataset varchar not null,          -- the raw table
    digest varchar not null,           -- ingestion.core.ingest.records_digest of the records last loaded
    shapes varchar not null,           -- their shapes (JSON), replayed for drift when nothing changed
    run_id varchar not null,           -- the run that loaded them
    recorded_at timestamp not null,
    primary key (source_system, school_code, dataset)
);
"""


def known(warehouse: Warehouse, source_system: str, school_code: str, raw_schema: str) -> dict[str, DatasetFingerprint]:
    """The school's fingerprints whose raw table (in ``raw_schema``) still holds rows of the school; {} before
    the first run. A table dropped, rebuilt or emptied of the school is loaded again, whatever it last held."""
    if not warehouse.exists():  # the first run: dlt creates the DuckDB file (and its folder)
        return {}
    with warehouse.connect() as con:
        if not con.table_exists("ops", "dataset_fingerprints"):
            return {}
        rows = con.execute(
            "select f.dataset, f.digest, f.shapes from ops.dataset_fingerprints as f "
            "join information_schema.tables as t on t.table_schema = ? and t.table_name = f.dataset "
            "where f.source_system = ? and f.school_code = ? order by f.dataset",
            [raw_schema, source_system, school_code],
        ).fetchall()
        if not rows:
            return {}
        # one query for every table: does it still hold a row of the school?
        q = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731
        names = [dataset for dataset, _, _ in rows if "'" not in dataset]  # raw table names: never quoted
        present = " union all ".join(
            f"select '{name}' from (select 1 from {q(raw_schema)}.{q(name)} where school_code = ? limit 1) as x"
            for name in names
        )
        held = {r[0] for r in con.execute(present, [school_code] * len(names)).fetchall()} if names else set()
    return {dataset: DatasetFingerprint.from_json(digest, shapes) for dataset, digest, shapes in rows
            if dataset in held}


def record(
    warehouse: Warehouse, source_system: str, school_code: str, run_id: str,
    loaded: Mapping[str, DatasetFingerprint],
) -> None:
    """Record what a successful load landed (``SchoolIngestResult.fingerprints``)."""
    if not loaded:
        return
    now = datetime.now()
    rows = [(source_system, school_code, dataset, fp.digest, fp.shapes_json(), run_id, now)
            for dataset, fp in sorted(loaded.items())]
    with warehouse.connect() as con:
        con.execute(DDL)
        con.executemany(
            "insert into ops.dataset_fingerprints (source_system, school_code, dataset, digest, shapes, run_id, "
            "recorded_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (source_system, school_code, dataset) do update "
            "set digest = excluded.digest, shapes = excluded.shapes, run_id = excluded.run_id, "
            "recorded_at = excluded.recorded_at",
            rows,
        )

