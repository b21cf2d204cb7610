"""Landing validation: which raw records are quarantined, that raw stays untouched, and that Data Docs
carry no personal values. Expectations below are derived by hand from the rows built here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.core.warehouse import Warehouse
from ingestion.validation import validate_landed
from ingestion.validation.rules import BY_DATASET, is_sensitive

TODAY = date(2026, 11, 20)
FAKE_NAME, FAKE_SURNAME, BAD_DOB = "Zanzibarina", "Quixotelyn", "31/02/2011"
OK_DOB = "2012-01-01T00:00:00"

PUPILS = [  # (valid_to, id, school_id, forename, surname, dob, gender, school, load)
    (None, "1", "1001", "Ann", "Able", OK_DOB, "F", "AAA", "L2"),
    (None, "2", "1002", "Bob", None, OK_DOB, "M", "AAA", "L2"),  # no surname
    (None, "3", "1003", FAKE_NAME, FAKE_SURNAME, BAD_DOB, "F", "AAA", "L2"),  # DOB does not parse
    (None, "4", "1004", "Cat", "Cole", OK_DOB, "F", "AAA", "L2"),  # id 4 twice in AAA
    (None, "4", "1005", "Dan", "Dale", OK_DOB, "M", "AAA", "L2"),
    ("2026-01-01", "5", "1006", "Eve", None, OK_DOB, "F", "AAA", "L1"),  # retired: not checked
    (None, "6", "1009", "Fay", None, OK_DOB, "F", "AAA", "L1"),  # earlier load, unchanged: out of scope
    (None, "7", "1007", "Gus", "Gray", OK_DOB, "M", "AAA", "L1"),  # id 7 current in an earlier load ...
    (None, "7", "1008", "Hal", "Hill", OK_DOB, "M", "AAA", "L2"),  # ... and again in this one
    (None, "1", "2001", "Ivy", "Ince", OK_DOB, "F", "BBB", "L2"),  # id 1 again, other school: fine
]
REGISTERS = [  # (id, pupil_id, registered, registration_date_time, code, school, load)
    ("100", "1001", "1", "2026-11-19T08:30:00", None, "AAA", "L2"),
    ("101", "1002", "2", "2026-11-19T08:30:00", None, "AAA", "L2"),  # registered '2'
    ("102", "1001", "1", "2099-01-01T08:30:00", None, "AAA", "L2"),  # far future
    ("103", "1001", "2", "2026-11-18T08:30:00", None, "AAA", "L1"),  # bad, but an earlier load
    ("100", "2001", "0", "2026-11-19T08:30:00", "7", "BBB", "L2"),
]
TERMS = [  # no finish_date column at all: no school ever sent it
    ("1", "2025-09-02T00:00:00", "AAA", "L2"),
    ("1", "2025-09-03T00:00:00", "BBB", "L2"),
]

EXPECTED = {  # (school, dataset, record_id, rule, load_id)
    ("AAA", "pupils", "2", "not_null:surname", "L2"),
    ("AAA", "pupils", "3", "timestamp:dob", "L2"),
    ("AAA", "pupils", "4", "unique:id", "L2"),
    ("AAA", "pupils", "7", "unique:id", "L1"),
    ("AAA", "pupils", "7", "unique:id", "L2"),
    ("AAA", "registration_statuses", "101", "accepted:registered", "L2"),
    ("AAA", "registration_statuses", "102", "range:registration_date_time", "L2"),
    ("AAA", "terms", "1", "not_null:finish_date", "L2"),
    ("BBB", "terms", "1", "not_null:finish_date", "L2"),
}


def build_raw(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_isams")
        con.execute("""create table raw_isams.pupils (_dlt_valid_from timestamptz, _dlt_valid_to timestamptz,
            id varchar, school_id varchar, forename varchar, surname varchar, dob varchar, gender varchar,
            school_code varchar, _dlt_load_id varchar, _dlt_id varchar)""")
        con.executemany(
            "insert into raw_isams.pupils values ('2025-01-01', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*p, f"d{i}") for i, p in enumerate(PUPILS)],
        )
        con.execute("""create table raw_isams.registration_statuses (id varchar, pupil_id varchar,
            registered varchar, registration_date_time varchar, code varchar, school_code varchar,
            _dlt_load_id varchar)""")
        con.executemany("insert into raw_isams.registration_statuses values (?, ?, ?, ?, ?, ?, ?)", REGISTERS)
        con.execute("""create table raw_isams.terms (_dlt_valid_from timestamptz, _dlt_valid_to timestamptz,
            id varchar, start_date varchar, school_code varchar, _dlt_load_id varchar, _dlt_id varchar)""")
        con.executemany(
            "insert into raw_isams.terms values ('2025-01-01', null, ?, ?, ?, ?, ?)",
            [(*t, f"t{i}") for i, t in enumerate(TERMS)],
        )


def raw_snapshot(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: sorted(con.execute(f"select * from raw_isams.{t}").fetchall(), key=str)
                for t in ("pupils", "registration_statuses", "terms")}


def quarantine(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select school_code, dataset, record_id, rule, load_id, reason, run_id from ops.quarantine"
        ).fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("validation")
    wh, docs = tmp / "wh.duckdb", tmp / "docs"
    build_raw(wh)
    before = raw_snapshot(wh)
    first = validate_landed(Warehouse.duckdb(wh), "run1", load_ids={"L2"}, docs_dir=docs, today=TODAY)
    after_first = quarantine(wh)
    second = validate_landed(Warehouse.duckdb(wh), "run2", load_ids={"L2"}, docs_dir=docs, today=TODAY)
    return {"wh": wh, "docs": docs, "before": before, "first": first, "second": second,
            "after_first": after_first}


def test_exactly_the_bad_records_are_quarantined(landed: dict) -> None:
    got = {row[:5] for row in landed["after_first"]}
    assert got == EXPECTED
    assert len(landed["after_first"]) == len(EXPECTED)  # id 4: two rows, one record, one quarantine row
    assert landed["first"].quarantined == len(EXPECTED)


def test_good_rows_and_out_of_scope_rows_are_not_quarantined(landed: dict) -> None:
    keys = {(s, d, r) for s, d, r, *_ in landed["after_first"]}
    for good in [("AAA", "pupils", "1"), ("BBB", "pupils", "1"), ("AAA", "registration_statuses", "100"),
                 ("BBB", "registration_statuses", "100"), ("AAA", "pupils", "5"), ("AAA", "pupils", "6"),
                 ("AAA", "registration_statuses", "103")]:
        assert good not in keys


def test_reasons_are_sentences_without_personal_values(landed: dict) -> None:
    reasons = {(r[2], r[3]): r[5] for r in landed["after_first"] if r[1] != "terms"}
    assert reasons[("101", "accepted:registered")] == "registered is '2', expected '0' or '1'"
    assert reasons[("102", "range:registration_date_time")] == (
        "registration_date_time is '2099-01-01T08:30:00', outside the sane range 2000-01-01..2026-11-21")
    assert reasons[("2", "not_null:surname")] == "surname is missing"
    assert BAD_DOB not in reasons[("3", "timestamp:dob")] and "dob" in reasons[("3", "timestamp:dob")]
    assert "is on 2 current rows of school AAA" in reasons[("4", "unique:id")]
    terms = [r[5] for r in landed["after_first"] if r[1] == "terms"]
    assert terms == ["finish_date is missing (no school has ever sent this column)"] * 2


def test_raw_rows_are_untouched(landed: dict) -> None:
    assert raw_snapshot(landed["wh"]) == landed["before"]


def test_rerun_adds_no_duplicates(landed: dict) -> None:
    assert landed["second"].quarantined == 0
    assert sorted(quarantine(landed["wh"])) == sorted(landed["after_first"])
    assert {r[6] for r in quarantine(landed["wh"])} == {"run1"}


def test_quarantined_records_view_lists_distinct_records(landed: dict) -> None:
    with duckdb.connect(str(landed["wh"]), read_only=True) as con:
        rows = con.execute("select school_code, dataset, record_id from ops.quarantined_records").fetchall()
    assert sorted(rows) == sorted({(s, d, r) for s, d, r, _, _ in EXPECTED})
    assert len(rows) == 8


def test_report_counts_per_school_and_dataset(landed: dict) -> None:
    report = landed["first"]
    by_key = {(r.school_code, r.dataset): r for r in report.results}
    assert not report.ok
    # AAA pupils in scope: ids 1, 2, 3, 4, 4, 7 (L2) plus id 7 of L1 pulled in as a duplicate;
    # failing: 2 (surname), 3 (dob), both 4s and both 7s (unique)
    assert (by_key["AAA", "pupils"].rows_checked, by_key["AAA", "pupils"].rows_failed) == (7, 6)
    assert by_key["AAA", "pupils"].failed_rules == {"not_null:surname": 1, "timestamp:dob": 1, "unique:id": 4}
    assert (by_key["BBB", "pupils"].rows_checked, by_key["BBB", "pupils"].rows_failed) == (1, 0)
    assert (by_key["AAA", "registration_statuses"].rows_checked,
            by_key["AAA", "registration_statuses"].rows_failed) == (3, 2)
    assert by_key["BBB", "terms"].failed_rules == {"not_null:finish_date": 1}
    assert "AAA pupils: 6/7 failed" in report.summary()


def test_data_docs_exist_and_hold_no_personal_values(landed: dict) -> None:
    docs: Path = landed["docs"]
    assert (docs / "index.html").is_file()
    pages = [p for p in docs.rglob("*.html") if "static" not in p.parts]
    assert any("validations" in p.parts for p in pages)
    assert any(p.name == "pupils.html" for p in pages)  # the raw_isams.pupils suite
    for path in docs.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="ignore")
            for secret in (FAKE_NAME, FAKE_SURNAME, BAD_DOB):  # distinctive: short names hit binary files
                assert secret not in text, f"{secret} leaked into {path}"


def test_every_run_all_current_rows_and_fixed_records_leave_the_view(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    build_raw(wh)
    validate_landed(Warehouse.duckdb(wh), "all", docs_dir=tmp_path / "docs", today=TODAY)
    got = {r[:5] for r in quarantine(wh)}
    # no scope: the unchanged L1 rows are checked too (pupil 6 has no surname, register 103 is '2')
    assert got == EXPECTED | {("AAA", "pupils", "6", "not_null:surname", "L1"),
                              ("AAA", "registration_statuses", "103", "accepted:registered", "L1")}
    with duckdb.connect(str(wh)) as con:  # the school corrects mark 101; dlt merges it in load L3
        con.execute("update raw_isams.registration_statuses set registered = '1', _dlt_load_id = 'L3' "
                    "where id = '101' and school_code = 'AAA'")
    validate_landed(Warehouse.duckdb(wh), "fix", load_ids={"L3"}, docs_dir=tmp_path / "docs", today=TODAY)
    with duckdb.connect(str(wh), read_only=True) as con:
        listed = con.execute("select record_id from ops.quarantined_records "
                             "where dataset = 'registration_statuses'").fetchall()
    assert sorted(listed) == [("102",), ("103",)]


def test_rules_cover_the_brief() -> None:
    assert BY_DATASET["pupils"].required_columns == ("id", "school_id", "forename", "surname")
    assert BY_DATASET["registration_statuses"].accepted["registered"] == ("0", "1")
    assert not BY_DATASET["registration_statuses"].scd2
    assert BY_DATASET["contacts"].key == "person_id"
    assert is_sensitive("dob") and is_sensitive("address__postcode") and not is_sensitive("registered")
