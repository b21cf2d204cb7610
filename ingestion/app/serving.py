"""The serving file: the DuckDB file analysts' tools open, holding the ``marts`` schema and nothing else.

The warehouse file itself is never given to analysts: DuckDB has no roles, so whoever opens it reads every
schema (``raw_isams`` with names, dates of birth and contacts, ``staging``, ``canonical``, ``restricted``,
``ops`` and ``ops.pupil_key_secret``, the secret with which ``pupil_key`` can be recomputed for a known pupil).
And it is written by DuckDB 2.0, whose storage format the DuckDB 1.x readers of BI tools (the ODBC driver of
Power BI, Metabase's DuckDB driver) cannot open.

:func:`publish` copies every relation of schema ``marts`` (views too, materialised as tables) into a new
file written in DuckDB storage version :data:`STORAGE_VERSION`, which every DuckDB from 1.0 on can open,
then moves it into place with ``os.replace``: a reader opens either yesterday's complete file or today's,
never a half-written one. A failed publish removes its temporary file and leaves the previous serving file
as it was. The nightly publishes only after a successful dbt build (``pipeline.run_nightly``), so the file
is always the marts of one successful build. PostgreSQL needs none of this: the role ``bi_reader`` reads
``marts`` and nothing else (docs/postgres.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.core.warehouse import Warehouse

SERVED_SCHEMA = "marts"
SERVING_DIR = "serving"
SERVING_NAME = "schoolwh_marts.duckdb"
# DuckDB's storage format 64, written by DuckDB 2.0 on request: readable by every DuckDB from 1.0 on (1.5.x
# reads formats 64 to 68; the 2.0 default, 69, none of them). Newer formats only add compression, which marts
# of this size do not need, and would lock out older drivers.
STORAGE_VERSION = "v1.0.0"
_SERVING_ALIAS = "serving_new"


class ServingError(ValueError):
    """The serving file cannot be published from this warehouse (not DuckDB, missing, or no marts)."""


@dataclass(frozen=True)
class Published:
    path: Path
    tables: dict[str, int]  # table -> rows
    published_at: datetime


def serving_path(warehouse: Warehouse) -> Path:
    """``<warehouse dir>/serving/schoolwh_marts.duckdb``: the one place its name is decided."""
    return warehouse.local_dir / SERVING_DIR / SERVING_NAME


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.tmp-"


def published_at(warehouse: Warehouse) -> datetime | None:
    """When the serving file now in place was published (its modification time), None if there is none."""
    path = serving_path(warehouse)
    return datetime.fromtimestamp(path.stat().st_mtime) if path.is_file() else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _copy_marts(source: duckdb.DuckDBPyConnection, temp: Path) -> dict[str, int]:
    """Every relation of ``marts`` in ``source`` as a table of ``marts`` in a new file ``temp``."""
    relations = [name for (name,) in source.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? order by table_name", [SERVED_SCHEMA],
    ).fetchall()]
    if not relations:
        raise ServingError(f"the warehouse has no relations in schema {SERVED_SCHEMA!r}: run the dbt build first")
    source.execute(f"attach {_literal(str(temp))} as {_SERVING_ALIAS} (read_write, storage_version {_literal(STORAGE_VERSION)})")
    try:
        source.execute(f"create schema {_SERVING_ALIAS}.{_quote(SERVED_SCHEMA)}")
        rows: dict[str, int] = {}
        for name in relations:
            table = f"{_quote(SERVED_SCHEMA)}.{_quote(name)}"
            source.execute(f"create table {_SERVING_ALIAS}.{table} as select * from {table}")
            rows[name] = int(source.execute(f"select count(*) from {_SERVING_ALIAS}.{table}").fetchall()[0][0])
        source.execute(f"checkpoint {_SERVING_ALIAS}")
    finally:
        source.execute(f"detach {_SERVING_ALIAS}")
    return rows


def check_publishable(warehouse: Warehouse) -> None:
    """Raise :class:`ServingError` unless ``warehouse`` is an existing DuckDB file."""
    if warehouse.kind != "duckdb":
        raise ServingError(f"{warehouse.describe()} is PostgreSQL: BI tools read it directly as a member of "
                           "bi_reader, which sees marts and nothing else (docs/postgres.md); no serving file")
    if not warehouse.path.is_file():
        raise ServingError(f"warehouse not found: {warehouse.path} (run schoolwh nightly first)")


def publish(warehouse: Warehouse) -> Published:
    """Write the serving file of ``warehouse`` (:func:`serving_path`) from its ``marts`` schema, atomically.

    The warehouse is opened read-only; call it while holding the warehouse lock (no build writing). Raises
    :class:`ServingError` for a PostgreSQL warehouse, a missing one or one without marts; on any failure the
    previous serving file stays in place and no temporary file is left behind.
    """
    check_publishable(warehouse)
    target = serving_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(_temp_prefix(target) + "*"):  # left by a publish that was killed
        stale.unlink(missing_ok=True)
    temp = target.with_name(f"{_temp_prefix(target)}{os.getpid()}")
    try:
        with duckdb.connect(str(warehouse.path), read_only=True) as source:
            rows = _copy_marts(source, temp)
        # a write-ahead log beside the old file (someone opened it read-write) must not be replayed on the new one
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise
    return Published(path=target, tables=rows, published_at=datetime.fromtimestamp(target.stat().st_mtime))
