"""A bad night cannot poison history (issue 15 §1), on DuckDB and on PostgreSQL.

Warehouse A replays three nightly runs against the sandbox: a good night, a bad night on which one school's
iSAMS sends NCYear as ``"Year 10"`` instead of ``"10"`` for every pupil, and a good night again. Warehouse B
(the reference) sees only the two good nights. Checks:

- every night exits 0: the bad values are quarantined (a warning), never a build failure;
- after the bad night: ``ops.quarantine`` holds one nc_year row per pupil of that school and nothing for the
  others; ``monitoring_cast_failures`` names the school, dataset, record and column with the value; the
  school's pupils keep their last good year group in canonical (``stale_since`` set), none is unknown;
- after the third night: no current cast failure and nothing stale, and every mart of A equals B's, row for
  row: a warehouse that saw the bad night is the same as one that never did, with no manual step.

The nightly passes ``--today`` for each night; both warehouses' third builds run on the same day with the
same ``--today``, so they share one as-of date whichever way the nightly derives it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ingestion.app.demo import write_sandbox_config
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

NIGHTS = (date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20))  # Wed, Thu (bad), Fri
SEED, SCHOOLS, PUPILS = 11, 2, 20
BAD_SCHOOL = 0  # index in the group
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
SECRET = "test-secret-bad-night-0123456789"


def _group(today: date, bad: bool):
    group = generate_group(seed=SEED, n_schools=SCHOOLS, pupils_per_school=PUPILS, today=today)
    if bad:
        school = group.schools[BAD_SCHOOL]
        good_records = school.batch_records

        def bad_records(dataset: str) -> list[dict[str, Any]]:
            records = good_records(dataset)
            if dataset == "pupils":
                records = [{**r, "NCYear": f"Year {r['NCYear']}"} for r in records]
            return records

        school.batch_records = bad_records  # type: ignore[method-assign]
    return group


def _nightly(today: date, bad: bool, root: Path, env: dict[str, str], target: str) -> subprocess.CompletedProcess:
    group = _group(today, bad)
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / f"config-{today}")
        return subprocess.run(
            [str(SCHOOLWH), "nightly", "--target", target, "--schools", str(schools_file), "--today", today.isoformat()],
            # one pupil-key secret for every night (write_sandbox_config makes one per config folder)
            env={**env, **secrets, "SCHOOLWH_PUPIL_KEY_SECRET": SECRET}, capture_output=True, text=True,
            timeout=1200,
        )


class _Db:
    """Reads one warehouse (DuckDB file or PostgreSQL database) with plain SQL."""

    def __init__(self, target: str, env: dict[str, str]):
        self.target, self.env = target, env

    def rows(self, sql: str) -> list[tuple]:
        if self.target == "duckdb":
            import duckdb

            with duckdb.connect(self.env["SCHOOLWH_WAREHOUSE"], read_only=True) as con:
                return con.execute(sql).fetchall()
        import psycopg2

        con = psycopg2.connect(host=self.env["SCHOOLWH_PG_HOST"], port=self.env["SCHOOLWH_PG_PORT"],
                               user=self.env["SCHOOLWH_PG_USER"], dbname=self.env["SCHOOLWH_PG_DATABASE"],
                               password=self.env["DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD"])
        try:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            con.close()

    def marts(self) -> list[str]:
        return [t for (t,) in self.rows("select table_name from information_schema.tables "
                                        "where table_schema = 'marts' order by 1")]


def _replay(target: str, root: Path, base_env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"exit": {}, "after_bad": {}}
    dbs = {}
    for name, nights in (("a", (False, True, False)), ("b", (False, None, False))):
        env = {**base_env, "SCHOOLWH_WAREHOUSE": str(root / name / "schoolwh.duckdb")}
        if target == "postgres":
            env["SCHOOLWH_PG_DATABASE"] = f"bad_night_{name}"
        db = dbs[name] = _Db(target, env)
        for today, bad in zip(NIGHTS, nights):
            if bad is None:
                continue  # B never sees the bad night
            run = _nightly(today, bad, root / name, env, target)
            out["exit"][(name, today)] = (run.returncode, run.stdout[-4000:] + run.stderr[-3000:])
            if name == "a" and bad:
                out["after_bad"] = _after_bad(db)
    out["db"] = dbs
    return out


def _after_bad(db: _Db) -> dict[str, Any]:
    return {
        "quarantine": db.rows("select school_code, dataset, rule, count(*) from ops.quarantine "
                              "group by 1, 2, 3 order by 1, 2, 3"),
        "cast_failures": db.rows("select school_code, dataset, column_name, min(raw_value), max(raw_value), "
                                 "count(distinct record_id) from monitoring.monitoring_cast_failures "
                                 "where is_current_version group by 1, 2, 3"),
        "history": db.rows("select h.school_code, count(*), count(h.year_group), count(h.stale_since) "
                           "from canonical.enrolment_attribute_history h "
                           "join canonical.enrolments e on e.enrolment_key = h.enrolment_key "
                           "where h.effective_to_date is null and e.is_on_roll group by 1 order by 1"),
        "unknown_year_group": db.rows("select count(*) from marts.cohort_attendance "
                                      "where cohort_type = 'year_group' and cohort_value = '(unknown)' "
                                      "and academic_year = '2026/27'")[0][0],
    }


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def replay(request, tmp_path_factory):
    target = request.param
    root = tmp_path_factory.mktemp(f"bad_night_{target}")
    env = {**os.environ, "SCHOOLWH_PUPIL_KEY_SECRET": SECRET}
    env.pop("SCHOOLWH_TARGET", None)
    if target == "postgres":
        cluster = request.getfixturevalue("pg_cluster")
        env.update(cluster.env())
        for name in ("a", "b"):
            cluster.fresh_database(f"bad_night_{name}")
    return _replay(target, root, env)


def test_every_night_exits_zero(replay):
    for (name, today), (code, output) in replay["exit"].items():
        assert code == 0, f"warehouse {name}, night {today}: exit {code}\n{output}"


def test_the_bad_night_is_quarantined_for_that_school_only(replay):
    bad = f"{replay['after_bad']['quarantine']}"
    rows = replay["after_bad"]["quarantine"]
    assert rows, "nothing quarantined on the bad night"
    schools = {school for school, _, _, _ in rows}
    assert len(schools) == 1, bad
    assert all(dataset == "pupils" and "nc_year" in rule for _, dataset, rule, _ in rows), bad


def test_the_bad_values_are_listed_with_school_record_column_and_value(replay):
    (row,) = replay["after_bad"]["cast_failures"]
    school, dataset, column, low, high, records = row
    assert (dataset, column) == ("pupils", "nc_year")
    assert low.startswith("Year ") and high.startswith("Year ")
    quarantined = {s: n for s, _, _, n in replay["after_bad"]["quarantine"]}
    assert quarantined == {school: records}


def test_the_last_good_version_stands_and_says_it_is_stale(replay):
    history = {school: (n, known, stale) for school, n, known, stale in replay["after_bad"]["history"]}
    assert len(history) == SCHOOLS
    bad_school = replay["after_bad"]["cast_failures"][0][0]
    for school, (n, known, stale) in history.items():
        assert known == n, f"{school}: {n - known} pupils on roll lost their year group"
        assert stale == (n if school == bad_school else 0), (school, n, stale)
    assert replay["after_bad"]["unknown_year_group"] == 0


def test_after_a_good_night_nothing_is_stale_and_no_value_fails(replay):
    db = replay["db"]["a"]
    assert db.rows("select count(*) from monitoring.monitoring_cast_failures where is_current_version") == [(0,)]
    assert db.rows("select count(*) from canonical.enrolment_attribute_history where stale_since is not null") == [(0,)]


def test_marts_equal_a_warehouse_that_never_saw_the_bad_night(replay):
    a, b = replay["db"]["a"], replay["db"]["b"]
    marts = a.marts()
    assert marts == b.marts() and "fct_attendance_session" in marts
    for table in marts:
        rows_a = Counter(a.rows(f'select * from marts."{table}"'))
        rows_b = Counter(b.rows(f'select * from marts."{table}"'))
        assert sum(rows_a.values()) > 0, table
        assert rows_a == rows_b, f"marts.{table}: {sum((rows_a - rows_b).values())} rows only in A, " \
                                 f"{sum((rows_b - rows_a).values())} only in B"
