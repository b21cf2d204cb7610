"""A throwaway PostgreSQL cluster for tests and ``schoolwh demo --target postgres``.

``start_cluster()`` runs ``initdb`` and ``pg_ctl`` in a fresh temporary directory on a free loopback port
(unix socket in the same directory), creates a warehouse login role with a random password and a database
it owns, and returns a :class:`PgCluster` whose :meth:`PgCluster.env` holds the ``SCHOOLWH_PG_*`` variables
that ``ingestion.core.warehouse`` and ``profiles.yml`` read. PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` OS user (``runuser``); as any other user it runs as that user.

Local connections over the socket trust the ``postgres`` superuser (setup and tests only); TCP connections
need a password (scram-sha-256), as on a real server. Stopping removes the directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

SERVER_USER = "postgres"  # the OS user the server runs as when we are root
SUPERUSER = "postgres"  # the cluster's bootstrap superuser
BINARIES = ("initdb", "pg_ctl", "postgres")
# Durability is pointless for a throwaway cluster: these make it start and load faster.
FAST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PgClusterError(RuntimeError):
    pass


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl/postgres: ``$SCHOOLWH_PG_BINDIR``, PATH, or Debian's layout."""
    configured = os.environ.get("SCHOOLWH_PG_BINDIR")
    candidates = [Path(configured)] if configured else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for bindir in candidates:
        if all((bindir / b).is_file() for b in BINARIES):
            return bindir
    raise PgClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH, in /usr/lib/postgresql/*/bin "
        "or in $SCHOOLWH_PG_BINDIR: install PostgreSQL 15 (Debian: apt-get install postgresql-15)."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` so it runs as the postgres OS user when we are root."""
    if os.geteuid() != 0:
        return cmd
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise PgClusterError(f"running as root but there is no '{SERVER_USER}' OS user to run PostgreSQL as") from exc
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, cwd="/")
    if proc.returncode != 0:
        raise PgClusterError(f"{what} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}")


@dataclass
class PgCluster:
    """A running throwaway cluster; use as a context manager or call :meth:`stop`."""

    root: Path
    bindir: Path
    port: int
    database: str
    user: str
    password: str
    host: str = "127.0.0.1"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    def env(self) -> dict[str, str]:
        """The warehouse connection, as the environment variables profiles.yml and ingestion read."""
        return {
            "SCHOOLWH_PG_HOST": self.host,
            "SCHOOLWH_PG_PORT": str(self.port),
            "SCHOOLWH_PG_USER": self.user,
            "DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD": self.password,
            "SCHOOLWH_PG_DATABASE": self.database,
        }

    def admin_connect(self, database: str | None = None) -> Any:
        """A psycopg2 connection as the superuser over the unix socket (autocommit)."""
        import psycopg2

        con = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER,
                               dbname=database or self.database)
        con.autocommit = True
        return con

    def fresh_database(self, name: str) -> dict[str, str]:
        """Drop and recreate database ``name`` (owned by the warehouse role); return :meth:`env` pointing at it.

        Tests sharing one cluster each build in a database of their own, so one test's views over ``raw_isams``
        never stand in the way of another's tables.
        """
        con = self.admin_connect("postgres")
        try:
            with con.cursor() as cur:
                cur.execute(f'drop database if exists "{name}" with (force)')
                cur.execute(f'create database "{name}" owner "{self.user}"')
        finally:
            con.close()
        return {**self.env(), "SCHOOLWH_PG_DATABASE": name}

    def stop(self) -> None:
        if self.datadir.exists():
            subprocess.run(
                _as_server_user([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w",
                                 "stop"]),
                capture_output=True, text=True, cwd="/",
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _init_and_start(root: Path, bindir: Path, port: int) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    root.chmod(0o700)
    datadir = root / "data"
    _run([str(bindir / "initdb"), "-D", str(datadir), "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
          "--auth-local=trust", "--auth-host=scram-sha-256"], "initdb")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} {FAST_SETTINGS}"
    _run([str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(root / "server.log"),
          "-w", "-t", "60", "start"], "pg_ctl start")


def start_cluster(database: str = "schoolwh", user: str = "schoolwh") -> PgCluster:
    """Start a cluster and create ``user`` (LOGIN CREATEROLE, random password) owning ``database``.

    CREATEROLE lets the dbt project create its ``bi_reader`` group role (see macros/grants).
    """
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="schoolwh-pg-"))
    cluster = PgCluster(root=root, bindir=bindir, port=free_port(), database=database, user=user,
                        password=secrets.token_urlsafe(18))
    try:
        _init_and_start(root, bindir, cluster.port)
        con = cluster.admin_connect("postgres")
        try:
            with con.cursor() as cur:
                cur.execute(f'create role "{user}" login createrole password %s', [cluster.password])
        finally:
            con.close()
        cluster.fresh_database(database)
    except BaseException:
        cluster.stop()
        raise
    return cluster
