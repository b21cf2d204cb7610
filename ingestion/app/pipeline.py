"""The nightly job: ingest every configured school, build and test the warehouse, generate the docs.

Order matters because DuckDB has one writer: dlt loads (school by school), then dbt builds, then dbt
writes the docs. One school failing never stops the others; the job still exits non-zero and says which
school and dataset failed. A lock file stops two runs on the same warehouse from overlapping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ingestion.ops import buildlog, drift, fingerprints, quarantine, reloads, runlog

from ingestion.app import runlock, serving, views
from ingestion.core import shapes
from ingestion.core.ingest import RAW_SCHEMAS
from ingestion.core.config import Settings, default_register_start
from ingestion.app.dbt_runner import DbtResult, artifacts_dir, run_dbt
from ingestion.core.redact import install_log_redaction, register_secret, safe_url
from ingestion.core.warehouse import Warehouse

EXIT_OK = 0
EXIT_INGEST_FAILED = 1
EXIT_BUILD_FAILED = 2
EXIT_CONFIG = 3
EXIT_LOCKED = 4


EXIT_ABORTED_SIGINT = 128 + 2  # Ctrl-C: see ingestion/app/runlock.py
EXIT_ABORTED_SIGTERM = 128 + 15


def warehouse_lock(
    warehouse: Warehouse, *, command: str = "", schools: list[str] | tuple[str, ...] = (),
    console: Console | None = None,
) -> runlock.RunLock:
    """Hold the warehouse for the whole run (``ingestion/app/runlock.py``): refuses a second run (exit 4), stops
    what a killed run left behind, and makes sure no child (dbt) outlives this run."""
    notify = (lambda m: console.print(f"[yellow]![/] {escape(m)}")) if console is not None else None
    return runlock.RunLock(warehouse, command=command, schools=schools, notify=notify)


def pipelines_dir(warehouse: Warehouse) -> Path:
    """dlt's local state lives beside its warehouse, so each warehouse has its own incremental state."""
    return warehouse.local_dir / ".dlt_pipelines"


@dataclass
class IngestOutcome:
    run_id: str
    started_at: datetime
    runs: list[runlog.SchoolRun] = field(default_factory=list)  # one per school attempted
    drift: drift.DriftReport | None = None
    errors: list[str] = field(default_factory=list)  # one line per failed school/dataset

    @property
    def ok(self) -> bool:
        return not self.errors


def _ingest_isams(school, warehouse, pipelines, **options):
    from ingestion.isams.source import ingest_school  # dlt import is slow; only when ingesting

    return ingest_school(school, warehouse, pipelines, **options)


def _ingest_seemis(school, warehouse, pipelines, **options):
    from ingestion.seemis.source import ingest_school  # dlt import is slow; only when ingesting

    return ingest_school(school, warehouse, pipelines, **options)


# a school's source (``SchoolConfig.source``) -> how it is loaded; both return a SchoolIngestResult
INGESTERS: dict[str, Callable] = {"isams": _ingest_isams, "seemis": _ingest_seemis}


def _ingester(source: str) -> Callable:
    return INGESTERS[source]


def _record_quarantine(warehouse: Warehouse, run_id: str, school_code: str, rows: list[tuple]) -> None:
    """Rows a source refused to land (a SEEMiS line that does not parse) into ops.quarantine."""
    if not rows:
        return
    now = datetime.now()
    with warehouse.connect() as con:
        quarantine.ensure(con)
        quarantine.record(con, [(run_id, school_code, dataset, record_id, rule, reason, load_id, now)
                                for dataset, record_id, rule, reason, load_id in rows])


def ingest_all(
    settings: Settings,
    warehouse: Warehouse,
    console: Console,
    *,
    only: set[str] | None = None,
    datasets: list[str] | None = None,
    backfill: tuple[date, date] | None = None,
    command: str = "ingest",
    transport=None,
    sleep: Callable[[float], None] = time.sleep,
    run_id: str | None = None,
) -> IngestOutcome:
    """Load every configured school (or ``only`` those codes) into ``warehouse``, as of its as-of date; a
    failing school never stops the others.

    Writes one run-log row per school and dataset to ``ops.run_log``.
    """
    install_log_redaction()
    today = warehouse.require_as_of()
    if warehouse.pg is not None:
        register_secret(warehouse.pg.password)
    outcome = IngestOutcome(run_id=run_id or runlog.new_run_id(), started_at=datetime.now())
    observed: list[shapes.DatasetFields] = []
    register_start = settings.register_start or default_register_start(today)
    for school in settings.schools:
        if only and school.code.lower() not in only:
            continue
        for secret in school.secrets():
            register_secret(secret)
        run = runlog.SchoolRun(school.code)
        outcome.runs.append(run)
        started, removed, quarantined = time.monotonic(), 0, 0
        where = escape(str(school.folder) if school.source == "seemis" else safe_url(school.base_url))
        with console.status(f"[bold]Ingesting {school.code}[/] ({school.name}) from {where} ..."):
            try:
                # an explicit --datasets or --backfill reloads what it names, changed or not
                unchanged_since = {} if datasets or backfill else fingerprints.known(
                    warehouse, school.source, school.code, RAW_SCHEMAS[school.source])
                result = _ingester(school.source)(
                    school, warehouse, pipelines_dir(warehouse),
                    register_start=register_start, today=today,
                    window_days=settings.window_days, lookback_days=settings.lookback_days,
                    datasets=datasets, backfill=backfill, transport=transport, sleep=sleep,
                    unchanged_since=unchanged_since,
                )
                # the load succeeded: what it landed is now what the warehouse holds
                fingerprints.record(warehouse, school.source, school.code, outcome.run_id, result.fingerprints)
            except BaseException as exc:  # a destination/load failure: name the school, keep going ...
                aborted = runlock.aborted_by(exc)  # ... unless SIGTERM/Ctrl-C stopped the run (or dlt in it)
                if aborted is not None:
                    runlog.write(warehouse, outcome.run_id, command, outcome.started_at, outcome.runs[:-1])  # schools done
                    raise aborted from None
                if not isinstance(exc, Exception):
                    raise
                run.errors["*"] = f"school {school.code}: load failed: {exc}"
            else:
                run.rows, run.fetched, run.retries = dict(result.rows), dict(result.fetched), result.retries
                run.unchanged = dict(result.unchanged)
                removed, quarantined = result.removed, result.quarantined
                _record_quarantine(warehouse, outcome.run_id, school.code, result.quarantine_rows)
                # dbt rebuilds at least from the earliest date re-read here (ingestion/ops/reloads.py)
                reloads.record(warehouse, outcome.run_id, school.code, result.reread_windows)
                observed.extend(shapes.observations_from(result))
                for note in result.notes:  # e.g. a SEEMiS file line quarantined: school, dataset, file, line
                    console.print(f"[yellow]![/] {escape(note)}", highlight=False)
                for failure in result.failures:
                    previous = run.errors.get(failure.dataset)
                    run.errors[failure.dataset] = f"{previous}; {failure.error}" if previous else failure.error
        run.duration_seconds = time.monotonic() - started
        outcome.errors.extend(run.errors.values())
        mark = "[green]✓[/]" if run.ok else "[red]✗[/]"
        console.print(
            f"{mark} {school.code}: {sum(run.rows.values()):,} rows in {len(run.rows)} tables, "
            f"{run.retries} retries, {run.duration_seconds:.1f}s"
            + (f", {len(run.unchanged)} unchanged dataset(s) not reloaded" if run.unchanged else "")
            + (f", {removed:,} register mark(s) no longer in iSAMS removed" if removed else "")
            + (f", [yellow]{quarantined:,} row(s) quarantined[/]" if quarantined else "")
            + (f", [red]{len(run.errors)} dataset(s) failed[/]" if run.errors else "")
        )
    runlog.write(warehouse, outcome.run_id, command, outcome.started_at, outcome.runs)
    # a changed API is reported, never fatal: new fields land, missing ones land as null (ingestion/ops/drift.py)
    outcome.drift = drift.record_drift(warehouse, outcome.run_id, observed)
    console.print(views.drift_table(outcome.drift) if not outcome.drift.ok else f"[green]✓[/] {outcome.drift.summary()}")
    return outcome


def validate(warehouse: Warehouse, outcome: IngestOutcome, console: Console, since: datetime | None = None):
    """Great Expectations on this run's loads (and, with ``since``, on earlier loads: those of a run that was
    killed before it validated them); failing records go to ops.quarantine, staging skips them."""
    from ingestion.validation import load_ids_since, validate_landed  # GX import is slow

    with console.status("Validating landed data (Great Expectations) ..."):
        report = validate_landed(
            warehouse, outcome.run_id, load_ids=load_ids_since(warehouse, since or outcome.started_at),
            today=warehouse.require_as_of(),
        )
    console.print(
        f"{'[green]✓[/]' if report.ok else '[yellow]![/]'} validated {report.rows_checked:,} landed rows: "
        f"{report.rows_failed:,} quarantined · data docs {report.docs_index}"
    )
    if not report.ok:
        console.print(report.table())
    return report






# dbt unit tests check the project's SQL against hand-made fixtures, not the night's data: they belong in CI
# (`make test` runs them once per backend), not in every production build (dbt's own advice). A build leaves
# them out unless asked (``unit_tests``) or selected explicitly (``--select test_type:unit``).
UNIT_TESTS = "test_type:unit"


def data_tests_scope(warehouse: Warehouse, *, full_refresh: bool = False) -> str:
    """``touched`` (the data tests of the register-sized models read the rows this build rebuilds) on an
    incremental build after a clean build, else ``all``: see ``macros/data_test_scope.sql``."""
    return "touched" if not full_refresh and buildlog.last_build_clean(warehouse) else "all"


def build(
    warehouse: Warehouse, console: Console, *, run_id: str | None = None,
    command: str = "build", select: list[str] | None = None,
    exclude: list[str] | None = None, full_refresh: bool = False, unit_tests: bool = False,
) -> DbtResult:
    """``dbt build`` (seeds, models, tests) as of the warehouse's as-of date, with a progress line; prints only problems and the
    tally, and records the outcome in ``ops.build_log`` (what ``status`` reads).

    ``full_refresh`` rebuilds the incremental attendance models from all history (weekly, and after code
    mapping edits or back-dated corrections: see the README). Data tests always run; dbt unit tests only with
    ``unit_tests`` or an explicit ``select`` (see UNIT_TESTS). On an incremental build after a clean one
    (``buildlog.last_build_clean``) the data tests of the register-sized models read only the look-back window
    the build rebuilt (var ``data_tests_scope``, ``macros/data_test_scope.sql``); otherwise every row.
    """
    partial = bool(select or exclude)  # recorded as such: the next build then tests every row again
    exclude = list(exclude or [])
    if not unit_tests and not select:
        exclude.append(UNIT_TESTS)
    args = (["build"] + (["--select", *select] if select else []) + (["--exclude", *exclude] if exclude else [])
            + (["--full-refresh"] if full_refresh else []))
    scope = data_tests_scope(warehouse, full_refresh=full_refresh)
    with console.status("dbt build ...") as status:

        def echo(line: str) -> None:
            if " of " in line and ("START" in line or "PASS" in line or "OK created" in line):
                status.update(f"dbt build: {line.split(maxsplit=1)[-1][:100]}")
            elif any(k in line for k in ("ERROR", "FAIL", "WARN", "Done.")):
                console.print(line, markup=False, highlight=False)

        result = run_dbt(args, warehouse, echo=echo, variables={"data_tests_scope": scope})
    buildlog.record(
        warehouse, run_id or runlog.new_run_id(), f"{command} {buildlog.PARTIAL}" if partial else command,
        warehouse.as_of, result.returncode,
        dict(result.statuses), result.problems,
    )
    return result


def unit_tests(warehouse: Warehouse, console: Console) -> DbtResult:
    """The dbt unit tests alone (``dbt test --select test_type:unit``: ``dbt build`` runs no unit test without
    its model), on the warehouse's relations; CI runs them, nightlies do not (see UNIT_TESTS)."""
    with console.status("dbt unit tests ..."):
        result = run_dbt(["test", "--select", UNIT_TESTS], warehouse)
    return result


def docs(warehouse: Warehouse, console: Console) -> Path | None:
    """Generate the dbt docs (as of the warehouse's as-of date) as one static HTML file; returns its path."""
    result = run_dbt(["docs", "generate", "--static"], warehouse)
    path = artifacts_dir(warehouse) / "target" / "static_index.html"
    if not result.ok or not path.exists():
        console.print("[red]dbt docs generate failed[/]")
        return None
    return path


def publish_serving(warehouse: Warehouse, console: Console) -> serving.Published | None:
    """Publish the analysts' serving file (``ingestion/app/serving.py``); None, with the reason printed, when it
    failed (the previous file stays in place)."""
    try:
        with console.status("Publishing the serving file for analysts ..."):
            return serving.publish(warehouse)
    except Exception as exc:  # a stop (Ctrl-C, SIGTERM) is not an Exception and goes on up
        console.print(f"[red]✗ serving file not published[/]: {escape(str(exc))}; the previous one stays in place")
        return None


def _serving_summary(warehouse: Warehouse, built: DbtResult, served: serving.Published | None) -> str | None:
    if warehouse.kind != "duckdb":
        return None  # BI tools read PostgreSQL as bi_reader, which sees marts only
    if served is not None:
        return f"Serving:   {served.path} ({len(served.tables)} marts tables for analysts, storage {serving.STORAGE_VERSION})"
    when = serving.published_at(warehouse)
    kept = f"analysts keep the file published {when:%Y-%m-%d %H:%M}" if when else "there is no serving file yet"
    why = "dbt build failed" if not built.ok else "publishing failed"
    return f"Serving:   [yellow]not published ({why})[/]: {kept}"


def run_nightly(
    settings: Settings, warehouse: Warehouse, console: Console, *, transport=None, full_refresh: bool = False,
) -> int:
    """Ingest, build, document ``warehouse`` as of its as-of date; return the process exit code."""
    today = warehouse.require_as_of()
    lock = warehouse_lock(warehouse, command="nightly", schools=[s.code for s in settings.schools], console=console)
    with lock:
        console.rule(f"schoolwh nightly · {len(settings.schools)} school(s) · {today.isoformat()} · {warehouse.kind}")
        lock.set_phase("ingestion")
        outcome = ingest_all(settings, warehouse, console, command="nightly", transport=transport, run_id=lock.run_id)
        if outcome.runs:
            console.print(views.ingest_table(outcome))
        lock.set_phase("validation")
        killed = lock.stale.record.started_at if lock.stale is not None and lock.stale.record.started_at else None
        report = validate(warehouse, outcome, console, since=datetime.fromisoformat(killed) if killed else None)
        console.rule("dbt build")
        lock.set_phase("build")
        built = build(warehouse, console, run_id=outcome.run_id, command="nightly", full_refresh=full_refresh)
        lock.set_phase("docs")
        docs_path = docs(warehouse, console) if built.ok or built.statuses else None
        # only the marts of a successful build reach analysts: after a failed one they keep yesterday's file
        served = None
        if built.ok and warehouse.kind == "duckdb":
            lock.set_phase("publish")
            served = publish_serving(warehouse, console)
    console.rule("Summary")
    console.print(f"Warehouse: {warehouse.describe()}")
    if docs_path:
        console.print(f"Docs:      {docs_path}")
    if (serving_line := _serving_summary(warehouse, built, served)) is not None:
        console.print(serving_line)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(built.statuses.items())) or "no results"
    console.print(f"dbt build: {statuses}")
    views.print_dbt_problems(console, built)
    for line in outcome.errors:
        console.print(f"[red]  ✗ {escape(line)}[/]", highlight=False)
    if not report.ok:
        console.print(
            f"[yellow]! {report.rows_failed:,} record(s) quarantined[/] (table above; reasons in ops.quarantine). "
            "They stay in raw_isams and out of staging until corrected in iSAMS; the next run picks them up."
        )
    if outcome.drift and not outcome.drift.ok:
        console.print(f"[yellow]! schema drift:[/] {outcome.drift.summary()} (details in ops.schema_drift)")
    console.print(views.status_table(warehouse))
    if not outcome.ok:
        console.print(f"[bold red]FAILED[/]: {len(outcome.errors)} ingestion problem(s); data already loaded is kept.")
        return EXIT_INGEST_FAILED
    if not built.ok:
        console.print("[bold red]FAILED[/]: dbt build reported errors (see above).")
        return EXIT_BUILD_FAILED
    if warehouse.kind == "duckdb" and served is None:
        console.print("[bold red]FAILED[/]: the serving file for analysts was not published (see above).")
        return EXIT_BUILD_FAILED
    console.print("[bold green]OK[/]: every school ingested, warehouse built and tested.")
    return EXIT_OK
