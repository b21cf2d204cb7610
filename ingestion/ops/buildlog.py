"""The build log (``ops.build_log`` and ``ops.build_problems``): what each dbt build did, kept in the warehouse.

``schoolwh status`` and the end-of-run health table read the health of the last build from here, never from
``run_results.json`` (which ``dbt docs generate`` overwrites right after the build). One row per build in
``ops.build_log`` (run id, command, as-of date, finished time, outcome, node counts); one row per failed,
errored or warned node and school in ``ops.build_problems``. A problem is attributed to a school when the
test stored its failures with a ``school_code`` column (every school-level data test does); anything else
(a model that failed, a test that does not name a school) has ``school_code`` null and concerns every school.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ingestion.core.warehouse import Connection, Warehouse

DDL = """
create schema if not exists ops;
create table if not exists ops.build_log (
    run_id varchar not null,
    command varchar not null,          -- 'build', 'nightly', ...; '<command> (partial)' when --select/--exclude
    as_of_date date,
    finished_at timestamp not null,
    outcome varchar not null,          -- 'ok' | 'failed'
    nodes_ok integer,
    nodes_warned integer,
    nodes_failed integer,              -- error, fail, runtime error
    nodes_skipped integer
);
create table if not exists ops.build_problems (
    run_id varchar not null,
    school_code varchar,               -- null: not attributable to one school (concerns every school)
    node varchar not null,             -- e.g. test.schoolwh.assert_every_register_code_is_mapped
    status varchar not null,           -- 'error' | 'fail' | 'runtime error' | 'warn' | 'skipped' (node 'dbt')
    message varchar
);
"""

FAILED = ("error", "fail", "runtime error")
PARTIAL = "(partial)"  # the command of a build limited by --select/--exclude: it did not test every model


@dataclass(frozen=True)
class NodeProblem:
    """One node of a build that did not pass cleanly, with the schools its stored failures name."""

    node: str
    status: str
    message: str
    schools: tuple[str, ...] = ()


def schools_named(con: Connection, relation: str | None) -> tuple[str, ...]:
    """The school codes a test's stored failures name (empty when it stores none or has no school_code)."""
    if not relation:
        return ()
    try:
        if "school_code" not in con.relation_columns(relation):
            return ()
        rows = con.execute(f"select distinct school_code from {relation} where school_code is not null").fetchall()
    except Exception:  # a failure table that cannot be read must not break the build log
        return ()
    return tuple(sorted(str(r[0]) for r in rows))


def record(
    warehouse: Warehouse, run_id: str, command: str, as_of: date | None, returncode: int,
    statuses: dict[str, int], problems: list[NodeProblem],
) -> None:
    """Append one build: its outcome and every problem node (one row per school it names)."""
    outcome = "ok" if returncode == 0 else "failed"
    rows = []
    for p in problems:
        for school in p.schools or (None,):
            rows.append((run_id, school, p.node, p.status, p.message[:2000]))
    if statuses.get("skipped"):
        # a blocking failure skipped what depends on it: those marts were not refreshed, for every school
        rows.append((run_id, None, "dbt", "skipped",
                     f"{statuses['skipped']} node(s) skipped after a blocking failure: marts not refreshed"))
    if returncode != 0 and not any(p.status in FAILED for p in problems):
        # dbt stopped before running any node (compilation error, connection refused, killed): every school
        rows.append((run_id, None, "dbt", "error", f"dbt exited with code {returncode} before reporting results"))
    with warehouse.connect() as con:
        con.execute(DDL)
        con.execute(
            "insert into ops.build_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, command, as_of, datetime.now(), outcome, statuses.get("success", 0) + statuses.get("pass", 0),
             statuses.get("warn", 0), sum(statuses.get(s, 0) for s in FAILED), statuses.get("skipped", 0)],
        )
        if rows:
            con.executemany("insert into ops.build_problems values (?, ?, ?, ?, ?)", rows)


def last_build_clean(warehouse: Warehouse) -> bool:
    """True when the warehouse's most recent build was complete (not ``PARTIAL``) and recorded no failed or
    skipped node (warnings allowed): the condition for an incremental night to run the data tests of the
    largest models on the rows it rebuilt only (``macros/data_test_scope.sql``). False before the first build
    and after any failure or partial build, so the night after one tests every row again."""
    if not warehouse.exists():
        return False
    with warehouse.connect() as con:
        if not con.table_exists("ops", "build_log"):
            return False
        rows = con.execute(
            "select command, outcome, nodes_failed, nodes_skipped from ops.build_log order by finished_at desc limit 1"
        ).fetchall()
    if not rows:
        return False
    command, outcome, failed, skipped = rows[0]
    return not command.endswith(PARTIAL) and outcome == "ok" and not failed and not skipped


@dataclass(frozen=True)
class LastBuild:
    """The last build, as ``health`` needs it."""

    finished_at: datetime
    failed_everywhere: tuple[str, ...]  # failed nodes that name no school: they concern every school
    failed_by_school: dict[str, tuple[str, ...]]  # failed tests naming a school
    warned_by_school: dict[str, tuple[str, ...]]  # warned tests naming a school


def last_build(con: Connection) -> LastBuild | None:
    """The most recent build recorded in ``ops.build_log`` (None when the warehouse was never built)."""
    if not con.table_exists("ops", "build_log"):
        return None
    rows = con.execute(
        "select run_id, finished_at from ops.build_log order by finished_at desc limit 1"
    ).fetchall()
    if not rows:
        return None
    run_id, finished_at = rows[0]
    problems = con.execute(
        "select school_code, node, status from ops.build_problems where run_id = ? order by node", [run_id]
    ).fetchall()
    everywhere = tuple(sorted({n for s, n, st in problems if s is None and (st in FAILED or st == "skipped")}))
    failed: dict[str, set[str]] = {}
    warned: dict[str, set[str]] = {}
    for school, node, status in problems:
        if school is None:
            continue
        (failed if status in FAILED else warned).setdefault(school, set()).add(node)
    return LastBuild(
        finished_at, everywhere,
        {k: tuple(sorted(v)) for k, v in failed.items()}, {k: tuple(sorted(v)) for k, v in warned.items()},
    )
