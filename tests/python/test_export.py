"""export_marts: every marts table to Parquet plus manifest.json, nothing from any other schema."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ingestion.app.export import export_marts
from ingestion.core.warehouse import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A small warehouse: two marts tables, one marts view, and personal data in other schemas."""
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema canonical; create schema staging")
        con.execute(
            "create table marts.dim_school as select * from (values ('A', 'Alpha'), ('B', 'Beta'))"
            " as t(school_code, school_name)"
        )
        con.execute(
            "create table marts.fct_attendance_session as"
            " select 'k' || i as pupil_key, date '2025-09-01' + cast(i as integer) as session_date, i % 2 = 0 as is_absence"
            " from range(5) as r(i)"
        )
        con.execute("create view marts.absent_sessions as select * from marts.fct_attendance_session where is_absence")
        con.execute("create table canonical.pupils as select 'Ann' as forename, 'Smith' as surname")
        con.execute("create table staging.stg_pupils as select 'U1' as upn")
        con.execute("create table main.other as select 1 as x")
    return path


def test_exports_every_marts_relation_with_matching_rows_and_columns(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = export_marts(Warehouse.duckdb(warehouse), out)
    expected = {"absent_sessions": 3, "dim_school": 2, "fct_attendance_session": 5}  # i = 0, 2, 4 absent
    assert [p.name for p in written] == [f"{name}.parquet" for name in sorted(expected)] + ["manifest.json"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, rows in expected.items():
            table = pq.read_table(out / f"{name}.parquet")
            assert table.num_rows == rows
            columns = [row[0] for row in con.execute(f"describe marts.{name}").fetchall()]
            assert table.column_names == columns


def test_never_exports_other_schemas(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_marts(Warehouse.duckdb(warehouse), out)
    assert sorted(p.name for p in out.iterdir()) == [
        "absent_sessions.parquet", "dim_school.parquet", "fct_attendance_session.parquet", "manifest.json"]
    exported_columns = {name for f in out.glob("*.parquet") for name in pq.read_schema(f).names}
    assert not exported_columns & {"forename", "surname", "upn", "x"}


def test_manifest_lists_tables_rows_columns_and_time(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_marts(Warehouse.duckdb(warehouse), out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema"] == "marts" and manifest["warehouse"] == "wh.duckdb"
    assert manifest["exported_at"].endswith("Z")
    tables = {t["table"]: t for t in manifest["tables"]}
    assert {name: t["rows"] for name, t in tables.items()} == {
        "absent_sessions": 3, "dim_school": 2, "fct_attendance_session": 5}
    assert tables["dim_school"]["file"] == "dim_school.parquet"
    assert tables["dim_school"]["columns"] == [
        {"name": "school_code", "type": "VARCHAR"}, {"name": "school_name", "type": "VARCHAR"}]


def test_reads_the_warehouse_without_taking_the_write_lock(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as reader:  # another read-only reader is fine
        export_marts(Warehouse.duckdb(warehouse), tmp_path / "out")
        assert reader.execute("select count(*) from marts.dim_school").fetchall() == [(2,)]


def test_missing_warehouse_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(FileNotFoundError):
        export_marts(Warehouse.duckdb(missing), tmp_path / "out")
    assert not missing.exists()


def test_warehouse_without_marts_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(ValueError, match="no tables in schema 'marts'"):
        export_marts(Warehouse.duckdb(path), tmp_path / "out")
