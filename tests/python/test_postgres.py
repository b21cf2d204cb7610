"""The same project on PostgreSQL: ``schoolwh nightly --target postgres`` against a throwaway cluster.

One small synthetic group (3 schools × 25 pupils) is ingested and built once, on the session's cluster
(``pg_cluster`` in conftest.py). The tests then check: dlt landed every dataset for every school in
``raw_isams``, the ops tables live in ``ops``, dbt built and tested everything (models, seeds, data tests and
unit tests) with no failure, ``bi_reader`` reads the marts and nothing else, and model descriptions became
PostgreSQL comments. A few cheap tests of ``ingestion.core.warehouse`` need no cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from ingestion.sandbox import pgcluster
from ingestion.app.demo import write_sandbox_config, write_seemis_night
from ingestion.isams.datasets import BATCH_DATASETS
from ingestion.sandbox.server import SandboxServer
from tests.python.dbt_results import unit_test_outcomes
from ingestion.sandbox.synthetic import generate_group
from ingestion.core.warehouse import PASSWORD_ENV, Warehouse, WarehouseConfigError

TODAY = date(2026, 11, 20)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
OPS_OBJECTS = {"run_log", "quarantine", "quarantined_records", "schema_fields", "schema_drift", "dataset_fingerprints"}
FORBIDDEN_SCHEMAS = ("raw_isams", "staging", "canonical", "monitoring", "ops", "restricted")
# keyed_hash (macros/privacy) needs a deployment secret; any fixed one will do for a test build
TEST_PUPIL_KEY_SECRET = "0123456789abcdef" * 4


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCHOOLWH), *args], env=env, capture_output=True, text=True, timeout=900)


def _rows(cluster: pgcluster.PgCluster, sql: str, params: list | None = None) -> list[tuple]:
    con = cluster.admin_connect()
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def _tables(cluster: pgcluster.PgCluster, schema: str) -> list[str]:
    return [t for (t,) in _rows(cluster, "select table_name from information_schema.tables where table_schema = %s "
                                         "order by 1", [schema])]


@pytest.fixture(scope="module")
def pg_built(pg_cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("pg_e2e")
    group = generate_group(seed=7, n_schools=3, pupils_per_school=25, today=TODAY)
    with SandboxServer(group) as server:
        # the mixed group: the iSAMS schools and the SEEMiS school GBA
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config", seemis=True)
        write_seemis_night(schools_file.parent, TODAY)
        env = {
            **os.environ, **secrets, **pg_cluster.env(),
            "SCHOOLWH_WAREHOUSE": str(root / "wh" / "schoolwh.duckdb"),  # with postgres: only local state here
        }
        env.setdefault("SCHOOLWH_PUPIL_KEY_SECRET", TEST_PUPIL_KEY_SECRET)
        env.pop("SCHOOLWH_TARGET", None)  # --target decides
        nightly = _run(["nightly", "--target", "postgres", "--schools", str(schools_file),
                        "--today", TODAY.isoformat()], env)
        status = _run(["status", "--target", "postgres", "--today", TODAY.isoformat()], env)
    warehouse = Warehouse.resolve("postgres", root / "wh" / "schoolwh.duckdb", env=env)
    yield {"root": root, "group": group, "env": env, "nightly": nightly, "status": status, "warehouse": warehouse}


def test_nightly_on_postgres_succeeds_and_lands_every_dataset_for_every_school(pg_built, pg_cluster):
    run = pg_built["nightly"]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    codes = {s.code for s in pg_built["group"].schools}
    for dataset in BATCH_DATASETS:
        rows = _rows(pg_cluster, f"select school_code, count(*) from raw_isams.{dataset.name} group by 1")
        assert {code for code, n in rows if n > 0} == codes, dataset.name


def test_no_duckdb_file_is_written_for_a_postgres_warehouse(pg_built):
    assert not (pg_built["root"] / "wh" / "schoolwh.duckdb").exists()


def test_ops_tables_live_in_the_ops_schema_of_the_same_database(pg_built, pg_cluster):
    assert OPS_OBJECTS <= set(_tables(pg_cluster, "ops"))
    # one row per school and dataset plus one per school ('*'), for the one nightly run
    per_school = _rows(pg_cluster, "select school_code, outcome from ops.run_log where dataset = '*' order by 1")
    assert per_school == sorted([(s.code, "ok") for s in pg_built["group"].schools] + [("GBA", "ok")])
    # the drift baseline was recorded, and a first run reports no drift
    assert _rows(pg_cluster, "select count(*) from ops.schema_fields")[0][0] > 0
    assert _rows(pg_cluster, "select count(*) from ops.schema_drift")[0][0] == 0


def test_dbt_built_and_tested_everything_without_a_failure(pg_built):
    """dbt build's own tally: no error, warning or skip. The nightly runs no unit test (they run once, in
    test_dbt_unit_tests_pass_on_postgres)."""
    dbt_dir = pg_built["warehouse"].local_dir / "dbt"
    log = (dbt_dir / "logs" / "dbt.log").read_text()
    done = [line for line in log.splitlines() if "Done. PASS=" in line]
    assert len(done) == 1 and " WARN=0 ERROR=0 SKIP=0 " in done[0], done
    assert int(done[0].split("PASS=")[1].split()[0]) > 300  # models, seeds and data tests
    unit_tests = json.loads((dbt_dir / "target" / "manifest.json").read_text())["unit_tests"].values()
    assert unit_tests
    for test in unit_tests:
        assert f"{test['model']}::{test['name']} " not in log, test["name"]


def test_marts_are_built_and_non_empty(pg_built, pg_cluster):
    marts = _tables(pg_cluster, "marts")
    assert {"dim_school", "dim_pupil", "fct_attendance_session", "persistent_absence"} <= set(marts)
    assert _rows(pg_cluster, "select count(*) from marts.dim_school")[0][0] == 4  # one row per school, GBA too
    for table in marts:
        assert _rows(pg_cluster, f'select count(*) from marts."{table}"')[0][0] > 0, table


def test_status_on_postgres_reports_every_school(pg_built):
    out = pg_built["status"].stdout
    assert pg_built["status"].returncode == 0, out
    for school in pg_built["group"].schools:
        assert school.code in out
    assert "2026-11-20" in out


def test_the_password_never_appears_in_output_or_local_files(pg_built, pg_cluster):
    password = pg_cluster.password
    for run in (pg_built["nightly"], pg_built["status"]):
        assert password not in run.stdout + run.stderr
    root = pg_built["root"]
    files = [p for p in root.rglob("*") if p.is_file() and "config" not in p.relative_to(root).parts]
    assert files
    for path in files:
        assert password.encode() not in path.read_bytes(), path


def _member_login(cluster: pgcluster.PgCluster, user: str, password: str, role: str):
    """A login user made a member of the NOLOGIN group ``role`` (as documented), connected over TCP."""
    admin = cluster.admin_connect()
    with admin.cursor() as cur:
        cur.execute(f"create role {user} login password '{password}' in role {role}")
    admin.close()
    con = psycopg2.connect(host=cluster.host, port=cluster.port, user=user, password=password, dbname=cluster.database)
    con.autocommit = True
    return con


@pytest.fixture(scope="module")
def bi_user(pg_built, pg_cluster):
    """A login user that is a member of bi_reader (as documented for a BI tool)."""
    con = _member_login(pg_cluster, "bi_tool_test", "bi-tool-test-pw", "bi_reader")
    yield con
    con.close()


def test_bi_reader_is_a_nologin_group_role(pg_built, pg_cluster):
    assert _rows(pg_cluster, "select rolcanlogin from pg_roles where rolname = 'bi_reader'") == [(False,)]


def test_bi_reader_reads_every_mart(pg_built, pg_cluster, bi_user):
    marts = _tables(pg_cluster, "marts")
    assert marts
    with bi_user.cursor() as cur:
        for table in marts:
            cur.execute(f'select count(*) from marts."{table}"')
            assert cur.fetchall()[0][0] >= 0


@pytest.mark.parametrize("schema", FORBIDDEN_SCHEMAS)
def test_bi_reader_cannot_read_anything_outside_the_marts(pg_built, pg_cluster, bi_user, schema):
    tables = _tables(pg_cluster, schema)
    assert tables, schema
    with bi_user.cursor() as cur:
        for table in tables:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                cur.execute(f'select 1 from "{schema}"."{table}" limit 1')


@pytest.fixture(scope="module")
def officer(pg_built, pg_cluster):
    """A login user that is a member of attendance_officer (as documented for an attendance officer)."""
    con = _member_login(pg_cluster, "officer_test", "officer-test-pw", "attendance_officer")
    yield con
    con.close()


def test_attendance_officer_is_a_nologin_group_role(pg_built, pg_cluster):
    assert _rows(pg_cluster, "select rolcanlogin from pg_roles where rolname = 'attendance_officer'") == [(False,)]


def test_an_attendance_officer_reads_the_named_support_list(pg_built, pg_cluster, officer):
    assert _tables(pg_cluster, "restricted") == ["attendance_support_list"]
    with officer.cursor() as cur:
        cur.execute("select count(*), count(surname), count(distinct school_code) from restricted.attendance_support_list")
        rows, named, schools = cur.fetchall()[0]
    # the build's own row count, read as the owner: the officer sees all of it, with names
    assert rows == _rows(pg_cluster, "select count(*) from restricted.attendance_support_list")[0][0]
    assert rows > 0 and named == rows and schools >= 1


@pytest.mark.parametrize("schema", ["canonical", "staging", "raw_isams"])
def test_an_attendance_officer_reads_nothing_else_with_names(pg_built, pg_cluster, officer, schema):
    with officer.cursor() as cur:
        for table in _tables(pg_cluster, schema):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                cur.execute(f'select 1 from "{schema}"."{table}" limit 1')


def _manifest(pg_built) -> dict:
    return json.loads((pg_built["warehouse"].local_dir / "dbt" / "target" / "manifest.json").read_text())


@pytest.mark.parametrize("schema", ["marts", "canonical"])
def test_model_and_column_descriptions_are_postgres_comments(pg_built, pg_cluster, schema):
    """persist_docs: every documented column of every model in the schema carries its description."""
    nodes = [n for n in _manifest(pg_built)["nodes"].values()
             if n["resource_type"] == "model" and n["schema"] == schema and n["path"].startswith(schema + "/")]
    assert nodes
    checked = 0
    for node in nodes:
        regclass = f'{schema}."{node["alias"]}"'
        if node["description"].strip():
            comment = _rows(pg_cluster, "select obj_description(%s::regclass, 'pg_class')", [regclass])[0][0]
            assert comment == node["description"], regclass
        for column in node["columns"].values():
            if not column["description"].strip():
                continue
            comment = _rows(pg_cluster,
                            "select col_description(a.attrelid, a.attnum) from pg_attribute a "
                            "where a.attrelid = %s::regclass and a.attname = %s", [regclass, column["name"]])
            assert comment == [(column["description"],)], (regclass, column["name"])
            checked += 1
    assert checked > 0


def test_a_known_mart_column_comment(pg_built, pg_cluster):
    """Hand-checked: dim_school.school_code is documented, so pg_catalog has a comment on it."""
    comment = _rows(pg_cluster, "select col_description('marts.dim_school'::regclass, a.attnum) from pg_attribute a "
                                "where a.attrelid = 'marts.dim_school'::regclass and a.attname = 'school_code'")[0][0]
    assert comment and "school" in comment.lower()


# ---------------------------------------------------------------- the abstraction itself (no cluster)


def test_warehouse_resolve_reads_the_profile_env_vars_and_never_describes_the_password(tmp_path):
    env = {"SCHOOLWH_PG_HOST": "db.example", "SCHOOLWH_PG_PORT": "6543", "SCHOOLWH_PG_USER": "wh",
           PASSWORD_ENV: "s3cret-pw", "SCHOOLWH_PG_DATABASE": "school"}
    wh = Warehouse.resolve("postgres", tmp_path / "w.duckdb", env=env)
    assert (wh.kind, wh.dbt_target) == ("postgres", "postgres")
    assert wh.describe() == "postgresql://wh@db.example:6543/school"
    assert "s3cret-pw" not in repr(wh) and "s3cret-pw" not in wh.describe()
    assert wh.dbt_env()[PASSWORD_ENV] == "s3cret-pw" and wh.dbt_env()["SCHOOLWH_TARGET"] == "postgres"
    assert wh.local_dir == tmp_path / "postgres" / "school_db.example_6543"


def test_warehouse_defaults_to_duckdb_and_rejects_unknown_targets(tmp_path):
    wh = Warehouse.resolve(None, tmp_path / "w.duckdb", env={})
    assert (wh.kind, wh.describe(), wh.local_dir) == ("duckdb", str(tmp_path / "w.duckdb"), tmp_path)
    assert Warehouse.resolve(None, tmp_path / "w.duckdb", env={"SCHOOLWH_TARGET": "postgres"}).kind == "postgres"
    with pytest.raises(WarehouseConfigError, match="unknown target 'mysql'"):
        Warehouse.resolve("mysql", tmp_path / "w.duckdb", env={})


def test_duckdb_connection_takes_question_mark_parameters(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    with wh.connect() as con:
        con.execute("create schema ops; create table ops.t (a varchar, b integer)")
        con.executemany("insert into ops.t values (?, ?)", [("x", 1), ("y%", 2)])
        assert con.execute("select a from ops.t where b = ? and a like 'y%'", [2]).fetchall() == [("y%",)]
        assert con.table_exists("ops", "t") and not con.table_exists("ops", "u")


def test_missing_postgres_binaries_fail_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLWH_PG_BINDIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgcluster.glob, "glob", lambda pattern: [])
    with pytest.raises(pgcluster.PgClusterError, match="PostgreSQL server binaries .* not found"):
        pgcluster.find_bindir()


def test_the_scottish_school_is_measured_by_scotlands_rules_on_postgres(pg_built, pg_cluster):
    rows = _rows(pg_cluster, "select count(*), count(is_severe_absentee), sum(case when is_persistent_absentee then 1 else 0 end) "
                             "from marts.persistent_absence where school_code = 'GBA'")
    pupils, severe_flags, persistent = rows[0]
    assert pupils > 300 and severe_flags == 0 and 0 < persistent < pupils
    scopes = {r[0] for r in _rows(pg_cluster, "select distinct group_scope from marts.cross_campus_attendance")}
    assert scopes == {"school", "all_schools", "jurisdiction"}


def test_dbt_unit_tests_pass_on_postgres(pg_built):
    """The dbt unit tests, which no nightly runs (they test the SQL, not the data), pass on PostgreSQL too."""
    run = _run(["unit-tests", "--target", "postgres", "--today", TODAY.isoformat()],
               pg_built["env"])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    outcomes = unit_test_outcomes(pg_built["warehouse"])
    assert len(outcomes) >= 40 and set(outcomes.values()) == {"pass"}, outcomes


def test_a_touched_night_tests_the_window_on_postgres_too(pg_built, monkeypatch):
    """The data tests of the register-sized models read the look-back window only on a touched night, every
    row otherwise (tests/python/test_data_test_scope.py has the DuckDB twin); the warehouse is left as found."""
    from tests.python.test_data_test_scope import check_scope

    monkeypatch.setenv("SCHOOLWH_PUPIL_KEY_SECRET", pg_built["env"]["SCHOOLWH_PUPIL_KEY_SECRET"])
    warehouse = Warehouse.resolve("postgres", pg_built["root"] / "wh" / "schoolwh.duckdb", as_of=TODAY,
                                  env=pg_built["env"])
    check_scope(warehouse, TODAY)
