"""Register windows re-read since the last build (``ops.register_reloads``): how far back dbt must rebuild.

Ingestion re-reads registers from ``lookback_days`` before each school's *last load*, so after a gap of a few
days (a half term, a failed night, a ``backfill``) it lands corrections older than dbt's own look-back
(``as_of_date - attendance_lookback_days``). Each school's re-read windows are recorded here; the incremental
attendance models rebuild from the earliest date not yet built (macro ``attendance_lookback_start``), and a
build in which both incremental attendance models succeeded marks the windows recorded before it started as
built. So whatever ingestion landed reaches the marts on the next good build, and an incremental build equals
a full refresh of the same raw data (found by the nightly simulation: a correction 15–21 days old, landed
after a week's gap, stayed out of the marts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from ingestion.core.warehouse import Warehouse

DDL = """
create schema if not exists ops;
create table if not exists ops.register_reloads (
    run_id varchar not null,
    school_code varchar not null,
    from_date date not null,           -- first register date re-read (inclusive)
    to_date date not null,             -- last register date re-read (inclusive)
    recorded_at timestamp not null,
    built_at timestamp                 -- null until a build rebuilt the attendance models over it
);
"""

# a build that ran both consumes the windows: both rebuild from attendance_lookback_start()
INCREMENTAL_MODELS = frozenset({"model.schoolwh.attendance_sessions", "model.schoolwh.fct_attendance_session"})


def ensure(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        con.execute(DDL)


def record(warehouse: Warehouse, run_id: str, school: str, windows: Iterable[tuple[date, date]]) -> None:
    """Record one school's re-read register windows (``[start, end)`` as ingestion reads them)."""
    windows = list(windows)
    if not windows:
        return
    first = min(start for start, _ in windows)
    last = max(end for _, end in windows) - timedelta(days=1)
    with warehouse.connect() as con:
        con.execute(DDL)
        con.execute("insert into ops.register_reloads values (?, ?, ?, ?, ?, null)",
                    [run_id, school, first, last, datetime.now()])


def mark_built(warehouse: Warehouse, started_at: datetime) -> None:
    """The windows recorded before a build that rebuilt both attendance models are built."""
    with warehouse.connect() as con:
        con.execute(DDL)
        con.execute("update ops.register_reloads set built_at = ? where built_at is null and recorded_at <= ?",
                    [datetime.now(), started_at])


def pending_from(warehouse: Warehouse) -> date | None:
    """The earliest register date re-read and not yet built (None when everything is built)."""
    if not warehouse.exists():
        return None
    with warehouse.connect(read_only=True) as con:
        if not con.table_exists("ops", "register_reloads"):
            return None
        value = con.execute("select min(from_date) from ops.register_reloads where built_at is null").fetchall()[0][0]
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value)[:10])
