"""Register codes the way real schools keep them, end to end, on DuckDB and PostgreSQL.

A two-school sandbox group: the first school keeps the demo's codes; the second keeps its own letters, which
collide with DfE letters that mean something else (its present code ``P`` is plain presence with no
government code, its late code ``LT`` carries governmentCode ``L``, its ``L`` is leave of absence, its ``D`` a
doctor's appointment), sends ``Registered="1"`` on absent marks, and sends its code ``O`` with no government
code (so it maps to nothing). The real CLI ingests and builds it; then:
- the nightly exits 0: the unmapped code warns (naming the school, the code, its sessions and dates) and
  blocks nothing;
- both schools' session counts (possible, attended, authorised, unauthorised, late, unmapped) equal what an
  independent reading of the sandbox's own code lists gives, so the first school is untouched and the second
  is read by its lists and government codes, never by its letters or its Registered flag;
- the monitoring models list the unmapped and the assumed-present codes and count the Registered
  disagreements; ``status`` shows the second school as ``attention`` and the first as ``ok``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.app.demo import write_sandbox_config
from ingestion.sandbox.codes import CodeStyle
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2026, 11, 20)
FIRST_DAY = date(2025, 9, 1)  # the first run backfills from 1 Sep of the previous academic year
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
REPO = Path(__file__).resolve().parents[2]
OWN_STYLE = CodeStyle(own_letters=True, absent_registered="1", unmapped=("O",))
TEST_PUPIL_KEY_SECRET = "0123456789abcdef" * 4


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCHOOLWH), *args], env=env, capture_output=True, text=True, timeout=1200)


def _dfe_categories() -> dict[str, dict[str, str]]:
    with (REPO / "seeds" / "dfe_attendance_codes.csv").open() as f:
        return {r["dfe_code"]: r for r in csv.DictReader(f) if r["code_set"] == "2024"}


def expected_counts(school) -> dict[str, object]:
    """Session counts read straight from the sandbox's marks and the school's own REST code lists."""
    present = {str(c["id"]): c for c in school.present_codes()}
    absence = {str(c["id"]): c for c in school.absence_codes()}
    dfe = _dfe_categories()
    counts: Counter = Counter()
    unmapped_dates: list[date] = []
    for mark in school.registration_statuses(FIRST_DAY, TODAY + timedelta(days=1)):
        am = mark["RegistrationDateTime"].endswith("T08:40:00")
        if "Code" not in mark:
            if mark["Registered"] != "1":
                continue  # register not taken
            code = "/" if am else "\\"
        elif mark["Code"] in present:  # the list decides, never Registered and never the letter
            code = present[mark["Code"]]["governmentCode"] or ("/" if am else "\\")
        else:
            code = absence[mark["Code"]]["governmentCode"]
        counts["sessions"] += 1
        if code is None:
            counts["unmapped"] += 1
            unmapped_dates.append(date.fromisoformat(mark["RegistrationDateTime"][:10]))
            continue
        row = dfe[code]
        counts[f"dfe_{code}"] += 1
        if row["is_possible_session"] == "true":
            counts["possible"] += 1
        if row["is_attendance"] == "true":
            counts["attended"] += 1
        counts[row["category"]] += 1
        if row["counts_as_late"] == "true":
            counts["late"] += 1
    return {"counts": counts, "unmapped_dates": unmapped_dates}


def _query(built: dict, sql: str) -> list[tuple]:
    if built["backend"] == "duckdb":
        with duckdb.connect(str(built["warehouse"]), read_only=True) as con:
            return con.execute(sql).fetchall()
    con = built["cluster"].admin_connect(built["database"])
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def built(request, tmp_path_factory):
    backend = request.param
    root = tmp_path_factory.mktemp(f"codes_{backend}")
    group = generate_group(seed=7, n_schools=2, pupils_per_school=14, first_academic_year=2026, today=TODAY,
                           code_styles={1: OWN_STYLE})
    warehouse = root / "wh" / "schoolwh.duckdb"
    extra: dict[str, str] = {}
    target: list[str] = []
    cluster = database = None
    if backend == "postgres":
        cluster = request.getfixturevalue("pg_cluster")
        database = "schoolwh_codes"  # its own database: the cluster is shared with other modules
        extra = cluster.fresh_database(database)
        target = ["--target", backend]
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config")
        env = {**os.environ, **secrets, **extra, "SCHOOLWH_WAREHOUSE": str(warehouse), "COLUMNS": "300"}
        env.setdefault("SCHOOLWH_PUPIL_KEY_SECRET", TEST_PUPIL_KEY_SECRET)
        env.pop("SCHOOLWH_TARGET", None)
        nightly = _run(["nightly", *target, "--schools", str(schools_file), "--today", TODAY.isoformat()], env)
        # status reads the nightly's own build (ops.build_log), although docs were generated after it
        status = _run(["status", *target, "--today", TODAY.isoformat()], env)
    yield {"backend": backend, "group": group, "warehouse": warehouse, "cluster": cluster, "database": database,
           "nightly": nightly, "status": status}


def test_sandbox_school_keeps_its_own_letters():
    group = generate_group(seed=7, n_schools=2, pupils_per_school=14, first_academic_year=2026, today=TODAY,
                           code_styles={1: OWN_STYLE})
    default, own = group.schools
    own_present = {c["code"]: c["governmentCode"] for c in own.present_codes()}
    assert own_present == {"P": None, "LT": "L", "EX": None}
    assert {c["code"]: c["governmentCode"] for c in own.absence_codes()}["L"] == "C"
    assert all(c["governmentCode"] == c["code"] for c in default.present_codes())
    marks = list(own.registration_statuses(date(2026, 10, 1), date(2026, 11, 1)))
    absence_ids = {str(c["id"]) for c in own.absence_codes()}
    absent = [m for m in marks if m.get("Code") in absence_ids]
    assert absent and all(m["Registered"] == "1" for m in absent)
    assert not [m for m in marks if "Code" not in m and m["Registered"] == "1"]  # presence is sent as "P"
    counts = expected_counts(own)["counts"]
    assert counts["unmapped"] > 0 and counts["dfe_L"] > 0 and counts["dfe_P"] < counts["present"] / 10


def test_nightly_succeeds_and_the_unmapped_code_only_warns(built):
    run = built["nightly"]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    own = built["group"].schools[1]
    exp = expected_counts(own)
    dates = exp["unmapped_dates"]
    o_code = next(c for c in own.absence_codes() if c["code"] == "O")
    sentence = (f"School {own.code}: register code 'O' (absence list, id {o_code['id']}) maps to no DfE code: "
                f"{exp['counts']['unmapped']} sessions from {min(dates)} to {max(dates)} are left out of every rate")
    assert sentence in " ".join(run.stdout.split())


@pytest.mark.parametrize("index", [0, 1])
def test_each_school_counts_sessions_by_its_own_code_lists(built, index):
    school = built["group"].schools[index]
    c = expected_counts(school)["counts"]
    (fact,) = _query(built, f"""
        select count(*),
               sum(case when is_possible_session then 1 else 0 end),
               sum(case when is_attendance then 1 else 0 end),
               sum(case when category = 'authorised' then 1 else 0 end),
               sum(case when category = 'unauthorised' then 1 else 0 end),
               sum(case when counts_as_late then 1 else 0 end),
               sum(case when category = 'unmapped' then 1 else 0 end),
               sum(case when dfe_code = 'P' then 1 else 0 end),
               sum(case when dfe_code = 'L' then 1 else 0 end)
        from marts.fct_attendance_session where school_code = '{school.code}'""")
    assert tuple(int(v or 0) for v in fact) == (
        c["sessions"], c["possible"], c["attended"], c["authorised"], c["unauthorised"], c["late"],
        c["unmapped"], c["dfe_P"], c["dfe_L"])
    (mart,) = _query(built, f"""
        select sum(possible_sessions), sum(attended_sessions), sum(authorised_absence_sessions),
               sum(unauthorised_absence_sessions), sum(late_sessions)
        from marts.persistent_absence where school_code = '{school.code}'""")
    assert tuple(int(v) for v in mart) == (c["possible"], c["attended"], c["authorised"], c["unauthorised"],
                                           c["late"])


def test_monitoring_lists_unmapped_and_assumed_codes_and_registered_disagreements(built):
    default, own = built["group"].schools
    exp = expected_counts(own)
    rows = _query(built, f"""
        select mis_code, mapping_source, unmapped_sessions, first_unmapped_date, last_unmapped_date
        from monitoring.monitoring_register_codes
        where school_code = '{own.code}' and (has_unmapped_sessions or is_assumed_present) order by 1""")
    assert [(r[0], r[1]) for r in rows] == [("O", "none"), ("P", "assumed_present")]
    o = rows[0]
    assert (int(o[2]), str(o[3]), str(o[4])) == (
        exp["counts"]["unmapped"], str(min(exp["unmapped_dates"])), str(max(exp["unmapped_dates"])))
    assert _query(built, f"""select count(*) from monitoring.monitoring_register_codes
                             where school_code = '{default.code}' and (has_unmapped_sessions or is_assumed_present)
                          """) == [(0,)]
    absent_coded = sum(1 for m in own.registration_statuses(FIRST_DAY, TODAY + timedelta(days=1))
                       if m.get("Code") in {str(c["id"]) for c in own.absence_codes()})
    lists = dict(_query(built, "select school_code, registered_flag_disagreements "
                               "from monitoring.monitoring_register_code_lists"))
    assert {k: int(v) for k, v in lists.items()} == {default.code: 0, own.code: absent_coded}


def test_status_shows_only_the_school_with_the_unmapped_code_as_attention(built):
    default, own = built["group"].schools
    states = {}
    for line in built["status"].stdout.splitlines():
        for school in (default, own):
            if line.startswith(f"│ {school.code} "):
                states[school.code] = [c.strip() for c in line.strip("│").split("│")][-2]  # then "why"
    assert states == {default.code: "ok", own.code: "attention"}, built["status"].stdout
    assert "warning:" in next(line for line in built["status"].stdout.splitlines()
                                        if line.startswith(f"│ {own.code} "))
    assert built["status"].returncode == 1
