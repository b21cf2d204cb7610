"""Validation's queries stay linear on PostgreSQL (issue 10 §3).

The scoped frame query (this run's loads, plus current rows sharing a unique value with them) was once a
correlated ``... in (...) or exists (...)``: PostgreSQL plans that as a SubPlan evaluated per row, a nested
loop quadratic in the register table (over 20 minutes on the demo group's second night). The plan of every
dataset's scoped query must have no SubPlan and no nested loop over the raw table; the scoped query must
return exactly the loads' rows plus the rows that share a unique value with them, on both backends.
"""

from __future__ import annotations

import pytest

from ingestion.validation.gx_validate import _frame_sql, _scope
from ingestion.validation.rules import RULES
from ingestion.core.warehouse import Warehouse

REGISTERS = next(r for r in RULES if r.name == "registration_statuses")
PUPILS = next(r for r in RULES if r.scd2 and r.name == "pupils")
COLUMNS = ["id", "pupil_id", "registered", "code", "registration_date_time", "school_code", "_dlt_load_id"]


def _fill(con, rows: int) -> None:
    con.execute("create schema if not exists raw_isams")
    con.execute("drop table if exists raw_isams.registration_statuses")
    con.execute("create table raw_isams.registration_statuses (id varchar, pupil_id varchar, registered varchar, "
                "code varchar, registration_date_time varchar, school_code varchar, _dlt_load_id varchar)")
    con.executemany(
        "insert into raw_isams.registration_statuses values (?, ?, ?, ?, ?, ?, ?)",
        [(str(i), str(i % 50), "1", None, "2026-11-20T08:40:00", "NHS", "old") for i in range(rows)]
        + [("7", "7", "0", "3", "2026-11-21T08:40:00", "ELM", "new"),  # this run's load, other school
           ("8", "8", "1", None, "2026-11-21T08:40:00", "NHS", "new")],  # this run, same id as an older NHS row
    )


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        return Warehouse.duckdb(tmp_path / "wh.duckdb")
    cluster = request.getfixturevalue("pg_cluster")
    return Warehouse.resolve("postgres", tmp_path / "wh.duckdb", env=cluster.fresh_database("validation_plan"))


def test_scoped_query_returns_the_loads_and_the_rows_sharing_their_keys(warehouse):
    with warehouse.connect() as con:
        _fill(con, 200)
        _scope(con, {"new"})
        rows = con.execute(_frame_sql(REGISTERS, COLUMNS, scoped=True)).fetchall()
    got = sorted((r[COLUMNS.index("school_code")], r[0], r[COLUMNS.index("_dlt_load_id")]) for r in rows)
    # ELM 7 (new); NHS 8 (new) and the older NHS 8 sharing its id; not NHS 7 (another school's id)
    assert got == [("ELM", "7", "new"), ("NHS", "8", "new"), ("NHS", "8", "old")]


def test_scoped_queries_have_no_correlated_subplan_on_postgres(pg_cluster, tmp_path):
    warehouse = Warehouse.resolve("postgres", tmp_path / "wh.duckdb", env=pg_cluster.fresh_database("validation_plan"))
    with warehouse.connect() as con:
        _fill(con, 20_000)
        con.execute("analyze raw_isams.registration_statuses")
        _scope(con, {"new"})
        plan = "\n".join(r[0] for r in con.execute(
            "explain " + _frame_sql(REGISTERS, COLUMNS, scoped=True)).fetchall())
    assert "SubPlan" not in plan, plan
    assert "Nested Loop" not in plan, plan
