"""ops.register_reloads: what ingestion re-read is rebuilt by the next build that runs both attendance models."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from ingestion.ops import reloads
from ingestion.core.warehouse import Warehouse


def test_windows_are_pending_until_a_build_that_started_after_them(tmp_path):
    wh = Warehouse.duckdb(tmp_path / "wh.duckdb")
    assert reloads.pending_from(wh) is None  # no table yet: nothing pending
    reloads.record(wh, "r1", "NHS", [(date(2025, 10, 20), date(2025, 11, 3)), (date(2025, 11, 3), date(2025, 11, 11))])
    reloads.record(wh, "r1", "ELM", [])  # a school that re-read nothing records nothing
    assert reloads.pending_from(wh) == date(2025, 10, 20)
    with wh.connect(read_only=True) as con:
        assert con.execute("select school_code, from_date, to_date from ops.register_reloads").fetchall() == [
            ("NHS", date(2025, 10, 20), date(2025, 11, 10))]  # windows are [start, end): the last day is inclusive
    reloads.mark_built(wh, datetime.now() - timedelta(hours=1))  # a build that started before the record
    assert reloads.pending_from(wh) == date(2025, 10, 20)
    reloads.mark_built(wh, datetime.now())
    assert reloads.pending_from(wh) is None


def test_a_build_consumes_them_only_when_both_incremental_models_succeeded():
    assert reloads.INCREMENTAL_MODELS == {"model.schoolwh.attendance_sessions", "model.schoolwh.fct_attendance_session"}
