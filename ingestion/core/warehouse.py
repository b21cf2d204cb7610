"""The warehouse a command works on: one DuckDB file or one PostgreSQL database, and the as-of date it is
seen at. Built once, at the command line's edge (:meth:`Warehouse.resolve`), and passed down as it is.

:class:`Warehouse` says where raw data lands (``dlt_destination``), what dbt's profiles.yml reads
(``dbt_env``: the target, the DuckDB path, the PostgreSQL settings; profiles.yml has no defaults of its
own), how to open it (``connect``: a tiny connection with ``execute``/``fetchall``/``frame`` on both
backends, ``?`` placeholders everywhere), where its local state lives (``local_dir``: dlt pipeline state, dbt
artifacts, GX docs and the run lock, kept apart per warehouse) and ``as_of``: the run's as-of date
(``--today``), which ingestion windows, validation bounds and dbt's ``as_of_date`` all read from here.

The target comes from ``--target`` or ``SCHOOLWH_TARGET`` (default ``duckdb``); the DuckDB file from
``--warehouse`` or ``SCHOOLWH_WAREHOUSE`` (default ``warehouse/schoolwh.duckdb``). PostgreSQL settings come
from ``SCHOOLWH_PG_HOST``, ``SCHOOLWH_PG_PORT``, ``SCHOOLWH_PG_USER``, ``DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD``
and ``SCHOOLWH_PG_DATABASE``. The password is never printed. ``SCHOOLWH_INGEST_MEMORY_LIMIT`` (default
``1GB``) caps the memory DuckDB may use while ingestion loads into the file (see ``INGEST_MEMORY_LIMIT``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

Kind = Literal["duckdb", "postgres"]
TARGETS: tuple[Kind, ...] = ("duckdb", "postgres")
PASSWORD_ENV = "DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD"
DEFAULT_PATH = Path("warehouse/schoolwh.duckdb")
# DuckDB's own default is 80% of the machine's memory, and it keeps what it read cached up to that: merging one
# more school day into an 8.8 M-mark register table held 7.7 GiB (benchmarks/README.md). With a limit it evicts,
# and spills to disk (``<file>.tmp``) what a join or sort does not fit; the loads themselves need far less.
INGEST_MEMORY_LIMIT_ENV = "SCHOOLWH_INGEST_MEMORY_LIMIT"
INGEST_MEMORY_LIMIT = "1GB"
_MEMORY = re.compile(r"[0-9]+(?:\.[0-9]+)?\s*(?:[KMGT]i?B|bytes)", re.I)


class WarehouseConfigError(ValueError):
    pass


class WarehouseUnavailable(RuntimeError):
    """The PostgreSQL server cannot be reached or refused the login (the message never has the password)."""


@dataclass(frozen=True)
class PgSettings:
    host: str = "localhost"
    port: int = 5432
    user: str = "schoolwh"
    database: str = "schoolwh"
    password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PgSettings:
        env = dict(os.environ if env is None else env)
        port = env.get("SCHOOLWH_PG_PORT", "5432")
        if not port.isdigit():
            raise WarehouseConfigError(f"SCHOOLWH_PG_PORT must be a port number, not {port!r}")
        return cls(
            host=env.get("SCHOOLWH_PG_HOST", "localhost"), port=int(port),
            user=env.get("SCHOOLWH_PG_USER", "schoolwh"), database=env.get("SCHOOLWH_PG_DATABASE", "schoolwh"),
            password=env.get(PASSWORD_ENV, ""),
        )

    def env(self) -> dict[str, str]:
        return {
            "SCHOOLWH_PG_HOST": self.host, "SCHOOLWH_PG_PORT": str(self.port), "SCHOOLWH_PG_USER": self.user,
            "SCHOOLWH_PG_DATABASE": self.database, PASSWORD_ENV: self.password,
        }


@dataclass(frozen=True)
class Warehouse:
    """``path``: the DuckDB file; for PostgreSQL it only anchors the local state directory.

    ``as_of``: the run's as-of date; None only for commands that read what is there (status, export).
    """

    kind: Kind
    path: Path
    pg: PgSettings | None = None
    as_of: date | None = None
    ingest_memory_limit: str = INGEST_MEMORY_LIMIT  # DuckDB ``memory_limit`` of ingestion's loads

    @classmethod
    def duckdb(cls, path: Path, as_of: date | None = None) -> Warehouse:
        return cls("duckdb", Path(path), as_of=as_of)

    @classmethod
    def resolve(
        cls, target: str | None = None, path: Path | str | None = None, *, as_of: date | None = None,
        env: dict[str, str] | None = None,
    ) -> Warehouse:
        """The warehouse of the command line: ``target`` (None: ``$SCHOOLWH_TARGET``, default duckdb), ``path``
        (None: ``$SCHOOLWH_WAREHOUSE``, default ``warehouse/schoolwh.duckdb``), PostgreSQL settings from ``env``."""
        env = dict(os.environ if env is None else env)
        kind = target or env.get("SCHOOLWH_TARGET") or "duckdb"
        if kind not in TARGETS:
            raise WarehouseConfigError(f"unknown target {kind!r} (choose {' or '.join(TARGETS)})")
        where = Path(path or env.get("SCHOOLWH_WAREHOUSE") or DEFAULT_PATH).resolve()
        pg = PgSettings.from_env(env) if kind == "postgres" else None
        limit = env.get(INGEST_MEMORY_LIMIT_ENV) or INGEST_MEMORY_LIMIT
        if not _MEMORY.fullmatch(limit.strip()):
            raise WarehouseConfigError(f"{INGEST_MEMORY_LIMIT_ENV} must be an amount of memory such as 1GB or 512MiB, "
                                       f"not {limit!r}")
        return cls(kind, where, pg, as_of, limit.strip())

    def at(self, as_of: date) -> Warehouse:
        """The same warehouse seen at another as-of date."""
        return replace(self, as_of=as_of)

    def require_as_of(self) -> date:
        if self.as_of is None:
            raise ValueError(f"{self.describe()}: this step needs the run's as-of date (--today)")
        return self.as_of

    @property
    def dbt_target(self) -> str:
        return self.kind

    @property
    def local_dir(self) -> Path:
        """Local state of this warehouse (dlt pipelines, dbt artifacts, GX docs, lock): never shared."""
        if self.pg is None:
            return self.path.parent
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.pg.database}@{self.pg.host}_{self.pg.port}")
        return self.path.parent / "postgres" / name

    @property
    def lock_path(self) -> Path:
        if self.pg is None:
            return self.path.with_name(self.path.name + ".lock")
        return self.local_dir / "warehouse.lock"

    def describe(self) -> str:
        """For messages: where the warehouse is, never the password."""
        if self.pg is None:
            return str(self.path)
        return f"postgresql://{self.pg.user}@{self.pg.host}:{self.pg.port}/{self.pg.database}"

    def exists(self) -> bool:
        return self.path.exists() if self.pg is None else True

    def dbt_env(self) -> dict[str, str]:
        """Everything dbt's profiles.yml reads (it has no defaults of its own)."""
        env = {"SCHOOLWH_TARGET": self.dbt_target, "SCHOOLWH_WAREHOUSE": str(self.path)}
        return {**env, **self.pg.env()} if self.pg else env

    def dlt_destination(self) -> Any:
        import dlt

        if self.pg is None:
            from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

            return dlt.destinations.duckdb(DuckDbCredentials(
                str(self.path), global_config={"memory_limit": self.ingest_memory_limit}))
        return dlt.destinations.postgres(credentials={
            "database": self.pg.database, "username": self.pg.user, "password": self.pg.password,
            "host": self.pg.host, "port": self.pg.port,
        })

    @property
    def loader_file_format(self) -> str:
        """The file format dlt hands the destination. DuckDB: Parquet (dlt's default there, SQL ``insert_values``,
        makes DuckDB plan one huge VALUES statement per file: measured ~10 ms a pupil row, most of a night's
        ingestion CPU); PostgreSQL: dlt's default."""
        return "parquet" if self.pg is None else "insert_values"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        """A connection for a few statements; on PostgreSQL one transaction, committed on success."""
        if self.pg is None:
            import duckdb

            with duckdb.connect(str(self.path), read_only=read_only) as con:
                yield Connection("duckdb", con)
            return
        import psycopg2

        try:
            con = psycopg2.connect(host=self.pg.host, port=self.pg.port, user=self.pg.user,
                                   password=self.pg.password, dbname=self.pg.database, connect_timeout=15)
        except psycopg2.OperationalError as exc:
            reason = str(exc).strip().replace(self.pg.password, "***") if self.pg.password else str(exc).strip()
            raise WarehouseUnavailable(f"cannot connect to {self.describe()}: {reason}") from exc
        try:
            with con:  # commit on success, roll back on error
                yield Connection("postgres", con)
        finally:
            con.close()


def _pg_sql(sql: str) -> str:
    """``?`` placeholders to psycopg2's ``%s`` (and a literal ``%`` to ``%%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


# an INSERT ... VALUES (?, ?, ...) [ON CONFLICT ...]: one row of placeholders, which executemany repeats
_MULTI_ROW = re.compile(r"^(\s*insert\s.*?\svalues\s*)(\((?:\s*\?\s*,)*\s*\?\s*\))(.*)$", re.I | re.S)
_DUCKDB_ROWS = 500


class Connection:
    """The few calls ingestion needs, the same on DuckDB and PostgreSQL. Placeholders are ``?``."""

    def __init__(self, kind: Kind, raw: Any) -> None:
        self.kind = kind
        self.raw = raw
        self._cur = raw.cursor() if kind == "postgres" else None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Connection:
        if self._cur is None:
            self.raw.execute(sql, params) if params is not None else self.raw.execute(sql)
        elif params is not None:
            self._cur.execute(_pg_sql(sql), list(params))
        else:
            self._cur.execute(sql)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._cur is None:
            insert = _MULTI_ROW.match(sql)
            if insert is None:
                self.raw.executemany(sql, rows)
                return
            # DuckDB runs executemany as one statement per row (~2 ms each with ON CONFLICT: a school's
            # field observations took seconds); an insert goes as multi-row VALUES, _DUCKDB_ROWS at a time
            head, row, tail = insert.groups()
            for at in range(0, len(rows), _DUCKDB_ROWS):
                chunk = rows[at:at + _DUCKDB_ROWS]
                self.raw.execute(f"{head}{', '.join([row] * len(chunk))}{tail}", [v for r in chunk for v in r])
        else:
            from psycopg2.extras import execute_batch

            execute_batch(self._cur, _pg_sql(sql), [list(r) for r in rows], page_size=500)

    def fetchall(self) -> list[tuple]:
        return (self.raw if self._cur is None else self._cur).fetchall()

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """The result as a DataFrame; text columns are pandas strings on both backends."""
        self.execute(sql, params)
        if self._cur is None:
            return self.raw.df()
        names = [d.name for d in self._cur.description]
        return pd.DataFrame.from_records(self._cur.fetchall(), columns=names)

    def relation_columns(self, relation: str) -> set[str]:
        """Lower-case column names of a dbt relation name such as ``"db"."schema"."table"``."""
        schema, table = (part.strip('"') for part in relation.split(".")[-2:])
        return {c.lower() for c in self.columns(schema, table)}

    def columns(self, schema: str, table: str) -> list[str]:
        """Column names of a table or view ([] when it does not exist)."""
        return [r[0] for r in self.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [schema, table],
        ).fetchall()]

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0])
