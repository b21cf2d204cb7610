"""The dlt source for one iSAMS school, and ``ingest_school`` which loads it into DuckDB.

History of the small datasets is owned by dlt (``scd2``), partitioned by ``school_code`` through the
merge key so that loading school B never retires school A's rows. Registers are big and corrected after
the fact: they are re-read over a look-back window and merged on ``(school_code, id)``, one Arrow table per
window (dicts load ~50x slower, see stack-notes). A dataset whose fetch fails yields nothing, because an
empty feed would retire every row.

A small dataset (everything but registers) whose records are exactly those it last loaded with
(``unchanged``: fingerprints from ``ingestion.ops.fingerprints``) is not handed to dlt at all: its merge
would change nothing. Its shapes are replayed for drift, and ``SchoolIngestResult.unchanged`` names it.

Every dataset also reports what it received (``SchoolIngestResult.fetched`` and ``.shapes``) so the run log
can reconcile fetched with landed, and ``ingestion.ops.drift`` can spot fields that appear, vanish or change
kind. A value that turns from a scalar into an object/list where the warehouse column is a scalar is
landed as its JSON text in that column (registers always were): dlt would otherwise route it to new
``x__y`` columns or a nested table, leaving the column staging reads null. Nothing is dropped either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dlt
import httpx
import pyarrow as pa
from dlt.extract.source import DltSource

from ingestion.core.config import SchoolConfig
from ingestion.core.ingest import (  # noqa: F401 (SCD2 and IngestFailure are re-exported)
    RAW_SCHEMAS, SCD2, DatasetFingerprint, IngestFailure, SchoolIngestResult, records_digest, school_pipeline,
    scd2_disposition, text_schema,
)
from ingestion.core.shapes import merge_shapes, record_shapes
from ingestion.isams.client import IsamsAuthError, IsamsClient, IsamsError
from ingestion.isams.datasets import BATCH_DATASETS, BY_NAME, REST_DATASETS, BatchDataset, RestDataset
from ingestion.isams.quirks import flatten, items
from ingestion.isams.registers import REGISTER_KEY, SCHOOL_COLUMN, as_text, normalized, registers_window_table
from ingestion.core.redact import redact, safe_url
from ingestion.core.warehouse import Warehouse

log = logging.getLogger(__name__)

DATASET_NAME = RAW_SCHEMAS["isams"]
REGISTERS = "registration_statuses"


class IngestError(RuntimeError):
    """Loading a school's data into the warehouse failed (not an API problem); rows loaded before are kept."""


def _tag(record: dict, school_code: str) -> dict:
    """Add ``school_code`` to a record and every nested list item, so child tables filter by school too.

    A source field that dlt would also name ``school_code`` (the pupil's ``SchoolCode``!) is renamed
    ``isams_<field>`` first; otherwise one would silently overwrite the other.
    """
    out: dict[str, Any] = {}
    for key, value in record.items():
        if normalized(key) == SCHOOL_COLUMN:
            key = f"isams_{key}"
        if isinstance(value, list):
            value = [_tag(v, school_code) if isinstance(v, dict) else v for v in value]
        out[key] = value
    out[SCHOOL_COLUMN] = school_code
    return out


def _untagged(value: Any) -> Any:
    """``value`` without the ``school_code`` that ``_tag`` put into list items (it is ours, not iSAMS's)."""
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    if isinstance(value, dict):
        return {k: _untagged(v) for k, v in value.items() if k != SCHOOL_COLUMN}
    return value


def _scalar_columns(table: str) -> set[str]:
    """Columns of ``table`` the warehouse already holds as scalars (empty outside a pipeline run)."""
    try:
        schema = dlt.current.source_schema()
    except Exception:  # iterated outside a pipeline (tests): nothing known, nothing to protect
        return set()
    columns = schema.tables.get(table, {}).get("columns", {})
    return {name for name, col in columns.items() if col.get("data_type") not in (None, "json")}


def _keep_scalars(record: dict, scalars: set[str], prefix: str = "") -> dict:
    """Turn an object/list value into JSON text where its column is a scalar one (see module docstring)."""
    for key, value in record.items():
        if isinstance(value, (dict, list)):
            column = prefix + normalized(key)
            if column in scalars:
                record[key] = as_text(_untagged(value))
            elif isinstance(value, dict):  # dlt flattens objects into parent__child columns of this table
                _keep_scalars(value, scalars, column + "__")
    return record


def _received(guard: _Guard, table: str, records: list[dict], observe: bool = True) -> list[dict]:
    """Count and observe a fetched batch of a small dataset; the records to load, protected in their scalar
    columns, or [] when they are exactly what the dataset last loaded with (its shapes are replayed).

    ``observe=False`` for a table of our own making (``schools``): fingerprinted, never counted or observed."""
    if observe:
        guard.count(table, len(records))
    if not records:
        return records
    digest = records_digest(table, records)
    before = guard.unchanged_since.get(table)
    if before is not None and before.digest == digest:
        if observe:
            merge_shapes(guard.shapes.setdefault(table, {}), before.shapes)
        guard.unchanged[table] = guard.unchanged.get(table, 0) + len(records)
        return []
    shapes = record_shapes(records, normalized) if observe else {}
    if observe:
        merge_shapes(guard.shapes.setdefault(table, {}), shapes)
    guard.fingerprints[table] = DatasetFingerprint(digest, shapes)
    scalars = _scalar_columns(table)
    return [_keep_scalars(r, scalars) for r in records] if scalars else records


def register_windows(start: date, end: date, window_days: int) -> list[tuple[date, date]]:
    """``[start, end)`` cut into windows of ``window_days`` (end exclusive)."""
    step = timedelta(days=max(1, window_days))
    out, cursor = [], start
    while cursor < end:
        out.append((cursor, min(cursor + step, end)))
        cursor += step
    return out


def register_start_for_run(last_loaded: date | None, register_start: date, lookback_days: int) -> date:
    """First run: backfill from ``register_start``; later runs re-read ``lookback_days`` before the last date."""
    if last_loaded is None:
        return register_start
    return max(register_start, last_loaded - timedelta(days=lookback_days))


class _Guard:
    """Per-school fetch wrapper: records failures and stops using credentials iSAMS has rejected."""

    def __init__(
        self, school: SchoolConfig, failures: list, result: SchoolIngestResult | None = None,
        unchanged_since: dict[str, DatasetFingerprint] | None = None,
    ) -> None:
        self.school, self.failures = school, failures
        self.rejected: dict[str, IsamsAuthError] = {}  # "batch"/"rest" -> the 401 that stopped it
        result = result if result is not None else SchoolIngestResult(school=school.code)
        self.fetched = result.fetched  # dataset -> records received
        self.shapes = result.shapes  # dataset -> field -> kinds (drift)
        self.fingerprints, self.unchanged = result.fingerprints, result.unchanged
        self.unchanged_since = unchanged_since or {}  # small dataset -> what it last loaded with

    def count(self, dataset: str, n: int) -> None:
        self.fetched[dataset] = self.fetched.get(dataset, 0) + n

    def fail(self, dataset: str, error: str, status: int | None = None) -> None:
        message = redact(error, self.school.secrets())
        self.failures.append(IngestFailure(self.school.code, dataset, message, status))
        log.error("%s", message)

    def run(self, credential: str, dataset: str, fetch: Callable[[], Any], window: str = "") -> Any | None:
        """``fetch()``'s result, or None after recording why it could not be had."""
        where = f" (window {window})" if window else ""
        if credential in self.rejected:
            cause = self.rejected[credential]
            self.fail(dataset, f"school {self.school.code}, dataset {dataset}: not requested; {cause}", cause.status)
            return None
        try:
            return fetch()
        except IsamsAuthError as exc:
            self.rejected[credential] = exc
            self.fail(dataset, f"{exc}{where}", exc.status)
        except IsamsError as exc:
            self.fail(dataset, f"{exc}{where}", exc.status)
        except Exception as exc:  # an unexpected shape must cost one dataset, not the school's run
            self.fail(dataset, f"school {self.school.code}, dataset {dataset}: could not parse the reply{where} "
                               f"({type(exc).__name__}: {exc})")
        return None


def _batch_resource(
    ds: BatchDataset, school: SchoolConfig, client: IsamsClient, guard: _Guard, as_of: date
) -> Any:
    def rows() -> Iterator[list[dict]]:
        records = guard.run(
            "batch", ds.name, lambda: [_tag(flatten(i), school.code) for i in items(client.batch([ds]), ds)]
        )
        if records is not None:
            records = _received(guard, ds.name, records)
        if records:  # None (failed) or [] must not reach scd2: that would retire every row of the school
            yield records

    return dlt.resource(
        rows, name=ds.name, table_name=ds.name, write_disposition=scd2_disposition(as_of), merge_key=SCHOOL_COLUMN
    )


def _registers_resource(
    ds: BatchDataset, school: SchoolConfig, client: IsamsClient, guard: _Guard,
    register_start: date, today: date, window_days: int, lookback_days: int,
    backfill: tuple[date, date] | None = None, reread: list[tuple[date, date]] | None = None,
) -> Any:
    # the fast path (flat marks, orjson) imports this module: import it here, not at the top

    def marks() -> Iterator[pa.Table]:
        state = dlt.current.resource_state()
        shapes = guard.shapes.setdefault(ds.name, {})
        if backfill:  # an explicit window (inclusive) re-read on request; the nightly state is left alone
            start, end, state = backfill[0], backfill[1] + timedelta(days=1), {}
        else:
            last = state.get("last_date")
            start = register_start_for_run(date.fromisoformat(last) if last else None, register_start, lookback_days)
            end = today + timedelta(days=1)
        for window in register_windows(start, end, window_days):
            table = guard.run(
                "batch", ds.name,
                lambda w=window: registers_window_table(*client.batch_fast([ds], w), ds, school.code, shapes),
                window=f"{window[0]}..{window[1]}",
            )
            if table is None:
                return  # later windows wait for the next run, which restarts from the last good one
            guard.count(ds.name, table.num_rows)
            if table.num_rows:
                yield table
            if reread is not None:
                reread.append(window)
            state["last_date"] = (window[1] - timedelta(days=1)).isoformat()

    return dlt.resource(
        marks, name=ds.name, table_name=ds.name, write_disposition="merge",
        primary_key=REGISTER_KEY,
    )


def _rest_resource(ds: RestDataset, school: SchoolConfig, client: IsamsClient, guard: _Guard) -> Any:
    def fetch() -> list[dict]:
        try:
            return [_tag(r, school.code) for r in client.rest_list(ds)]
        except IsamsError as exc:
            if ds.optional and exc.status in (403, 404) and not isinstance(exc, IsamsAuthError):
                log.warning("school %s: %s is not served by this iSAMS (HTTP %s); skipped", school.code, ds.name,
                            exc.status)
                return []
            raise

    def rows() -> Iterator[list[dict]]:
        records = guard.run("rest", ds.name, fetch)
        if records is not None:
            records = _received(guard, ds.name, records)
        if records:
            yield records

    # delete-insert on merge_key: this school's list is replaced, other schools' lists are kept
    return dlt.resource(
        rows, name=ds.name, table_name=ds.name, write_disposition="merge",
        primary_key=[SCHOOL_COLUMN, "id"], merge_key=SCHOOL_COLUMN,
    )


def _school_resource(school: SchoolConfig, guard: _Guard) -> Any:
    """The school itself as configured (code, name, phase and jurisdiction; never credentials), so the warehouse can name it."""

    @dlt.resource(name="schools", primary_key=SCHOOL_COLUMN, write_disposition="merge",
                  columns={"phase": {"data_type": "text", "nullable": True},
                           "jurisdiction": {"data_type": "text", "nullable": True}})
    def schools() -> Iterator[list[dict]]:
        # never credentials or a query string (where a pasted key would sit), whatever built the SchoolConfig
        row = {SCHOOL_COLUMN: school.code, "school_name": school.name, "base_url": safe_url(school.base_url),
               "phase": school.phase, "jurisdiction": school.jurisdiction}
        if records := _received(guard, "schools", [row], observe=False):
            yield records

    return schools


def isams_source(
    school: SchoolConfig,
    client: IsamsClient,
    *,
    datasets: Sequence[str] | None = None,
    register_start: date,
    today: date,
    window_days: int = 14,
    lookback_days: int = 14,
    backfill: tuple[date, date] | None = None,
    result: SchoolIngestResult | None = None,
    unchanged_since: dict[str, DatasetFingerprint] | None = None,
) -> DltSource:
    """One school's iSAMS data: a resource per Batch dataset, plus the REST code lists when configured.

    ``result`` is filled during extraction (failures, fetched, shapes, re-read windows, fingerprints: see
    ``SchoolIngestResult``); a small dataset whose records match its fingerprint in ``unchanged_since`` yields
    nothing (see the module docstring).
    """
    wanted = set(datasets) if datasets is not None else None
    unknown = (wanted or set()) - set(BY_NAME) - {d.name for d in REST_DATASETS}
    if unknown:
        raise ValueError(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    result = result if result is not None else SchoolIngestResult(school=school.code)
    guard = _Guard(school, result.failures, result, unchanged_since)
    resources = []
    for ds in BATCH_DATASETS:
        if wanted is not None and ds.name not in wanted:
            continue
        if ds.windowed:
            resources.append(_registers_resource(
                ds, school, client, guard, register_start, today, window_days, lookback_days, backfill,
                result.reread_windows,
            ))
        else:
            resources.append(_batch_resource(ds, school, client, guard, today))
    if wanted is None:
        resources.append(_school_resource(school, guard))
    if school.has_rest:
        resources += [
            _rest_resource(ds, school, client, guard)
            for ds in REST_DATASETS if wanted is None or ds.name in wanted
        ]

    @dlt.source(root_key=True, schema=text_schema("isams"))
    def isams() -> list:
        return resources

    return isams()


def ingest_school(
    school: SchoolConfig,
    warehouse: Warehouse,
    pipelines_dir: Path,
    *,
    register_start: date,
    today: date,
    window_days: int = 14,
    lookback_days: int = 14,
    datasets: Sequence[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    backfill: tuple[date, date] | None = None,
    unchanged_since: dict[str, DatasetFingerprint] | None = None,
) -> SchoolIngestResult:
    """Load one school with its own pipeline (own state, own failures). API failures are in the result.

    ``unchanged_since``: what each small dataset last loaded with (``ingestion.ops.fingerprints``); one that
    comes back identical is not reloaded. The caller records ``result.fingerprints`` once this returned."""
    pipeline = school_pipeline("isams", school.code, warehouse, pipelines_dir, DATASET_NAME)
    result = SchoolIngestResult(school=school.code)
    with IsamsClient(school, transport=transport, sleep=sleep) as client:
        source = isams_source(
            school, client, datasets=datasets, register_start=register_start, today=today,
            window_days=window_days, lookback_days=lookback_days, backfill=backfill, result=result,
            unchanged_since=unchanged_since,
        )
        try:
            info = pipeline.run(source, loader_file_format=warehouse.loader_file_format)
            info.raise_on_failed_jobs()
            result.removed = remove_vanished_marks(
                warehouse, school.code, result.reread_windows, set(info.loads_ids)
            )
        except Exception as exc:
            # dlt keeps a failed package and retries it on the next run; nothing loaded before is lost
            raise IngestError(redact(
                f"school {school.code}: loading into {warehouse.describe()} failed "
                f"({type(exc).__name__}: {exc}). "
                "Rows loaded by earlier runs are unchanged; fix the cause and run again.",
                school.secrets(),
            )) from exc
        finally:
            result.retries = client.retries
    result.rows = _root_row_counts(pipeline, set(source.resources.keys()))
    return result


def remove_vanished_marks(
    warehouse: Warehouse, school_code: str, windows: list[tuple[date, date]], load_ids: set[str]
) -> int:
    """Delete the school's register marks dated inside windows re-read in full by this run's loads
    (``load_ids``) that those loads did not bring: iSAMS no longer sends them (a mark removed or a register
    un-taken after the fact). Registers merge on (school, id), so without this a deleted mark would stay in
    raw forever. Only complete windows count (a window that failed is not in ``windows``). Returns the count."""
    if not windows or not load_ids:
        return 0
    table = f"{DATASET_NAME}.{REGISTERS}"
    removed = 0
    with warehouse.connect() as con:
        if not con.table_exists(DATASET_NAME, REGISTERS):
            return 0
        loads = ", ".join("'" + i.replace("'", "''") + "'" for i in sorted(load_ids))
        for start, end in _spans(windows):  # one scan per run of adjacent windows, not one per window
            where = (f"school_code = ? and registration_date_time >= ? and registration_date_time < ? "
                     f"and (_dlt_load_id is null or _dlt_load_id not in ({loads}))")
            params = [school_code, start.isoformat(), end.isoformat()]
            removed += con.execute(f"select count(*) from {table} where {where}", params).fetchall()[0][0]
            con.execute(f"delete from {table} where {where}", params)
    return removed


def _spans(windows: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Adjacent or overlapping [start, end) windows merged: a first load's dozens of windows are one span."""
    spans: list[tuple[date, date]] = []
    for start, end in sorted(windows):
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def _root_row_counts(pipeline: dlt.Pipeline, tables: set[str]) -> dict[str, int]:
    trace = pipeline.last_trace
    info = trace.last_normalize_info if trace else None
    counts = info.row_counts if info else {}
    return {name: n for name, n in counts.items() if name in tables}
