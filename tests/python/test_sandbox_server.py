"""The sandbox iSAMS server, driven over HTTP with httpx against a tiny hand-written school group."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingestion.isams.datasets import BATCH_DATASETS
from ingestion.isams.jsonnet import xml_to_jsonnet
from ingestion.sandbox.contract import SchoolGroup
from ingestion.sandbox.server import FaultPlan, SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2025, 9, 3)
KEY_A = "6A1B2C3D-0000-4000-8000-00000000000A"
KEY_B = "6A1B2C3D-0000-4000-8000-00000000000B"
SECRET_A = "secret-of-school-a"


def _mark(day: date, session: str, pupil: str, code: str | None) -> dict[str, Any]:
    """A Batch RegistrationStatus; no Code means the register is not yet taken."""
    mark = {"@Id": f"{day:%Y%m%d}{session}{pupil}", "PupilId": pupil, "Registered": "1" if code else "0"}
    if code:
        mark["Code"] = code
    mark["RegistrationDateTime"] = f"{day.isoformat()}T{'08:40' if session == 'AM' else '13:30'}:00"
    return mark


@dataclass
class FakeSchool:
    """The smallest school implementing the ``SandboxSchool`` protocol."""

    code: str
    name: str
    api_key: str
    rest_client_id: str | None
    rest_client_secret: str | None
    records: dict[str, list[dict[str, Any]]]
    marks: list[tuple[date, dict[str, Any]]] = field(default_factory=list)
    absence: list[dict[str, Any]] = field(default_factory=list)

    def batch_records(self, dataset: str) -> list[dict[str, Any]]:
        return self.records.get(dataset, [])

    def registration_statuses(self, start: date, end: date) -> Iterator[dict[str, Any]]:
        return (m for d, m in self.marks if start <= d < end and d <= TODAY)

    def absence_codes(self) -> list[dict[str, Any]]:
        return self.absence

    def present_codes(self) -> list[dict[str, Any]]:
        return [{"id": 1, "code": "/", "name": "Present AM", "displayOrder": 1}]

    def rest_terms(self) -> list[dict[str, Any]]:
        return [{"id": 3, "name": "Autumn", "schoolYear": 2025, "startDate": "2025-09-01", "finishDate": "2025-12-19"}]


FORM_7A = {
    "@Id": "7A", "@TutorId": "12",
    "Tutor": {"@Legacy": "True", "#text": "JSMITH"},
    "Form": "7A", "NationalCurriculumYear": "7", "EmailAddress": None,
}
PUPILS_A = [
    {"@Id": "1", "SchoolId": "100001", "Forename": "Ann", "Surname": "Ash"},
    {"@Id": "2", "SchoolId": "100002", "Forename": "Ben", "Surname": "Birch"},
]
TERMS_A = [
    {"@Id": "1", "SchoolYear": "2025", "Name": "Autumn", "StartDate": "2025-09-01T00:00:00"},
    {"@Id": "2", "SchoolYear": "2025", "Name": "Spring", "StartDate": "2026-01-05T00:00:00"},
]
ABSENCE_CODES = [{"id": i, "code": c, "governmentCode": c} for i, c in enumerate("NOUCM", start=1)]


def _school_a() -> FakeSchool:
    marks = [
        (d, _mark(d, s, "100001", "2" if s == "AM" else None))
        for d in (date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 3))
        for s in ("AM", "PM")
    ]
    return FakeSchool(
        "AAA", "Ash Academy", KEY_A, "client-a", SECRET_A,
        {"forms": [FORM_7A], "pupils": PUPILS_A, "terms": TERMS_A, "staff": []}, marks, ABSENCE_CODES,
    )


def _school_b() -> FakeSchool:
    forms = [{"@Id": "1A", "Form": "1A"}, {"@Id": "1B", "Form": "1B"}]
    pupils = [{"@Id": "9", "SchoolId": "900009", "Forename": "Cal", "Surname": "Cedar"}]
    return FakeSchool("BBB", "Birch School", KEY_B, None, None, {"forms": forms, "pupils": pupils})


@pytest.fixture
def group() -> SchoolGroup:
    return SchoolGroup(seed=1, today=TODAY, schools=[_school_a(), _school_b()])


@pytest.fixture
def server(group: SchoolGroup) -> Iterator[SandboxServer]:
    allowed = {"BBB": {"School_GetSchoolForms", "pupil_getcurrentpupils"}}
    with SandboxServer(group, allowed_methods=allowed) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as c:
        yield c


def filters(*methods: str, registration: str = "") -> str:
    run = "".join(f"<Method>{m}</Method>" for m in methods)
    return f"<Filters><MethodsToRun>{run}</MethodsToRun>{registration}</Filters>"


def batch(client: httpx.Client, body: str | None = None, key: str = KEY_A, fmt: str = "json") -> httpx.Response:
    url = f"/api/batch/1.0/{fmt}.ashx"
    if body is None:
        return client.get(url, params={"apiKey": key})
    return client.post(url, params={"apiKey": key}, content=body, headers={"Content-Type": "application/xml"})


def token(client: httpx.Client, client_id: str = "client-a", secret: str = SECRET_A) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "restapi"}
    return client.post("/auth/connect/token", data=form)


# --- Batch: JSON quirks and content --------------------------------------------------------------------------


def test_get_returns_every_allocated_dataset_with_jsonnet_quirks(client: httpx.Client) -> None:
    resp = batch(client)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    doc = resp.json()["iSAMS"]
    assert set(doc) == {"HRManager", "PupilManager", "SchoolManager", "TeachingManager", "RegistrationManager"}
    # One form -> an object, not a list; Legacy element -> @Legacy/#text; empty element -> null.
    assert doc["SchoolManager"]["Forms"] == {"Form": {
        "@Id": "7A", "@TutorId": "12", "Tutor": {"@Legacy": "True", "#text": "JSMITH"},
        "Form": "7A", "NationalCurriculumYear": "7", "EmailAddress": None,
    }}
    assert doc["SchoolManager"]["Terms"]["Term"] == TERMS_A  # two items -> a list
    assert doc["PupilManager"]["CurrentPupils"]["Pupil"] == PUPILS_A
    assert doc["HRManager"]["CurrentStaff"] is None  # empty collection -> null
    assert doc["PupilManager"]["Contacts"] is None  # the fake has no contacts at all
    # No window -> today's marks only: 2025-09-03 AM (coded) and PM (not yet taken, so no Code).
    assert doc["RegistrationManager"]["RegistrationStatuses"]["RegistrationStatus"] == [
        {"@Id": "20250903AM100001", "PupilId": "100001", "Registered": "1", "Code": "2",
         "RegistrationDateTime": "2025-09-03T08:40:00"},
        {"@Id": "20250903PM100001", "PupilId": "100001", "Registered": "0",
         "RegistrationDateTime": "2025-09-03T13:30:00"},
    ]


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_every_leaf_is_a_string_or_null(client: httpx.Client) -> None:
    leaves = list(_leaves(batch(client).json()))
    assert leaves and all(v is None or isinstance(v, str) for v in leaves)
    assert "7" in leaves  # NationalCurriculumYear stays "7", not 7


def test_xml_endpoint_matches_json_endpoint(client: httpx.Client) -> None:
    xml_resp = batch(client, fmt="xml")
    assert xml_resp.status_code == 200
    assert xml_resp.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml_resp.content)
    assert root.tag == "iSAMS"
    assert root.find("SchoolManager/Forms/Form").get("Id") == "7A"
    assert xml_to_jsonnet(xml_resp.text) == batch(client).json()


def test_methods_to_run_returns_only_those_datasets(client: httpx.Client) -> None:
    resp = batch(client, filters("School_GetSchoolForms", "PUPIL_GETCURRENTPUPILS"))
    doc = resp.json()["iSAMS"]
    assert set(doc) == {"SchoolManager", "PupilManager"}
    assert set(doc["SchoolManager"]) == {"Forms"}
    assert set(doc["PupilManager"]) == {"CurrentPupils"}


def test_datasets_of_one_manager_share_the_manager_element(client: httpx.Client) -> None:
    resp = batch(client, filters("School_GetSchoolForms", "School_GetSchoolTerms"), fmt="xml")
    root = ET.fromstring(resp.content)
    assert [m.tag for m in root] == ["SchoolManager"]
    assert [c.tag for c in root[0]] == ["Forms", "Terms"]


def _mark_ids(resp: httpx.Response) -> list[str]:
    statuses = resp.json()["iSAMS"]["RegistrationManager"]["RegistrationStatuses"]
    items = statuses["RegistrationStatus"]
    return [m["@Id"] for m in (items if isinstance(items, list) else [items])]


def test_registration_window_end_date_is_exclusive(client: httpx.Client) -> None:
    window = '<Registration><RegistrationStatus StartDate="2025-09-01" EndDate="2025-09-03"/></Registration>'
    resp = batch(client, filters("Registration_GetRegistrationStatus", registration=window))
    assert _mark_ids(resp) == ["20250901AM100001", "20250901PM100001", "20250902AM100001", "20250902PM100001"]


def test_registration_filter_is_lenient_about_form_and_case(client: httpx.Client) -> None:
    window = (
        '<RegistrationManager><RegistrationStatus startDate="2025-09-02" ENDDATE="2025-09-03"/></RegistrationManager>'
    )
    resp = batch(client, filters("registration_getregistrationstatus", registration=window))
    assert _mark_ids(resp) == ["20250902AM100001", "20250902PM100001"]


def test_empty_window_gives_null_collection(client: httpx.Client) -> None:
    window = '<Registration><RegistrationStatus StartDate="2025-08-01" EndDate="2025-08-02"/></Registration>'
    resp = batch(client, filters("Registration_GetRegistrationStatus", registration=window))
    assert resp.json() == {"iSAMS": {"RegistrationManager": {"RegistrationStatuses": None}}}


def test_key_accepted_with_braces_in_any_case(client: httpx.Client) -> None:
    resp = batch(client, filters("School_GetSchoolForms"), key="{" + KEY_B.lower() + "}")
    assert resp.status_code == 200
    assert resp.json()["iSAMS"]["SchoolManager"]["Forms"]["Form"] == [
        {"@Id": "1A", "Form": "1A"}, {"@Id": "1B", "Form": "1B"},
    ]


def test_get_runs_only_allocated_methods(client: httpx.Client) -> None:
    doc = batch(client, key=KEY_B).json()["iSAMS"]
    assert doc == {
        "PupilManager": {"CurrentPupils": {"Pupil": {
            "@Id": "9", "SchoolId": "900009", "Forename": "Cal", "Surname": "Cedar",
        }}},
        "SchoolManager": {"Forms": {"Form": [{"@Id": "1A", "Form": "1A"}, {"@Id": "1B", "Form": "1B"}]}},
    }


def test_batch_accepts_rest_bearer_token(client: httpx.Client) -> None:
    access = token(client).json()["access_token"]
    resp = client.post(
        "/api/batch/1.0/json.ashx", content=filters("School_GetSchoolForms"),
        headers={"Authorization": f"Bearer {access}"},
    )
    assert resp.status_code == 200
    assert resp.json()["iSAMS"]["SchoolManager"]["Forms"]["Form"]["@Id"] == "7A"


def test_renders_a_fortnight_of_registers(group: SchoolGroup) -> None:
    school = group.schools[0]
    start = date(2025, 8, 21)
    school.marks = [
        (start + timedelta(days=d), _mark(start + timedelta(days=d), s, str(100000 + p), "2"))
        for d in range(14) for s in ("AM", "PM") for p in range(300)
    ]
    window = '<Registration><RegistrationStatus StartDate="2025-08-21" EndDate="2025-09-04"/></Registration>'
    with SandboxServer(group) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        resp = batch(c, filters("Registration_GetRegistrationStatus", registration=window))
    assert len(resp.json()["iSAMS"]["RegistrationManager"]["RegistrationStatuses"]["RegistrationStatus"]) == 8400


# --- Batch: errors -------------------------------------------------------------------------------------------

INVALID_KEY_BODY = (
    '<?xml version="1.0" encoding="utf-16"?>\n<Message>\n'
    "  <MessageId>InvalidApiKey</MessageId>\n  <MessageName>InvalidApiKey</MessageName>\n"
    "  <Title>Invalid API Key</Title>\n"
    "  <Description>The API key is invalid.\nPlease contact your iSAMS administrator.</Description>\n</Message>"
)
MISSING_KEY_BODY = (
    '<?xml version="1.0" encoding="utf-16"?>\n<Message>\n'
    "  <MessageId>MissingParameter</MessageId>\n  <MessageName>MissingParameter</MessageName>\n"
    "  <Title>Missing Field: apiKey</Title>\n"
    '  <Description>A required field "apiKey" was not supplied or was in an incorrect format.</Description>\n'
    "</Message>"
)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_key_is_401_invalid_api_key(client: httpx.Client, fmt: str) -> None:
    resp = batch(client, key="00000000-0000-0000-0000-000000000000", fmt=fmt)
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/xml")
    assert resp.text == INVALID_KEY_BODY


def test_missing_key_is_400_missing_parameter(client: httpx.Client) -> None:
    resp = client.get("/api/batch/1.0/json.ashx")
    assert resp.status_code == 400
    assert resp.text == MISSING_KEY_BODY


def test_unallocated_or_unknown_methods_are_403_listed_lower_case(client: httpx.Client) -> None:
    resp = batch(client, filters("School_GetSchoolForms", "HumanResources_GetCurrentStaff", "SchoolReports_GetRecords"),
                 key=KEY_B)
    assert resp.status_code == 403
    assert xml_to_jsonnet(resp.text)["Message"] == {
        "MessageId": "MethodsNotAllocatedToKeyException",
        "MessageName": "MethodsNotAllocatedToKeyException",
        "Title": "Methods Not Allocated To Key",
        "Description": "The following methods specified in the MethodsToRun filter are not allocated to the "
                       "requested key: humanresources_getcurrentstaff, schoolreports_getrecords",
    }


def test_non_xml_body_is_500_invalid_root(client: httpx.Client) -> None:
    resp = batch(client, '{"methods": ["School_GetSchoolForms"]}')
    assert resp.status_code == 500
    description = xml_to_jsonnet(resp.text)["Message"]["Description"]
    assert description == "Data at the root level is invalid. Line 1, position 1."


@pytest.mark.parametrize(
    ("fixture", "make"),
    [
        ("InvalidApiKey.xml", lambda c: batch(c, key="nope")),
        ("MissingParameter.xml", lambda c: c.get("/api/batch/1.0/xml.ashx")),
        ("InvalidRoot.xml", lambda c: batch(c, "not xml")),
    ],
)
def test_error_bodies_are_byte_identical_to_real_samples(
    client: httpx.Client, isams_samples: Path, fixture: str, make: Any,
) -> None:
    assert make(client).text == (isams_samples / "Errors" / fixture).read_text(encoding="utf-8")


# --- Faults --------------------------------------------------------------------------------------------------

DEADLOCK = (
    "Transaction (Process ID 118) was deadlocked on lock resources with another process and has been chosen as "
    "the deadlock victim. Rerun the transaction."
)


def test_fail_times_gives_deadlock_500_then_recovers(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(fail_times=2)
    first, second, third = (batch(client) for _ in range(3))
    for resp in (first, second):
        assert resp.status_code == 500
        assert xml_to_jsonnet(resp.text)["Message"]["MessageId"] == "UnhandledException"
        assert xml_to_jsonnet(resp.text)["Message"]["Description"] == DEADLOCK
    assert third.status_code == 200
    assert server.faults.fail_times == 0
    assert [r["fault"] for r in server.requests] == ["fail", "fail", None]


def test_throttle_gives_429_with_retry_after_then_recovers(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(throttle_times=1, retry_after=7)
    throttled, ok = batch(client), batch(client)
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "7"
    assert ok.status_code == 200


def test_delay_makes_a_short_timeout_fire(server: SandboxServer) -> None:
    server.faults = FaultPlan(delay_seconds=0.5)
    with httpx.Client(base_url=server.url, timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        batch(impatient)
    server.faults.delay_seconds = 0.0
    with httpx.Client(base_url=server.url, timeout=0.5) as c:
        assert batch(c).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_truncated_body_does_not_parse(server: SandboxServer, client: httpx.Client, fmt: str) -> None:
    server.faults = FaultPlan(truncate_times=1)
    cut = batch(client, fmt=fmt)
    assert cut.status_code == 200
    assert len(cut.content) > 0
    with pytest.raises((json.JSONDecodeError, ET.ParseError)):
        json.loads(cut.text) if fmt == "json" else ET.fromstring(cut.content)
    assert batch(client, fmt=fmt).status_code == 200  # the next one is whole


def test_truncation_can_drop_the_connection_early(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(truncate_times=1, truncate_close_early=True)
    with pytest.raises(httpx.RemoteProtocolError):
        batch(client)
    assert batch(client).status_code == 200


def test_faults_scoped_to_a_school(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(fail_times=1, school="bbb")
    assert batch(client, key=KEY_A).status_code == 200
    assert batch(client, key=KEY_B).status_code == 500
    assert batch(client, key=KEY_B).status_code == 200


def test_faults_scoped_to_a_dataset(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(fail_times=2, dataset="pupils")
    assert batch(client, filters("School_GetSchoolForms")).status_code == 200
    assert batch(client, filters("Pupil_GetCurrentPupils")).status_code == 500
    assert batch(client).status_code == 500  # a GET includes pupils
    assert batch(client, filters("Pupil_GetCurrentPupils")).status_code == 200


def test_errors_before_processing_do_not_spend_faults(server: SandboxServer, client: httpx.Client) -> None:
    server.faults = FaultPlan(fail_times=1)
    assert batch(client, key="nope").status_code == 401
    assert token(client).status_code == 200  # the token endpoint is never faulted
    assert server.faults.fail_times == 1


# --- REST ----------------------------------------------------------------------------------------------------


def _bearer(client: httpx.Client, client_id: str = "client-a", secret: str = SECRET_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, client_id, secret).json()['access_token']}"}


def test_token_endpoint(client: httpx.Client) -> None:
    resp = token(client)
    assert resp.status_code == 200
    body = resp.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    assert token(client).json()["access_token"] != body["access_token"]


def test_wrong_credentials_are_invalid_client(client: httpx.Client) -> None:
    for resp in (token(client, secret="wrong"), token(client, client_id="nobody")):
        assert resp.status_code == 400
        assert resp.json() == {"error": "invalid_client"}


def test_rest_paging(client: httpx.Client) -> None:
    auth = _bearer(client)
    pages = [
        client.get("/api/registration/absencecodes", params={"page": p, "pageSize": 2}, headers=auth).json()
        for p in (1, 2, 3, 4)
    ]
    assert [(p["count"], p["page"], p["pageSize"], p["totalCount"], p["totalPages"]) for p in pages] == [
        (2, 1, 2, 5, 3), (2, 2, 2, 5, 3), (1, 3, 2, 5, 3), (0, 4, 2, 5, 3),
    ]
    assert [c["code"] for p in pages for c in p["absenceCodes"]] == ["N", "O", "U", "C", "M"]


def test_rest_defaults_and_page_size_cap(client: httpx.Client) -> None:
    auth = _bearer(client)
    default = client.get("/api/registration/presentcodes", headers=auth).json()
    assert (default["page"], default["pageSize"], default["count"], default["totalPages"]) == (1, 100, 1, 1)
    assert default["presentCodes"] == [{"id": 1, "code": "/", "name": "Present AM", "displayOrder": 1}]
    terms = client.get("/api/school/terms", params={"pageSize": 1000}, headers=auth).json()
    assert terms["pageSize"] == 500
    assert terms["terms"][0]["startDate"] == "2025-09-01"


def test_rest_without_valid_token_is_401(client: httpx.Client) -> None:
    unauthorised = {"message": "The user is not authorised for this request"}
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        resp = client.get("/api/registration/absencecodes", headers=headers)
        assert resp.status_code == 401
        assert resp.json() == unauthorised


def test_rest_faults_scoped_by_rest_dataset(server: SandboxServer, client: httpx.Client) -> None:
    auth = _bearer(client)
    server.faults = FaultPlan(fail_times=1, throttle_times=1, dataset="absence_codes")
    assert client.get("/api/registration/presentcodes", headers=auth).status_code == 200
    throttled = client.get("/api/registration/absencecodes", headers=auth)
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "1")
    assert client.get("/api/registration/absencecodes", headers=auth).status_code == 500
    assert client.get("/api/registration/absencecodes", headers=auth).json()["totalCount"] == 5


# --- Secrets never leak --------------------------------------------------------------------------------------


def test_request_log_and_output_never_contain_secrets(group: SchoolGroup, capfd: pytest.CaptureFixture[str]) -> None:
    with SandboxServer(group, verbose=True) as srv, httpx.Client(base_url=srv.url, timeout=5) as c:
        access = token(c).json()["access_token"]
        batch(c)
        batch(c, key="{" + KEY_B + "}")
        batch(c, key="00000000-dead-beef-0000-000000000000")
        c.get("/api/school/terms", headers={"Authorization": f"Bearer {access}"})
        log = json.dumps(srv.requests)
    out = capfd.readouterr()
    printed = out.out + out.err
    assert "apiKey=***" in printed
    for secret in (KEY_A, KEY_B, KEY_A.lower(), SECRET_A, access, "dead-beef"):
        assert secret not in printed
        assert secret not in log
    assert [(r["method"], r["format"], r["school"], r["status"]) for r in srv.requests] == [
        ("POST", "token", "AAA", 200), ("GET", "json", "AAA", 200), ("GET", "json", "BBB", 200),
        ("GET", "json", None, 401), ("GET", "rest", "AAA", 200),
    ]
    assert srv.requests[4]["datasets"] == ["rest_terms"]


def test_quiet_by_default(server: SandboxServer, client: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
    batch(client)
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""


def test_a_generator_bug_is_a_visible_500(
    group: SchoolGroup, server: SandboxServer, client: httpx.Client, capfd: pytest.CaptureFixture[str],
) -> None:
    def broken(dataset: str) -> list[dict[str, Any]]:
        raise KeyError(dataset)

    group.schools[0].batch_records = broken  # type: ignore[method-assign]
    resp = batch(client, filters("School_GetSchoolForms"))
    assert resp.status_code == 500
    assert xml_to_jsonnet(resp.text)["Message"]["Description"] == "KeyError: 'forms'"
    assert "KeyError" in capfd.readouterr().err
    assert server.requests[-1]["error"] == "KeyError: 'forms'"


def test_smoke_with_the_synthetic_group() -> None:
    group = generate_group(n_schools=2, pupils_per_school=20, today=date(2025, 10, 8))  # a Wednesday
    with SandboxServer(group) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        for school in group.schools:
            doc = batch(c, key=school.api_key).json()["iSAMS"]
            for ds in BATCH_DATASETS:
                manager, collection, _ = ds.path
                assert doc[manager][collection] is not None, (school.code, ds.name)
            assert xml_to_jsonnet(batch(c, key=school.api_key, fmt="xml").text) == {"iSAMS": doc}
            if school.rest_client_id:
                auth = _bearer(c, school.rest_client_id, school.rest_client_secret or "")
                codes = c.get("/api/registration/absencecodes", headers=auth).json()
                assert codes["totalCount"] == len(codes["absenceCodes"]) == len(school.absence_codes()) > 0
