"""End to end: the real CLI against the sandbox, twice, into a temporary DuckDB warehouse.

One small synthetic group (3 schools) is ingested and built once per module; the tests then check what a
nightly operator relies on: every dataset landed for every school, a rerun changes no counts, a bad key
fails loudly without touching the warehouse, and no secret leaks into output, logs or tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.core.warehouse import Warehouse
from ingestion.app.demo import write_sandbox_config, write_seemis_night
from ingestion.isams.datasets import BATCH_DATASETS
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group
from tests.python.dbt_results import unit_test_outcomes
from tests.python.duckdb1_reader import read_all

TODAY = date(2026, 11, 20)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCHOOLWH), *args], env=env, capture_output=True, text=True, timeout=900)


def _counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_isams', 'raw_seemis', 'staging') and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0] for s, t in tables}


def _marts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
        return {f"marts.{n}": con.execute(f'select count(*) from marts."{n}"').fetchall()[0][0] for n in names}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    group = generate_group(seed=7, n_schools=3, pupils_per_school=25, today=TODAY)
    with SandboxServer(group) as server:
        # the mixed group of the demo: three iSAMS schools and the SEEMiS school GBA (its exports per night)
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config", seemis=True)
        env = {**os.environ, **secrets, "SCHOOLWH_WAREHOUSE": str(root / "wh" / "schoolwh.duckdb")}
        args = ["nightly", "--schools", str(schools_file), "--today", TODAY.isoformat()]
        write_seemis_night(schools_file.parent, TODAY)
        first = _run(args, env)
        counts_first = _counts(root / "wh" / "schoolwh.duckdb")
        write_seemis_night(schools_file.parent, TODAY)  # the same night again: nothing new
        second = _run(args, env)
        counts_second = _counts(root / "wh" / "schoolwh.duckdb")
        marts = _marts(root / "wh" / "schoolwh.duckdb")
        yield {
            "root": root, "group": group, "server": server, "env": env, "schools_file": schools_file,
            "warehouse": root / "wh" / "schoolwh.duckdb", "runs": (first, second),
            "counts": (counts_first, counts_second), "secrets": secrets,
            "marts": marts,
        }


def test_nightly_succeeds_and_lands_every_dataset_for_every_school(built):
    first, second = built["runs"]
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        for dataset in BATCH_DATASETS:
            rows = con.execute(
                f"select school_code, count(*) from raw_isams.{dataset.name} group by 1"
            ).fetchall()
            assert {code for code, n in rows if n > 0} == {s.code for s in built["group"].schools}, dataset.name


def test_the_scottish_school_is_built_by_scotlands_rules_beside_the_english_ones(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        schools = dict(con.execute("select school_code, measurement_scheme from marts.dim_school").fetchall())
        gba = con.execute(
            "select count(*), count(is_severe_absentee), sum(case when is_persistent_absentee then 1 else 0 end), "
            "min(year_group_order), sum(case when year_group = '(unknown)' then 1 else 0 end) "
            "from marts.persistent_absence where school_code = 'GBA'"
        ).fetchall()[0]
        english_severe = con.execute(
            "select count(is_severe_absentee) from marts.persistent_absence where school_code <> 'GBA'").fetchall()[0][0]
        codes = dict(con.execute("select mis_code, count(*) from marts.fct_attendance_session where school_code = 'GBA' "
                                 "group by 1").fetchall())
        two = con.execute("select count(*) from marts.fct_attendance_session where school_code = 'GBA' "
                          "and mis_code = '02' and (is_possible_session or is_absence or is_attendance)").fetchall()[0][0]
        scopes = {r[0] for r in con.execute("select distinct group_scope from marts.cross_campus_attendance").fetchall()}
        stages = {r[0] for r in con.execute("select distinct year_group from marts.persistent_absence "
                                            "where school_code = 'GBA' and year_group <> '(unknown)'").fetchall()}
    assert schools.pop("GBA") == "scottish_openings" and set(schools.values()) == {"dfe_sessions"}
    pupils, severe_flags, persistent, low, unknown = gba
    assert pupils > 300 and severe_flags == 0 and 0 < persistent < pupils  # severe is null, never false
    assert english_severe > 0
    assert low == 8 and stages == {"S1", "S2", "S3", "S4", "S5", "S6"}
    # only a pupil who left before the first load has no stage: the pupils export lists the roll only
    assert unknown <= 2
    assert codes.get("02", 0) > 0 and two == 0  # 02: in neither numerator nor denominator
    assert scopes == {"school", "all_schools", "jurisdiction"}


def test_second_nightly_changes_no_row_counts(built):
    first, second = built["counts"]
    assert first and first == second


def test_staging_is_built(built):
    counts = built["counts"][1]
    assert counts.get("staging.stg_isams__pupils", 0) > 0
    assert counts.get("staging.stg_isams__registration_statuses", 0) > 0
    assert counts.get("staging.stg_seemis__attendance", 0) > 0 and counts.get("staging.stg_seemis__pupils", 0) > 0


def test_docs_are_generated_as_one_file(built):
    assert (built["warehouse"].parent / "dbt" / "target" / "static_index.html").stat().st_size > 10_000


def test_the_serving_file_holds_every_mart_and_opens_in_duckdb_1x(built):
    """What analysts' drivers open: every mart of the build, every row readable by DuckDB 1.x, nothing else
    (the byte scan of every file in test_no_secret_in_output_logs_or_tables covers it too)."""
    path = built["warehouse"].parent / "serving" / "schoolwh_marts.duckdb"
    seen = read_all(path, secret=built["secrets"]["SCHOOLWH_PUPIL_KEY_SECRET"])
    assert len(built["marts"]) >= 10 and sum(built["marts"].values()) > 0
    assert seen["tables"] == built["marts"]
    assert seen["schemas"] == ["marts"] and seen["views"] == [] and seen["other"] == []
    assert seen["secret_found_in"] == []
    assert all(f"Serving:   {path}" in run.stdout.replace("\n", "") for run in built["runs"])


def _all_text_in_warehouse(warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # ops.pupil_key_secret is where the pupil-key secret lives by design (dbt reads it from there)
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and not (table_schema = 'ops' and table_name = 'pupil_key_secret')"
        ).fetchall()
        chunks = []
        for schema, table, column in columns:
            rows = con.execute(f'select distinct "{column}" from "{schema}"."{table}"').fetchall()
            chunks.extend(str(r[0]) for r in rows)
        return "\n".join(chunks)


def test_pupil_key_secret_is_only_in_its_table(built):
    secret = built["secrets"]["SCHOOLWH_PUPIL_KEY_SECRET"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        assert con.execute("select secret from ops.pupil_key_secret").fetchall() == [(secret,)]


def test_no_secret_in_output_logs_or_tables(built):
    secrets = [v for v in built["secrets"].values() if v]
    texts = [r.stdout + r.stderr for r in built["runs"]]
    texts.append(_all_text_in_warehouse(built["warehouse"]))
    # every file the runs wrote (logs, dbt artifacts, docs, dlt state and trace pickles, GX docs), as bytes;
    # only the test's own config dir holds the keys (sandbox.env, by design)
    files = [p for p in built["root"].rglob("*") if p.is_file() and "config" not in p.relative_to(built["root"]).parts]
    assert any(p.suffix == ".pickle" for p in files) and any(p.suffix == ".log" for p in files)
    pupil_key_secret = built["secrets"]["SCHOOLWH_PUPIL_KEY_SECRET"]
    for secret in secrets:
        for text in texts:
            assert secret.lower() not in text.lower()
        for path in files:
            if secret == pupil_key_secret and path == built["warehouse"]:
                continue  # it lives in ops.pupil_key_secret by design (checked above, and nowhere else)
            assert secret.encode() not in path.read_bytes(), path


def test_bad_key_fails_clearly_and_leaves_the_warehouse_untouched(built):
    before = _counts(built["warehouse"])
    school = built["group"].schools[0]
    key_env = f"ISAMS_{school.code.upper()}_API_KEY"
    env = {**built["env"], key_env: "00000000-0000-0000-0000-000000000000"}
    result = _run(["ingest", "--schools", str(built["schools_file"]), "--today", TODAY.isoformat()], env)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert school.code in out and "pupils" in out and "401" in out
    assert _counts(built["warehouse"]) == before


def test_status_reports_every_school_healthy(built):
    result = _run(["status", "--today", TODAY.isoformat()], {**built["env"]})
    out = result.stdout
    for school in built["group"].schools:
        assert school.code in out
    assert "2026-11-20" in out  # the latest register date landed


def test_backfill_rereads_a_window_without_duplicates(built):
    school = built["group"].schools[1]
    args = ["backfill", "--school", school.code, "--from", "2026-10-05", "--to", "2026-10-09",
            "--schools", str(built["schools_file"]), "--today", TODAY.isoformat()]
    before = _counts(built["warehouse"])["raw_isams.registration_statuses"]
    result = _run(args, built["env"])
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        (total, distinct), = con.execute(
            "select count(*), count(distinct (school_code, id)) from raw_isams.registration_statuses"
        ).fetchall()
        (last_command, rows), = con.execute(
            "select command, rows_landed from ops.run_log where dataset = 'registration_statuses' "
            "order by finished_at desc limit 1"
        ).fetchall()
    assert total == distinct == before
    # one school x 5 school days x 2 sessions x every pupil on roll: at least 2 marks per pupil-day
    assert last_command == "backfill" and rows >= 5 * 2 * 20


def test_a_quarantined_mark_stays_in_raw_but_not_in_staging(built):
    from ingestion.validation import validate_landed

    warehouse = built["warehouse"]
    with duckdb.connect(str(warehouse)) as con:
        (school, mark_id), = con.execute(
            "select school_code, id from raw_isams.registration_statuses order by school_code, id limit 1"
        ).fetchall()
        con.execute("update raw_isams.registration_statuses set registered = '2' where school_code = ? and id = ?",
                    [school, mark_id])
    report = validate_landed(Warehouse.duckdb(warehouse), "e2e-bad-mark", today=TODAY)
    assert not report.ok
    # staging only: canonical is not rebuilt here, so its reconciliation with staging is left out
    result = _run(["build", "--select", "stg_isams__registration_statuses",
                   "--exclude", "monitoring_canonical_sessions_reconcile"], built["env"])
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        in_raw = con.execute("select count(*) from raw_isams.registration_statuses where school_code = ? and id = ?",
                             [school, mark_id]).fetchall()[0][0]
        in_staging = con.execute(
            "select count(*) from staging.stg_isams__registration_statuses "
            "where school_code = ? and registration_status_id = ?", [school, int(mark_id)]
        ).fetchall()[0][0]
        reason = con.execute("select reason from ops.quarantine where school_code = ? and record_id = ?",
                             [school, mark_id]).fetchall()
    assert (in_raw, in_staging) == (1, 0)
    assert reason and "registered" in reason[0][0]
    # the health table names the school: one record held back, state "attention", non-zero exit
    status = _run(["status", "--today", TODAY.isoformat()], built["env"])
    row = next(line for line in status.stdout.splitlines() if line.startswith(f"│ {school} "))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[4] == "1" and cells[-2] == "attention"  # then "why"
    assert status.returncode == 1


def test_run_log_reconciles_fetched_with_landed_and_a_stable_feed_reports_no_drift(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
        mismatched = con.execute(
            # a small dataset identical to its last load is fetched, recognised and not reloaded (rows_unchanged)
            "select school_code, dataset, rows_fetched, rows_landed, rows_unchanged from ops.run_log "
            "where command = 'nightly' and dataset not in ('*', 'schools') "
            "and rows_fetched <> rows_landed + rows_unchanged"
        ).fetchall()
        nightly_rows = con.execute("select count(*) from ops.run_log where command = 'nightly'").fetchall()[0][0]
        drift_events = con.execute("select count(*) from ops.schema_drift").fetchall()[0][0]
    assert nightly_rows > 0 and mismatched == []
    assert drift_events == 0  # the first run is the baseline; the second sees the same fields


def test_canonical_sessions_reconcile_with_staging_and_the_test_names_a_school_that_does_not(built, tmp_path):
    import shutil

    broken = tmp_path / "broken" / "schoolwh.duckdb"
    broken.parent.mkdir()
    shutil.copy2(built["warehouse"], broken)
    school = built["group"].schools[0].code
    with duckdb.connect(str(broken)) as con:
        con.execute("delete from canonical.attendance_sessions where school_code = ? "
                    "and session_date = (select max(session_date) from canonical.attendance_sessions)", [school])
    # (the real warehouse reconciles: both nightly builds run this test and exit 0)
    args = ["build", "--select", "monitoring_canonical_sessions_reconcile", "--warehouse", str(broken)]
    result = _run(args, built["env"])
    # it warns (one school's problem never blocks the group's marts) and names the school
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"School {school}: staging has" in result.stdout


def test_the_nightly_leaves_the_dbt_unit_tests_out_and_they_pass_on_duckdb_once(built):
    """Unit tests check the SQL on fixtures, not the night's data: no nightly runs them (test_build_args), and
    `make test` runs every one of them once per backend: here on DuckDB, in test_postgres on PostgreSQL."""
    warehouse = Warehouse.duckdb(built["warehouse"])
    run = _run(["unit-tests", "--today", TODAY.isoformat()], built["env"])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    outcomes = unit_test_outcomes(warehouse)
    assert len(outcomes) >= 40 and set(outcomes.values()) == {"pass"}, outcomes
    assert "attendance_sessions_scottish_openings" in outcomes and "persistent_absence_scottish_openings" in outcomes
