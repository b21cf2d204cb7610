"""What the console shows: tables and problem lines for ``ingest``, ``nightly``, ``build`` and ``status``.

Views only read what the pipeline and the ``ops`` tables hand them; nothing here writes to the warehouse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ingestion.app import serving
from ingestion.core.warehouse import Warehouse
from ingestion.ops import runlog
from ingestion.ops.drift import DriftReport

if TYPE_CHECKING:  # the pipeline imports these views; types only
    from ingestion.app.dbt_runner import DbtResult
    from ingestion.app.pipeline import IngestOutcome

_DRIFT_LABELS = {"new_field": "[green]new field[/]", "missing_field": "[yellow]missing field[/]",
                 "changed_type": "[red]changed type[/]", "changed_values": "[red]values stopped parsing[/]"}


def drift_table(report: DriftReport) -> Table:
    """This run's schema drift events, for the run summary."""
    grid = Table(title=f"Schema drift this run ({len(report.events)} change(s); data kept, see ops.schema_drift)")
    for column in ("school", "dataset", "change", "field", "detail"):
        grid.add_column(column)
    for e in sorted(report.events, key=lambda e: (e.school, e.dataset, e.kind, e.field)):
        grid.add_row(e.school, e.dataset, _DRIFT_LABELS[e.kind], e.field, e.detail)
    return grid


def ingest_table(outcome: IngestOutcome) -> Table:
    """Rows landed per school and dataset in this run."""
    tables = sorted({t for r in outcome.runs for t in r.rows} | {t for r in outcome.runs for t in r.errors if t != "*"})
    grid = Table(title="Rows landed this run (raw_isams, raw_seemis)", show_lines=False)
    grid.add_column("dataset")
    for r in outcome.runs:
        grid.add_column(r.school, justify="right")
    for t in tables:
        grid.add_row(t, *[("[red]failed[/]" if t in r.errors else f"{r.rows.get(t, 0):,}") for r in outcome.runs])
    return grid


def print_dbt_problems(console: Console, result: DbtResult) -> None:
    """Failed and warned tests with the problems they stored (plain text: dbt messages are not markup)."""
    for line in result.failures:
        console.print(f"✗ {line}", style="red", markup=False, highlight=False)
    for line in result.warnings:
        console.print(f"! {line}", style="yellow", markup=False, highlight=False)


def status_table(warehouse: Warehouse, healths: list[runlog.SchoolHealth] | None = None) -> Table:
    """Per-school health: last load and success, register freshness, quarantine, failing tests, state."""
    wh = warehouse
    grid = Table(title=f"School health · {wh.path.name if wh.pg is None else wh.describe()}")
    for column in ("school", "last run", "last success", "latest register", "quarantined", "failing tests",
                   "status", "why"):
        grid.add_column(column)
    colour = {"ok": "green", "attention": "yellow", "failing": "red"}
    for h in runlog.health(warehouse) if healths is None else healths:
        register = h.latest_register_date or "none"
        if h.is_register_stale:
            register += f" ([yellow]{h.school_days_without_registers} school days ago[/])"
        grid.add_row(
            h.school_code, f"{h.last_run_at:%Y-%m-%d %H:%M}" if h.last_run_at else "never",
            f"{h.last_success_at:%Y-%m-%d %H:%M}" if h.last_success_at else "[red]never[/]",
            register, str(h.quarantined_records), str(h.failing_tests), f"[{colour[h.state]}]{h.state}[/]",
            escape("; ".join(h.problems)),
        )
    return grid


def serving_line(warehouse: Warehouse) -> str | None:
    """Where analysts' serving file is and when it was published (DuckDB only; PostgreSQL serves bi_reader)."""
    if warehouse.kind != "duckdb":
        return None
    when = serving.published_at(warehouse)
    if when is None:
        return "Serving file for analysts: [yellow]not published yet[/] (published after a successful build; schoolwh publish)"
    return f"Serving file for analysts: {serving.serving_path(warehouse)}, published {when:%Y-%m-%d %H:%M}"
