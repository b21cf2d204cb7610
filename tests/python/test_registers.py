"""The fast register path builds exactly the generic path's Arrow table (and drift shapes), or declines."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from ingestion.isams.client import fast_loads
from ingestion.isams.datasets import BY_NAME
from ingestion.isams.jsonnet import to_xml, xml_to_jsonnet
from ingestion.isams.quirks import items
from ingestion.isams.registers import flat_registers_table, registers_table, registers_window_table

DS = BY_NAME["registration_statuses"]


def body(records: list[dict] | None) -> bytes:
    """A json.ashx register response as iSAMS sends it (XML -> Json.NET: one mark is an object, none null)."""
    manager, collection, item = DS.path
    tree = {manager: {collection: {item: records} if records else None}}
    return json.dumps(xml_to_jsonnet(to_xml("iSAMS", tree)), ensure_ascii=False).encode("utf-8")


def mark(n: int, **extra: Any) -> dict:
    out = {"@Id": str(n), "PupilId": f"p{n % 7}", "Registered": str(n % 2), "Code": str(n % 5),
           "RegistrationDateTime": f"2026-03-0{1 + n % 9}T08:40:00"}
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def sorted_columns(table: pa.Table) -> pa.Table:
    return table.select(sorted(table.column_names))


def both(raw: bytes) -> tuple[pa.Table, dict, pa.Table, dict]:
    """(generic table, its shapes, fast-path table, its shapes) for one response body."""
    generic_shapes: dict = {"seen_before": {"string"}}
    fast_shapes: dict = {"seen_before": {"string"}}
    generic = registers_table(items(json.loads(raw), DS), "NHS", generic_shapes)
    fast = registers_window_table(fast_loads(raw), raw, DS, "NHS", fast_shapes)
    return generic, generic_shapes, fast, fast_shapes


def assert_same(raw: bytes, *, fast_path: bool = True) -> pa.Table:
    generic, generic_shapes, fast, fast_shapes = both(raw)
    assert sorted_columns(fast).equals(sorted_columns(generic), check_metadata=True)
    assert fast.schema == generic.schema  # names, order, nullability (the non-null key columns)
    assert fast_shapes == generic_shapes
    taken = flat_registers_table(items(fast_loads(raw), DS), "NHS") is not None
    assert taken == fast_path
    return generic


def test_generated_window() -> None:
    from ingestion.sandbox.server import render_batch
    from ingestion.sandbox.synthetic import generate_group

    group = generate_group(seed=2024, n_schools=1, pupils_per_school=60, today=date(2026, 3, 10))
    xml = render_batch(group.schools[0], [DS], (date(2026, 2, 24), date(2026, 3, 10)))
    raw = json.dumps(xml_to_jsonnet(xml), ensure_ascii=False).encode("utf-8")
    table = assert_same(raw)
    assert table.num_rows > 1000 and {"id", "code", "school_code"} <= set(table.column_names)
    assert table.column("code").null_count > 0  # present marks carry no Code: two layouts in one window


def test_single_mark_is_an_object() -> None:
    raw = body([mark(1)])
    assert isinstance(json.loads(raw)["iSAMS"]["RegistrationManager"]["RegistrationStatuses"]["RegistrationStatus"],
                      dict)
    assert assert_same(raw).num_rows == 1


def test_empty_collection_is_null() -> None:
    raw = body(None)
    table = assert_same(raw)
    assert table.num_rows == 0 and table.column_names == ["school_code"]


def test_marks_without_code() -> None:
    assert assert_same(body([mark(1, Code=None), mark(2), mark(3, Code=None)])).column("code").null_count == 2
    table = assert_same(body([mark(1, Code=None), mark(2, Code=None)]))
    assert "code" not in table.column_names  # never sent: no column, as before


def test_unknown_extra_field() -> None:
    table = assert_same(body([mark(1), mark(2, NewThing="x"), mark(3, SchoolCode="S1")]))
    assert {"new_thing", "isams_school_code", "school_code"} <= set(table.column_names)
    assert table.column("school_code").to_pylist() == ["NHS"] * 3


def test_collection_sent_as_a_list() -> None:
    doc = {"iSAMS": {"RegistrationManager": {"RegistrationStatuses": [
        {"RegistrationStatus": [mark(1), mark(2)]}, {"RegistrationStatus": mark(3)}, None]}}}
    assert assert_same(json.dumps(doc).encode()).num_rows == 3


def test_attribute_and_element_of_one_name_and_null_values() -> None:
    doc = {"iSAMS": {"RegistrationManager": {"RegistrationStatuses": {"RegistrationStatus": [
        {"@Id": "1", "Id": "legacy-1", "PupilId": None, "Registered": "1"},
        {"@Id": "2", "Id": "legacy-2", "PupilId": "p", "Registered": None},
    ]}}}}
    assert "id_element" in assert_same(json.dumps(doc).encode()).column_names


@pytest.mark.parametrize("value", [{"@A": "x"}, {"#text": "4", "@Legacy": "True"}, ["a", "b"], 7, True])
def test_value_that_is_not_a_string_falls_back(value: Any) -> None:
    doc = {"iSAMS": {"RegistrationManager": {"RegistrationStatuses": {"RegistrationStatus": [
        mark(1), mark(2, Code=value), mark(3)]}}}}
    assert_same(json.dumps(doc).encode(), fast_path=False)


def test_keys_that_land_in_one_column_fall_back() -> None:
    doc = {"iSAMS": {"RegistrationManager": {"RegistrationStatuses": {"RegistrationStatus": [
        {"@Id": "1", "Id": "a"}, {"Id": "b"}]}}}}  # "Id" is id_element in one mark and id in the other
    assert_same(json.dumps(doc).encode(), fast_path=False)


def test_fast_loads_matches_json_loads() -> None:
    for raw in (b'{"a": "x"}', '\ufeff{"a": "\u00e9"}'.encode(), '{"a": "y"}'.encode("utf-16"), b'{"a": NaN}'):
        assert repr(fast_loads(raw)) == repr(json.loads(raw))
    with pytest.raises(ValueError):
        fast_loads(b'{"a": "trunc')
