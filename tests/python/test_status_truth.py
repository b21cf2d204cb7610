"""Night after night, status tells the truth, on DuckDB and on PostgreSQL.

For each backend, one tiny group (2 schools × 12 pupils) goes through:
1. a nightly as of Thursday D1, then a second nightly as of Friday D2 (the incremental attendance models
   run for the second time: on PostgreSQL this failed with varchar/text column types), each followed by
   ``status``: exit 0, every school ok, and dbt's ``as_of_date`` is the run's ``--today`` (ops.build_log);
2. the blocking grain test of ``stg_isams__pupils`` broken by a duplicated current pupil version in
   ``raw_isams`` of one school, then ``schoolwh build``: exit 2, and ``status`` exits non-zero and shows
   every school ``failing`` although ``dbt docs generate`` ran after the build (the health comes from
   ``ops.build_log``, not from dbt's run_results.json, which docs overwrite);
3. the duplicate removed and ``schoolwh build`` again: exit 0, ``status`` exit 0 and every school ok.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from ingestion.app.demo import write_sandbox_config
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group
from ingestion.core.warehouse import Warehouse

D1 = date(2026, 11, 19)  # a Thursday in term
D2 = date(2026, 11, 20)  # the next school day
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
SECRET = "status-truth-secret-0123456789abcdef"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCHOOLWH), *args], env=env, capture_output=True, text=True, timeout=900)


def _explain(run: subprocess.CompletedProcess) -> str:
    return run.stdout[-5000:] + run.stderr[-3000:]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def story(request, tmp_path_factory):
    backend = request.param
    root = tmp_path_factory.mktemp(f"status_{backend}")
    env = {**os.environ, "SCHOOLWH_WAREHOUSE": str(root / "wh" / "schoolwh.duckdb"),
           "SCHOOLWH_PUPIL_KEY_SECRET": SECRET, "SCHOOLWH_TARGET": backend}
    if backend == "postgres":
        cluster = request.getfixturevalue("pg_cluster")
        env.update(cluster.fresh_database("status_truth"))
    warehouse = Warehouse.resolve(backend, root / "wh" / "schoolwh.duckdb", env=env)
    runs: dict[str, subprocess.CompletedProcess] = {}
    for day in (D1, D2):
        group = generate_group(seed=11, n_schools=2, pupils_per_school=12, today=day)
        with SandboxServer(group) as server:
            schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config")
            env.update({**secrets, "SCHOOLWH_PUPIL_KEY_SECRET": SECRET})  # one secret for every night
            runs[f"nightly {day}"] = _run(["nightly", "--schools", str(schools_file), "--today", day.isoformat()],
                                          env)
        runs[f"status {day}"] = _run(["status", "--today", day.isoformat()], env)
        with warehouse.connect(read_only=True) as con:
            runs[f"as_of {day}"] = con.execute(
                "select as_of_date from ops.build_log order by finished_at desc limit 1").fetchall()[0][0]
    with warehouse.connect(read_only=True) as con:
        runs["valid_from"] = con.execute(
            "select min(_dlt_valid_from), max(_dlt_valid_from) from raw_isams.pupils").fetchall()[0]
    school = group.schools[0].code
    with warehouse.connect() as con:  # a second current version of one pupil: the grain test must fail
        columns = [c for c in con.columns("raw_isams", "pupils") if c != "_dlt_id"]
        listed = ", ".join(f'"{c}"' for c in columns)
        con.execute(
            f"insert into raw_isams.pupils ({listed}, _dlt_id) select {listed}, 'duplicate-for-test' "
            f"from raw_isams.pupils where school_code = ? and _dlt_valid_to is null "
            f"and _dlt_id = (select min(_dlt_id) from raw_isams.pupils where school_code = ? "
            f"and _dlt_valid_to is null)", [school, school])
    runs["broken build"] = _run(["build", "--today", D2.isoformat()], env)
    runs["docs after broken build"] = _run(["docs", "--today", D2.isoformat()], env)
    runs["status after broken build"] = _run(["status", "--today", D2.isoformat()], env)
    with warehouse.connect() as con:
        con.execute("delete from raw_isams.pupils where _dlt_id = 'duplicate-for-test'")
    runs["fixed build"] = _run(["build", "--today", D2.isoformat()], env)
    runs["status after fixed build"] = _run(["status", "--today", D2.isoformat()], env)
    yield {"runs": runs, "schools": [s.code for s in group.schools], "backend": backend}


def test_every_nightly_passes_and_status_is_ok(story):
    runs = story["runs"]
    for day in (D1, D2):
        assert runs[f"nightly {day}"].returncode == 0, _explain(runs[f"nightly {day}"])
        status = runs[f"status {day}"]
        assert status.returncode == 0, _explain(status)
        for school in story["schools"]:
            assert school in status.stdout


def test_dbt_builds_as_of_the_runs_today_not_the_machine_clock(story):
    assert story["runs"][f"as_of {D1}"] == D1
    assert story["runs"][f"as_of {D2}"] == D2


def test_attribute_history_is_valid_from_the_as_of_date_not_the_load_time(story):
    first, last = (v.astimezone(timezone.utc) if v.tzinfo else v.replace(tzinfo=timezone.utc)
                   for v in story["runs"]["valid_from"])
    assert first == datetime(D1.year, D1.month, D1.day, tzinfo=timezone.utc)
    assert last in (first, datetime(D2.year, D2.month, D2.day, tzinfo=timezone.utc))


def test_status_goes_red_after_a_failed_build_even_after_docs(story):
    runs = story["runs"]
    assert runs["broken build"].returncode == 2, _explain(runs["broken build"])
    assert runs["docs after broken build"].returncode == 0, _explain(runs["docs after broken build"])
    status = runs["status after broken build"]
    assert status.returncode != 0, _explain(status)
    assert "failing" in status.stdout
    for school in story["schools"]:
        line = next(line for line in status.stdout.splitlines() if f"│ {school}" in line)
        assert "failing" in line, status.stdout


def test_status_goes_green_again_after_a_good_build(story):
    runs = story["runs"]
    assert runs["fixed build"].returncode == 0, _explain(runs["fixed build"])
    status = runs["status after fixed build"]
    assert status.returncode == 0, _explain(status)
    for school in story["schools"]:
        line = next(line for line in status.stdout.splitlines() if f"│ {school}" in line)
        assert "│ ok" in line, status.stdout
