"""The SEEMiS attendance merge on PostgreSQL: a re-sent file replaces exactly its own rows, a later file's
mark supersedes an earlier one (dlt's delete-insert with primary and merge key deletes on either)."""

from __future__ import annotations

import os
from datetime import date

import pytest

from ingestion.core.config import SchoolConfig
from ingestion.core.warehouse import Warehouse
from ingestion.seemis.source import ingest_school
from tests.python.test_seemis_source import ATT, drop

NIGHT = date(2025, 12, 1)


@pytest.fixture
def pg(pg_cluster, tmp_path):
    env = {**os.environ, **pg_cluster.fresh_database("seemis")}
    folder = tmp_path / "GBA"
    folder.mkdir()
    school = SchoolConfig(code="GBA", name="Glenbrae Academy", source="seemis", jurisdiction="scotland", folder=folder)

    def run():
        wh = Warehouse.resolve("postgres", tmp_path / "local" / "w.duckdb", as_of=NIGHT, env=env)
        result = ingest_school(school, wh, tmp_path / "pipelines", today=NIGHT)
        with wh.connect() as con:
            rows = con.execute("select record_id, attendance_code, source_file from raw_seemis.attendance "
                               "order by record_id").fetchall()
        return result, [tuple(r) for r in rows]

    return folder, run


def test_resent_and_later_files_on_postgres(pg):
    folder, run = pg
    drop(folder, "attendance_a.csv", ATT + "1,28/11/2025,AM,10\n1,28/11/2025,PM,32\n", date(2025, 11, 28))
    drop(folder, "attendance_b.csv", ATT + "1,01/12/2025,AM,10\n1,01/12/2025,PM,11\n2,01/12/2025,AM,32\n", NIGHT)
    result, rows = run()
    assert result.ok and len(rows) == 5
    # b re-sent: one mark corrected, one line gone; c (later) corrects a's 32
    drop(folder, "attendance_b.csv", ATT + "1,01/12/2025,AM,10\n1,01/12/2025,PM,21\n", NIGHT, hour=20)
    drop(folder, "attendance_c.csv", ATT + "1,28/11/2025,PM,22\n", NIGHT, hour=21)
    result, rows = run()
    assert rows == [
        ("1:2025-11-28:AM", "10", "attendance_a.csv"), ("1:2025-11-28:PM", "22", "attendance_c.csv"),
        ("1:2025-12-01:AM", "10", "attendance_b.csv"), ("1:2025-12-01:PM", "21", "attendance_b.csv"),
    ]
    assert run()[1] == rows  # a rerun reads nothing new and changes nothing
