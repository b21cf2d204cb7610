"""The serving file for analysts (ingestion/app/serving.py): the marts and nothing else, readable by DuckDB 1.x,
replaced atomically, kept as it was when a publish fails, and published by the nightly only after a
successful build.

A tiny fake warehouse stands in for a built one: a few marts (one a view over canonical), personal data in
raw_isams, staging and canonical, and ``ops.pupil_key_secret`` with a known secret. test_nightly_e2e.py checks
the serving file of a real nightly.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from ingestion.app import pipeline, serving
from ingestion.app.dbt_runner import DbtResult
from ingestion.core.config import Settings
from ingestion.core.warehouse import PgSettings, Warehouse
from ingestion.validation.gx_validate import ValidationReport
from tests.python.duckdb1_reader import READER_VERSION, read_all

SECRET = "unit-test-pupil-key-secret-5f3a9c"
PERSONAL = ("Ann", "Smith", "2014-03-09", "ann.smith@example.org")
MARTS = {"dim_school": 2, "fct_attendance_session": 6, "persistent_absence": 3}


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    path = tmp_path / "wh" / "schoolwh.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        for schema in ("raw_isams", "staging", "canonical", "monitoring", "restricted", "ops", "marts"):
            con.execute(f"create schema {schema}")
        con.execute("create table ops.pupil_key_secret (secret varchar not null)")
        con.execute("insert into ops.pupil_key_secret values (?)", [SECRET])
        con.execute("create table ops.run_log_copy as select 'r1' as run_id")
        con.execute("create table raw_isams.pupils as select 'P1' as id, ? as forename, ? as surname, ? as dob, "
                    "? as email", list(PERSONAL))
        con.execute("create view staging.stg_isams__pupils as select * from raw_isams.pupils")
        con.execute("create table canonical.pupils as select * from raw_isams.pupils")
        con.execute("create table monitoring.checks as select 'ok' as status")
        con.execute("create table restricted.attendance_support_list as select forename, surname from canonical.pupils")
        con.execute("create table marts.dim_school as select * from (values ('A', 'Alpha'), ('B', 'Beta')) "
                    "as t(school_code, school_name)")
        con.execute("create table marts.fct_attendance_session as select 'k' || i as pupil_key, "
                    "date '2025-09-01' + cast(i as integer) as session_date, i % 2 = 0 as is_absence, "
                    "cast(i as decimal(5, 2)) / 3 as weight from range(6) as r(i)")
        # a view in marts over another schema: published as a table holding its rows, not as a view
        con.execute("create view marts.persistent_absence as select pupil_key, 12.50::decimal(5, 2) as absence_rate "
                    "from marts.fct_attendance_session where is_absence")
    return Warehouse.duckdb(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_duckdb_1x_opens_it_and_reads_every_marts_table(warehouse: Warehouse) -> None:
    published = serving.publish(warehouse)
    assert published.path == warehouse.path.parent / "serving" / "schoolwh_marts.duckdb"
    assert published.tables == MARTS
    seen = read_all(published.path)  # the 1.x reader, read-only
    assert seen["version"] == READER_VERSION
    assert seen["tables"] == {f"marts.{name}": rows for name, rows in MARTS.items()}
    assert seen["views"] == [] and seen["other"] == []  # the view is a table there, over nothing else
    with duckdb.connect() as con:  # DuckDB 2.0 says which format it was written in
        con.execute(f"attach '{published.path}' as served (read_only)")
        assert con.execute("select tags['storage_version'] from duckdb_databases() where database_name = 'served'"
                           ).fetchall() == [(serving.STORAGE_VERSION + "+",)]


def test_it_holds_marts_only_and_no_secret_or_personal_data(warehouse: Warehouse) -> None:
    path = serving.publish(warehouse).path
    seen = read_all(path, secret=SECRET)
    assert seen["schemas"] == ["marts"]
    assert all(name.startswith("marts.") for name in seen["tables"])
    assert seen["secret_found_in"] == []
    data = path.read_bytes()
    assert SECRET.encode() not in data
    assert not [value for value in PERSONAL if value.encode() in data]
    # the byte scan can find a secret: the same short string in a table of a file of that format is visible
    probe = path.with_name("probe.duckdb")
    with duckdb.connect() as con:
        con.execute(f"attach '{probe}' as probe (storage_version '{serving.STORAGE_VERSION}')")
        con.execute("create table probe.t as select ? as s", [SECRET])
        con.execute("detach probe")
    assert SECRET.encode() in probe.read_bytes()


def test_a_failed_publish_keeps_the_previous_file_and_leaves_no_temporary_file(warehouse: Warehouse) -> None:
    path = serving.publish(warehouse).path
    before = _sha(path)
    with duckdb.connect(str(warehouse.path)) as con:  # tomorrow's marts: one table changes, one view breaks
        con.execute("insert into marts.dim_school values ('C', 'Gamma')")
        con.execute("create table canonical.gone as select 1 as x")
        con.execute("create view marts.zz_broken as select * from canonical.gone")  # copied last
        con.execute("drop table canonical.gone")
    with pytest.raises(duckdb.Error):
        serving.publish(warehouse)  # fails mid-way: dim_school and the others are copied first
    assert _sha(path) == before
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert read_all(path)["tables"]["marts.dim_school"] == 2


def test_a_failure_when_moving_it_into_place_keeps_the_previous_file(warehouse: Warehouse, monkeypatch) -> None:
    path = serving.publish(warehouse).path
    before = _sha(path)

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(serving.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        serving.publish(warehouse)
    assert _sha(path) == before
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_republishing_replaces_it_and_is_idempotent(warehouse: Warehouse) -> None:
    path = serving.publish(warehouse).path
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("insert into marts.dim_school values ('C', 'Gamma')")
        con.execute("drop view marts.persistent_absence")
        con.execute("create table marts.weekly_attendance as select 'A' as school_code, 97.5 as attendance_rate")
    expected = {"marts.dim_school": 3, "marts.fct_attendance_session": 6, "marts.weekly_attendance": 1}
    assert serving.publish(warehouse).path == path
    assert read_all(path)["tables"] == expected
    assert _rows(path, "select school_name from marts.dim_school order by 1") == [("Alpha",), ("Beta",), ("Gamma",)]
    again = serving.publish(warehouse)
    assert read_all(path)["tables"] == expected
    assert again.tables == {name.split(".")[1]: rows for name, rows in expected.items()}
    assert sorted(os.listdir(path.parent)) == [path.name]


def test_a_temporary_file_left_by_a_killed_publish_is_removed(warehouse: Warehouse) -> None:
    folder = serving.serving_path(warehouse).parent
    folder.mkdir(parents=True)
    (folder / ".schoolwh_marts.duckdb.tmp-99999").write_bytes(b"half written")
    serving.publish(warehouse)
    assert sorted(os.listdir(folder)) == ["schoolwh_marts.duckdb"]


def test_postgres_missing_warehouse_and_no_marts_are_refused(tmp_path: Path) -> None:
    pg = Warehouse("postgres", tmp_path / "wh.duckdb", PgSettings())
    with pytest.raises(serving.ServingError, match="bi_reader"):
        serving.publish(pg)
    with pytest.raises(serving.ServingError, match="not found"):
        serving.publish(Warehouse.duckdb(tmp_path / "missing.duckdb"))
    empty = tmp_path / "empty" / "schoolwh.duckdb"
    empty.parent.mkdir()
    duckdb.connect(str(empty)).close()
    with pytest.raises(serving.ServingError, match="no relations in schema 'marts'"):
        serving.publish(Warehouse.duckdb(empty))
    assert not (empty.parent / "serving" / "schoolwh_marts.duckdb").exists()
    assert not list((empty.parent / "serving").iterdir())


@pytest.mark.parametrize("build_ok", [True, False])
def test_the_nightly_publishes_only_after_a_successful_build(warehouse: Warehouse, monkeypatch, capsys,
                                                              build_ok: bool) -> None:
    """Ingestion, validation, dbt and docs are stubbed; the nightly's own order and decision are real."""
    from datetime import date

    from rich.console import Console

    path = serving.publish(warehouse).path
    before = _sha(path)
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("insert into marts.dim_school values ('C', 'Gamma')")
    monkeypatch.setattr(pipeline, "ingest_all", lambda *a, **k: pipeline.IngestOutcome("run", pipeline.datetime.now()))
    monkeypatch.setattr(pipeline, "validate", lambda *a, **k: ValidationReport("run"))
    monkeypatch.setattr(pipeline, "build", lambda *a, **k: DbtResult("build", 0 if build_ok else 1, Counter(success=3)))
    monkeypatch.setattr(pipeline, "docs", lambda *a, **k: None)
    console = Console(width=200, force_terminal=False)
    code = pipeline.run_nightly(Settings(schools=()), warehouse.at(date(2026, 11, 20)), console)
    out = capsys.readouterr().out
    if build_ok:
        assert code == pipeline.EXIT_OK
        assert read_all(path)["tables"]["marts.dim_school"] == 3
        assert f"Serving:   {path}" in out
    else:
        assert code == pipeline.EXIT_BUILD_FAILED
        assert _sha(path) == before
        assert "not published (dbt build failed)" in out


def test_the_publish_command(warehouse: Warehouse, capsys) -> None:
    from ingestion.app import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(["publish", "--warehouse", str(warehouse.path)])
    assert exited.value.code == pipeline.EXIT_OK
    assert read_all(serving.serving_path(warehouse))["tables"]["marts.dim_school"] == 2
    with pytest.raises(SystemExit) as exited:
        cli.main(["publish", "--warehouse", str(warehouse.path), "--target", "postgres"])
    assert exited.value.code == pipeline.EXIT_CONFIG
    assert "bi_reader" in capsys.readouterr().out


def test_status_says_where_the_serving_file_is_and_when_it_was_published(warehouse: Warehouse) -> None:
    from ingestion.app import views

    assert "not published yet" in views.serving_line(warehouse)
    path = serving.publish(warehouse).path
    line = views.serving_line(warehouse)
    assert str(path) in line and f"published {serving.published_at(warehouse):%Y-%m-%d %H:%M}" in line
    assert views.serving_line(Warehouse("postgres", warehouse.path, PgSettings())) is None
