"""Parsing Json.NET-style Batch JSON, checked against the real sample XML (converted the way iSAMS does)."""

from __future__ import annotations

import pytest

from ingestion.isams.datasets import BY_NAME, BatchDataset
from ingestion.isams.jsonnet import xml_to_jsonnet
from ingestion.isams.quirks import flatten, items, parse_error_body
from tests.python.conftest import shared_fixtures

FIXTURES = shared_fixtures()
PASTORAL = BatchDataset("pastoral_tutors", "School_GetPastoralTutors", ("SchoolManager", "PastoralTutors", "StaffMember"), "@Id", True)
SIBLINGS = BatchDataset("siblings", "Pupil_GetSiblings", ("PupilManager", "Pupils", "Pupil"), "@Id", True)


def fixture_doc(rel: str) -> dict:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return xml_to_jsonnet((FIXTURES / rel).read_text())


def parsed(rel: str, dataset: BatchDataset) -> list[dict]:
    return [flatten(i) for i in items(fixture_doc(rel), dataset)]


def test_current_pupils_fixture() -> None:
    pupils = parsed("Pupil/GetCurrentPupils.xml", BY_NAME["pupils"])
    assert len(pupils) == 1  # one <Pupil>, served by Json.NET as an object, not a list
    p = pupils[0]
    assert (p["Id"], p["SchoolId"], p["Form"]) == ("710", "4733683260", "12/BBN")
    assert (p["PersonId"], p["DivisionId"], p["BoardingHouseId"]) == ("1068", "11", "12")
    assert p["Tutor"] == "JVK1616126505196816"
    assert p["DOB"] == "2000-11-02T00:00:00"  # leaves stay strings
    assert p["SchoolCode"] == "SIM009"


def test_extra_attribute_and_node_pass_through() -> None:
    attr = parsed("Pupil/GetCurrentPupilsExtraAttr.xml", BY_NAME["pupils"])[0]
    node = parsed("Pupil/GetCurrentPupilsExtraNode.xml", BY_NAME["pupils"])[0]
    assert attr["MadeUp"] == "123" and attr["Form"] == "12/BBN"
    assert node["OtherMadeUp"] == "1234" and node["Id"] == "710"


def test_forms_legacy_elements() -> None:
    forms = parsed("School/GetSchoolForms.xml", BY_NAME["forms"])
    assert len(forms) == 1
    f = forms[0]
    assert f["Id"] == "Y0-A" and f["TutorId"] == "5" and f["Tutor_legacy"] == "EEW12070597600217613"
    assert f["AssistantFormTutor_legacy"] is None  # <AssistantFormTutor Legacy="True"/>
    assert f["SecondAssistantFormTutor_legacy"] == "WHM25203947475782413"
    # RoomId is both an attribute and a Legacy element: the attribute keeps the plain name
    assert f["RoomId"] == "31" and f["RoomId_legacy"] == "31"
    assert f["Form"] == "Y0-A" and f["LastUpdated"] == "2016-08-16T12:00:00"
    assert not any(k.startswith("@") or k == "#text" for k in f)


def test_staff_with_divisions_wrapper() -> None:
    staff = parsed("HumanResources/GetCurrentStaff.xml", BY_NAME["staff"])
    assert len(staff) == 1
    s = staff[0]
    assert s["Id"] == "380" and s["PreferredName"] == "test" and s["TeachingStaff"] == "1"
    assert s["Title"] is None and s["Initials"] == " "  # <Title/> is null; &#x20; stays a space
    assert s["Divisions"] == [
        {"Id": "1", "Name": "Pre Prep School"},
        {"Id": "2", "Name": "Prep School"},
        {"Id": "3", "Name": "Senior School"},
    ]


def test_siblings_single_object_wrapper_becomes_list() -> None:
    pupils = parsed("Pupil/GetSiblings.xml", SIBLINGS)
    assert len(pupils) == 1
    p = pupils[0]
    assert p["Id"] == "1000" and p["SchoolId_legacy"] == "999100898401" and p["Status"] == "Applicant"
    assert p["Siblings"] == [{
        "PupilId": "154", "AuthorId": "1", "PersonGuid": "B465AF82-FD3C-4D97-AED5-EEF2DBF289EA",
        "Author_legacy": "ADMIN379195924992lh", "SchoolId_legacy": "238461885814", "Status": "Current",
    }]


def test_school_fixtures() -> None:
    years = parsed("School/GetAllYears.xml", BY_NAME["year_groups"])
    assert [(y["Id"], y["Name"], y["Code"], y["NationalCurriculumYear_legacy"]) for y in years] == [
        ("-2", "Nursery", "N", "-2")
    ]
    divisions = parsed("School/GetSchoolDivisions.xml", BY_NAME["divisions"])
    assert len(divisions) == 1 and divisions[0]["Name"] == "Pre Prep School"
    assert [(y["Id"], y["YearId"]) for y in divisions[0]["Years"]] == [("64", "-2"), ("65", "-1"), ("66", "0")]
    assert divisions[0]["Years"][0]["Author_legacy"] is None
    terms = parsed("School/GetSchoolTerms.xml", BY_NAME["terms"])
    assert [(t["Id"], t["Name"], t["StartDate"]) for t in terms] == [("1", "Autumn", "2008-09-01T00:00:00")]
    academic = parsed("School/GetAcademicHouses.xml", BY_NAME["academic_houses"])
    assert [(h["Id"], h["Code"], h["HouseMasterId"], h["HouseMaster_legacy"]) for h in academic] == [
        ("2", "AHB", "4", "WHM25203947475782413")
    ]
    assert len(parsed("School/GetBoardingHouses.xml", BY_NAME["boarding_houses"])) == 1
    tutors = parsed("School/GetPastoralTutors.xml", PASTORAL)
    assert len(tutors) == 44 and tutors[0] == {"Id": "177"} and tutors[-1] == {"Id": "369"}


def test_full_export_several_managers() -> None:
    doc = fixture_doc("full-export-sample.xml")
    staff = [flatten(i) for i in items(doc, BY_NAME["staff"])]
    assert [s["UserName"] for s in staff] == ["SBOWEN", "BSMITH", "DALBORN"]
    assert staff[1]["MiddleNames"] is None
    pupils = [flatten(i) for i in items(doc, BY_NAME["pupils"])]
    assert [(p["Id"], p["SchoolId"]) for p in pupils] == [("1", "1630785976"), ("2", "1630688728")]
    sets = [flatten(i) for i in items(doc, BY_NAME["teaching_sets"])]
    assert len(sets) == 3
    s = sets[0]
    # attribute SubjectId and legacy element SubjectId both survive under distinct names
    assert s["SubjectId"] == "1" and s["SubjectId_legacy"] == "1" and s["Teacher_legacy"].startswith("SimonBowen")
    assert s["Teachers"] == [
        {"Id": "1", "StaffId": "1", "PrimaryTeacher": "True"},
        {"Id": "2", "StaffId": "2", "PrimaryTeacher": "False"},
    ]
    set_lists = [flatten(i) for i in items(doc, BY_NAME["set_lists"])]
    assert [(x["Id"], x["PupilId"], x["SchoolId_legacy"], x["LastUpdated"]) for x in set_lists] == [
        ("1", "1", "1359077297161", None), ("2", "2", "1359077297161", None)
    ]
    houses = [flatten(i) for i in items(doc, BY_NAME["boarding_houses"])]
    assert [h["Name"] for h in houses] == ["Blue", "Green"]
    assert items(doc, BY_NAME["forms"]) == []  # SchoolManager present, Forms absent


PUPIL = {"@Id": "1", "Forename": "Ann"}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"iSAMS": {"PupilManager": {"CurrentPupils": {"Pupil": PUPIL}}}}, 1),  # single object
        ({"iSAMS": {"PupilManager": {"CurrentPupils": {"Pupil": [PUPIL, {"@Id": "2"}]}}}}, 2),
        ({"iSAMS": {"PupilManager": {"CurrentPupils": [{"Pupil": PUPIL}, {"Pupil": [{"@Id": "2"}, {"@Id": "3"}]}]}}}, 3),
        ({"iSAMS": {"PupilManager": {"CurrentPupils": None}}}, 0),  # empty collection
        ({"iSAMS": {"PupilManager": None}}, 0),
        ({"iSAMS": {"PupilManager": {"Contacts": {"Contact": PUPIL}}}}, 0),  # missing collection
        ({"iSAMS": {"HRManager": {}}}, 0),  # missing manager
        ({"iSAMS": None}, 0),
        ({}, 0),
    ],
)
def test_items_shapes(doc: dict, expected: int) -> None:
    assert len(items(doc, BY_NAME["pupils"])) == expected


def test_flatten_rules() -> None:
    item = {
        "@Id": "7",
        "@Code": "X",
        "Code": "element code",  # clashes with the attribute
        "Note": {"@Lang": "en", "#text": "hello"},
        "Badge": {"@Level": "2"},  # attributes, no text
        "Roles": {"Role": {"@Id": "3", "Name": "Head"}},  # single-object wrapper
        "Address": {"AddressLines": {"Address1": "1 High St"}, "Town": "Leeds", "Postcode": None},
        "Pupils": {"Pupil": [{"SchoolId": "11"}, {"SchoolId": "12"}]},
        "Empty": None,
    }
    assert flatten(item) == {
        "Id": "7",
        "Code": "X",
        "Code_element": "element code",
        "Note": "hello",
        "Note_Lang": "en",
        "Badge": None,
        "Badge_Level": "2",
        "Roles": [{"Id": "3", "Name": "Head"}],
        "Address": {"AddressLines": {"Address1": "1 High St"}, "Town": "Leeds", "Postcode": None},
        "Pupils": [{"SchoolId": "11"}, {"SchoolId": "12"}],
        "Empty": None,
    }


@pytest.mark.parametrize(
    ("name", "expected_id", "expected_title"),
    [
        ("InvalidApiKey.xml", "InvalidApiKey", "Invalid API Key"),
        ("Deadlock.xml", "UnhandledException", "Unknown Error"),
        ("LockRequestTimeOut.xml", "UnhandledException", "Unknown Error"),
        ("InvalidRoot.xml", "UnhandledException", "Unknown Error"),
        ("MethodsNotAllocatedToKey.xml", "MethodsNotAllocatedToKeyException", "Methods Not Allocated To Key"),
        ("MissingParameter.xml", "MissingParameter", "Missing Field: apiKey"),
        ("FiltersRequiredException.xml", "FiltersRequiredException", "Filters Required"),
    ],
)
def test_error_bodies(name: str, expected_id: str, expected_title: str) -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    raw = (FIXTURES / "Errors" / name).read_bytes()
    for body in (raw, raw.decode("utf-8"), raw.decode("utf-8").encode("utf-16")):
        message_id, title, description = parse_error_body(body)
        assert (message_id, title) == (expected_id, expected_title)
        assert description


def test_error_body_deadlock_description_and_non_xml() -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    _, _, description = parse_error_body((FIXTURES / "Errors/Deadlock.xml").read_text())
    assert "deadlocked" in description
    assert parse_error_body("not xml") == (None, None, None)
    assert parse_error_body("<iSAMS/>") == (None, None, None)
