"""Data tests on the rows a night rebuilt: the register-sized models' generic tests read the look-back window only
on an incremental night after a clean build, and every row otherwise (macros/data_test_scope.sql,
``pipeline.data_tests_scope``).

A mark is corrupted in raw (its pupil id blanked, which ``not_null`` on ``stg_isams__registration_statuses.
mis_pupil_id`` must catch): dated long before the window, the scoped tests pass and the full ones fail; dated
inside the window, both fail. The same check runs on PostgreSQL in test_postgres.py (``check_scope``). Which
scope a build asks for follows the build log: none before the first build, ``touched`` after a clean one,
``all`` after a failed or skipped node and on a full refresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingestion.app.demo import write_sandbox_config
from ingestion.core.warehouse import Warehouse
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2026, 11, 20)
LOOKBACK_DAYS = 14  # dbt_project.yml var attendance_lookback_days (default)
SECRET = "test-secret-scope-0123456789abcdef"
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
NOT_NULL = "not_null_stg_isams__registration_statuses_mis_pupil_id"


def _scoped_test_run(warehouse: Warehouse, scope: str):
    from ingestion.app.dbt_runner import run_dbt

    return run_dbt(["test", "--select", "stg_isams__registration_statuses"], warehouse,
                   variables={"data_tests_scope": scope})


def _blank_one_pupil_id(warehouse: Warehouse, since: date, until: date) -> tuple[str, str, str]:
    """Blank the pupil id of one taken mark dated in [since, until); returns (school, id, the old pupil id)."""
    with warehouse.connect() as con:
        school, mark, pupil = con.execute(
            "select school_code, id, pupil_id from raw_isams.registration_statuses "
            "where registration_date_time >= ? and registration_date_time < ? and pupil_id is not null "
            "order by school_code, id limit 1", [since.isoformat(), until.isoformat()]).fetchall()[0]
        con.execute("update raw_isams.registration_statuses set pupil_id = null where school_code = ? and id = ?",
                    [school, mark])
    return school, mark, pupil


def _restore(warehouse: Warehouse, school: str, mark: str, pupil: str) -> None:
    with warehouse.connect() as con:
        con.execute("update raw_isams.registration_statuses set pupil_id = ? where school_code = ? and id = ?",
                    [pupil, school, mark])


def _failed(result) -> bool:
    return any(NOT_NULL in f for f in result.failures)


def check_scope(warehouse: Warehouse, today: date) -> None:
    """The behaviour on a built warehouse (DuckDB or PostgreSQL), left as it was found."""
    window_start = today - timedelta(days=LOOKBACK_DAYS)
    assert _scoped_test_run(warehouse, "all").ok and _scoped_test_run(warehouse, "touched").ok  # clean first

    old = _blank_one_pupil_id(warehouse, date(2000, 1, 1), window_start - timedelta(days=7))
    try:
        touched, every_row = _scoped_test_run(warehouse, "touched"), _scoped_test_run(warehouse, "all")
    finally:
        _restore(warehouse, *old)
    assert touched.ok, touched.failures  # a mark a week before the window is not tested on a touched night
    assert _failed(every_row) and not every_row.ok  # ... but it is on every other build

    recent = _blank_one_pupil_id(warehouse, window_start, today + timedelta(days=1))
    try:
        touched = _scoped_test_run(warehouse, "touched")
    finally:
        _restore(warehouse, *recent)
    assert _failed(touched) and not touched.ok  # inside the window it is caught on a touched night too


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory):
    from ingestion.app.dbt_runner import run_dbt

    root = tmp_path_factory.mktemp("scope")
    path = root / "wh" / "schoolwh.duckdb"
    group = generate_group(seed=7, n_schools=2, pupils_per_school=20, today=TODAY)
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config")
        env = {**os.environ, **secrets, "SCHOOLWH_PUPIL_KEY_SECRET": SECRET, "SCHOOLWH_WAREHOUSE": str(path)}
        env.pop("SCHOOLWH_TARGET", None)
        ingest = subprocess.run([str(SCHOOLWH), "ingest", "--schools", str(schools_file),
                                 "--today", TODAY.isoformat()], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stdout[-3000:] + ingest.stderr[-3000:]
    warehouse = Warehouse.duckdb(path, as_of=TODAY)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCHOOLWH_PUPIL_KEY_SECRET", SECRET)
        built = run_dbt(["build", "--select", "+stg_isams__registration_statuses",
                         "--exclude", "resource_type:test", "resource_type:unit_test"], warehouse)
        assert built.ok, built.failures
        # as a nightly's build does once the incremental models are built: the first load's windows are built,
        # so the window is the look-back again (attendance_lookback_start)
        with warehouse.connect() as con:
            con.execute("update ops.register_reloads set built_at = current_timestamp where built_at is null")
        yield warehouse


def test_a_touched_night_tests_the_window_and_every_other_build_tests_every_row(duckdb_built):
    check_scope(duckdb_built, TODAY)


def test_an_unknown_scope_is_refused_by_name(duckdb_built):
    result = _scoped_test_run(duckdb_built, "recent")
    assert not result.ok
    assert "data_tests_scope must be 'all' or 'touched'" in "\n".join(result.tail)


# --- which scope a build asks for (the build log), on both backends -------------------------------------


@pytest.fixture(params=["duckdb", "postgres"])
def empty_warehouse(request, tmp_path):
    if request.param == "duckdb":
        return Warehouse.duckdb(tmp_path / "wh.duckdb")
    cluster = request.getfixturevalue("pg_cluster")
    env = {**cluster.env(), **cluster.fresh_database("data_test_scope")}
    return Warehouse.resolve("postgres", tmp_path / "wh.duckdb", env=env)


def _record(warehouse: Warehouse, returncode: int, statuses: dict[str, int], run_id: str,
            command: str = "nightly") -> None:
    from ingestion.ops import buildlog

    buildlog.record(warehouse, run_id, command, TODAY, returncode, statuses, [])


def test_the_scope_follows_the_last_build(empty_warehouse):
    from ingestion.app.pipeline import data_tests_scope

    w = empty_warehouse
    assert data_tests_scope(w) == "all"  # never built: the first build tests every row
    _record(w, 0, {"success": 90, "pass": 600, "warn": 2}, "r1")
    assert data_tests_scope(w) == "touched"  # a clean build (warnings allowed)
    assert data_tests_scope(w, full_refresh=True) == "all"
    _record(w, 1, {"success": 90, "pass": 599, "fail": 1}, "r2")
    assert data_tests_scope(w) == "all"  # the night after a failure tests everything again
    _record(w, 0, {"success": 90, "pass": 600}, "r3")
    assert data_tests_scope(w) == "touched"
    _record(w, 1, {"success": 80, "pass": 500, "error": 1, "skipped": 20}, "r4")
    assert data_tests_scope(w) == "all"
    _record(w, 0, {"success": 90, "pass": 600}, "r5")
    _record(w, 0, {"success": 3, "pass": 20}, "r6", command="build (partial)")  # --select: not every model tested
    assert data_tests_scope(w) == "all"


def test_the_build_hands_its_scope_to_dbt(tmp_path, monkeypatch):
    from rich.console import Console

    from ingestion.app import pipeline
    from ingestion.app.dbt_runner import DbtResult

    seen: list[dict] = []

    def fake_run_dbt(args, warehouse, *, echo=None, variables=None):
        seen.append(dict(variables or {}))
        return DbtResult(command=" ".join(args), returncode=0, tail=[])

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    w = Warehouse.duckdb(tmp_path / "wh.duckdb", as_of=TODAY)
    console = Console(file=open(os.devnull, "w"))
    pipeline.build(w, console)
    pipeline.build(w, console)
    pipeline.build(w, console, full_refresh=True)
    pipeline.build(w, console, select=["attendance_sessions"])  # after a clean build: touched
    pipeline.build(w, console)  # after a partial build: every row again
    pipeline.build(w, console)
    assert [v["data_tests_scope"] for v in seen] == ["all", "touched", "all", "touched", "all", "touched"]


# Spark (ANSI off) reads `from t where (c)` as t aliased "where" with column list (c): ASSIGNMENT_ARITY_MISMATCH.
# dbt's own get_where_subquery writes `where <config>`; the override must never put "(" straight after "where".
ALIAS_TRAP = r"\bfrom\s+[\w.\"`]+\s+where\s*\(\s*[a-z_]\w*\s*(,\s*[a-z_]\w*\s*)*\)"


@pytest.mark.parametrize("scope", ["all", "touched"])
def test_no_compiled_data_test_puts_a_parenthesis_after_where(duckdb_built, scope):
    import re

    from ingestion.app.dbt_runner import artifacts_dir, run_dbt

    result = run_dbt(["compile", "--select", "test_type:generic"], duckdb_built, variables={"data_tests_scope": scope})
    assert result.ok, result.tail
    compiled = list((artifacts_dir(duckdb_built) / "target" / "compiled").rglob("*.sql"))
    texts = {p.name: p.read_text() for p in compiled}
    filtered = [n for n, t in texts.items() if "dbt_subquery" in t]
    assert len(compiled) > 300 and filtered, len(compiled)  # the tests with a where config are among them
    if scope == "touched":  # the register-sized models' tests are limited to the window
        assert any("session_date" in t and ">=" in t and "dbt_subquery" in t for t in texts.values())
    trapped = [n for n, t in texts.items() if re.search(ALIAS_TRAP, t, flags=re.I)]
    assert trapped == [], trapped


def test_the_alias_trap_pattern_matches_what_spark_refused():
    import re

    refused = "from (select * from staging.stg_isams__staff_roles where (is_current_version)) dbt_subquery"
    assert re.search(ALIAS_TRAP, refused, flags=re.I)
    assert not re.search(ALIAS_TRAP, "from staging.x where is_current_version", flags=re.I)
    assert not re.search(ALIAS_TRAP, "from school_months where (select n from j) > 1", flags=re.I)
