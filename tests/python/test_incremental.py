"""Incremental attendance: a look-back build gives exactly what a full refresh gives.

`attendance_sessions` and `fct_attendance_session` are incremental: an incremental run deletes the whole
look-back window (session_date >= as_of_date - attendance_lookback_days) and rebuilds it; the per-enrolment
aggregates rebuild from the window's month (`int_attendance__enrolment_months`) or its academic years (`_weeks`). One tiny synthetic
group is ingested twice into warehouse A (registers to D1, then to D2), with a register correction and a
removed mark inside D2's look-back window but before D1 (so A's first build holds the old versions). A is
built in full as of D1, then incrementally as of D2; warehouse B (a copy of A's raw data, taken before A's
second build) is built with --full-refresh as of D2. Every mart (schema `marts`) and `attendance_sessions`
and those canonical models must be identical in A and B, row for row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.core.warehouse import Warehouse
from ingestion.app.demo import write_sandbox_config
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

D1 = date(2026, 11, 13)  # first build (a Friday)
D2 = date(2026, 11, 20)  # incremental build a week later
LOOKBACK_DAYS = 14  # dbt_project.yml var attendance_lookback_days (default)
WINDOW_START = D2 - timedelta(days=LOOKBACK_DAYS)  # 2026-11-06: corrections between it and D1 must be picked up
# ingestion re-reads from LOOKBACK_DAYS before the last load (D1), so after the week's gap it also lands
# corrections in [REREAD_START, WINDOW_START): dbt must rebuild those too (ops.register_reloads)
REREAD_START = D1 - timedelta(days=LOOKBACK_DAYS)  # 2026-10-30
SECRET = "test-secret-incremental-0123456789"
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
NO_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")  # keeps the module fast


def _ingest(group, root: Path, name: str, warehouse: Path) -> None:
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / name)
        env = {**os.environ, **secrets, "SCHOOLWH_PUPIL_KEY_SECRET": SECRET, "SCHOOLWH_WAREHOUSE": str(warehouse)}
        result = subprocess.run(
            [str(SCHOOLWH), "ingest", "--schools", str(schools_file), "--today", group.today.isoformat()],
            env=env, capture_output=True, text=True, timeout=300,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _dbt(warehouse: Path, as_of: date, *args: str):
    from ingestion.app.dbt_runner import artifacts_dir, run_dbt

    log = artifacts_dir(Warehouse.duckdb(warehouse)) / "logs" / "dbt.log"
    start = log.stat().st_size if log.exists() else 0
    result = run_dbt(["build", "--vars", json.dumps({"as_of_date": as_of.isoformat()}), *args], Warehouse.duckdb(warehouse))
    assert result.ok, "\n".join(result.failures)[-4000:]
    return log.read_bytes()[start:].decode(errors="replace")  # this run's log only


def _correct_registers(warehouse: Path) -> dict[str, tuple]:
    """Amend two marks dated in [WINDOW_START, D1): one present mark becomes an absence, one taken mark is
    deleted (the session disappears). Returns the (school_code, mark id) of each."""
    lo, hi = WINDOW_START.isoformat(), D1.isoformat()
    with duckdb.connect(str(warehouse)) as con:
        in_window = (
            "registration_date_time >= ? and registration_date_time < ? "
            "and school_code = (select min(school_code) from raw_isams.registration_statuses)"
        )
        (school, absence_code), = con.execute(
            f"select school_code, min(code) from raw_isams.registration_statuses "
            f"where registered = '0' and code is not null and {in_window} group by 1", [lo, hi]
        ).fetchall()
        present = con.execute(
            f"select school_code, id from raw_isams.registration_statuses "
            f"where registered = '1' and code is null and {in_window} order by id limit 2", [lo, hi]
        ).fetchall()
        assert len(present) == 2 and present[0][0] == school
        (_, amended), (_, removed) = present
        con.execute("update raw_isams.registration_statuses set registered = '0', code = ? "
                    "where school_code = ? and id = ?", [absence_code, school, amended])
        con.execute("delete from raw_isams.registration_statuses where school_code = ? and id = ?", [school, removed])
        # older than dbt's own look-back but re-read by ingestion after the gap (as a real correction would be)
        (_, older), = con.execute(
            "select school_code, id from raw_isams.registration_statuses where registered = '1' and code is null "
            "and registration_date_time >= ? and registration_date_time < ? and school_code = ? order by id limit 1",
            [REREAD_START.isoformat(), WINDOW_START.isoformat(), school]).fetchall()
        con.execute("update raw_isams.registration_statuses set registered = '0', code = ? "
                    "where school_code = ? and id = ?", [absence_code, school, older])
    return {"amended": (school, int(amended)), "removed": (school, int(removed)), "older": (school, int(older))}


def _differences(a: Path, b: Path, schema: str, table: str) -> tuple[int, int, int]:
    with duckdb.connect(str(a), read_only=True) as con:
        con.execute(f"attach '{b}' as b (read_only)")
        rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
        only_a, only_b = (
            con.execute(f'select count(*) from (select * from {x}."{schema}"."{table}" '
                        f'except all select * from {y}."{schema}"."{table}")').fetchall()[0][0]
            for x, y in ((a.stem, "b"), ("b", a.stem))
        )
    return rows, only_a, only_b


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("incremental")
    monkeypatch_module.setenv("SCHOOLWH_PUPIL_KEY_SECRET", SECRET)  # run_dbt stores it in ops.pupil_key_secret
    # one folder: A and B share dbt's target (partial parsing); only A is ingested (B is a copy)
    a = root / "wh" / "wa.duckdb"
    b = root / "wh" / "wb.duckdb"
    a.parent.mkdir()

    _ingest(generate_group(seed=7, n_schools=3, pupils_per_school=20, today=D1), root, "config-d1", a)
    _dbt(a, D1, *NO_TESTS)
    # a week later: registers to D2 (the group's today bounds the registers served; same seed = same group)
    _ingest(generate_group(seed=7, n_schools=3, pupils_per_school=20, today=D2), root, "config-d2", a)
    marks = _correct_registers(a)
    shutil.copyfile(a, b)  # B: the same raw data, built from scratch
    log_a = _dbt(a, D2, *NO_TESTS)  # B (full refresh) is the reference: equality below is the check
    _dbt(b, D2, "--full-refresh", *NO_TESTS)
    return {"a": a, "b": b, "marks": marks, "log_a": log_a}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_second_build_of_a_was_incremental(warehouses):
    for relation in ('"canonical"."attendance_sessions"', '"marts"."fct_attendance_session"'):
        assert f"delete from \"wa\".{relation} where session_date >= least((cast('{D2.isoformat()}' as date) - 14)" \
            in warehouses["log_a"], relation
    # the per-enrolment aggregates: months from the look-back's month on, weeks by whole academic years
    assert 'delete from "wa"."canonical"."int_attendance__enrolment_months" where month_start >= cast(date_trunc(' \
        "'month', least((cast('2026-11-20' as date) - 14)" in warehouses["log_a"]
    assert 'delete from "wa"."canonical"."int_attendance__enrolment_weeks"' in warehouses["log_a"]


def test_every_mart_is_identical_to_a_full_refresh(warehouses):
    with duckdb.connect(str(warehouses["a"]), read_only=True) as con:
        marts = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
    assert "fct_attendance_session" in marts and len(marts) >= 5
    canonical = ("attendance_sessions", "int_attendance__enrolment_months", "int_attendance__enrolment_weeks")
    for schema, table in [*(("canonical", t) for t in canonical), *(("marts", t) for t in marts)]:
        rows, only_a, only_b = _differences(warehouses["a"], warehouses["b"], schema, table)
        assert (only_a, only_b) == (0, 0), f"{schema}.{table}: {only_a} rows only in A, {only_b} only in B"
        if table in ("attendance_sessions", "fct_attendance_session"):
            assert rows > 0


def test_corrections_inside_the_window_reached_the_fact(warehouses):
    (school, amended), (_, removed) = warehouses["marks"]["amended"], warehouses["marks"]["removed"]
    with duckdb.connect(str(warehouses["a"]), read_only=True) as con:
        def fact(mark_id: int) -> list[tuple]:
            return con.execute(
                "select f.category from marts.fct_attendance_session as f "
                "join canonical.attendance_sessions as s using (attendance_session_key) "
                "where s.school_code = ? and s.mis_mark_id = ?", [school, str(mark_id)]).fetchall()

        amended_rows, removed_rows, older_rows = fact(amended), fact(removed), fact(warehouses["marks"]["older"][1])
        before_window = con.execute("select count(*) from marts.fct_attendance_session where session_date < ?",
                                    [WINDOW_START]).fetchall()[0][0]
    assert len(amended_rows) == 1 and amended_rows[0][0] in ("authorised", "unauthorised", "not_possible",
                                                              "approved_educational_activity")
    assert removed_rows == []  # the session disappeared: a key-based merge would have kept it
    assert len(older_rows) == 1 and older_rows[0][0] != "present"  # re-read after the gap: rebuilt too
    assert before_window > 0  # the first build's rows before the window were kept, not rebuilt
