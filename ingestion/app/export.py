"""Export the published marts of a DuckDB warehouse to Parquet, for Power BI, Metabase or a file share.

Only schema ``marts`` is exported (pseudonymous by construction: the dbt test
``assert_no_personal_data_in_published_models`` keeps personal data out of it); staging, canonical, raw and
monitoring tables are never read. The warehouse is opened read-only, so an export can run beside readers
(never during a build, which holds the write lock). One ``<table>.parquet`` per mart plus ``manifest.json``:

    {"exported_at": "...Z", "warehouse": "schoolwh.duckdb", "schema": "marts",
     "tables": [{"table": "dim_date", "file": "dim_date.parquet", "rows": 731,
                 "columns": [{"name": "date_day", "type": "DATE"}, ...]}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.core.warehouse import Warehouse

EXPORT_SCHEMA = "marts"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ExportedTable:
    table: str
    file: str
    rows: int
    columns: list[dict[str, str]]


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the tables and views in schema ``marts``, sorted."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [EXPORT_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def _export_table(con: duckdb.DuckDBPyConnection, table: str, out_dir: Path) -> ExportedTable:
    relation = f"{_quote_identifier(EXPORT_SCHEMA)}.{_quote_identifier(table)}"
    target = out_dir / f"{table}.parquet"
    con.execute(f"copy (select * from {relation}) to {_quote_literal(str(target))} (format parquet)")
    described = con.execute(f"describe select * from {relation}").fetchall()  # (name, type, null, ...)
    columns = [{"name": str(row[0]), "type": str(row[1])} for row in described]
    rows = con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    return ExportedTable(table=table, file=target.name, rows=int(rows), columns=columns)


def export_marts(warehouse: Warehouse, out_dir: Path) -> list[Path]:
    """Write every table of schema ``marts`` in ``warehouse`` to ``out_dir/<table>.parquet``, plus
    ``out_dir/manifest.json``; returns the written paths (Parquet files sorted by table, manifest last).

    Raises FileNotFoundError when the warehouse does not exist (a read-only open never creates one) and
    ValueError when it has no marts (build it first) or is not a DuckDB file (PostgreSQL serves BI tools
    itself: docs/postgres.md).
    """
    if warehouse.kind != "duckdb":
        raise ValueError(f"export writes the marts of a DuckDB warehouse; {warehouse.describe()} is PostgreSQL, "
                         "which BI tools read directly (docs/postgres.md)")
    path = warehouse.path
    if not path.is_file():
        raise FileNotFoundError(f"warehouse not found: {path}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path), read_only=True) as con:
        tables = mart_tables(con)
        if not tables:
            raise ValueError(f"{path} has no tables in schema {EXPORT_SCHEMA!r}: run the dbt build first")
        exported = [_export_table(con, table, out_dir) for table in tables]
    manifest = {
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "warehouse": path.name,
        "schema": EXPORT_SCHEMA,
        "tables": [asdict(item) for item in exported],
    }
    manifest_path = out_dir / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return [out_dir / item.file for item in exported] + [manifest_path]
