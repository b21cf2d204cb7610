"""The dlt source for one SEEMiS school (CSV exports in a folder), and ``ingest_school`` which loads it.

Files are read incrementally: the resource state remembers each file's (size, mtime, sha256), and only a
new or changed file is read. What each kind of file does to ``raw_seemis``:

- ``pupils`` and ``enrolments`` are snapshots: only the newest file is loaded (dlt scd2, partitioned by
  ``school_code``, valid from the as-of date), and only when it is new or changed; no new file yields
  nothing, because an empty snapshot would retire every row.
- ``attendance`` files add up: merged on ``(school_code, record_id)`` with merge key ``(school_code,
  source_file)``. dlt's delete-insert deletes a row matching *either* key (``OR``, checked by a test on
  DuckDB and PostgreSQL), so a re-sent file replaces all of that file's rows, and a later file's mark for the
  same pupil, date and opening replaces the earlier one. Files are applied in (mtime, name) order; within
  one run and within one file the later line wins.
- ``terms`` merge on ``(school_code, record_id)``.

A file whose header lacks a column (renamed or removed) is schema drift: it is not loaded and not marked
as read (it is tried again next run), the failure names school, dataset, file and columns. A row that does
not parse is not landed; it is returned for ``ops.quarantine`` (record ``<file>:<line>``, written by the pipeline) and printed by the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.source import DltSource

from ingestion.core.config import SchoolConfig
from ingestion.core.ingest import (
    RAW_SCHEMAS, IngestFailure, SchoolIngestResult, school_pipeline, scd2_disposition, text_schema,
)
from ingestion.core.redact import redact
from ingestion.core.shapes import merge_shapes, record_shapes
from ingestion.core.warehouse import Warehouse
from ingestion.seemis.exports import (
    ATTENDANCE, BY_TABLE, ENROLMENTS, EXPORTS, PUPILS, TERMS, Export, ParsedFile, column_name, dates_of,
    file_signature,
    files_for, parse_file,
)

log = logging.getLogger(__name__)

DATASET_NAME = RAW_SCHEMAS["seemis"]
SCHOOL_COLUMN = "school_code"
FILE_COLUMNS = ("source_file", "source_line", "source_modified_at")
MAX_NOTES = 20  # quarantined lines printed per school and run; the rest are counted


class IngestError(RuntimeError):
    """Loading a school's files into the warehouse failed; rows loaded before are kept."""


class _Run:
    """What one school's extraction collects beside the rows: failures, quarantined lines, read windows."""

    def __init__(self, school: SchoolConfig, result: SchoolIngestResult) -> None:
        self.school, self.result = school, result
        self.bad: list[tuple[str, str, str, str]] = []  # (dataset, record_id, rule, reason)
        self.header_drift: set[str] = set()

    def fail(self, dataset: str, message: str) -> None:
        self.result.failures.append(IngestFailure(self.school.code, dataset, message))
        log.error("%s", message)

    def read(self, export: Export, path: Path) -> ParsedFile | None:
        """The parsed file, or None (failure recorded) when its header lacks a column."""
        parsed = parse_file(export, path.name, path.read_bytes())
        shapes = self.result.shapes.setdefault(export.table, {})
        merge_shapes(shapes, record_shapes(parsed.raw_sample or [{column_name(h): "" for h in parsed.headers if h.strip()}]))
        if parsed.missing:
            self.header_drift.add(export.table)
            self.fail(export.table, (
                f"school {self.school.code}, dataset {export.table}: file {path.name} not loaded: its header lacks "
                f"{', '.join(parsed.missing)} (renamed or removed?). It is tried again next run; fix the export "
                "or the catalogue (ingestion/seemis/exports.py)."))
            return None
        for bad in parsed.bad:
            self.bad.append((export.table, f"{path.name}:{bad.line}", bad.rule, bad.reason))
        return parsed

    def count(self, table: str, n: int) -> None:
        self.result.fetched[table] = self.result.fetched.get(table, 0) + n


def _changed(export: Export, folder: Path, seen: dict) -> list[tuple[Path, dict]]:
    out = []
    for path in files_for(export, folder):
        signature = file_signature(path)
        if seen.get(path.name) != signature:
            out.append((path, signature))
    return out


def _text_columns(export: Export, with_files: bool) -> dict[str, dict]:
    names = [SCHOOL_COLUMN, *(c.name for c in export.columns), "record_id", *(FILE_COLUMNS if with_files else ())]
    return {n: {"data_type": "text", "nullable": n not in (SCHOOL_COLUMN, "record_id")} for n in names}


def _snapshot_resource(export: Export, school: SchoolConfig, run: _Run, as_of: date) -> Any:
    """The newest file of a snapshot export, when it is new or changed (scd2; see module docstring)."""

    def rows() -> Iterator[list[dict]]:
        state = dlt.current.resource_state()
        seen = state.setdefault("files", {})
        changed = _changed(export, school.folder, seen)
        if not changed:
            return
        newest = files_for(export, school.folder)[-1]
        if newest.name not in {p.name for p, _ in changed}:  # only an older file changed: the newest stands
            seen.update({p.name: s for p, s in changed})
            return
        parsed = run.read(export, newest)
        if parsed is None:
            return
        records = {r["record_id"]: {SCHOOL_COLUMN: school.code, **r} for _, r in parsed.rows}  # later line wins
        run.count(export.table, len(records))
        seen.update({p.name: s for p, s in changed})
        if records:  # an empty snapshot must not reach scd2: it would retire every row of the school
            yield list(records.values())

    return dlt.resource(
        rows, name=export.table, table_name=export.table, write_disposition=scd2_disposition(as_of),
        merge_key=SCHOOL_COLUMN, columns=_text_columns(export, with_files=False),
    )


def _modified_at(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).isoformat()


def _attendance_resource(school: SchoolConfig, run: _Run) -> Any:
    export = ATTENDANCE

    def marks() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        seen = state.setdefault("files", {})
        merged: dict[str, dict] = {}  # record_id -> row; later files (and lines) win
        for path, signature in _changed(export, school.folder, seen):
            parsed = run.read(export, path)
            if parsed is None:
                continue
            modified = _modified_at(path)
            for line, row in parsed.rows:
                merged.pop(row["record_id"], None)  # keep insertion order = the order marks were written
                merged[row["record_id"]] = {SCHOOL_COLUMN: school.code, **row, "source_file": path.name,
                                            "source_line": str(line), "source_modified_at": modified}
            span = dates_of(parsed.rows, "attendance_date")
            if span:
                run.result.reread_windows.append((span[0], span[1] + timedelta(days=1)))
            seen[path.name] = signature
        run.count(export.table, len(merged))
        if merged:
            yield _table(list(merged.values()))

    return dlt.resource(
        marks, name=export.table, table_name=export.table, write_disposition="merge",
        primary_key=[SCHOOL_COLUMN, "record_id"], merge_key=[SCHOOL_COLUMN, "source_file"],
        columns=_text_columns(export, with_files=True),
    )


def _table(rows: list[dict]) -> pa.Table:
    """The marks as one Arrow table of text columns (files with different extra columns: the union)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return pa.table({n: pa.array([r.get(n) for r in rows], type=pa.string()) for n in names})


def _terms_resource(school: SchoolConfig, run: _Run) -> Any:
    export = TERMS

    def rows() -> Iterator[list[dict]]:
        state = dlt.current.resource_state()
        seen = state.setdefault("files", {})
        merged: dict[str, dict] = {}
        for path, signature in _changed(export, school.folder, seen):
            parsed = run.read(export, path)
            if parsed is None:
                continue
            for _, row in parsed.rows:
                merged[row["record_id"]] = {SCHOOL_COLUMN: school.code, **row}
            seen[path.name] = signature
        run.count(export.table, len(merged))
        if merged:
            yield list(merged.values())

    return dlt.resource(
        rows, name=export.table, table_name=export.table, write_disposition="merge",
        primary_key=[SCHOOL_COLUMN, "record_id"], columns=_text_columns(export, with_files=False),
    )


def _school_resource(school: SchoolConfig) -> Any:
    @dlt.resource(name="schools", primary_key=SCHOOL_COLUMN, write_disposition="merge",
                  columns={n: {"data_type": "text", "nullable": n != SCHOOL_COLUMN}
                           for n in (SCHOOL_COLUMN, "school_name", "phase", "jurisdiction")})
    def schools() -> Iterator[dict]:
        yield {SCHOOL_COLUMN: school.code, "school_name": school.name, "phase": school.phase,
               "jurisdiction": school.jurisdiction}

    return schools


def seemis_source(school: SchoolConfig, run: _Run, *, today: date, datasets: Sequence[str] | None = None) -> DltSource:
    wanted = set(datasets) if datasets is not None else None
    unknown = (wanted or set()) - set(BY_TABLE)
    if unknown:
        raise ValueError(f"unknown SEEMiS dataset(s): {', '.join(sorted(unknown))}")
    build = {
        PUPILS.table: lambda: _snapshot_resource(PUPILS, school, run, today),
        ENROLMENTS.table: lambda: _snapshot_resource(ENROLMENTS, school, run, today),
        ATTENDANCE.table: lambda: _attendance_resource(school, run),
        TERMS.table: lambda: _terms_resource(school, run),
    }
    resources = [build[e.table]() for e in EXPORTS if wanted is None or e.table in wanted]
    if wanted is None:
        resources.append(_school_resource(school))

    @dlt.source(root_key=True, schema=text_schema("seemis"))
    def seemis() -> list:
        return resources

    return seemis()


def ingest_school(
    school: SchoolConfig,
    warehouse: Warehouse,
    pipelines_dir: Path,
    *,
    today: date,
    datasets: Sequence[str] | None = None,
    **_ignored: Any,  # iSAMS options (register windows, HTTP transport): files need none of them
) -> SchoolIngestResult:
    """Load one SEEMiS school's new or changed export files with its own pipeline (own state)."""
    if school.folder is None:
        raise ValueError(f"school {school.code}: a SEEMiS school needs a folder")
    pipeline = school_pipeline("seemis", school.code, warehouse, pipelines_dir, DATASET_NAME)
    result = SchoolIngestResult(school=school.code)
    run = _Run(school, result)
    if not school.folder.is_dir():
        run.fail("*", f"school {school.code}: export folder {school.folder} not found; nothing loaded")
    source = seemis_source(school, run, today=today, datasets=datasets)
    try:
        info = pipeline.run(source, loader_file_format=warehouse.loader_file_format)
        info.raise_on_failed_jobs()
    except Exception as exc:
        raise IngestError(redact(
            f"school {school.code}: loading into {warehouse.describe()} failed ({type(exc).__name__}: {exc}). "
            "Rows loaded by earlier runs are unchanged; fix the cause and run again.", [],
        )) from exc
    result.header_drift = set(run.header_drift)
    load_id = info.loads_ids[0] if info.loads_ids else None
    result.quarantine_rows = _quarantine_rows(run.bad, load_id)
    result.quarantined = len(run.bad)
    result.notes = _notes(school.code, run.bad)
    trace = pipeline.last_trace
    counts = trace.last_normalize_info.row_counts if trace and trace.last_normalize_info else {}
    result.rows = {n: c for n, c in counts.items() if n in set(source.resources.keys())}
    return result


def _quarantine_rows(bad: list[tuple[str, str, str, str]], load_id: str | None) -> list[tuple[str, str, str, str, str]]:
    """The lines that did not parse, for ``ops.quarantine`` (the pipeline writes them): load id = the run's
    load, or ``file:<name>`` when nothing was loaded."""
    return [(dataset, rid, rule, reason, load_id or f"file:{rid.rsplit(':', 1)[0]}")
            for dataset, rid, rule, reason in bad]


def _notes(school_code: str, bad: list[tuple[str, str, str, str]]) -> list[str]:
    notes = [f"school {school_code}, dataset {dataset}: {reason} ({rule}); line quarantined, not loaded"
             for dataset, _, rule, reason in bad[:MAX_NOTES]]
    if len(bad) > MAX_NOTES:
        notes.append(f"school {school_code}: {len(bad) - MAX_NOTES} more line(s) quarantined (ops.quarantine)")
    return notes
