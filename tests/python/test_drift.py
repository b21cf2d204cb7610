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

from ingestion import config as cfg
from ingestion.demo import write_sandbox_config
from ingestion.drift import DatasetFields, observations_from, record_drift, record_shapes, shape_label
from ingestion.nightly import pipelines_dir
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
    assert record_shapes(records) == {
        "Id": {"string"}, "Form": {"string", "object"}, "Form__Name": {"string"}, "Age": {"number"},
        "Boarder": {"boolean"}, "Address": {"object"}, "Address__Line1": {"string"}, "Address__Post": set(),
        "Roles": {"list"}, "Roles[].Name": {"string"}, "Note": set(),
    }
    assert shape_label({"string", "object"}) == "object|string" and shape_label(set()) == "null"


def _obs(fields: dict[str, set[str]], dataset: str = "pupils", complete: bool = True) -> DatasetFields:
    return DatasetFields("NHS", dataset, fields, complete)


def _drift_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select run_id, kind, field from ops.schema_drift order by run_id, kind, field").fetchall()


def test_record_drift_baseline_then_each_kind_once(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
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
    assert report.table().row_count == 3

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
    with duckdb.connect(str(wh), read_only=True) as con:
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
               "schools_file": schools_file, "secrets": secrets, "warehouse": tmp_path / "wh" / "w.duckdb"}


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
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
        return con.execute(f"select {columns} from raw_isams.pupils where _dlt_valid_to is null{order}").fetchall()


def _columns(env: dict) -> set[str]:
    """``table.column`` for every column of raw_isams."""
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
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
    assert [(e.kind, e.field) for e in report.events] == [
        ("changed_type", "form"), ("new_field", "form__name"), ("new_field", "form__room")]
    assert result.fetched["pupils"] == result.rows["pupils"] == len(pupils)
    forms = _active_pupils(env, "id, form")
    assert [(i, json.loads(f)) for i, f in forms] == sorted(
        (p["@Id"], {"Name": p["Form"], "Room": "R1"}) for p in pupils)
    # no columns beside it, no nested table: staging keeps reading one varchar column
    assert {c for c in _columns(env) if "form" in c.split(".")[1] and c.startswith("pupils")} == {"pupils.form"}

    # the real CLI loads the drifted school too (exit 0), and history keeps every earlier version
    env_vars = {**os.environ, **env["secrets"], "SCHOOLWH_WAREHOUSE": str(env["warehouse"])}
    run = subprocess.run([str(SCHOOLWH), "ingest", "--schools", str(env["schools_file"]), "--today",
                          TODAY.isoformat(), "--register-start", START.isoformat(), "--school", school.code],
                         env=env_vars, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert len(_active_pupils(env, "id")) == len(pupils)
    with duckdb.connect(str(env["warehouse"]), read_only=True) as con:
        versions = con.execute("select count(*), count(distinct id) from raw_isams.pupils").fetchall()[0]
        assert versions == (4 * len(pupils), len(pupils))  # original, +nickname, -gender, form object
        assert con.execute("select count(*), count(distinct id) from raw_isams.registration_statuses "
                           f"where school_code = '{school.code}'").fetchall() == [(len(marks), len(marks))]
        kinds = con.execute("select kind, count(*) from ops.schema_drift group by 1 order by 1").fetchall()
    assert kinds == [("changed_type", 1), ("missing_field", 1), ("new_field", 3)]
