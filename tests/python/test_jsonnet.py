"""XML -> Json.NET conversion follows the rules of reference section 1.3 on real iSAMS samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ingestion.isams.jsonnet import to_jsonnet, to_xml, xml_to_jsonnet


def test_single_child_is_an_object_and_legacy_elements_keep_text(isams_samples):
    doc = xml_to_jsonnet((isams_samples / "School/GetSchoolForms.xml").read_text())
    form = doc["iSAMS"]["SchoolManager"]["Forms"]["Form"]
    assert isinstance(form, dict)  # one Form: an object, not a list
    assert form["@Id"] == "Y0-A" and form["@TutorId"] == "5"
    assert form["Tutor"] == {"@Legacy": "True", "#text": "EEW12070597600217613"}
    assert form["AssistantFormTutor"] == {"@Legacy": "True"}  # attributes but no text


def test_repeated_children_become_a_list_and_empty_elements_null(isams_samples):
    doc = xml_to_jsonnet((isams_samples / "full-export-sample.xml").read_text())
    staff = doc["iSAMS"]["HRManager"]["CurrentStaff"]["StaffMember"]
    assert [s["@Id"] for s in staff] == ["1", "2", "3"]
    assert staff[1]["MiddleNames"] is None
    assert all(isinstance(v, str) for v in staff[0].values())  # every leaf a string


def test_error_body_with_utf16_declaration_parses(isams_samples):
    doc = xml_to_jsonnet((isams_samples / "Errors/InvalidApiKey.xml").read_text())
    assert doc["Message"]["MessageId"] == "InvalidApiKey"


def test_to_xml_round_trips_through_jsonnet():
    record = {"@Id": "7", "Name": "A & B", "Empty": None, "Tutor": {"@Legacy": "True", "#text": "X"},
              "Roles": {"Role": [{"@Id": "1", "Name": "Teacher"}]}}
    xml = to_xml("Item", record)
    ET.fromstring(xml)  # well-formed, & escaped
    back = xml_to_jsonnet(xml)["Item"]
    assert back["Name"] == "A & B" and back["Empty"] is None and back["Tutor"]["#text"] == "X"
    assert back["Roles"]["Role"] == {"@Id": "1", "Name": "Teacher"}  # a one-item list collapses


def _round_trip(tag, value):
    return xml_to_jsonnet(to_xml(tag, value))


def test_direct_json_equals_the_xml_round_trip_on_the_sandbox():
    """The sandbox answers JSON requests with ``to_jsonnet``: every dataset of a generated group (registers
    included, with schools keeping their own code letters) must be exactly what the XML round trip gives."""
    from datetime import date

    from ingestion.isams.datasets import BATCH_DATASETS
    from ingestion.sandbox import codes
    from ingestion.sandbox.server import batch_document
    from ingestion.sandbox.synthetic import generate_group

    own = codes.CodeStyle(own_letters=True, absent_registered="1", unmapped=("O",))
    group = generate_group(seed=7, n_schools=2, pupils_per_school=40, first_academic_year=2025,
                           today=date(2025, 10, 10), code_styles={1: own})
    checked = 0
    for school in group.schools:
        for ds in BATCH_DATASETS:
            doc = batch_document(school, [ds], (date(2025, 9, 1), date(2025, 10, 11)))
            assert to_jsonnet("iSAMS", doc) == _round_trip("iSAMS", doc), (school.code, ds.name)
            checked += 1
        assert to_jsonnet("iSAMS", batch_document(school, list(BATCH_DATASETS), (date(2025, 9, 1), date(2025, 9, 5)))) \
            == _round_trip("iSAMS", batch_document(school, list(BATCH_DATASETS), (date(2025, 9, 1), date(2025, 9, 5))))
    assert checked == 2 * len(BATCH_DATASETS)


def test_direct_json_hands_what_it_cannot_prove_to_the_round_trip():
    cases = [
        {"@Id": "1", "Name": "a\r\nb"},  # XML turns \r\n into \n
        {"@Id": "2", "Roles": {"Role": []}},  # no element at all: the parent's whitespace becomes text
        {"@Id": "3", "Tutor": {"@Legacy": "True", "#text": ""}, "Note": "", "Blank": "  ", "N": 5, "B": True},
        {"@Id": None, "Kids": {"Kid": [{"@Id": "1"}, None, "x"]}, "#text": "ignored beside children"},
        {"#text": "only text"},
        {"@Id": "4", "Tab": "a\tb\nc"},
        None,
        "plain",
    ]
    for value in cases:
        assert to_jsonnet("Item", value) == _round_trip("Item", value), value
    with pytest.raises(ET.ParseError):  # not XML at all: the direct path must not invent an answer
        to_jsonnet("Item", {"@Id": "5", "Name": "bell \x07"})
