"""The run lock (ingestion/app/runlock.py): who holds it, what a killed run leaves, and DuckDB's single writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.app import runlock
from ingestion.core.warehouse import Warehouse
from ingestion.app.runlock import LockRecord, RunAborted, RunLock, WarehouseInUse, WarehouseLocked, alive, start_time

SCHOOLWH = Path(sys.executable).parent / "schoolwh"


def _sleeper() -> subprocess.Popen:
    """A stand-in for a dbt process left running: its own process group, like runlock.spawn starts dbt."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_record(warehouse: Path, **record) -> None:
    warehouse.with_name(warehouse.name + ".lock").write_text(json.dumps(record))


def test_alive_knows_a_recycled_pid_from_the_process_it_recorded() -> None:
    me = os.getpid()
    assert alive(me) and alive(me, start_time(me))
    assert not alive(me, "1")  # same pid, another start time: not the process the lock file named
    assert not alive(_dead_pid())


def test_lock_file_of_an_older_version_or_garbage_is_read_safely() -> None:
    assert LockRecord.parse("1234\n") == LockRecord(pid=1234)
    assert LockRecord.parse("") is None and LockRecord.parse("{not json") is None


def test_a_live_run_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with RunLock(Warehouse.duckdb(warehouse), command="nightly", schools=["AAA"]) as first:
        first.set_phase("build")
        code = (f"from ingestion.app.runlock import RunLock\nfrom ingestion.core.warehouse import Warehouse\n"
                f"RunLock(Warehouse.duckdb({str(warehouse)!r})).__enter__()")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert "WarehouseLocked" in result.stderr and "schoolwh nightly" in result.stderr
        assert f"pid {os.getpid()}" in result.stderr and "dbt build" in result.stderr
    assert warehouse.with_name("w.duckdb.lock").read_text() == ""  # released and cleaned


def test_a_killed_runs_leftover_child_is_stopped_and_the_run_logged(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    leftover = _sleeper()
    try:
        _write_record(warehouse, pid=_dead_pid(), run_id="killedrun001", command="nightly",
                      started_at=datetime.now().isoformat(timespec="seconds"), phase="build",
                      schools=["AAA", "BBB"], children=[[leftover.pid, start_time(leftover.pid), "dbt build"]])
        notes: list[str] = []
        with RunLock(Warehouse.duckdb(warehouse), command="nightly", notify=notes.append) as lock:
            assert lock.stale is not None and lock.stale.record.run_id == "killedrun001"
            assert leftover.poll() is not None  # stopped before this run did anything
        assert any("left dbt build running" in n for n in notes)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("select school_code, dataset, outcome, error from ops.run_log "
                               "where run_id = 'killedrun001' order by 1").fetchall()
        assert [r[:3] for r in rows] == [("AAA", "*", "aborted"), ("BBB", "*", "aborted")]
        assert "killed during dbt build" in rows[0][3]
    finally:
        leftover.kill()


def test_a_child_holding_the_inherited_lock_is_stopped_once_its_run_is_dead(tmp_path: Path) -> None:
    """The SIGKILL case: dbt inherited the locked descriptor, so the lock is still held after its run died."""
    warehouse = tmp_path / "w.duckdb"
    script = (
        "import sys, time\nfrom ingestion.app import runlock\nfrom ingestion.core.warehouse import Warehouse\n"
        f"lock = runlock.RunLock(Warehouse.duckdb({str(warehouse)!r}), command='nightly', schools=['AAA']).__enter__()\n"
        "lock.set_phase('build')\n"
        "with runlock.spawn([sys.executable, '-c', 'import time; time.sleep(120)'], what='dbt build') as p:\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    child_start = start_time(child)
    parent.kill()
    parent.wait()
    assert alive(child, child_start)
    with RunLock(Warehouse.duckdb(warehouse), command="nightly", notify=lambda m: None) as lock:
        assert not alive(child, child_start)
        assert lock.stale is not None and lock.stale.stopped == [f"dbt build (pid {child})"]


def test_sigterm_stops_the_child_group_and_raises_run_aborted(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(RunAborted) as caught:
        with RunLock(Warehouse.duckdb(warehouse), command="ingest", schools=["AAA"]) as lock:
            lock.set_phase("build")
            with runlock.spawn([sys.executable, "-c", "import time; time.sleep(120)"], what="dbt build") as proc:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises before this ends
    assert caught.value.exit_code == 143 and "SIGTERM during dbt build" in str(caught.value)
    assert proc.poll() is not None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select outcome from ops.run_log").fetchall() == [("aborted",)]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_signal_dlt_turned_into_an_exception_still_aborts_the_run() -> None:
    from dlt.common.exceptions import SignalReceivedException

    try:
        try:
            raise SignalReceivedException(signal.SIGTERM)
        except BaseException as inner:
            raise RuntimeError("school AAA: loading failed") from inner
    except RuntimeError as exc:
        with pytest.raises(RunAborted) as caught:
            runlock.raise_if_signalled(exc)
    assert caught.value.signum == signal.SIGTERM
    runlock.raise_if_signalled(RuntimeError("an ordinary failure"))  # does not raise


def test_duckdb_held_by_another_process_is_exit_4_with_a_clear_message(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
                                                     "print('open', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseInUse) as caught:
            RunLock(Warehouse.duckdb(warehouse), busy_wait=0.5).__enter__()
        assert f"process {holder.pid}" in str(caught.value) and "read-only" in str(caught.value)
        assert isinstance(caught.value, WarehouseLocked)
        env = {**os.environ, "SCHOOLWH_WAREHOUSE": str(warehouse)}
        # a killed run's record survives a start that was refused, so the next start still logs it
        _write_record(warehouse, pid=_dead_pid(), run_id="killedrun002", command="nightly", schools=["AAA"])
        with pytest.raises(WarehouseInUse):
            RunLock(Warehouse.duckdb(warehouse), busy_wait=0.2).__enter__()
        assert json.loads(warehouse.with_name("w.duckdb.lock").read_text())["run_id"] == "killedrun002"
        result = subprocess.run([str(SCHOOLWH), "status"], env=env, capture_output=True, text=True, timeout=120)
        out = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 4, out
        assert "Traceback" not in out and "Warehouse in use" in out and f"process {holder.pid}" in out
        # a command that takes the run lock waits a little for the other writer, then says the same
        result = subprocess.run([str(SCHOOLWH), "docs"], env=env, capture_output=True, text=True, timeout=120)
        out = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 4, out
        assert "Traceback" not in out and "Warehouse in use" in out and f"process {holder.pid}" in out
    finally:
        holder.kill()
        holder.wait()
