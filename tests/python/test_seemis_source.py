"""The SEEMiS source on DuckDB: incremental files, re-sent files, later files, quarantine and header drift.

Every expectation is worked out by hand from the few lines written here."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console

from ingestion.app.pipeline import ingest_all
from ingestion.core.config import SchoolConfig, Settings
from ingestion.core.warehouse import Warehouse
from ingestion.seemis.source import ingest_school

PUPILS = "Pupil ID,SCN,Forename,Surname,Preferred Name,Date of Birth,Gender,Stage,Reg Class,House\n"
ATT = "Pupil ID,Date,Opening,Attendance Code\n"
NIGHT1, NIGHT2 = date(2025, 12, 1), date(2025, 12, 2)


def drop(folder: Path, name: str, text: str, night: date, hour: int = 18) -> Path:
    """Write an export with a deterministic mtime on its night (a re-send gets a later hour)."""
    path = folder / name
    path.write_text(text)
    stamp = datetime(night.year, night.month, night.day, hour, tzinfo=timezone.utc).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def env(tmp_path):
    folder = tmp_path / "GBA"
    folder.mkdir()
    school = SchoolConfig(code="GBA", name="Glenbrae Academy", source="seemis", jurisdiction="scotland",
                          phase="secondary", folder=folder)
    return school, folder, tmp_path / "wh.duckdb", tmp_path / "pipelines"


def run(env, night: date):
    school, _, db, pipes = env
    return ingest_school(school, Warehouse.duckdb(db, as_of=night), pipes, today=night)


def query(env, sql: str) -> list[tuple]:
    with Warehouse.duckdb(env[2]).connect() as con:
        return con.execute(sql).fetchall()


def marks(env) -> list[tuple]:
    return query(env, "select record_id, attendance_code, source_file, source_line from raw_seemis.attendance "
                      "order by record_id")


def night1(folder: Path) -> None:
    drop(folder, "pupils_20251201.csv", PUPILS + "1,123456789,Ann,Bell,,01/02/2012,F,S2,2A,Arran\n"
                                                 "2,,Cal,Dunn,,2012-03-04,M,S2,2A,Bute\n", NIGHT1)
    drop(folder, "attendance_20251201.csv", ATT + "1,01/12/2025,AM,10\n1,01/12/2025,PM,11\n"
                                                  "2,01/12/2025,AM,32\n2,01/12/2025,PM,32\n", NIGHT1)


def test_first_load_second_night_and_a_rerun(env):
    school, folder, *_ = env
    night1(folder)
    result = run(env, NIGHT1)
    assert result.ok and result.fetched == {"pupils": 2, "attendance": 4, "terms": 0}
    assert result.reread_windows == [(NIGHT1, NIGHT2)]
    assert marks(env) == [
        ("1:2025-12-01:AM", "10", "attendance_20251201.csv", "2"), ("1:2025-12-01:PM", "11", "attendance_20251201.csv", "3"),
        ("2:2025-12-01:AM", "32", "attendance_20251201.csv", "4"), ("2:2025-12-01:PM", "32", "attendance_20251201.csv", "5"),
    ]
    assert query(env, "select pupil_id, scn, date_of_birth from raw_seemis.pupils order by 1") == [
        ("1", "123456789", "2012-02-01"), ("2", None, "2012-03-04")]
    assert query(env, "select school_code, school_name, phase, jurisdiction from raw_seemis.schools") == [
        ("GBA", "Glenbrae Academy", "secondary", "scotland")]

    # night 2: the 32s of pupil 2 are explained (22), a new day; pupils unchanged (no new pupils file)
    drop(folder, "attendance_20251202.csv", ATT + "2,01/12/2025,AM,22\n2,01/12/2025,PM,22\n"
                                                  "1,02/12/2025,AM,10\n2,02/12/2025,AM,10\n", NIGHT2)
    result = run(env, NIGHT2)
    assert result.fetched == {"attendance": 4, "terms": 0}  # pupils: nothing new to read
    assert result.reread_windows == [(NIGHT1, date(2025, 12, 3))]
    assert marks(env) == [
        ("1:2025-12-01:AM", "10", "attendance_20251201.csv", "2"), ("1:2025-12-01:PM", "11", "attendance_20251201.csv", "3"),
        ("1:2025-12-02:AM", "10", "attendance_20251202.csv", "4"),
        ("2:2025-12-01:AM", "22", "attendance_20251202.csv", "2"), ("2:2025-12-01:PM", "22", "attendance_20251202.csv", "3"),
        ("2:2025-12-02:AM", "10", "attendance_20251202.csv", "5"),
    ]
    pupils_before = query(env, "select * from raw_seemis.pupils order by pupil_id")
    assert len(pupils_before) == 2  # no new scd2 versions

    # the same night again: nothing read, nothing changes
    before = marks(env), query(env, "select * from raw_seemis.attendance order by record_id")
    result = run(env, NIGHT2)
    assert result.fetched == {"attendance": 0, "terms": 0} and result.reread_windows == []
    assert (marks(env), query(env, "select * from raw_seemis.attendance order by record_id")) == before
    assert query(env, "select * from raw_seemis.pupils order by pupil_id") == pupils_before


def test_a_resent_file_replaces_exactly_its_own_rows(env):
    school, folder, *_ = env
    night1(folder)
    drop(folder, "attendance_20251130.csv", ATT + "1,28/11/2025,AM,10\n", date(2025, 11, 30))
    run(env, NIGHT1)
    # re-sent: pupil 1 PM corrected 11 -> 21, pupil 2 PM line removed; the other file is untouched
    drop(folder, "attendance_20251201.csv", ATT + "1,01/12/2025,AM,10\n1,01/12/2025,PM,21\n"
                                                  "2,01/12/2025,AM,32\n", NIGHT1, hour=20)
    result = run(env, NIGHT1)
    assert result.fetched["attendance"] == 3
    assert marks(env) == [
        ("1:2025-11-28:AM", "10", "attendance_20251130.csv", "2"),
        ("1:2025-12-01:AM", "10", "attendance_20251201.csv", "2"), ("1:2025-12-01:PM", "21", "attendance_20251201.csv", "3"),
        ("2:2025-12-01:AM", "32", "attendance_20251201.csv", "4"),
    ]


def test_within_a_file_and_a_run_the_later_line_and_file_win(env):
    school, folder, *_ = env
    drop(folder, "attendance_a.csv", ATT + "1,01/12/2025,AM,32\n1,01/12/2025,AM,31\n", NIGHT1, hour=17)
    drop(folder, "attendance_b.csv", ATT + "1,01/12/2025,PM,10\n", NIGHT1, hour=16)  # older mtime, read first
    drop(folder, "attendance_c.csv", ATT + "1,01/12/2025,PM,11\n", NIGHT1, hour=18)
    run(env, NIGHT1)
    assert marks(env) == [("1:2025-12-01:AM", "31", "attendance_a.csv", "3"),
                          ("1:2025-12-01:PM", "11", "attendance_c.csv", "2")]


def test_a_new_pupils_snapshot_retires_a_leaver_and_an_unchanged_one_adds_no_version(env):
    school, folder, *_ = env
    night1(folder)
    run(env, NIGHT1)
    drop(folder, "pupils_20251202.csv", PUPILS + "1,123456789,Ann,Bell,,01/02/2012,F,S2,2A,Arran\n", NIGHT2)
    run(env, NIGHT2)
    rows = query(env, "select pupil_id, _dlt_valid_to is null from raw_seemis.pupils order by pupil_id")
    assert rows == [("1", True), ("2", False)]


def pipeline_run(env, night: date):
    school, _, db, _ = env
    console = Console(record=True, width=200)
    outcome = ingest_all(Settings(schools=(school,)), Warehouse.duckdb(db, as_of=night), console)
    return outcome, console.export_text()


def test_a_malformed_row_is_quarantined_named_and_the_others_land(env):
    school, folder, *_ = env
    night1(folder)
    drop(folder, "attendance_20251201.csv", ATT + "1,01/12/2025,AM,10\n1,01/12/2025,PM\n2,01/12/2025,AM,32\n", NIGHT1)
    outcome, text = pipeline_run(env, NIGHT1)
    assert outcome.ok
    assert [r[0] for r in marks(env)] == ["1:2025-12-01:AM", "2:2025-12-01:AM"]
    (q,) = query(env, "select school_code, dataset, record_id, rule, reason, load_id from ops.quarantine")
    assert q[:4] == ("GBA", "attendance", "attendance_20251201.csv:3", "structure:field_count")
    assert "attendance_20251201.csv, line 3" in q[4]
    assert q[5] == query(env, "select max(_dlt_load_id) from raw_seemis.attendance")[0][0]
    assert "dataset attendance: file attendance_20251201.csv, line 3" in text and "1 row(s) quarantined" in text


def test_a_renamed_header_is_refused_then_loads_after_the_fix(env):
    school, folder, *_ = env
    night1(folder)
    pipeline_run(env, NIGHT1)
    drop(folder, "attendance_20251202.csv", "Pupil ID,Date,Session,Attendance Code\n1,02/12/2025,AM,10\n", NIGHT2)
    drop(folder, "pupils_20251202.csv", PUPILS + "1,123456789,Ann,Bell,,01/02/2012,F,S2,2A,Arran\n", NIGHT2)
    outcome, text = pipeline_run(env, NIGHT2)
    assert not outcome.ok
    (error,) = outcome.errors
    assert "school GBA" in error and "dataset attendance" in error and "attendance_20251202.csv" in error
    assert "Opening" in error
    assert len(marks(env)) == 4  # the refused file added nothing
    assert query(env, "select count(*) from raw_seemis.pupils where _dlt_valid_to is null") == [(1,)]  # pupils loaded
    drift = query(env, "select dataset, kind, field from ops.schema_drift where school_code = 'GBA' order by 2, 3")
    assert ("attendance", "missing_field", "opening") in drift and ("attendance", "new_field", "session") in drift
    # the school fixes the export and re-sends it the next night
    drop(folder, "attendance_20251202.csv", ATT + "1,02/12/2025,AM,10\n", NIGHT2, hour=23)
    outcome, _ = pipeline_run(env, NIGHT2)
    assert outcome.ok and "1:2025-12-02:AM" in [r[0] for r in marks(env)]


def test_seemis_quarantine_rows_leave_the_isams_view_alone(env):
    """ops.quarantined_records (what iSAMS staging anti-joins) lists only records whose current raw_isams row
    failed; a SEEMiS line in ops.quarantine (dataset 'pupils' too) matches nothing there."""
    from ingestion.ops import quarantine
    from ingestion.validation.rules import BY_DATASET

    school, folder, db, _ = env
    drop(folder, "pupils_20251201.csv", PUPILS + "1,,Ann,Bell,,31/31/2012,F,S2,2A,\n2,,Cal,Dunn,,,M,S2,2A,\n", NIGHT1)
    outcome, _ = pipeline_run(env, NIGHT1)
    assert query(env, "select dataset, record_id, rule from ops.quarantine") == [
        ("pupils", "pupils_20251201.csv:2", "parse:date")]
    with Warehouse.duckdb(db).connect() as con:
        con.execute("create schema if not exists raw_isams")
        con.execute("create table raw_isams.pupils (school_code varchar, id varchar, _dlt_load_id varchar, "
                    "_dlt_id varchar, _dlt_valid_to timestamp)")
        con.execute("insert into raw_isams.pupils values ('NHS', '7', 'L1', 'x', null)")
        quarantine.record(con, [("r", "NHS", "pupils", "7", "accepted:gender", "gender is 'X'", "L1", datetime.now())])
        rules = {"pupils": BY_DATASET["pupils"]}
        quarantine.create_view(con, rules, {"pupils": con.columns("raw_isams", "pupils")})
        assert con.execute("select * from ops.quarantined_records").fetchall() == [("NHS", "pupils", "7")]
