"""Validate what just landed in every raw schema (``raw_isams``, ``raw_seemis``) with GX Core, and quarantine
the records that fail.

Runs between ingestion and dbt. Per raw schema and dataset, the current rows of this run's load(s) (scd2
tables: only ``_dlt_valid_to is null``) are pulled from the warehouse into one pandas frame covering every
school of that source (GX's SQL path on DuckDB is broken), checked against the suite ``<schema>.<dataset>``
(e.g. ``raw_isams.pupils``, ``raw_seemis.attendance``) built from ``rules.py``, and reported per school and
dataset. GX runs with ``result_format`` COMPLETE + ``exclude_unexpected_values``
and a synthetic ``_row`` index column: it returns *which* rows failed but never their values, so neither
the results nor the Data Docs can carry a pupil's name, DOB or contact details. The reasons written to
``ops.quarantine`` quote offending values only for non-personal columns (``rules.is_sensitive``).

Nothing is deleted from raw: a failing record stays loaded and is listed in ``ops.quarantine``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ingestion.ops import quarantine
from ingestion.validation.rules import (
    ALL_RULES, INTEGER_REGEX, RAW_SCHEMAS, TIMESTAMP_FORMAT, TIMESTAMP_SHAPE, DatasetRules, is_sensitive,
)
from ingestion.core.warehouse import Connection, Warehouse

RAW_SCHEMA = "raw_isams"  # the default schema of a DatasetRules; every schema validated is in RAW_SCHEMAS
ROW = "_row"  # synthetic row number: the only thing GX reports about a failing row
META_COLUMNS = ("school_code", "_dlt_load_id", "_dlt_id")
SITE_NAME = "schoolwh"
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
    "exclude_unexpected_values": True,  # ids only: no values in results or Data Docs
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class Check:
    """One rule of one dataset, as run: its stable name, kind and the column(s) it reads."""

    rule: str  # e.g. "accepted:registered"; part of the quarantine key
    kind: str  # not_null | integer | timestamp | accepted | pattern | range | unique | ordered
    column: str
    other: str | None = None  # ordered: the earlier column
    allowed: tuple[str, ...] = ()
    regex: str = ""  # pattern: the regex the text must match
    shape: str = ""  # pattern: what the text should look like; timestamp: the date shape (e.g. YYYY-MM-DD)
    date_format: str = TIMESTAMP_FORMAT  # timestamp: the schema's strftime format
    bounds: tuple[date, date] | None = None
    column_absent: bool = False  # the table has no such column at all


@dataclass(frozen=True)
class DatasetResult:
    school_code: str
    dataset: str
    rows_checked: int
    rows_failed: int
    failed_rules: dict[str, int]  # rule -> rows failing it


@dataclass
class ValidationReport:
    run_id: str
    results: list[DatasetResult] = field(default_factory=list)
    quarantined: int = 0  # quarantine rows written by this run (reruns add none)
    docs_index: Path | None = None
    seconds: float = 0.0
    # raw tables with no rules (nested/dlt tables); other schemas than raw_isams qualified (raw_seemis._dlt_loads)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.rows_failed == 0 for r in self.results)

    @property
    def rows_checked(self) -> int:
        return sum(r.rows_checked for r in self.results)

    @property
    def rows_failed(self) -> int:
        return sum(r.rows_failed for r in self.results)

    def summary(self) -> str:
        head = (f"validation {self.run_id}: {self.rows_checked:,} rows checked, {self.rows_failed:,} failed "
                f"in {self.seconds:.1f}s" + (f"; docs {self.docs_index}" if self.docs_index else ""))
        lines = [head] + [
            f"  {r.school_code} {r.dataset}: {r.rows_failed}/{r.rows_checked} failed ("
            + ", ".join(f"{k} x{n}" for k, n in sorted(r.failed_rules.items())) + ")"
            for r in self.results if r.rows_failed
        ]
        return "\n".join(lines)

    def table(self) -> Any:
        """A rich table: one line per school and dataset checked."""
        from rich.table import Table

        grid = Table(title=f"Landing validation · run {self.run_id}")
        for name, justify in (("school", "left"), ("dataset", "left"), ("checked", "right"),
                              ("failed", "right"), ("failed rules", "left")):
            grid.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in self.results:
            failed = f"[red]{r.rows_failed:,}[/]" if r.rows_failed else "0"
            rules = ", ".join(f"{k} x{n}" for k, n in sorted(r.failed_rules.items()))
            grid.add_row(r.school_code, r.dataset, f"{r.rows_checked:,}", failed, rules)
        return grid


# ---------------------------------------------------------------- frames


def _raw_columns(con: Connection, schema: str = RAW_SCHEMA) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ? "
        "order by table_name, ordinal_position", [schema],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def _frame_sql(rules: DatasetRules, columns: list[str], scoped: bool) -> str:
    """Current rows (of the scoped loads, listed in temp table ``_scope_loads``) as text. With a scope, current
    rows from earlier loads that share a unique value with a scoped row come too, so a duplicate against an
    unchanged scd2 row is still seen.

    Linear on both backends: the scope is a join on load id and each "shares a unique value" is an equi-join
    on (school_code, value) against the distinct values of the scoped rows, combined with ``union`` (which
    also removes a row reached twice). No correlated ``exists ... or ...``: PostgreSQL plans that as a
    nested loop, quadratic in the register table."""
    q = lambda c: '"' + c.replace('"', '""') + '"'  # noqa: E731
    keep = [c for c in columns if c not in ("_dlt_valid_from", "_dlt_valid_to")]
    select = ", ".join(f"cast(c.{q(c)} as varchar) as {q(c)}" for c in keep)
    current = "_dlt_valid_to is null" if rules.scd2 and "_dlt_valid_to" in columns else "true"
    table = f"{rules.schema}.{q(rules.name)}"
    keys = ["school_code"] + ([rules.key] if rules.key in columns else [])
    if not scoped:
        return f"select {select} from {table} c where {current} order by {', '.join('c.' + q(k) for k in keys)}"
    order = f"order by {', '.join(q(k) for k in keys)}"
    parts = [f"select {select} from cur c join _scope_loads l on l.load_id = c._dlt_load_id"]
    for u in rules.unique_columns:
        if u in columns and u != "school_code":  # unique per school: school_code itself has nothing to pull in
            parts.append(
                f"select {select} from cur c join (select distinct school_code, {q(u)} from scope) k "
                f"on k.school_code = c.school_code and k.{q(u)} = c.{q(u)}"
            )
    return (
        f"with cur as (select * from {table} where {current}), "
        f"scope as (select cur.* from cur join _scope_loads l on l.load_id = cur._dlt_load_id) "
        f"select * from ({' union '.join(parts)}) as framed {order}"
    )


def _parsed(column: str) -> str:
    return f"{column}__as_timestamp"


def _verdict(check: Check) -> str:
    """The boolean column a timestamp or range check reads (see :func:`derive_verdicts`)."""
    return f"{check.column}__{check.kind}_ok"


def derive_verdicts(frame: pd.DataFrame, checks: list[Check]) -> None:
    """Vectorised verdicts for the timestamp and range checks, as boolean columns GX then checks are all true.

    GX's own expectations for these (strftime format, between) call Python per row: measured, they were
    most of a night's validation time on the register table (~9 M rows a year). The same verdicts from the
    parsed column ``load_frame`` built (``pd.to_datetime`` with the schema's format, unparseable text NaT):
    a value passes ``timestamp`` when it is null or parsed, and ``range`` when it did not parse (the
    timestamp check reports that) or lies inside the bounds (the upper day included)."""
    for check in checks:
        if check.kind not in ("timestamp", "range") or check.column not in frame.columns:
            continue
        parsed = frame[_parsed(check.column)]
        if check.kind == "timestamp":
            frame[_verdict(check)] = frame[check.column].isna().to_numpy() | parsed.notna().to_numpy()
        else:
            lo, hi = check.bounds  # type: ignore[misc]
            inside = (parsed >= pd.Timestamp(lo)) & (parsed < pd.Timestamp(hi) + pd.Timedelta(days=1))
            frame[_verdict(check)] = parsed.isna().to_numpy() | inside.fillna(False).to_numpy(dtype=bool)


def _scope(con: Connection, load_ids: set[str]) -> None:
    """The loads to validate, as temp table ``_scope_loads`` (portable; no list parameters)."""
    con.execute("drop table if exists _scope_loads")
    con.execute("create temp table _scope_loads (load_id varchar)")
    if load_ids:
        con.executemany("insert into _scope_loads values (?)", [(i,) for i in sorted(load_ids)])


def load_frame(
    con: Connection, rules: DatasetRules, columns: list[str], load_ids: set[str] | None
) -> pd.DataFrame:
    """The rows to check, with every required column present (absent ones all-null) and parsed dates."""
    if load_ids is not None:
        _scope(con, load_ids)
    frame = con.frame(_frame_sql(rules, columns, load_ids is not None))
    for column in rules.required_columns:
        if column not in frame.columns:
            frame[column] = pd.Series([pd.NA] * len(frame), dtype="string")
    frame[ROW] = np.arange(len(frame), dtype="int64")
    for column in rules.timestamps:
        if column in frame.columns:  # nulls and unparseable text become NaT: the range check skips them
            frame[_parsed(column)] = pd.to_datetime(frame[column], format=rules.date_format, errors="coerce")
    return frame


# ---------------------------------------------------------------- rules -> checks -> GX expectations


def checks_for(rules: DatasetRules, columns: Iterable[str], today: date) -> list[Check]:
    """The checks that apply to a table with ``columns`` (absent optional columns have none)."""
    present = set(columns)
    out = [Check(f"not_null:{c}", "not_null", c, column_absent=c not in present) for c in rules.required_columns]
    if not rules.typed:
        out += [Check(f"integer:{c}", "integer", c) for c in rules.integers if c in present]
        out += [Check(f"timestamp:{c}", "timestamp", c, shape=rules.date_shape, date_format=rules.date_format)
                for c in rules.timestamps if c in present]
        out += [Check(f"accepted:{c}", "accepted", c, allowed=v) for c, v in rules.accepted.items() if c in present]
        out += [Check(f"pattern:{c}", "pattern", c, regex=regex, shape=shape)
                for c, (regex, shape) in rules.patterns.items() if c in present]
        out += [
            Check(f"range:{c}", "range", c, bounds=(r.first(today), r.latest(today)))
            for c, r in rules.ranges.items() if c in present
        ]
        out += [
            Check(f"ordered:{a}<={b}", "ordered", b, other=a)
            for a, b in rules.ordered if a in present and b in present
        ]
    # unique per school: a table keyed by school_code alone (raw_seemis.schools) has one row per school already
    out += [Check(f"unique:{c}", "unique", c) for c in rules.unique_columns if c in present and c != "school_code"]
    return out


def expectation(check: Check) -> Any:
    """The GX expectation for one check; its rule name rides in ``meta`` to map results back."""
    import great_expectations.expectations as gxe

    meta = {"rule": check.rule}
    if check.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=check.column, meta=meta)
    if check.kind == "integer":
        return gxe.ExpectColumnValuesToMatchRegex(column=check.column, regex=INTEGER_REGEX, meta=meta)
    if check.kind in ("timestamp", "range"):  # verdicts worked out by derive_verdicts
        return gxe.ExpectColumnValuesToBeInSet(column=_verdict(check), value_set=[True], meta=meta)
    if check.kind == "accepted":
        return gxe.ExpectColumnValuesToBeInSet(column=check.column, value_set=list(check.allowed), meta=meta)
    if check.kind == "pattern":
        return gxe.ExpectColumnValuesToMatchRegex(column=check.column, regex=check.regex, meta=meta)
    if check.kind == "ordered":
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=_parsed(check.column), column_B=_parsed(check.other or ""), or_equal=True,
            ignore_row_if="either_value_is_missing", meta=meta)
    if check.kind == "unique":  # per school: the frame holds every school of the dataset
        return gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["school_code", check.column], ignore_row_if="any_value_is_missing", meta=meta)
    raise ValueError(f"unknown check kind {check.kind}")


def _shown(column: str, value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "empty"
    return "a withheld value (personal data)" if is_sensitive(column) else f"'{value}'"


def reason(check: Check, row: pd.Series, duplicates: int = 0) -> str:
    """A sentence a school data manager can act on."""
    c, value = check.column, row.get(check.column)
    if check.kind == "not_null":
        why = " (no school has ever sent this column)" if check.column_absent else ""
        return f"{c} is missing{why}"
    if check.kind == "integer":
        return f"{c} is {_shown(c, value)}, expected a whole number"
    if check.kind == "timestamp":
        shape = check.shape or TIMESTAMP_SHAPE
        what = "a date-time" if "HH" in shape else "a date"
        return f"{c} is {_shown(c, value)}, expected {what} like {shape}"
    if check.kind == "accepted":
        allowed = [f"'{v}'" for v in check.allowed]
        expected = " or ".join(allowed) if len(allowed) <= 2 else "one of " + ", ".join(allowed)
        return f"{c} is {_shown(c, value)}, expected {expected}"
    if check.kind == "pattern":
        return f"{c} is {_shown(c, value)}, expected {check.shape}"
    if check.kind == "range":
        lo, hi = check.bounds  # type: ignore[misc]
        return f"{c} is {_shown(c, value)}, outside the sane range {lo}..{hi}"
    if check.kind == "ordered":
        a = check.other or ""
        return f"{c} {_shown(c, value)} is before {a} {_shown(a, row.get(a))}"
    return f"{c} {_shown(c, value)} is on {duplicates} current rows of school {row.get('school_code')}"


# ---------------------------------------------------------------- GX


def _context(docs_dir: Path) -> Any:
    """An ephemeral GX context whose only Data Docs site is ``docs_dir``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(ctx.get_site_names()):
        ctx.delete_data_docs_site(site)
    ctx.add_data_docs_site(site_name=SITE_NAME, site_config={
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
    })
    return ctx


def _failing_rows(index_list: list[dict]) -> list[int]:
    """``_row`` numbers from ``unexpected_index_list``: one dict of lists with ``exclude_unexpected_values``,
    else one dict per row."""
    out: list[int] = []
    for entry in index_list:
        value = entry[ROW]
        out += [int(i) for i in value] if isinstance(value, (list, tuple)) else [int(value)]
    return out


def run_suite(
    ctx: Any, dataset: str, checks: list[Check], frame: pd.DataFrame, run_id: str, schema: str = RAW_SCHEMA,
) -> dict[str, list[int]]:
    """Run suite ``<schema>.<dataset>`` on ``frame``; return rule -> failing ``_row`` numbers."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    source = ctx.data_sources.add_or_update_pandas(schema)
    batch = source.add_dataframe_asset(dataset).add_batch_definition_whole_dataframe("current_load")
    suite = ctx.suites.add(gx.ExpectationSuite(name=f"{schema}.{dataset}"))
    derive_verdicts(frame, checks)
    for check in checks:
        suite.add_expectation(expectation(check))
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{schema}.{dataset}", data=batch, suite=suite))
    result = definition.run(
        batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=run_id))
    failures: dict[str, list[int]] = {}
    for r in result.results:
        rule = r.expectation_config.meta["rule"]
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX could not evaluate {schema}.{dataset} {rule}: {r.exception_info.get('exception_message')}")
        if not r.success:
            failures[rule] = _failing_rows(r.result.get("unexpected_index_list") or [])
    return failures


# ---------------------------------------------------------------- orchestration


def _record_id(row: pd.Series, key: str) -> str:
    value = row.get(key)
    if value is not None and not pd.isna(value):
        return str(value)
    return f"_dlt_id={row.get('_dlt_id')}"  # a keyless row still needs a stable id (see quarantine.VIEW)


def quarantine_rows(
    rules: DatasetRules, checks: list[Check], frame: pd.DataFrame, failures: dict[str, list[int]],
    run_id: str, now: datetime,
) -> list[tuple]:
    by_rule = {c.rule: c for c in checks}
    out = []
    for rule, rows in failures.items():
        check = by_rule[rule]
        dup_counts = (frame.groupby(["school_code", check.column], dropna=True).size()
                      if check.kind == "unique" else None)
        for i in rows:
            row = frame.iloc[i]
            n = int(dup_counts.get((row["school_code"], row[check.column]), 0)) if dup_counts is not None else 0
            out.append((run_id, row["school_code"], rules.name, _record_id(row, rules.key), rule,
                        reason(check, row, n), row["_dlt_load_id"], now))
    return out


def per_school(dataset: str, frame: pd.DataFrame, failures: dict[str, list[int]]) -> list[DatasetResult]:
    schools = frame["school_code"].to_numpy()
    failed_rows: dict[str, set[int]] = {}
    rule_counts: dict[str, dict[str, int]] = {}
    for rule, rows in failures.items():
        for i in rows:
            school = str(schools[i])
            failed_rows.setdefault(school, set()).add(i)
            rule_counts.setdefault(school, {}).setdefault(rule, 0)
            rule_counts[school][rule] += 1
    checked = frame.groupby("school_code").size()
    return [
        DatasetResult(str(s), dataset, int(n), len(failed_rows.get(str(s), ())), rule_counts.get(str(s), {}))
        for s, n in checked.items()
    ]


def validate_landed(
    warehouse: Warehouse,
    run_id: str,
    *,
    load_ids: set[str] | None = None,
    docs_dir: Path | None = None,
    today: date,
) -> ValidationReport:
    """Validate the current rows of ``load_ids`` (None: all current rows) of every raw schema with rules
    (``rules.RAW_SCHEMAS``), quarantine failures, build docs.

    Opens the warehouse for writing (ops.quarantine), so run it when dlt and dbt are not running.
    """
    started = time.monotonic()
    docs_dir = docs_dir or warehouse.local_dir / "gx_docs"
    report = ValidationReport(run_id)
    with warehouse.connect() as con:
        quarantine.ensure(con)
        work: list[tuple[DatasetRules, list[str]]] = []
        for schema in RAW_SCHEMAS:
            tables = _raw_columns(con, schema)
            named = {r.name for r in ALL_RULES if r.schema == schema}
            prefix = "" if schema == RAW_SCHEMA else f"{schema}."
            report.skipped += sorted(prefix + t for t in tables if t not in named)
            work += [(r, tables[r.name]) for r in ALL_RULES if r.schema == schema and r.name in tables]
        frames = [(r, cols, load_frame(con, r, cols, load_ids)) for r, cols in work]
        frames = [(r, cols, f) for r, cols, f in frames if len(f)]
        ctx = _context(docs_dir) if frames else None
        now, rows = datetime.now(), []
        for rules, columns, frame in frames:
            checks = checks_for(rules, columns, today)
            failures = run_suite(ctx, rules.name, checks, frame, run_id, rules.schema)
            rows += quarantine_rows(rules, checks, frame, failures, run_id, now)
            report.results += per_school(rules.name, frame, failures)
        report.quarantined = quarantine.record(con, rows)
        quarantine.create_view(con, {(r.schema, r.name): r for r, _ in work},
                               {(r.schema, r.name): cols for r, cols in work})
    if ctx is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        ctx.build_data_docs(site_names=[SITE_NAME])
        report.docs_index = docs_dir / "index.html"
    report.results.sort(key=lambda r: (r.school_code, r.dataset))
    report.seconds = time.monotonic() - started
    return report


def load_ids_since(warehouse: Warehouse, since: datetime) -> set[str]:
    """The dlt loads completed at or after ``since`` (the loads of a run that started then), in every raw
    schema (each has its own ``_dlt_loads``)."""
    out: set[str] = set()
    with warehouse.connect(read_only=True) as con:
        for schema in RAW_SCHEMAS:
            if not con.table_exists(schema, "_dlt_loads"):
                continue
            rows = con.execute(
                f"select load_id from {schema}._dlt_loads where status = 0 and inserted_at >= ?",
                [since.astimezone()],
            ).fetchall()
            out |= {r[0] for r in rows}
    return out
