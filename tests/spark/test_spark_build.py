"""The same dbt project on Apache Spark: a small mixed group (two iSAMS schools and the SEEMiS school) over two
nights, every mart on Spark equal to DuckDB's on the same raw data.

Opt-in (`make test-spark`, from .venv-spark; not part of `make test`): Spark's JVM makes each build take minutes.

Night 1 (D1): the demo ingests and builds warehouse A on DuckDB; `schoolwh lake` publishes A's raw layer; Spark
builds from it in full, unit tests included. Every mart must equal A's.
Night 2 (D2, a week later): the demo ingests and builds A again; two marks inside the look-back window but before
D1 are then corrected in A's raw registers (one amended, one deleted), as a school's late correction would be. B,
a copy of A, is built on DuckDB with --full-refresh (the reference); the lake is published again and Spark runs
incrementally (whole academic-year partitions overwritten). Every mart on Spark must equal B's, so the amended
mark is in and the deleted one is gone on Spark too.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.app import spark

D1 = date(2026, 3, 13)  # a Friday in the spring term
D2 = D1 + timedelta(days=7)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"

pytestmark = pytest.mark.skipif(
    any(__import__("importlib").util.find_spec(m) is None for m in ("pyspark", "dbt.adapters.spark")),
    reason="dbt-spark is not installed: run `make test-spark` (it builds .venv-spark)",
)


def _run(*args: str, env: dict[str, str] | None = None, timeout: int = 1800) -> str:
    result = subprocess.run([str(SCHOOLWH), *args], env={**os.environ, **(env or {})}, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"schoolwh {' '.join(args)}:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _sandbox_env(warehouse: Path) -> dict[str, str]:
    """The demo's secrets (the pupil-key secret above all), from the env file it writes beside the warehouse."""
    lines = (warehouse.parent / "sandbox" / "sandbox.env").read_text().splitlines()
    return dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))


def _correct_registers(warehouse: Path) -> tuple[str, str, str]:
    """Amend one present mark to an absence and delete another, both dated in D2's look-back window before D1
    (in D1's build as they were). Returns (school, amended id, deleted id)."""
    lo, hi = (D2 - timedelta(days=14)).isoformat(), D1.isoformat()
    with duckdb.connect(str(warehouse)) as con:
        school = con.execute("select min(school_code) from raw_isams.registration_statuses").fetchall()[0][0]
        window = "school_code = ? and registration_date_time >= ? and registration_date_time < ?"
        (absence,), = con.execute(f"select min(code) from raw_isams.registration_statuses where registered = '0' "
                                  f"and code is not null and {window}", [school, lo, hi]).fetchall()
        (amended,), (deleted,) = con.execute(
            f"select id from raw_isams.registration_statuses where registered = '1' and code is null and {window} "
            "order by id limit 2", [school, lo, hi]).fetchall()
        con.execute("update raw_isams.registration_statuses set registered = '0', code = ? "
                    "where school_code = ? and id = ?", [absence, school, amended])
        con.execute("delete from raw_isams.registration_statuses where school_code = ? and id = ?", [school, deleted])
    return school, amended, deleted


def _spark_table(spark_dir: Path, schema: str, table: str) -> str:
    """A Spark table's Parquet files (partitioned tables in academic_year=... folders) as a DuckDB relation."""
    files = f"{spark_dir}/tables/{schema}.db/{table}/**/*.parquet"
    assert glob.glob(files, recursive=True), f"Spark has no {schema}.{table}"
    return f"read_parquet('{files}', hive_partitioning = true, union_by_name = true)"


def _differences(warehouse: Path, spark_dir: Path) -> dict[str, tuple[int, int, int]]:
    """Per mart: (rows on DuckDB, rows only on DuckDB, rows only on Spark), columns matched by name."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # Spark's Parquet timestamps are UTC instants
        marts = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'marts' order by 1").fetchall()]
        for table in marts:
            columns = ", ".join(f'"{c}"' for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
                "order by ordinal_position", [table]).fetchall())
            ours = f'(select {columns} from marts."{table}")'
            theirs = f"(select {columns} from {_spark_table(spark_dir, 'marts', table)})"
            count = con.execute(f"select count(*) from {ours}").fetchall()[0][0]
            only_duckdb = con.execute(f"select count(*) from ({ours} except all {theirs})").fetchall()[0][0]
            only_spark = con.execute(f"select count(*) from ({theirs} except all {ours})").fetchall()[0][0]
            out[table] = (count, only_duckdb, only_spark)
    return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    a, b = root / "a" / "schoolwh.duckdb", root / "b" / "schoolwh.duckdb"
    lake, spark_dir = root / "lake", root / "spark"
    group = ("--school-count", "2", "--pupils", "40")

    _run("demo", "--warehouse", str(a), "--today", D1.isoformat(), *group)
    _run("lake", "--warehouse", str(a), "--lake", str(lake))
    _run("spark-build", "--lake", str(lake), "--spark-dir", str(spark_dir), "--today", D1.isoformat(), "--unit-tests")
    night1 = _differences(a, spark_dir)

    _run("demo", "--warehouse", str(a), "--today", D2.isoformat(), *group)
    marks = _correct_registers(a)
    b.parent.mkdir()
    shutil.copyfile(a, b)
    _run("build", "--warehouse", str(b), "--today", D2.isoformat(), "--full-refresh", env=_sandbox_env(a))
    _run("lake", "--warehouse", str(a), "--lake", str(lake))
    log = spark_dir / "dbt" / "logs" / "dbt.log"
    start = log.stat().st_size
    _run("spark-build", "--lake", str(lake), "--spark-dir", str(spark_dir), "--today", D2.isoformat())
    return {"night1": night1, "night2": _differences(b, spark_dir), "b": b, "spark": spark_dir, "marks": marks,
            "log2": log.read_bytes()[start:].decode(errors="replace")}


def test_first_night_every_mart_equals_duckdb(nights):
    assert len(nights["night1"]) >= 15 and nights["night1"]["fct_attendance_session"][0] > 0
    unequal = {t: d for t, d in nights["night1"].items() if d[1:] != (0, 0)}
    assert unequal == {}, f"(rows, only on DuckDB, only on Spark): {unequal}"


def test_second_night_was_incremental_on_spark(nights):
    log = nights["log2"]
    for relation in ("canonical.attendance_sessions", "marts.fct_attendance_session",
                     "canonical.int_attendance__enrolment_months", "canonical.int_attendance__enrolment_weeks"):
        assert f"insert overwrite table {relation}" in log, relation


def test_second_night_every_mart_equals_a_full_refresh(nights):
    unequal = {t: d for t, d in nights["night2"].items() if d[1:] != (0, 0)}
    assert unequal == {}, f"(rows, only on the full refresh, only on Spark): {unequal}"


def test_late_corrections_reached_spark(nights):
    school, amended, deleted = nights["marks"]
    with duckdb.connect() as con:
        sessions = _spark_table(nights["spark"], "canonical", "attendance_sessions")
        rows = dict(con.execute(f"select mis_mark_id, category from {sessions} where school_code = ? "
                                "and mis_mark_id in (?, ?)", [school, amended, deleted]).fetchall())
    assert set(rows) == {amended} and rows[amended] != "present"


def test_spark_settings_come_from_one_place(tmp_path):
    env = spark.spark_env("/lake", tmp_path, env={"SCHOOLWH_SPARK_MASTER": "local[4]"})
    assert env["SCHOOLWH_SPARK_MASTER"] == "local[4]" and env["SCHOOLWH_SPARK_DRIVER_MEMORY"] == "2g"
    assert env["SCHOOLWH_TARGET"] == "spark" and env["SCHOOLWH_SPARK_WAREHOUSE_DIR"] == str(tmp_path)
