"""The nightly job: ingest every configured school, build and test the warehouse, generate the docs.

Order matters because DuckDB has one writer: dlt loads (school by school), then dbt builds, then dbt
writes the docs. One school failing never stops the others; the job still exits non-zero and says which
school and dataset failed. A lock file stops two runs on the same warehouse from overlapping.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ingestion import drift, runlog
from ingestion.config import Settings, default_register_start
from ingestion.dbt_runner import DbtResult, artifacts_dir, resolve_warehouse, run_dbt
from ingestion.redact import install_log_redaction, register_secret
from ingestion.warehouse import Warehouse, as_warehouse

EXIT_OK = 0
EXIT_INGEST_FAILED = 1
EXIT_BUILD_FAILED = 2
EXIT_CONFIG = 3
EXIT_LOCKED = 4


class WarehouseLocked(RuntimeError):
    pass


@contextmanager
def warehouse_lock(warehouse: Warehouse | Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock beside the warehouse (its local state) for the whole run."""
    lock_path = as_warehouse(warehouse).lock_path
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WarehouseLocked(
                f"another schoolwh run is using {as_warehouse(warehouse).describe()} (lock {lock_path}); "
                "wait for it to finish"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pipelines_dir(warehouse: Warehouse | Path) -> Path:
    """dlt's local state lives beside its warehouse, so each warehouse has its own incremental state."""
    return as_warehouse(warehouse).local_dir / ".dlt_pipelines"


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


def ingest_all(
    settings: Settings,
    today: date,
    console: Console,
    *,
    only: set[str] | None = None,
    datasets: list[str] | None = None,
    backfill: tuple[date, date] | None = None,
    command: str = "ingest",
    transport=None,
    sleep: Callable[[float], None] = time.sleep,
    warehouse: Warehouse | None = None,
) -> IngestOutcome:
    """Load every configured school (or ``only`` those codes) into ``warehouse`` (default: the DuckDB file
    ``settings.warehouse``); a failing school never stops the others.

    Writes one run-log row per school and dataset to ``ops.run_log``.
    """
    from ingestion.isams.source import ingest_school  # dlt import is slow; only when ingesting

    install_log_redaction()
    wh = warehouse or as_warehouse(settings.warehouse)
    if wh.pg is not None:
        register_secret(wh.pg.password)
    outcome = IngestOutcome(run_id=runlog.new_run_id(), started_at=datetime.now())
    observed: list[drift.DatasetFields] = []
    register_start = settings.register_start or default_register_start(today)
    for school in settings.schools:
        if only and school.code.lower() not in only:
            continue
        for secret in school.secrets():
            register_secret(secret)
        run = runlog.SchoolRun(school.code)
        outcome.runs.append(run)
        started = time.monotonic()
        with console.status(f"[bold]Ingesting {school.code}[/] ({school.name}) from {school.base_url} ..."):
            try:
                result = ingest_school(
                    school, wh, pipelines_dir(wh),
                    register_start=register_start, today=today,
                    window_days=settings.window_days, lookback_days=settings.lookback_days,
                    datasets=datasets, backfill=backfill, transport=transport, sleep=sleep,
                )
            except Exception as exc:  # a destination/load failure: name the school, keep going
                run.errors["*"] = f"school {school.code}: load failed: {exc}"
            else:
                run.rows, run.fetched, run.retries = dict(result.rows), dict(result.fetched), result.retries
                observed.extend(drift.observations_from(result))
                for failure in result.failures:
                    previous = run.errors.get(failure.dataset)
                    run.errors[failure.dataset] = f"{previous}; {failure.error}" if previous else failure.error
        run.duration_seconds = time.monotonic() - started
        outcome.errors.extend(run.errors.values())
        mark = "[green]✓[/]" if run.ok else "[red]✗[/]"
        console.print(
            f"{mark} {school.code}: {sum(run.rows.values()):,} rows in {len(run.rows)} tables, "
            f"{run.retries} retries, {run.duration_seconds:.1f}s"
            + (f", [red]{len(run.errors)} dataset(s) failed[/]" if run.errors else "")
        )
    runlog.write(wh, outcome.run_id, command, outcome.started_at, outcome.runs)
    # a changed API is reported, never fatal: new fields land, missing ones land as null (ingestion/drift.py)
    outcome.drift = drift.record_drift(wh, outcome.run_id, observed)
    console.print(outcome.drift.table() if not outcome.drift.ok else f"[green]✓[/] {outcome.drift.summary()}")
    return outcome


def validate(warehouse: Warehouse | Path, outcome: IngestOutcome, today: date, console: Console):
    """Great Expectations on this run's loads; failing records go to ops.quarantine, staging skips them."""
    from ingestion.validation import load_ids_since, validate_landed  # GX import is slow

    with console.status("Validating landed data (Great Expectations) ..."):
        report = validate_landed(
            warehouse, outcome.run_id, load_ids=load_ids_since(warehouse, outcome.started_at), today=today
        )
    console.print(
        f"{'[green]✓[/]' if report.ok else '[yellow]![/]'} validated {report.rows_checked:,} landed rows: "
        f"{report.rows_failed:,} quarantined · data docs {report.docs_index}"
    )
    if not report.ok:
        console.print(report.table())
    return report


def ingest_table(outcome: IngestOutcome) -> Table:
    """Rows landed per school and dataset in this run."""
    tables = sorted({t for r in outcome.runs for t in r.rows} | {t for r in outcome.runs for t in r.errors if t != "*"})
    grid = Table(title="Rows landed this run (raw_isams)", show_lines=False)
    grid.add_column("dataset")
    for r in outcome.runs:
        grid.add_column(r.school, justify="right")
    for t in tables:
        grid.add_row(t, *[("[red]failed[/]" if t in r.errors else f"{r.rows.get(t, 0):,}") for r in outcome.runs])
    return grid


def school_health(warehouse: Warehouse | Path) -> list[runlog.SchoolHealth]:
    """Per-school health, including the failing tests of this warehouse's last dbt build."""
    return runlog.health(warehouse, artifacts_dir(warehouse) / "target" / "run_results.json")


def print_dbt_problems(console: Console, result: DbtResult) -> None:
    """Failed and warned tests with the problems they stored (plain text: dbt messages are not markup)."""
    for line in result.failures:
        console.print(f"✗ {line}", style="red", markup=False, highlight=False)
    for line in result.warnings:
        console.print(f"! {line}", style="yellow", markup=False, highlight=False)


def status_table(warehouse: Warehouse | Path, healths: list[runlog.SchoolHealth] | None = None) -> Table:
    """Per-school health: last load and success, register freshness, quarantine, failing tests, state."""
    wh = as_warehouse(warehouse)
    grid = Table(title=f"School health · {wh.path.name if wh.pg is None else wh.describe()}")
    for column in ("school", "last run", "last success", "latest register", "quarantined", "failing tests",
                   "value drift", "failing datasets", "status"):
        grid.add_column(column)
    colour = {"ok": "green", "attention": "yellow", "failing": "red"}
    for h in school_health(warehouse) if healths is None else healths:
        register = h.latest_register_date or "none"
        if h.is_register_stale:
            register += f" ([yellow]{h.school_days_without_registers} school days ago[/])"
        grid.add_row(
            h.school_code, f"{h.last_run_at:%Y-%m-%d %H:%M}" if h.last_run_at else "never",
            f"{h.last_success_at:%Y-%m-%d %H:%M}" if h.last_success_at else "[red]never[/]",
            register, str(h.quarantined_records), str(h.failing_tests), str(h.drifting_fields),
            h.failing_datasets or "",
            f"[{colour[h.state]}]{h.state}[/]",
        )
    return grid


def build(
    warehouse: Warehouse | Path, console: Console, *, target: str | None = None, select: list[str] | None = None,
    exclude: list[str] | None = None, full_refresh: bool = False,
) -> DbtResult:
    """``dbt build`` (seeds, models, tests) with a progress line; prints only problems and the tally.

    ``full_refresh`` rebuilds the incremental attendance models from all history (weekly, and after code
    mapping edits or back-dated corrections: see the README).
    """
    args = (["build"] + (["--select", *select] if select else []) + (["--exclude", *exclude] if exclude else [])
            + (["--full-refresh"] if full_refresh else []))
    with console.status("dbt build ...") as status:

        def echo(line: str) -> None:
            if " of " in line and ("START" in line or "PASS" in line or "OK created" in line):
                status.update(f"dbt build: {line.split(maxsplit=1)[-1][:100]}")
            elif any(k in line for k in ("ERROR", "FAIL", "WARN", "Done.")):
                console.print(line, markup=False, highlight=False)

        return run_dbt(args, warehouse, target=target, echo=echo)


def docs(warehouse: Warehouse | Path, console: Console, *, target: str | None = None) -> Path | None:
    """Generate the dbt docs as one static HTML file; returns its path."""
    result = run_dbt(["docs", "generate", "--static"], warehouse, target=target)
    path = artifacts_dir(resolve_warehouse(warehouse, target)) / "target" / "static_index.html"
    if not result.ok or not path.exists():
        console.print("[red]dbt docs generate failed[/]")
        return None
    return path


def run_nightly(
    settings: Settings, today: date, console: Console, *, transport=None, warehouse: Warehouse | None = None,
    full_refresh: bool = False,
) -> int:
    """Ingest, build, document ``warehouse`` (default: the DuckDB file ``settings.warehouse``); return the
    process exit code."""
    wh = warehouse or as_warehouse(settings.warehouse)
    with warehouse_lock(wh):
        console.rule(f"schoolwh nightly · {len(settings.schools)} school(s) · {today.isoformat()} · {wh.kind}")
        outcome = ingest_all(settings, today, console, command="nightly", transport=transport, warehouse=wh)
        if outcome.runs:
            console.print(ingest_table(outcome))
        report = validate(wh, outcome, today, console)
        console.rule("dbt build")
        built = build(wh, console, full_refresh=full_refresh)
        docs_path = docs(wh, console) if built.ok or built.statuses else None
    console.rule("Summary")
    console.print(f"Warehouse: {wh.describe()}")
    if docs_path:
        console.print(f"Docs:      {docs_path}")
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(built.statuses.items())) or "no results"
    console.print(f"dbt build: {statuses}")
    print_dbt_problems(console, built)
    for line in outcome.errors:
        console.print(f"[red]  ✗ {line}[/]", highlight=False)
    if not report.ok:
        console.print(
            f"[yellow]! {report.rows_failed:,} record(s) quarantined[/] (table above; reasons in ops.quarantine). "
            "They stay in raw_isams and out of staging until corrected in iSAMS; the next run picks them up."
        )
    if outcome.drift and not outcome.drift.ok:
        console.print(f"[yellow]! schema drift:[/] {outcome.drift.summary()} (details in ops.schema_drift)")
    console.print(status_table(wh))
    if not outcome.ok:
        console.print(f"[bold red]FAILED[/]: {len(outcome.errors)} ingestion problem(s); data already loaded is kept.")
        return EXIT_INGEST_FAILED
    if not built.ok:
        console.print("[bold red]FAILED[/]: dbt build reported errors (see above).")
        return EXIT_BUILD_FAILED
    console.print("[bold green]OK[/]: every school ingested, warehouse built and tested.")
    return EXIT_OK
