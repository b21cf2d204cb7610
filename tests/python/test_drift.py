"""Schema drift: field shapes, the comparison with what a school sent before, and a drifting school end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.core import config as cfg
from ingestion.app.demo import write_sandbox_config
from ingestion.app.views import drift_table
from ingestion.core.shapes import (
    DatasetFields,
    column_value_tokens,
    observations_from,
    record_shapes,
    shape_label,
    value_class,
)
from ingestion.ops.drift import record_drift, value_drift_per_school
from ingestion.app.pipeline import pipelines_dir
from ingestion.core.warehouse import Warehouse
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2026, 11, 20)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"


def test_record_shapes_unions_fields_and_kinds_and_skips_our_school_code() -> None:
    records = [
        {"Id": "1", "Form": "7A", "Age": 11, "Boarder": False, "school_code": "NHS",
         "Address": {"Line1": "x", "Post": None}, "Roles": [{"Name": "Tutor", "school_code": "NHS"}]},
        {"Id": "2", "Form": {"Name": "7B"}, "Note": None},
    ]
    shapes = record_shapes(records)
    assert {name: {k for k in kinds if ":" not in k} for name, kinds in shapes.items()} == {
        "Id": {"string"}, "Form": {"string", "object"}, "Form__Name": {"string"}, "Age": {"number"},
        "Boarder": {"boolean"}, "Address": {"object"}, "Address__Line1": {"string"}, "Address__Post": set(),
        "Roles": {"list"}, "Roles[].Name": {"string"}, "Note": set(),
    }
    # string values are classed, with example record ids (the record's own @Id/Id, never a value)
    assert shapes["Id"] == {"string", "value:integer", "example:integer:1", "example:integer:2"}
    assert shapes["Form"] == {"string", "object", "value:text", "example:text:1"}
    assert record_shapes([{"Form": "7A"}])["Form"] == {"string", "value:text"}  # no record id: no example
    assert shape_label(shapes["Id"]) == "string"
    assert shape_label({"string", "object"}) == "object|string" and shape_label(set()) == "null"


@pytest.mark.parametrize("text, cls", [
    ("10", "integer"), (" -3 ", "integer"), ("Year 10", "text"), ("10.0", "text"), ("2025-09-01", "date"),
    ("2025-09-01T08:40:00", "date"), ("2025-02-30", "text"), ("True", "flag"), ("no", "flag"), ("", None),
    ("7A", "text"),
])
def test_value_class(text: str, cls: str | None) -> None:
    assert value_class(text) == cls


def test_column_value_tokens_matches_value_class_on_an_arrow_column() -> None:
    import pyarrow as pa

    table = pa.table({"id": ["1", "2", "3", "4", "5"], "code": ["12", None, " 7 ", "Year 10", ""],
                      "at": ["2025-09-01T08:40:00", "2025-09-02", None, "x", "true"]})
    assert column_value_tokens(table, "code") == {"value:integer", "example:integer:1", "example:integer:3",
                                                  "value:text", "example:text:4"}
    assert column_value_tokens(table, "at") == {"value:date", "example:date:1", "example:date:2", "value:text",
                                                "example:text:4", "value:flag", "example:flag:5"}


def _pupil_obs(nc_years: dict[str, str]) -> DatasetFields:
    return DatasetFields("NHS", "pupils", record_shapes([{"@Id": i, "NCYear": v, "Forename": "Ann"}
                                                         for i, v in nc_years.items()]))


def test_values_that_stop_parsing_are_drift_with_record_ids_then_clear(tmp_path: Path) -> None:
    wh = Warehouse.duckdb(tmp_path / "wh.duckdb")
    assert record_drift(wh, "r1", [_pupil_obs({"701": "10", "702": "9"})]).baselined == [("NHS", "pupils")]
    assert record_drift(wh, "r2", [_pupil_obs({"701": "10", "702": "11"})]).ok
    bad = record_drift(wh, "r3", [_pupil_obs({"701": "Year 10", "702": "Year 11", "703": "Year 9", "704": "Y8"})])
    assert [(e.kind, e.field) for e in bad.events] == [("changed_values", "NCYear")]
    (event,) = bad.events
    assert "values were always integer, now also text" in event.detail
    assert "e.g. record(s) 701, 702, 703" in event.detail  # ids only: at most three
    assert "Year" not in event.detail and "Ann" not in event.detail  # never a value
    assert bad.summary() == "schema drift: 1 changed values(s)"
    assert drift_table(bad).row_count == 1
    with duckdb.connect(str(wh.path), read_only=True) as con:
        assert con.execute("select value_types, value_drift_since_run from ops.schema_fields "
                           "where field = 'NCYear'").fetchall() == [("integer", "r3")]
    # still bad the next night: reported once (status keeps showing it), the established type is kept
    assert record_drift(wh, "r4", [_pupil_obs({"701": "Year 10"})]).ok
    with wh.connect(read_only=True) as con:
        assert value_drift_per_school(con) == {"NHS": 1}
    # good values again: the drift clears by itself
    assert record_drift(wh, "r5", [_pupil_obs({"701": "10"})]).ok
    with wh.connect(read_only=True) as con:
        assert value_drift_per_school(con) == {}
    # a field that holds text (names) is never value drift, whatever it holds
    assert record_drift(wh, "r6", [DatasetFields("NHS", "pupils", record_shapes(
        [{"@Id": "701", "NCYear": "10", "Forename": "123"}]))]).ok


def test_a_string_that_becomes_an_object_is_one_type_change_not_new_fields(tmp_path: Path) -> None:
    wh = Warehouse.duckdb(tmp_path / "wh.duckdb")
    record_drift(wh, "r1", [DatasetFields("NHS", "pupils", record_shapes([{"@Id": "1", "Form": "7A"}]))])
    report = record_drift(wh, "r2", [DatasetFields("NHS", "pupils", record_shapes(
        [{"@Id": "1", "Form": {"Name": "7A", "Room": "R1"}}]))])
    assert [(e.kind, e.field) for e in report.events] == [("changed_type", "Form")]
    assert "was string, now object (with Form__Name, Form__Room)" in report.events[0].detail
    # and back: the sub-fields that vanish are part of the change too, not missing fields
    back = record_drift(wh, "r3", [DatasetFields("NHS", "pupils", record_shapes([{"@Id": "1", "Form": "7B"}]))])
    assert [(e.kind, e.field) for e in back.events] == [("changed_type", "Form")]


def _obs(fields: dict[str, set[str]], dataset: str = "pupils", complete: bool = True) -> DatasetFields:
    return DatasetFields("NHS", dataset, fields, complete)


def _drift_rows(warehouse: Warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        return con.execute("select run_id, kind, field from ops.schema_drift order by run_id, kind, field").fetchall()


def test_record_drift_baseline_then_each_kind_once(tmp_path: Path) -> None:
    wh = Warehouse.duckdb(tmp_path / "wh.duckdb")
    base = {"id": {"string"}, "form": {"string"}, "gender": {"string"}, "upn": set()}
    first = record_drift(wh, "r1", [_obs(base), _obs({"id": {"string"}}, "staff")])
    assert first.ok and first.baselined == [("NHS", "pupils"), ("NHS", "staff")]

    same = record_drift(wh, "r2", [_obs(base)])
    assert same.ok and same.baselined == []

    # new field, a missing one, a scalar turned object; upn was only ever null and now has a value: no event
    changed = {"id": {"string"}, "form": {"object"}, "upn": {"string"}, "nickname": {"string"}}
    report = record_drift(wh, "r3", [_obs(changed)])
    assert sorted((e.kind, e.field) for e in report.events) == [
        ("changed_type", "form"), ("missing_field", "gender"), ("new_field", "nickname")]
    assert "was string, now object" in report.of_kind("changed_type")[0].detail
    assert "last seen in run r2" in report.of_kind("missing_field")[0].detail
    assert report.summary() == "schema drift: 1 new field(s), 1 missing field(s), 1 changed type(s)"
    assert drift_table(report).row_count == 3

    # the same shape again: nothing new (a missing field is reported once, not every night)
    assert record_drift(wh, "r4", [_obs(changed)]).ok
    # a partial fetch proves nothing about absent fields; gender coming back is silent too
    assert record_drift(wh, "r5", [_obs({"id": {"string"}}, complete=False)]).ok
    back = record_drift(wh, "r6", [_obs({**changed, "gender": {"string"}})])
    assert back.ok
    gone_again = record_drift(wh, "r7", [_obs({"id": {"string"}, "form": {"object"}, "upn": {"string"},
                                               "nickname": {"string"}})])
    assert [(e.kind, e.field) for e in gone_again.events] == [("missing_field", "gender")]
    assert _drift_rows(wh) == [("r3", "changed_type", "form"), ("r3", "missing_field", "gender"),
                               ("r3", "new_field", "nickname"), ("r7", "missing_field", "gender")]
    with duckdb.connect(str(wh.path), read_only=True) as con:
        assert con.execute("select field, shape, first_seen_run, last_seen_run, missing_since_run "
                           "from ops.schema_fields where dataset = 'pupils' order by field").fetchall() == [
            ("form", "object", "r1", "r7", None), ("gender", "string", "r1", "r6", "r7"),
            ("id", "string", "r1", "r7", None), ("nickname", "string", "r3", "r7", None),
            ("upn", "string", "r1", "r7", None)]


# ------------------------------------------------------------------------------------------- end to end

def _patch_pupils(school, change) -> None:
    """Serve ``school``'s pupils through ``change`` on top of earlier changes (the server reads live)."""
    original = school.batch_records

    def batch_records(dataset: str) -> list[dict]:
        records = original(dataset)
        return [change(dict(r)) for r in records] if dataset == "pupils" else records

    school.batch_records = batch_records


@pytest.fixture
def drifting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    group = generate_group(seed=11, n_schools=2, pupils_per_school=20, today=TODAY)
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, tmp_path / "config")
        for key, value in secrets.items():
            monkeypatch.setenv(key, value)
        yield {"group": group, "school": group.schools[0], "config": cfg.load_schools(schools_file)[0],
               "schools_file": schools_file, "secrets": secrets, "warehouse": Warehouse.duckdb(tmp_path / "wh" / "w.duckdb")}


START = TODAY - timedelta(days=13)


def _ingest(env: dict, run_id: str):
    """What nightly does per school once the lead wires drift in: ingest, then record the drift."""
    from ingestion.isams.source import ingest_school

    result = ingest_school(
        env["config"], env["warehouse"], pipelines_dir(env["warehouse"]), register_start=START, today=TODAY,
        datasets=["pupils", "registration_statuses"], sleep=lambda s: None,
    )
    assert result.ok, result.failures
    return result, record_drift(env["warehouse"], run_id, observations_from(result))


def _active_pupils(env: dict, columns: str, order: str = " order by id") -> list[tuple]:
    with duckdb.connect(str(env["warehouse"].path), read_only=True) as con:
        return con.execute(f"select {columns} from raw_isams.pupils where _dlt_valid_to is null{order}").fetchall()


def _columns(env: dict) -> set[str]:
    """``table.column`` for every column of raw_isams."""
    with duckdb.connect(str(env["warehouse"].path), read_only=True) as con:
        return {f"{t}.{c}" for t, c in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'raw_isams'"
        ).fetchall()}


def test_a_drifting_school_is_reported_and_loses_nothing(drifting: dict) -> None:
    env, school = drifting, drifting["school"]
    pupils = school.batch_records("pupils")
    marks = list(school.registration_statuses(START, TODAY + timedelta(days=1)))

    result, report = _ingest(env, "run1")
    assert report.ok
    assert {d for s, d in report.baselined} == {"pupils", "registration_statuses"}
    # reconciliation: what the API sent equals what dlt landed
    assert result.fetched == {"pupils": len(pupils), "registration_statuses": len(marks)}
    assert result.rows["pupils"] == len(pupils) and result.rows["registration_statuses"] == len(marks)

    # 1. pupils gain an element
    _patch_pupils(school, lambda r: {**r, "Nickname": f"Nick{r['@Id']}"})
    result, report = _ingest(env, "run2")
    assert [(e.dataset, e.kind, e.field) for e in report.events] == [("pupils", "new_field", "nickname")]
    assert _active_pupils(env, "id, nickname") == sorted((p["@Id"], f"Nick{p['@Id']}") for p in pupils)

    # 2. ... and lose one (Gender); the new one stays
    _patch_pupils(school, lambda r: {k: v for k, v in r.items() if k != "Gender"})
    result, report = _ingest(env, "run3")
    assert [(e.kind, e.field) for e in report.events] == [("missing_field", "gender")]
    assert _active_pupils(env, "count(*), count(gender), count(nickname)", "") == [(len(pupils), 0, len(pupils))]

    # 3. Form turns from a string into an object: landed as JSON text in the same column
    _patch_pupils(school, lambda r: {**r, "Form": {"Name": r["Form"], "Room": "R1"}})
    result, report = _ingest(env, "run4")
    assert [(e.kind, e.field) for e in report.events] == [("changed_type", "form")]
    assert "(with form__name, form__room)" in report.events[0].detail
    assert result.fetched["pupils"] == result.rows["pupils"] == len(pupils)
    forms = _active_pupils(env, "id, form")
    assert [(i, json.loads(f)) for i, f in forms] == sorted(
        (p["@Id"], {"Name": p["Form"], "Room": "R1"}) for p in pupils)
    # no columns beside it, no nested table: staging keeps reading one varchar column
    assert {c for c in _columns(env) if "form" in c.split(".")[1] and c.startswith("pupils")} == {"pupils.form"}

    # the real CLI loads the drifted school too (exit 0), and history keeps every earlier version
    env_vars = {**os.environ, **env["secrets"], "SCHOOLWH_WAREHOUSE": str(env["warehouse"].path)}
    run = subprocess.run([str(SCHOOLWH), "ingest", "--schools", str(env["schools_file"]), "--today",
                          TODAY.isoformat(), "--register-start", START.isoformat(), "--school", school.code],
                         env=env_vars, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert len(_active_pupils(env, "id")) == len(pupils)
    with duckdb.connect(str(env["warehouse"].path), read_only=True) as con:
        versions = con.execute("select count(*), count(distinct id) from raw_isams.pupils").fetchall()[0]
        assert versions == (4 * len(pupils), len(pupils))  # original, +nickname, -gender, form object
        assert con.execute("select count(*), count(distinct id) from raw_isams.registration_statuses "
                           f"where school_code = '{school.code}'").fetchall() == [(len(marks), len(marks))]
        kinds = con.execute("select kind, count(*) from ops.schema_drift group by 1 order by 1").fetchall()
    assert kinds == [("changed_type", 1), ("missing_field", 1), ("new_field", 1)]
