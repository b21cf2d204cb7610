"""The Superset demo stack: a throwaway PostgreSQL warehouse built from the sandbox, and Superset reading it.

Runs in the project's ``.venv`` (it needs ``ingestion``); Superset itself runs from ``.venv-bi`` as separate
processes (its dependencies conflict with the project's). ``make bi-demo`` runs :func:`main`; the opt-in test
``tests/bi/test_superset.py`` uses :func:`superset_stack` directly.

Steps: start a cluster (``ingestion/sandbox/pgcluster.py``), serve a synthetic group from the iSAMS sandbox, run
``schoolwh nightly --target postgres`` against it, create a login ``superset_reader`` in the group role
``bi_reader`` (reads schema ``marts`` only), initialise Superset's metadata (SQLite in a state directory), start
Superset on 127.0.0.1 and provision the dashboard (``dashboard.py``, the source of truth) with the database
connection as ``superset_reader``. Passwords are generated per run and passed through the environment, never
on a command line or into a committed file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

import ingestion  # noqa: F401  (switches telemetry off before dbt, dlt and GX load)
from ingestion.app.demo import write_sandbox_config
from ingestion.sandbox import pgcluster
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BI_VENV = Path(os.environ.get("SCHOOLWH_BI_VENV", REPO / ".venv-bi"))
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
BI_LOGIN = "superset_reader"
ADMIN_USER = "admin"
# A fixed as-of date, so the demo (and the committed screenshot) is the same from one day to the next.
DEFAULT_TODAY = date(2026, 11, 20)
# No telemetry from Superset (Scarf) or Selenium; the generic switches (DO_NOT_TRACK, ...) are already in this
# process's environment, set by importing ingestion (ingestion/core/telemetry.py, the one place).
NO_TELEMETRY = {"SCARF_ANALYTICS": "false", "SE_AVOID_STATS": "true"}


@dataclass
class Stack:
    url: str
    admin_user: str
    admin_password: str
    dashboard_slug: str
    cluster: pgcluster.PgCluster
    state_dir: Path


def log(message: str) -> None:
    print(f"[bi-demo] {message}", flush=True)


def bi_tool(name: str) -> Path:
    path = BI_VENV / "bin" / name
    if not path.exists():
        raise SystemExit(f"{path} not found: run `make bi-install` (creates .venv-bi with Superset)")
    return path


def build_warehouse(root: Path, cluster: pgcluster.PgCluster, *, schools: int, pupils: int, seed: int,
                    today: date) -> None:
    """The sandbox group ingested and built on ``cluster`` by ``schoolwh nightly --target postgres``."""
    group = generate_group(seed=seed, n_schools=schools, pupils_per_school=pupils, today=today)
    with SandboxServer(group) as server:
        schools_file, _, school_secrets = write_sandbox_config(group, server.url, root / "config")
        env = {**os.environ, **school_secrets, **cluster.env(),
               "SCHOOLWH_WAREHOUSE": str(root / "wh" / "schoolwh.duckdb")}  # with postgres: local state only
        env.pop("SCHOOLWH_TARGET", None)
        log(f"building the warehouse: {schools} schools x {pupils} pupils, as of {today} (a few minutes)")
        run = subprocess.run([str(SCHOOLWH), "nightly", "--target", "postgres", "--schools", str(schools_file),
                              "--today", today.isoformat()], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"schoolwh nightly failed ({run.returncode}):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")


def create_bi_login(cluster: pgcluster.PgCluster) -> str:
    """A login role in the group ``bi_reader`` (as docs/postgres.md tells a BI tool to connect); its password."""
    password = secrets.token_urlsafe(18)
    con = cluster.admin_connect()
    try:
        with con.cursor() as cur:
            cur.execute(f'create role "{BI_LOGIN}" login password %s in role bi_reader', [password])
    finally:
        con.close()
    return password


def superset_env(state_dir: Path) -> dict[str, str]:
    env = {**os.environ, **NO_TELEMETRY,
           "SUPERSET_CONFIG_PATH": str(HERE / "superset_config.py"),
           "SCHOOLWH_SUPERSET_STATE": str(state_dir),
           "FLASK_APP": "superset.app:create_app()"}
    for name in list(env):  # the warehouse's own connection is not Superset's business
        if name.startswith(("SCHOOLWH_PG_", "DBT_ENV_SECRET_")):
            env.pop(name)
    return env


def _superset(args: list[str], env: dict[str, str], what: str) -> None:
    run = subprocess.run([str(bi_tool("superset")), *args], env=env, capture_output=True, text=True, cwd=HERE)
    if run.returncode != 0:
        raise RuntimeError(f"superset {what} failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")


def init_superset(env: dict[str, str], admin_password: str) -> None:
    log("initialising Superset's metadata database")
    _superset(["db", "upgrade"], env, "db upgrade")
    _superset(["fab", "create-admin", "--username", ADMIN_USER, "--firstname", "Demo", "--lastname", "Admin",
               "--email", "admin@example.invalid", "--password", admin_password], env, "fab create-admin")
    _superset(["init"], env, "init")


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    handle = log_path.open("w")
    proc = subprocess.Popen(
        [str(bi_tool("gunicorn")), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
         "--threads", "8", "--timeout", "120", "superset.app:create_app()"],
        env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=HERE, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Superset exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return proc
        time.sleep(1)
    stop_server(proc)
    raise RuntimeError(f"Superset did not answer /health within 180 s:\n{log_path.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def provision(env: dict[str, str], url: str, admin_password: str, cluster: pgcluster.PgCluster,
              bi_password: str) -> dict:
    """Run dashboard.py (in .venv-bi) to create the connection, datasets, charts and dashboard."""
    run_env = {**env, "SUPERSET_URL": url, "SUPERSET_ADMIN_USER": ADMIN_USER,
               "SUPERSET_ADMIN_PASSWORD": admin_password,
               "SCHOOLWH_BI_DB_HOST": cluster.host, "SCHOOLWH_BI_DB_PORT": str(cluster.port),
               "SCHOOLWH_BI_DB_NAME": cluster.database, "SCHOOLWH_BI_DB_USER": BI_LOGIN,
               "SCHOOLWH_BI_DB_PASSWORD": bi_password}
    run = subprocess.run([str(bi_tool("python")), str(HERE / "dashboard.py"), "provision"], env=run_env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"provisioning the dashboard failed ({run.returncode}):\n{run.stdout[-3000:]}\n"
                           f"{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def superset_stack(root: Path, *, port: int | None = None, schools: int = 3, pupils: int = 40, seed: int = 7,
                   today: date = DEFAULT_TODAY) -> Iterator[Stack]:
    """Everything up, yielded as a :class:`Stack`; stopped (Superset, then the cluster) on exit."""
    bi_tool("superset")  # fail early and clearly without .venv-bi
    log("starting a throwaway PostgreSQL cluster")
    with pgcluster.start_cluster() as cluster:
        build_warehouse(root, cluster, schools=schools, pupils=pupils, seed=seed, today=today)
        bi_password = create_bi_login(cluster)
        state_dir = root / "superset"
        env = superset_env(state_dir)
        admin_password = secrets.token_urlsafe(12)
        init_superset(env, admin_password)
        port = port or pgcluster.free_port()
        url = f"http://127.0.0.1:{port}"
        log(f"starting Superset on {url}")
        proc = start_server(env, port, root / "superset.log")
        try:
            made = provision(env, url, admin_password, cluster, bi_password)
            yield Stack(url=url, admin_user=ADMIN_USER, admin_password=admin_password,
                        dashboard_slug=made["dashboard_slug"], cluster=cluster, state_dir=state_dir)
        finally:
            stop_server(proc)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Superset on a throwaway PostgreSQL demo warehouse.")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--schools", type=int, default=3)
    parser.add_argument("--pupils", type=int, default=40)
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    root = Path(tempfile.mkdtemp(prefix="schoolwh-bi-"))
    try:
        with superset_stack(root, port=args.port, schools=args.schools, pupils=args.pupils,
                            today=args.today) as stack:
            print(f"\nSuperset is serving the dashboard at {stack.url}/superset/dashboard/{stack.dashboard_slug}/")
            print(f"  log in as: {stack.admin_user} / {stack.admin_password}   (generated for this run)")
            print(f"  warehouse: PostgreSQL on 127.0.0.1:{stack.cluster.port}, database {stack.cluster.database}, "
                  f"Superset connects as {BI_LOGIN} (member of bi_reader: schema marts only)")
            print("Ctrl-C stops Superset and removes the cluster.", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
