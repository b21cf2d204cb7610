"""The dlt source end to end: a fake iSAMS (MockTransport, Json.NET docs) loading a tmp DuckDB."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest

from ingestion.core.config import SchoolConfig
from ingestion.core.warehouse import Warehouse
from ingestion.isams.datasets import BY_METHOD
from ingestion.isams.jsonnet import to_xml, xml_to_jsonnet
from ingestion.isams.source import (
    register_start_for_run,
    register_windows,
    ingest_school,
)
from ingestion.isams.registers import registers_table

TODAY = date(2025, 10, 1)
START = TODAY - timedelta(days=30)  # 31 register days up to and including today
DATASETS = ["staff", "pupils", "forms", "registration_statuses", "absence_codes"]
KEYS = {"AAA": "AAAA1111-key-secret-aaaa", "BBB": "BBBB2222-key-secret-bbbb"}
REST = {"AAA": ("aaa-client-id-x", "aaa-client-secret-y")}


def school(code: str) -> SchoolConfig:
    client_id, secret = REST.get(code, (None, None))
    return SchoolConfig(
        code=code, name=f"School {code}", base_url=f"https://{code.lower()}.isams.example",
        api_key_env=f"ISAMS_{code}_API_KEY", api_key=KEYS[code],
        rest_client_id=client_id, rest_client_secret=secret,
    )


def pupil(pid: str, form: str) -> dict:
    return {"@Id": pid, "@PersonId": f"9{pid}", "SchoolCode": f"ADM{pid}", "SchoolId": f"10{pid}",
            "Forename": f"Name{pid}", "Form": form, "DOB": "2010-01-02T00:00:00"}


def marks(school_tag: str) -> list[dict]:
    """One AM mark per pupil (2 pupils) per day from START to TODAY: 62 marks."""
    out = []
    for n in range((TODAY - START).days + 1):
        day = START + timedelta(days=n)
        for p in ("1", "2"):
            out.append({"@Id": f"{school_tag}{day:%Y%m%d}{p}", "PupilId": f"10{p}", "Registered": "1", "Code": "4",
                        "RegistrationDateTime": f"{day}T08:00:00"})
    return out


class FakeIsams:
    """Serves each school's data by API key, the way json.ashx would (XML -> Json.NET)."""

    def __init__(self) -> None:
        self.data = {
            code: {
                "staff": [{"@Id": "5", "Forename": "Tess", "Divisions": {"Division": [
                    {"@Id": "1", "Name": "Prep"}, {"@Id": "2", "Name": "Senior"}]}}],
                "pupils": [pupil("1", "7A"), pupil("2", "7B"), pupil("3", "8A")],
                "forms": [{"@Id": "7A", "@TutorId": "5", "Tutor": {"@Legacy": "True", "#text": "TUTORCODE5"}}],
                "registration_statuses": marks(code),
            }
            for code in KEYS
        }
        self.rejected: set[str] = set()
        self.requests: list[tuple[str, str, tuple[str, str] | None]] = []  # (school, method, window)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        code = request.url.host.split(".")[0].upper()
        if request.url.path == "/auth/connect/token":
            return httpx.Response(200, json={"access_token": f"token-{code}-0001", "expires_in": 3600})
        if request.url.path.startswith("/api/registration/"):
            codes = [{"id": 1, "code": "N", "name": "No reason"}, {"id": 2, "code": "I", "name": "Illness"}]
            return httpx.Response(200, json={"page": 1, "totalPages": 1, "absenceCodes": codes})
        if request.url.params.get("apiKey") in self.rejected:
            body = ('<?xml version="1.0" encoding="utf-16"?><Message><MessageId>InvalidApiKey</MessageId>'
                    "<Title>Invalid API Key</Title><Description>The API key is invalid.</Description></Message>")
            self.requests.append((code, "?", None))
            return httpx.Response(401, text=body)
        assert request.url.params["apiKey"] == KEYS[code]
        filters = ET.fromstring(request.content)
        status = filters.find("Registration/RegistrationStatus")
        window = (status.get("StartDate"), status.get("EndDate")) if status is not None else None
        tree: dict = {}
        for method in filters.iterfind("MethodsToRun/Method"):
            ds = BY_METHOD[method.text.lower()]
            self.requests.append((code, ds.name, window))
            records = self.data[code][ds.name]
            if ds.windowed:
                records = [r for r in records if window[0] <= r["RegistrationDateTime"][:10] < window[1]]
            manager, collection, item = ds.path
            tree.setdefault(manager, {})[collection] = {item: records} if records else None
        return httpx.Response(200, json=xml_to_jsonnet(to_xml("iSAMS", tree)))


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return {"fake": FakeIsams(), "warehouse": tmp_path / "wh.duckdb", "pipelines": tmp_path / "pipelines"}


def run(env: dict, code: str, today: date = TODAY):
    return ingest_school(
        school(code), Warehouse.duckdb(env["warehouse"]), env["pipelines"], register_start=START, today=today,
        datasets=DATASETS, transport=httpx.MockTransport(env["fake"]), sleep=lambda s: None,
    )


def query(env: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def counts(env: dict) -> dict[str, list[tuple]]:
    tables = ["pupils", "forms", "staff", "staff__divisions", "registration_statuses", "absence_codes"]
    return {t: query(env, f"select school_code, count(*) from raw_isams.{t} group by 1 order by 1") for t in tables}


def pupil_versions(env: dict, code: str) -> list[tuple]:
    return query(env, f"""select id, form, _dlt_valid_to is null from raw_isams.pupils
                          where school_code = '{code}' order by id, _dlt_valid_from""")


def test_two_schools_history_and_isolation(env: dict) -> None:
    fake = env["fake"]
    a = run(env, "AAA")
    assert a.failures == [] and a.school == "AAA"
    assert a.rows == {"staff": 1, "pupils": 3, "forms": 1, "registration_statuses": 62, "absence_codes": 2}
    b = run(env, "BBB")
    assert b.rows["pupils"] == 3 and "absence_codes" not in b.rows  # BBB has no REST credentials
    before = counts(env)
    assert before["pupils"] == [("AAA", 3), ("BBB", 3)]
    assert before["staff__divisions"] == [("AAA", 2), ("BBB", 2)]
    assert before["registration_statuses"] == [("AAA", 62), ("BBB", 62)]
    assert before["absence_codes"] == [("AAA", 2)]

    # columns as they land: attributes plain, legacy elements *_legacy, the pupil's own SchoolCode renamed
    cols = {r[0] for r in query(env, "select column_name from information_schema.columns "
                                     "where table_schema='raw_isams' and table_name='pupils'")}
    assert {"id", "person_id", "school_id", "isams_school_code", "school_code", "form", "dob",
            "_dlt_valid_from", "_dlt_valid_to", "_dlt_id", "_dlt_load_id"} <= cols
    assert query(env, "select distinct isams_school_code from raw_isams.pupils where id='1'") == [("ADM1",)]
    assert query(env, "select tutor_id, tutor_legacy from raw_isams.forms where school_code='AAA'") == [
        ("5", "TUTORCODE5")]
    types = dict(query(env, "select column_name, data_type from information_schema.columns "
                            "where table_schema='raw_isams' and table_name='pupils'"))
    assert types["dob"] == "VARCHAR"  # no timestamp detection: staging owns types
    # nested rows join back to their root row and carry the school too
    assert query(env, """select s.school_code, d.name from raw_isams.staff s
                         join raw_isams.staff__divisions d on d._dlt_parent_id = s._dlt_id
                          and d._dlt_root_id = s._dlt_id and d.school_code = s.school_code
                         where s.school_code = 'AAA' order by d._dlt_list_idx""") == [("AAA", "Prep"), ("AAA", "Senior")]

    # rerun with the same data: nothing changes
    run(env, "AAA")
    assert counts(env) == before

    # school B: pupil 1 changes form, pupil 3 leaves
    fake.data["BBB"]["pupils"] = [pupil("1", "8C"), pupil("2", "7B")]
    b2 = run(env, "BBB")
    assert b2.failures == []
    assert pupil_versions(env, "BBB") == [("1", "7A", False), ("1", "8C", True), ("2", "7B", True), ("3", "8A", False)]
    # school A untouched: every row still active, none retired by B's load
    assert pupil_versions(env, "AAA") == [("1", "7A", True), ("2", "7B", True), ("3", "8A", True)]
    assert query(env, "select count(*) from raw_isams.forms where _dlt_valid_to is not null") == [(0,)]

    # a feed that fails (500 forever would be slow; use a 401) must not retire B's rows
    fake.rejected.add(KEYS["BBB"])
    n_requests = len(fake.requests)
    b3 = run(env, "BBB")
    assert [(f.school, f.dataset) for f in b3.failures] == [
        ("BBB", "staff"), ("BBB", "pupils"), ("BBB", "forms"), ("BBB", "registration_statuses")]
    assert all("InvalidApiKey" in f.error and "school BBB" in f.error and "ISAMS_BBB_API_KEY" in f.error
               for f in b3.failures)
    assert len(fake.requests) == n_requests + 1  # stopped asking after the first 401
    assert pupil_versions(env, "BBB") == [("1", "7A", False), ("1", "8C", True), ("2", "7B", True), ("3", "8A", False)]
    assert pupil_versions(env, "AAA") == [("1", "7A", True), ("2", "7B", True), ("3", "8A", True)]
    assert counts(env)["registration_statuses"] == [("AAA", 62), ("BBB", 62)]

    assert_no_secrets(env)


def assert_no_secrets(env: dict) -> None:
    secrets = [*KEYS.values(), *REST["AAA"], "token-AAA-0001"]
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                              "where data_type = 'VARCHAR'").fetchall()
        assert len(columns) > 20
        for schema, table, column in columns:
            for secret in secrets:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)', [secret]
                ).fetchall()
                assert hits == [(0,)], f"{secret} found in {schema}.{table}.{column}"


def test_registers_backfill_lookback_and_corrections(env: dict) -> None:
    fake = env["fake"]
    first = run(env, "AAA")
    windows = [w for c, m, w in fake.requests if m == "registration_statuses"]
    # 31 days from START to TODAY inclusive, 14-day windows, end exclusive = today + 1
    assert windows == [("2025-09-01", "2025-09-15"), ("2025-09-15", "2025-09-29"), ("2025-09-29", "2025-10-02")]
    assert first.rows["registration_statuses"] == 62
    cols = [r[0] for r in query(env, "select column_name from information_schema.columns where table_schema="
                                     "'raw_isams' and table_name='registration_statuses' order by ordinal_position")]
    # Arrow items bypass dlt's row normaliser: no _dlt_id/_dlt_load_id columns on this table
    assert cols == ["id", "pupil_id", "registered", "code", "registration_date_time", "school_code", "_dlt_load_id"]

    # a mark inside the look-back is corrected (same id), one before it is changed but must not be re-read
    recent = f"AAA{TODAY - timedelta(days=3):%Y%m%d}1"
    old = f"AAA{START:%Y%m%d}1"
    for mark in fake.data["AAA"]["registration_statuses"]:
        if mark["@Id"] == recent:
            mark["Code"] = "12"
        if mark["@Id"] == old:
            mark["Code"] = "99"
    fake.requests.clear()
    second = run(env, "AAA")
    windows = [w for c, m, w in fake.requests if m == "registration_statuses"]
    assert windows == [("2025-09-17", "2025-10-01"), ("2025-10-01", "2025-10-02")]  # last date - 14 days .. today
    assert second.rows["registration_statuses"] == 30  # 15 days x 2 pupils re-read
    assert query(env, "select count(*), count(distinct id) from raw_isams.registration_statuses") == [(62, 62)]
    assert query(env, f"select code from raw_isams.registration_statuses where id = '{recent}'") == [("12",)]
    assert query(env, f"select code from raw_isams.registration_statuses where id = '{old}'") == [("4",)]

    # next day: a new mark without a Code (register not yet taken) and an unknown extra field
    tomorrow = TODAY + timedelta(days=1)
    fake.data["AAA"]["registration_statuses"].append(
        {"@Id": "AAAnew", "PupilId": "101", "Registered": "0", "RegistrationDateTime": f"{tomorrow}T08:00:00",
         "Session": "AM"})
    fake.requests.clear()
    run(env, "AAA", today=tomorrow)
    assert [w for c, m, w in fake.requests if m == "registration_statuses"] == [
        ("2025-09-17", "2025-10-01"), ("2025-10-01", "2025-10-03")]  # still from last date (Oct 1) - 14
    assert query(env, "select code, session, registered from raw_isams.registration_statuses where id = 'AAAnew'") == [
        (None, "AM", "0")]
    assert query(env, "select count(*) from raw_isams.registration_statuses") == [(63,)]


def test_register_windows_and_start() -> None:
    assert register_windows(date(2025, 1, 1), date(2025, 1, 1), 14) == []
    assert register_windows(date(2025, 1, 1), date(2025, 1, 20), 7) == [
        (date(2025, 1, 1), date(2025, 1, 8)), (date(2025, 1, 8), date(2025, 1, 15)), (date(2025, 1, 15), date(2025, 1, 20))]
    assert register_start_for_run(None, date(2025, 1, 1), 14) == date(2025, 1, 1)
    assert register_start_for_run(date(2025, 3, 1), date(2025, 1, 1), 14) == date(2025, 2, 15)
    assert register_start_for_run(date(2025, 1, 5), date(2025, 1, 1), 14) == date(2025, 1, 1)


def test_registers_table_tolerates_missing_and_extra_fields() -> None:
    records = [
        {"@Id": "1", "PupilId": "p", "Registered": "0"},
        {"@Id": "2", "PupilId": "q", "Registered": "1", "Code": "4", "Extra": {"@A": "x"}},
    ]
    table = registers_table(records, "NHS")
    assert table.column_names == ["id", "pupil_id", "registered", "code", "extra", "extra_a", "school_code"]
    assert table.to_pylist()[0] == {"id": "1", "pupil_id": "p", "registered": "0", "code": None, "extra": None,
                                    "extra_a": None, "school_code": "NHS"}
    assert table.to_pylist()[1]["code"] == "4" and table.to_pylist()[1]["extra_a"] == "x"


def test_a_mark_removed_in_isams_is_removed_from_raw_inside_the_reread_window_only(env: dict) -> None:
    """Registers merge on (school, id): a mark iSAMS stops sending must be deleted, or it stays forever.
    A fully re-read window is the whole truth for its dates; dates outside it, other schools and a window
    that failed are left alone."""
    fake = env["fake"]
    run(env, "AAA")
    run(env, "BBB")
    inside = f"AAA{TODAY - timedelta(days=3):%Y%m%d}1"  # inside the 14-day look-back
    outside = f"AAA{START:%Y%m%d}2"  # before the look-back: not re-read, so kept
    mirror = f"BBB{TODAY - timedelta(days=3):%Y%m%d}1"  # the same mark at another school: untouched
    fake.data["AAA"]["registration_statuses"] = [
        m for m in fake.data["AAA"]["registration_statuses"] if m["@Id"] not in (inside, outside)]
    second = run(env, "AAA")
    assert second.ok and second.removed == 1
    ids = {r[0] for r in query(env, "select id from raw_isams.registration_statuses")}
    assert inside not in ids and outside in ids and mirror in ids
    assert query(env, "select count(*) from raw_isams.registration_statuses where school_code = 'AAA'") == [(61,)]

    # a window that fails is not the truth: nothing of it is deleted
    fake.data["AAA"]["registration_statuses"] = []
    fake.rejected.add(KEYS["AAA"])
    third = run(env, "AAA")
    assert not third.ok and third.removed == 0
    assert query(env, "select count(*) from raw_isams.registration_statuses where school_code = 'AAA'") == [(61,)]


def test_the_schools_resource_carries_the_configured_phase_and_no_secret() -> None:
    from dataclasses import replace

    from ingestion.isams.source import _Guard, _school_resource

    def resource(config: SchoolConfig):
        return _school_resource(config, _Guard(config, []))

    (row,) = list(resource(replace(school("AAA"), phase="all_through")))
    assert row["phase"] == "all_through" and row["school_name"] == "School AAA"
    assert not any(secret in str(row) for secret in (KEYS["AAA"], *REST["AAA"]))
    (row,) = list(resource(school("BBB")))  # no phase configured: the column is still there, null
    assert "phase" in row and row["phase"] is None
