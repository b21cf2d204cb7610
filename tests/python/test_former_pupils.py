"""Leavers' attributes (issue 10 §7): the REST leavers list (``/api/alumni``, dataset ``former_pupils``).

The Batch API sends current pupils only, so a pupil who left before the warehouse's first load is known only
from registers. The sandbox serves each REST school's leavers with the attributes they had on leaving; the
ingestion lands them; an iSAMS that does not serve the endpoint (404/403) is not a failure.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.core.warehouse import Warehouse
from ingestion.core import config as cfg
from ingestion.app.demo import write_sandbox_config
from ingestion.isams.datasets import REST_DATASETS
from ingestion.isams.source import ingest_school
from ingestion.app.pipeline import pipelines_dir
from ingestion.sandbox import server as sandbox_server
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import academic_year_of, form_name, generate_group

TODAY = date(2026, 11, 20)


def test_the_sandbox_serves_leavers_as_they_were_on_leaving() -> None:
    group = generate_group(seed=11, n_schools=1, pupils_per_school=40, today=TODAY)
    school = group.schools[0]
    leavers = school.former_pupils()
    assert leavers, "a year of history has leavers"
    by_id = {p.num_id: p for p in school.pupils}
    current = {p.num_id for p in school.current_pupils()}
    for item in leavers:
        pupil = by_id[item["id"]]
        assert item["id"] not in current and pupil.leave_date < TODAY
        nc = pupil.nc_in(academic_year_of(pupil.leave_date))
        assert (item["yearGroup"], item["formGroup"], item["schoolId"]) == (nc, form_name(nc, pupil.letter),
                                                                             pupil.school_id)
        assert item["leavingDate"] == pupil.leave_date.isoformat()
        assert set(item) >= {"gender", "academicHouse", "boardingStatus"}
        assert "forename" not in item and "surname" not in item  # the sandbox sends what the warehouse reads


def _ingest(tmp_path: Path, group, name: str):
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, tmp_path / name)
        with pytest.MonkeyPatch.context() as mp:
            for key, value in secrets.items():
                mp.setenv(key, value)
            school = cfg.load_schools(schools_file)[0]
            warehouse = tmp_path / name / "w.duckdb"
            result = ingest_school(school, Warehouse.duckdb(warehouse), pipelines_dir(Warehouse.duckdb(warehouse)), register_start=TODAY - timedelta(7),
                                   today=TODAY, datasets=[d.name for d in REST_DATASETS], sleep=lambda s: None)
    return result, warehouse


def test_leavers_land_from_rest(tmp_path: Path) -> None:
    group = generate_group(seed=11, n_schools=1, pupils_per_school=40, today=TODAY)
    result, warehouse = _ingest(tmp_path, group, "served")
    assert result.ok, result.failures
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select count(*), count(school_id), count(year_group) from raw_isams.former_pupils") \
            .fetchall()
    n = len(group.schools[0].former_pupils())
    assert rows == [(n, n, n)]


def test_an_isams_without_the_leavers_endpoint_is_not_a_failure(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sandbox_server, "REST_BY_PATH",
                        {p: d for p, d in sandbox_server.REST_BY_PATH.items() if d.name != "former_pupils"})
    group = generate_group(seed=11, n_schools=1, pupils_per_school=40, today=TODAY)
    result, _ = _ingest(tmp_path, group, "missing")
    assert result.ok, result.failures
    assert result.fetched.get("absence_codes", 0) > 0
