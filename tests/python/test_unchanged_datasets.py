"""Small datasets that did not change are not reloaded (ingestion/ops/fingerprints.py), on DuckDB and PostgreSQL.

Four nights of the real ``schoolwh ingest`` against the sandbox (two schools):

1. Wed: the first load. Everything lands; a fingerprint per school and small dataset is recorded.
2. Thu: the same pupils, staff, code lists. Only registers land; the run log says every other dataset was
   fetched in full and found unchanged (``rows_fetched = rows_unchanged``, nothing landed), and the replayed
   shapes keep drift quiet.
3. Fri: one pupil of the first school changes surname, and the second school's ``forms`` fail (HTTP 500).
   The first school's pupils reload (one new scd2 version, nothing else moves); the second school's pupils
   stay unchanged; its failed ``forms`` keep their rows and their old fingerprint.
4. Mon: the second school's ``staff`` rows were deleted from raw by hand (a restore, a clean-up). The
   fingerprint alone would call staff unchanged; the warehouse no longer holds it, so it reloads.

Every expectation is counted from the sandbox's own records, not from a previous run's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ingestion.app.demo import write_sandbox_config
from ingestion.core.ingest import DatasetFingerprint, records_digest
from ingestion.core.warehouse import Warehouse, WarehouseConfigError
from ingestion.sandbox.faults import FaultPlan
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

NIGHTS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 23))
SEED, SCHOOLS, PUPILS = 11, 2, 20
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
REGISTERS = "registration_statuses"


def _group(night: int):
    group = generate_group(seed=SEED, n_schools=SCHOOLS, pupils_per_school=PUPILS, today=NIGHTS[night])
    if night >= 2:  # from Friday the first school's first pupil has a new surname
        school = group.schools[0]
        records = school.batch_records

        def renamed(dataset: str) -> list[dict[str, Any]]:
            out = records(dataset)
            if dataset == "pupils":
                out = [dict(r) for r in out]
                out[0]["Surname"] = "Renamed-Friday"
            return out

        school.batch_records = renamed  # type: ignore[method-assign]
    return group


class _Db:
    def __init__(self, target: str, env: dict[str, str]):
        self.target, self.env = target, env

    def rows(self, sql: str) -> list[tuple]:
        warehouse = Warehouse.resolve(self.target, self.env["SCHOOLWH_WAREHOUSE"], env=self.env)
        with warehouse.connect() as con:
            return [tuple(r) for r in con.execute(sql).fetchall()]


def _nights(target: str, root: Path, env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"exit": [], "log": {}, "groups": {}, "pupil_versions": {}}
    db = out["db"] = _Db(target, env)
    for night, today in enumerate(NIGHTS):
        group = out["groups"][night] = _group(night)
        if night == 3:
            db_school = group.schools[1].code
            warehouse = Warehouse.resolve(target, env["SCHOOLWH_WAREHOUSE"], env=env)
            with warehouse.connect() as con:
                con.execute("delete from raw_isams.staff where school_code = ?", [db_school])
        plan = FaultPlan(fail_times=1000, school=group.schools[1].code, dataset="forms") if night == 2 else None
        with SandboxServer(group, faults=plan) as server:
            schools_file, _, secrets = write_sandbox_config(group, server.url, root / f"config-{night}")
            run = subprocess.run(
                [str(SCHOOLWH), "ingest", "--target", target, "--schools", str(schools_file),
                 "--today", today.isoformat(), "--register-start", "2026-11-02"],
                env={**env, **secrets}, capture_output=True, text=True, timeout=600,
            )
        out["exit"].append((run.returncode, run.stdout[-4000:] + run.stderr[-3000:]))
        (run_id,) = db.rows("select run_id from ops.run_log order by finished_at desc limit 1")[0]
        out["log"][night] = {
            (school, dataset): (landed, fetched, unchanged, outcome)
            for school, dataset, landed, fetched, unchanged, outcome in db.rows(
                "select school_code, dataset, rows_landed, rows_fetched, rows_unchanged, outcome from ops.run_log "
                f"where run_id = '{run_id}' and dataset <> '*'")
        }
        out["pupil_versions"][night] = dict(db.rows(
            "select school_code, count(*) from raw_isams.pupils group by 1"))
    out["drift"] = db.rows("select count(*) from ops.schema_drift")[0][0]
    out["staff"] = dict(db.rows("select school_code, count(*) from raw_isams.staff "
                                "where _dlt_valid_to is null group by 1"))
    out["forms"] = dict(db.rows("select school_code, count(*) from raw_isams.forms "
                                "where _dlt_valid_to is null group by 1"))
    out["renamed"] = db.rows("select school_code, surname, _dlt_valid_to is null from raw_isams.pupils "
                             "where surname = 'Renamed-Friday'")
    return out


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def nights(request, tmp_path_factory):
    target = request.param
    root = tmp_path_factory.mktemp(f"unchanged_{target}")
    env = {k: v for k, v in os.environ.items() if k != "SCHOOLWH_TARGET"}
    env["SCHOOLWH_WAREHOUSE"] = str(root / "schoolwh.duckdb")
    env["SCHOOLWH_PUPIL_KEY_SECRET"] = "test-secret-unchanged-0123456789"
    if target == "postgres":
        cluster = request.getfixturevalue("pg_cluster")
        env.update(cluster.env())
        env.update(cluster.fresh_database("unchanged_datasets"))
    return _nights(target, root, env)


def _small(log: dict) -> dict:
    return {key: value for key, value in log.items() if key[1] not in (REGISTERS, "schools")}


def test_every_night_but_the_failing_one_exits_zero(nights):
    codes = [code for code, _ in nights["exit"]]
    assert codes[0] == codes[1] == codes[3] == 0, nights["exit"]
    assert codes[2] != 0 and "forms" in nights["exit"][2][1]  # the failed dataset is named


def test_the_first_night_lands_everything_it_fetched(nights):
    small = _small(nights["log"][0])
    assert len(small) >= 2 * 15, small  # every Batch dataset and code list of both schools
    for key, (landed, fetched, unchanged, outcome) in small.items():
        assert (unchanged, outcome) == (0, "ok") and landed == fetched > 0, key


def test_a_quiet_night_loads_registers_only_and_says_so(nights):
    first, quiet = _small(nights["log"][0]), nights["log"][1]
    for key, (landed, fetched, unchanged, outcome) in _small(quiet).items():
        # fetched in full again (the same count as the first night), recognised, not handed to dlt
        assert (landed, unchanged, outcome) == (0, fetched, "ok"), key
        assert fetched == first[key][1], key
    for school in nights["groups"][1].schools:
        landed, fetched, unchanged, _ = quiet[(school.code, REGISTERS)]
        assert landed == fetched > 0 and unchanged == 0  # registers always merge the look-back
    assert nights["pupil_versions"][1] == nights["pupil_versions"][0]


def test_replayed_shapes_keep_drift_quiet(nights):
    assert nights["drift"] == 0


def test_a_changed_dataset_reloads_for_that_school_only(nights):
    friday = nights["log"][2]
    a, b = (s.code for s in nights["groups"][2].schools)
    pupils = len(nights["groups"][2].schools[0].batch_records("pupils"))
    landed, fetched, unchanged, outcome = friday[(a, "pupils")]
    assert (fetched, unchanged, outcome) == (pupils, 0, "ok") and landed > 0
    landed, fetched, unchanged, _ = friday[(b, "pupils")]
    assert landed == 0 and unchanged == fetched > 0
    # scd2 closed the old version and opened one new version: one more row for that school, none elsewhere
    before, after = nights["pupil_versions"][1], nights["pupil_versions"][2]
    assert after == {**before, a: before[a] + 1}
    assert nights["renamed"] == [(a, "Renamed-Friday", True)]


def test_a_failed_dataset_keeps_its_rows_and_is_not_called_unchanged(nights):
    b = nights["groups"][2].schools[1]
    landed, fetched, unchanged, outcome = nights["log"][2][(b.code, "forms")]
    assert outcome == "failed" and landed == 0 and not unchanged
    assert nights["forms"][b.code] == len(b.batch_records("forms"))  # its rows from Wednesday still stand


def test_a_dataset_emptied_from_the_warehouse_reloads_though_its_fingerprint_matches(nights):
    monday = nights["log"][3]
    a, b = nights["groups"][3].schools
    landed, fetched, unchanged, _ = monday[(b.code, "staff")]
    assert unchanged == 0 and landed >= fetched == len(b.batch_records("staff"))
    assert monday[(a.code, "staff")][2] == monday[(a.code, "staff")][1]  # the other school's is unchanged
    assert nights["staff"] == {a.code: len(a.batch_records("staff")), b.code: len(b.batch_records("staff"))}


# -------------------------------------------------------------------------------- the pieces, no warehouse


def test_the_digest_ignores_record_order_but_not_values_count_or_dataset():
    one, two = {"@Id": "1", "Forename": "Ann"}, {"@Id": "2", "Forename": "Bea"}
    digest = records_digest("pupils", [one, two])
    assert digest == records_digest("pupils", [two, one])
    assert digest != records_digest("pupils", [one, {**two, "Forename": "Bee"}])
    assert digest != records_digest("pupils", [one, two, two])
    assert digest != records_digest("staff", [one, two])
    assert digest != records_digest("pupils", [one, {**two, "Extra": None}])  # a new (even empty) field


def test_a_fingerprint_round_trips_its_shapes():
    fp = DatasetFingerprint("abc", {"Forename": {"string", "value:text"}, "Note": set()})
    assert DatasetFingerprint.from_json(fp.digest, fp.shapes_json()) == fp


@pytest.mark.parametrize("limit", ["1GB", "512MiB", "2.5 GB", "800MB"])
def test_the_ingestion_memory_limit_is_read_and_handed_to_dlt(limit, tmp_path):
    warehouse = Warehouse.resolve("duckdb", tmp_path / "wh.duckdb", env={"SCHOOLWH_INGEST_MEMORY_LIMIT": limit})
    assert warehouse.ingest_memory_limit == limit
    destination = warehouse.dlt_destination()
    assert destination.config_params["credentials"].global_config == {"memory_limit": limit}


@pytest.mark.parametrize("limit", ["lots", "1 G B", "-1GB", "1GB; drop table x"])
def test_a_bad_ingestion_memory_limit_is_refused_and_named(limit, tmp_path):
    with pytest.raises(WarehouseConfigError, match="SCHOOLWH_INGEST_MEMORY_LIMIT"):
        Warehouse.resolve("duckdb", tmp_path / "wh.duckdb", env={"SCHOOLWH_INGEST_MEMORY_LIMIT": limit})


def test_a_first_run_into_a_folder_that_does_not_exist_yet_has_no_fingerprints(tmp_path):
    from ingestion.ops import fingerprints

    warehouse = Warehouse.duckdb(tmp_path / "not-yet" / "wh.duckdb")
    assert fingerprints.known(warehouse, "isams", "NHS", "raw_isams") == {}
    assert not (tmp_path / "not-yet").exists()  # dlt creates it with the first load, not this look-up
