"""XML -> Json.NET conversion follows the rules of reference section 1.3 on real iSAMS samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ingestion.isams.jsonnet import to_xml, xml_to_jsonnet


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
