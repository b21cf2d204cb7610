"""The run log (``ops.run_log``) and the per-school health view behind ``schoolwh status``.

Every ingest writes one row per school and dataset (rows landed, outcome, error) plus one row per school
with dataset ``*`` (retries, duration, overall outcome), so a school's data manager can see when their data
last loaded and what failed, without reading logs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ingestion.ops import buildlog, quarantine
from ingestion.ops.drift import value_drift_per_school
from ingestion.core.warehouse import Warehouse

DDL = """
create schema if not exists ops;
create table if not exists ops.run_log (
    run_id varchar not null,
    command varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null,
    school_code varchar not null,
    dataset varchar not null,          -- '*' = the school as a whole
    rows_landed bigint,
    http_retries integer,
    duration_seconds double precision,
    outcome varchar not null,          -- 'ok' | 'failed' | 'aborted' (SIGTERM/SIGINT, or killed)
    error varchar                      -- redacted; names school and dataset
);
-- Added after the first release: records received from the API (after parsing, before dlt).
alter table ops.run_log add column if not exists rows_fetched bigint;
-- Added with unchanged-dataset skipping: records fetched that were exactly what the dataset last loaded with,
-- so not handed to dlt (ingestion/ops/fingerprints.py). rows_fetched = rows_landed + rows_unchanged for them.
alter table ops.run_log add column if not exists rows_unchanged bigint;
"""

COLUMNS = (
    "run_id, command, started_at, finished_at, school_code, dataset, rows_landed, http_retries, "
    "duration_seconds, outcome, error, rows_fetched, rows_unchanged"
)
_PLACEHOLDERS = ", ".join("?" * 13)


@dataclass
class SchoolRun:
    """What one school's ingest did in one run (filled by ``nightly.ingest_all``)."""

    school: str
    rows: dict[str, int] = field(default_factory=dict)  # rows landed per dataset
    fetched: dict[str, int] = field(default_factory=dict)  # records received from the API per dataset
    errors: dict[str, str] = field(default_factory=dict)  # dataset ('*' for the whole school) -> error
    # records fetched identical to the dataset's last load, so not reloaded (ingestion/ops/fingerprints.py)
    unchanged: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    duration_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def write(warehouse: Warehouse, run_id: str, command: str, started_at: datetime, runs: list[SchoolRun]) -> None:
    """Append this run's rows; the log is append-only, so history of every night is kept."""
    finished_at = datetime.now()
    rows = []
    for run in runs:
        for dataset in sorted(set(run.rows) | set(run.fetched) | set(run.unchanged) | (set(run.errors) - {"*"})):
            error = run.errors.get(dataset)
            rows.append((run_id, command, started_at, finished_at, run.school, dataset, run.rows.get(dataset, 0),
                         None, None, "failed" if error else "ok", error, run.fetched.get(dataset),
                         run.unchanged.get(dataset, 0)))
        rows.append((run_id, command, started_at, finished_at, run.school, "*", sum(run.rows.values()),
                     run.retries, round(run.duration_seconds, 3), "ok" if run.ok else "failed",
                     "; ".join(f"{k}: {v}" if k != "*" else v for k, v in run.errors.items()) or None,
                     sum(run.fetched.values()), sum(run.unchanged.values())))
    with warehouse.connect() as con:
        con.execute(DDL)
        if rows:
            # columns by name: a warehouse created before rows_fetched has it last
            con.executemany(f"insert into ops.run_log ({COLUMNS}) values ({_PLACEHOLDERS})", rows)


def write_aborted(
    warehouse: Warehouse, run_id: str, command: str, started_at: datetime, schools: list[str], reason: str
) -> None:
    """A run stopped by a signal, or killed and found by the next run: one row per school it was loading
    (dataset ``*``, outcome ``aborted``), so the log has every run and ``status`` does not call it a success."""
    finished_at = datetime.now()
    rows = [(run_id, command, started_at, finished_at, school, "*", None, None, None, "aborted", reason, None, None)
            for school in schools]
    with warehouse.connect() as con:
        con.execute(DDL)
        if rows:
            con.executemany(f"insert into ops.run_log ({COLUMNS}) values ({_PLACEHOLDERS})", rows)


STATUS_SQL = """
with school_runs as (
    select * from ops.run_log where dataset = '*'
),
last_run as (
    select school_code, max(finished_at) as last_run_at from school_runs group by 1
),
last_ok as (
    select school_code, max(finished_at) as last_success_at from school_runs where outcome = 'ok' group by 1
),
failing as (
    select r.school_code, string_agg(r.dataset, ', ' order by r.dataset) as failing_datasets
    from ops.run_log r join last_run l on l.school_code = r.school_code and l.last_run_at = r.finished_at
    where r.outcome = 'failed' and r.dataset <> '*'
    group by 1
),
aborted as (
    select distinct r.school_code, 'aborted' as last_outcome
    from school_runs r join last_run l on l.school_code = r.school_code and l.last_run_at = r.finished_at
    where r.outcome = 'aborted'
)
select l.school_code, l.last_run_at, o.last_success_at, coalesce(f.failing_datasets, a.last_outcome)
from last_run l left join last_ok o using (school_code) left join failing f using (school_code)
left join aborted a using (school_code)
order by 1
"""


@dataclass(frozen=True)
class SchoolHealth:
    school_code: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    failing_datasets: str | None
    latest_register_date: str | None
    quarantined_records: int = 0  # records of this school held out of staging, plus source lines never landed
    school_days_without_registers: int | None = None  # in term only (monitoring model); None = not built yet
    is_register_stale: bool | None = None  # the monitoring model's term-aware rule; None = not built yet
    failed_tests: tuple[str, ...] = ()  # error-severity tests of the last build whose stored failures name it
    warned_tests: tuple[str, ...] = ()  # warn-severity tests of the last build whose stored failures name it
    build_failed: tuple[str, ...] = ()  # failed nodes of the last build that name no school: every school
    built_since_load: bool = False  # a build finished after this school's last load
    drifting_fields: int = 0  # fields whose values stopped parsing as their usual type (ingestion/ops/drift.py)

    @property
    def failing_tests(self) -> int:
        return len(self.failed_tests) + len(self.warned_tests)

    @property
    def healthy(self) -> bool:
        return self.last_success_at is not None and self.last_success_at == self.last_run_at

    @property
    def problems(self) -> list[str]:
        """Why the school is not ``ok``, in words a data manager can act on (empty when it is)."""
        out = []
        if not self.healthy:
            if self.failing_datasets == "aborted":
                out.append("last run aborted (stopped or killed before it finished)")
            else:
                out.append("last load failed" + (f" ({self.failing_datasets})" if self.failing_datasets else ""))
        out += [f"build failed: {_short(n)}" for n in self.build_failed]
        out += [f"test failed: {_short(n)}" for n in self.failed_tests]
        if not self.built_since_load:
            out.append("not built since the last load")
        if self.is_register_stale:
            out.append(f"no registers for {self.school_days_without_registers} school days")
        if self.quarantined_records:
            out.append(f"{self.quarantined_records} record(s) quarantined")
        if self.drifting_fields:
            out.append(f"value drift: {self.drifting_fields} field(s) whose values stopped parsing")
        out += [f"warning: {_short(n)}" for n in self.warned_tests]
        return out

    @property
    def state(self) -> str:
        """'failing' (last load failed, the last build failed, or an error-severity test names the school),
        'attention' (not built since the last load, stale registers, quarantined records or a warning that
        names the school), 'ok'."""
        if not self.healthy or self.build_failed or self.failed_tests:
            return "failing"
        if (not self.built_since_load or self.is_register_stale or self.quarantined_records
                or self.warned_tests or self.drifting_fields):
            return "attention"
        return "ok"


def _short(node: str) -> str:
    """``test.schoolwh.assert_x.abc123`` -> ``assert_x``; ``model.schoolwh.m`` -> ``m``."""
    parts = node.split(".")
    if parts[0] == "test" and len(parts) >= 3:
        return parts[2]
    return parts[-1] if len(parts) > 1 else node


def _per_school(con, sql: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def health(warehouse: Warehouse) -> list[SchoolHealth]:
    """Per-school health from the run log, the quarantine, the monitoring models and the last dbt build
    (``ops.build_log``, written by every build: never dbt's run_results.json, which docs overwrite)."""
    with warehouse.connect(read_only=True) as con:
        if not con.table_exists("ops", "run_log"):
            return []
        rows = con.execute(STATUS_SQL).fetchall()
        latest: dict[str, tuple] = {}
        if con.table_exists("raw_isams", "registration_statuses"):
            latest = _per_school(con, "select school_code, max(substr(registration_date_time, 1, 10)) "
                                      "from raw_isams.registration_statuses group by 1")
        if con.table_exists("raw_seemis", "attendance"):  # SEEMiS schools: the latest opening with a mark
            latest.update(_per_school(con, "select school_code, max(attendance_date) from raw_seemis.attendance "
                                           "group by 1"))
        quarantined: dict[str, tuple] = {}
        if con.table_exists("ops", "quarantined_records"):
            quarantined = _per_school(con, "select school_code, count(*) from ops.quarantined_records group by 1")
        for code, lines in quarantine.unloaded_lines(con).items():  # SEEMiS lines refused at read time
            quarantined[code] = ((quarantined.get(code) or (0,))[0] + lines,)
        fresh: dict[str, tuple] = {}
        if con.table_exists("monitoring", "monitoring_school_freshness"):
            fresh = _per_school(con, "select school_code, max(school_days_without_registers), "
                                     "bool_or(is_register_stale) from monitoring.monitoring_school_freshness "
                                     "group by 1")
        build = buildlog.last_build(con)
        drifting = value_drift_per_school(con)
    return [
        SchoolHealth(
            code, run_at, ok_at, failing, (latest.get(code) or (None,))[0],
            quarantined_records=(quarantined.get(code) or (0,))[0],
            school_days_without_registers=(fresh.get(code) or (None, None))[0],
            is_register_stale=(fresh.get(code) or (None, None))[1],
            failed_tests=build.failed_by_school.get(code, ()) if build else (),
            warned_tests=build.warned_by_school.get(code, ()) if build else (),
            build_failed=build.failed_everywhere if build else (),
            built_since_load=build is not None and (run_at is None or build.finished_at >= run_at),
            drifting_fields=drifting.get(code, 0),
        )
        for code, run_at, ok_at, failing in rows
    ]
