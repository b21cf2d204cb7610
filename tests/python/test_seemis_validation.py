"""Value validation of what SEEMiS landed in raw_seemis: the sandbox school's exports with a few values
corrupted by hand, a clean second SEEMiS school and a tiny raw_isams table in the same warehouse.

Each expected record id below is derived from the line the test corrupts (record ids: attendance
``<pupil>:<date>:<opening>``, pupils ``<pupil>``, enrolments ``<pupil>:<start date>``, terms
``<session>:<term>``, as ingestion/seemis/exports.py builds them)."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from ingestion.app.pipeline import ingest_all
from ingestion.core.config import SchoolConfig, Settings
from ingestion.core.warehouse import Warehouse
from ingestion.ops import quarantine as ops_quarantine
from ingestion.ops import runlog
from ingestion.sandbox import seemis
from ingestion.validation import load_ids_since, validate_landed
from ingestion.validation.gx_validate import checks_for
from ingestion.validation.rules import BY_DATASET, BY_SCHEMA_DATASET, DateRange, years_before

NIGHT = date(2025, 12, 3)
NIGHT2 = date(2025, 12, 4)
STAMP = NIGHT.strftime("%Y%m%d")
OLD_DOB = "01/06/1965"  # 60 on the night


def corrupt(path: Path, line: int, column: int, value: str) -> list[str]:
    """Set field ``column`` of file line ``line`` (1 = header) to ``value``, mtime kept; return the line's
    fields as they were."""
    stat = path.stat()
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    fields = next(csv.reader([lines[line - 1]]))
    before = list(fields)
    fields[column] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    lines[line - 1] = out.getvalue()
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    os.utime(path, (stat.st_atime, stat.st_mtime))
    return before


def school(code: str, folder: Path) -> SchoolConfig:
    return SchoolConfig(code=code, name=f"School {code}", source="seemis", jurisdiction="scotland",
                        phase="secondary", folder=folder)


def write_night(folder: Path, night: date) -> None:
    seemis.write_exports(folder, night)
    for backfill in folder.glob("attendance_backfill_*.csv"):  # the last 7 days are enough here
        backfill.unlink()


def quarantine_rows(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select school_code, dataset, record_id, rule, reason, load_id, run_id "
                           "from ops.quarantine order by 1, 2, 3, 4").fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("seemis_validation")
    gba, gbb, db = tmp / "GBA", tmp / "GBB", tmp / "wh.duckdb"
    write_night(gba, NIGHT)
    write_night(gbb, NIGHT)
    att, pup, enr, ter = (gba / f"{d}_{STAMP}.csv" for d in ("attendance", "pupils", "enrolments", "terms"))
    mark = corrupt(att, 2, 1, "04/12/2025")  # a mark for tomorrow
    s9 = corrupt(pup, 2, 7, "S9")
    old = corrupt(pup, 3, 5, OLD_DOB)
    good_pupil = next(csv.reader([pup.read_text().splitlines()[3]]))[0]  # line 4: untouched
    enrol = next(csv.reader([enr.read_text().splitlines()[1]]))
    start = datetime.strptime(enrol[1], "%d/%m/%Y").date()
    corrupt(enr, 2, 2, _day_before(start))  # left the day before it started
    term_start = next(csv.reader([ter.read_text().splitlines()[1]]))[2]
    term = corrupt(ter, 2, 3, _day_before(datetime.strptime(term_start, "%d/%m/%Y").date()))  # ends before it starts
    bad_line = seemis.add_malformed_row(att)  # refused at read time: a field missing

    expected = {  # (school, dataset, record_id, rule)
        ("GBA", "attendance", f"{mark[0]}:2025-12-04:{mark[2]}", "range:attendance_date"),
        ("GBA", "pupils", s9[0], "pattern:stage"),
        ("GBA", "pupils", old[0], "range:date_of_birth"),
        ("GBA", "enrolments", f"{enrol[0]}:{start.isoformat()}", "ordered:start_date<=leaving_date"),
        ("GBA", "terms", f"{term[0]}:{term[1]}", "ordered:start_date<=end_date"),
        ("NHS", "pupils", "8", "not_null:surname"),
    }
    settings = Settings(schools=(school("GBA", gba), school("GBB", gbb)))
    wh = Warehouse.duckdb(db, as_of=NIGHT)
    outcome = ingest_all(settings, wh, Console(record=True, width=200))
    assert outcome.ok
    with duckdb.connect(str(db)) as con:  # an iSAMS school beside them: dataset 'pupils' in raw_isams too
        con.execute("create schema raw_isams")
        con.execute("create table raw_isams.pupils (_dlt_valid_to timestamptz, id varchar, school_id varchar, "
                    "forename varchar, surname varchar, school_code varchar, _dlt_load_id varchar, _dlt_id varchar)")
        con.execute("insert into raw_isams.pupils values (null, '7', '1007', 'Ann', 'Able', 'NHS', 'LI', 'i7'), "
                    f"(null, '8', '1008', 'Bob', null, 'NHS', 'LI', 'i8'), (null, '{s9[0]}', '1009', 'Cy', 'Cole', "
                    "'NHS', 'LI', 'i9')")
    loads = load_ids_since(wh, outcome.started_at)
    docs = tmp / "docs"
    first = validate_landed(wh, outcome.run_id, load_ids=loads | {"LI"}, docs_dir=docs, today=NIGHT)
    after_first = quarantine_rows(db)
    with duckdb.connect(str(db), read_only=True) as con:
        view_first = con.execute("select school_code, dataset, record_id from ops.quarantined_records").fetchall()
    health_first = {h.school_code: h for h in runlog.health(wh)}
    suites_first = {f"{p.parent.name}.{p.stem}" for p in (docs / "expectations").glob("*/*.html")}
    second = validate_landed(wh, "rerun", load_ids=loads | {"LI"}, docs_dir=docs, today=NIGHT)
    after_second = quarantine_rows(db)

    # night 2: GBA re-sends its attendance file without the malformed line (and still with tomorrow's mark)
    lines = att.read_bytes().split(b"\r\n")
    del lines[bad_line - 1]
    stat = att.stat()
    att.write_bytes(b"\r\n".join(lines))
    os.utime(att, (stat.st_atime, stat.st_mtime + 3600))
    wh2 = Warehouse.duckdb(db, as_of=NIGHT2)
    outcome2 = ingest_all(settings, wh2, Console(record=True, width=200))
    third = validate_landed(wh2, outcome2.run_id, load_ids=load_ids_since(wh2, outcome2.started_at),
                            docs_dir=docs, today=NIGHT2)
    return {"db": db, "docs": docs, "expected": expected, "first": first, "second": second, "third": third,
            "after_first": after_first, "after_second": after_second, "after_third": quarantine_rows(db),
            "health_first": health_first, "health_third": {h.school_code: h for h in runlog.health(wh2)},
            "bad_line": bad_line, "good_pupil": good_pupil, "s9": s9[0], "old": old[0], "mark": mark,
            "loads": loads, "view_first": view_first,
            "suites_first": suites_first}


def _day_before(day: date) -> str:
    return date.fromordinal(day.toordinal() - 1).strftime("%d/%m/%Y")


def value_rows(rows: list[tuple]) -> list[tuple]:
    return [r for r in rows if not r[3].startswith(ops_quarantine.READ_TIME_RULES)]


def test_exactly_the_corrupted_records_are_quarantined(landed: dict) -> None:
    got = [r[:4] for r in value_rows(landed["after_first"])]
    assert sorted(got) == sorted(landed["expected"])
    assert landed["first"].quarantined == len(landed["expected"])
    read_time = [r[:4] for r in landed["after_first"] if r[3].startswith(ops_quarantine.READ_TIME_RULES)]
    assert read_time == [("GBA", "attendance", f"attendance_{STAMP}.csv:{landed['bad_line']}",
                          "structure:field_count")]


def test_reasons_name_the_value_without_personal_data(landed: dict) -> None:
    reasons = {(r[1], r[2]): r[4] for r in landed["after_first"]}
    mark = landed["mark"]
    assert reasons["attendance", f"{mark[0]}:2025-12-04:{mark[2]}"] == (
        "attendance_date is '2025-12-04', outside the sane range 2000-01-01..2025-12-03")
    assert reasons["pupils", landed["s9"]] == "stage is 'S9', expected a stage P1-P7 or S1-S6"
    dob = reasons["pupils", landed["old"]]
    assert dob == ("date_of_birth is a withheld value (personal data), outside the sane range "
                   "2000-12-03..2023-12-03")
    assert "1965" not in dob
    enrolment = next(r for (d, _), r in reasons.items() if d == "enrolments")
    assert enrolment.startswith("leaving_date '") and "' is before start_date '" in enrolment
    term = next(r for (d, _), r in reasons.items() if d == "terms")
    assert term.startswith("end_date '") and "' is before start_date '" in term


def test_good_records_and_the_other_schools_are_not_quarantined(landed: dict) -> None:
    keys = {(s, d, r) for s, d, r, *_ in landed["after_first"]}
    assert ("GBA", "pupils", landed["good_pupil"]) not in keys
    assert not [k for k in keys if k[0] == "GBB"]  # the clean school: same files, nothing failed
    assert ("NHS", "pupils", "7") not in keys
    assert ("NHS", "pupils", landed["s9"]) not in keys  # same id as GBA's S9 pupil, other school and schema
    by_key = {(r.school_code, r.dataset): r for r in landed["first"].results}
    for dataset in ("attendance", "pupils", "enrolments", "terms", "schools"):
        assert by_key["GBB", dataset].rows_checked > 0 and by_key["GBB", dataset].rows_failed == 0
    assert by_key["GBA", "pupils"].failed_rules == {"pattern:stage": 1, "range:date_of_birth": 1}
    assert by_key["GBA", "pupils"].rows_checked == by_key["GBB", "pupils"].rows_checked


def test_the_other_schools_raw_rows_are_untouched(landed: dict) -> None:
    with duckdb.connect(str(landed["db"]), read_only=True) as con:
        gba = con.execute("select count(*) from raw_seemis.pupils where school_code = 'GBA' "
                          "and _dlt_valid_to is null").fetchall()
        gbb = con.execute("select count(*) from raw_seemis.pupils where school_code = 'GBB' "
                          "and _dlt_valid_to is null").fetchall()
        stages = con.execute("select count(*) from raw_seemis.pupils where school_code = 'GBB' "
                             "and stage = 'S9'").fetchall()
    assert gba == gbb and stages == [(0,)]  # a failing record stays in raw; nothing is deleted


def test_rerun_adds_no_duplicate_quarantine_rows(landed: dict) -> None:
    assert landed["second"].quarantined == 0
    assert landed["after_second"] == landed["after_first"]


def test_quarantined_records_view_covers_both_schemas(landed: dict) -> None:
    listed = landed["view_first"]
    assert sorted(listed) == sorted((s, d, r) for s, d, r, _ in landed["expected"])  # not the refused line
    with duckdb.connect(str(landed["db"]), read_only=True) as con:  # night 2: the re-landed mark is valid now
        later = con.execute("select school_code, dataset, record_id from ops.quarantined_records").fetchall()
    assert sorted(later) == sorted((s, d, r) for s, d, r, _ in landed["expected"] if d != "attendance")


def test_suites_are_named_per_schema(landed: dict) -> None:
    assert landed["suites_first"] == {"raw_isams.pupils", "raw_seemis.attendance", "raw_seemis.pupils",
                                      "raw_seemis.enrolments", "raw_seemis.terms", "raw_seemis.schools"}


def test_status_counts_value_and_read_time_quarantine(landed: dict) -> None:
    first = landed["health_first"]
    assert first["GBA"].quarantined_records == 6  # five records failing a rule + one refused line
    assert "6 record(s) quarantined" in first["GBA"].problems and first["GBA"].state != "ok"
    assert first["GBB"].quarantined_records == 0
    # night 2: the re-sent attendance file has no malformed line; tomorrow's mark (now today) is still there,
    # re-landed under the new load: valid on NIGHT2, so it leaves the view
    third = landed["health_third"]
    assert third["GBA"].quarantined_records == 4
    assert landed["third"].quarantined == 0
    assert third["GBB"].quarantined_records == 0


@pytest.mark.fast
def test_relative_date_ranges() -> None:
    dob = DateRange(earliest_years_ago=25, latest_years_ago=2)
    assert (dob.first(NIGHT), dob.latest(NIGHT)) == (date(2000, 12, 3), date(2023, 12, 3))
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)
    assert DateRange(date(2000, 1, 1), 3).latest(NIGHT) == date(2025, 12, 6)
    with pytest.raises(ValueError):
        DateRange()


@pytest.mark.fast
def test_rules_are_keyed_by_schema_and_dataset() -> None:
    assert BY_SCHEMA_DATASET["raw_isams", "pupils"] is BY_DATASET["pupils"]
    pupils = BY_SCHEMA_DATASET["raw_seemis", "pupils"]
    assert pupils.key == "record_id" and pupils.suite == "raw_seemis.pupils" and pupils.date_format == "%Y-%m-%d"
    checks = {c.rule: c for c in checks_for(pupils, ["record_id", "pupil_id", "date_of_birth", "stage", "gender"],
                                            NIGHT)}
    assert checks["range:date_of_birth"].bounds == (date(2000, 12, 3), date(2023, 12, 3))
    assert set(checks) == {"not_null:record_id", "not_null:pupil_id", "timestamp:date_of_birth",
                           "accepted:gender", "pattern:stage", "range:date_of_birth", "unique:record_id"}
    import re
    stage = pupils.patterns["stage"][0]
    assert all(re.search(stage, s) for s in ("P1", "P7", "S1", "S6", "s 2"))
    assert not any(re.search(stage, s) for s in ("S9", "S7", "P8", "P0", "X1", "S10"))
    enrolments = BY_SCHEMA_DATASET["raw_seemis", "enrolments"]
    assert enrolments.ordered == (("start_date", "leaving_date"),)
    attendance = BY_SCHEMA_DATASET["raw_seemis", "attendance"]
    assert attendance.ranges["attendance_date"].latest(NIGHT) == NIGHT
    assert re.search(attendance.patterns["attendance_code"][0], "02")
    assert not re.search(attendance.patterns["attendance_code"][0], "2")


def test_a_refused_snapshot_line_counts_until_a_later_file_lands(tmp_path: Path) -> None:
    """A malformed pupils line is counted by status on its night and no longer once a newer pupils file has
    landed; a malformed attendance line of another file still counts (that file was never re-sent)."""
    folder, db = tmp_path / "GBC", tmp_path / "wh.duckdb"
    folder.mkdir()
    header = "Pupil ID,SCN,Forename,Surname,Preferred Name,Date of Birth,Gender,Stage,Reg Class,House\r\n"
    att = "Pupil ID,Date,Opening,Attendance Code\r\n"
    (folder / "pupils_20251203.csv").write_text(header + "1,,Ann,Bell,,01/02/2012,F,S2,2A,\r\n2,,Cal\r\n")
    (folder / "attendance_20251203.csv").write_text(att + "1,03/12/2025,AM,10\r\n1,03/12/2025\r\n")
    settings = Settings(schools=(school("GBC", folder),))

    def night(day: date) -> runlog.SchoolHealth:
        ingest_all(settings, Warehouse.duckdb(db, as_of=day), Console(record=True, width=200))
        return next(h for h in runlog.health(Warehouse.duckdb(db)) if h.school_code == "GBC")

    assert night(NIGHT).quarantined_records == 2  # pupils_20251203.csv:3 and attendance_20251203.csv:3
    (folder / "pupils_20251204.csv").write_text(header + "1,,Ann,Bell,,01/02/2012,F,S2,2A,\r\n"
                                                         "2,,Cal,Dunn,,2012-03-04,M,S2,2A,\r\n")
    (folder / "attendance_20251204.csv").write_text(att + "1,04/12/2025,AM,10\r\n")
    assert night(NIGHT2).quarantined_records == 1  # the attendance line: its file was not re-sent
