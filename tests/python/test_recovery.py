"""Recovery: the real ``schoolwh ingest`` killed mid-run, or started twice, against the in-process sandbox.

A clean single run into a fresh warehouse is the reference; every scenario must end with exactly its
counts. Requests can be held at the sandbox (``GatedPlan``) so a kill or a second run lands at a known
point without sleeping blindly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.core.warehouse import Warehouse
from ingestion.app.demo import write_sandbox_config
from ingestion.app.pipeline import pipelines_dir
from ingestion.sandbox.faults import FaultPlan
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2026, 11, 20)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
REGISTERS = "registration_statuses"
ARGS = ["--today", TODAY.isoformat(), "--register-start", (TODAY - timedelta(days=27)).isoformat(),
        "--window-days", "7"]  # 4 register windows per school


@dataclass
class GatedPlan(FaultPlan):
    """A fault plan that holds matching requests at the sandbox until ``gate`` is set (then answers normally)."""

    gate: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)  # set once a request is being held

    def matches(self, school_code: str | None, datasets: list[str]) -> bool:
        hit = super().matches(school_code, datasets)
        if hit and not self.gate.is_set():
            self.held.set()
            self.gate.wait(timeout=120)
        return hit


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("recovery")
    group = generate_group(seed=5, n_schools=2, pupils_per_school=20, today=TODAY)
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config")
        env = {**os.environ, **secrets}
        reference = root / "reference" / "w.duckdb"
        done = _ingest(schools_file, env, reference).wait(timeout=300)
        assert done == 0
        yield {"server": server, "group": group, "schools_file": schools_file, "env": env,
               "reference": _counts(reference)}


@pytest.fixture
def server(sandbox):
    yield sandbox["server"]
    plan = sandbox["server"].faults
    if isinstance(plan, GatedPlan):
        plan.gate.set()  # never leave a handler thread waiting
    sandbox["server"].faults = FaultPlan()


def _ingest(schools_file: Path, env: dict, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCHOOLWH), "ingest", "--schools", str(schools_file), *ARGS],
        env={**env, "SCHOOLWH_WAREHOUSE": str(warehouse)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


def _counts(warehouse: Path) -> dict[tuple[str, str], int]:
    """Rows per (raw table, school): root and nested tables alike (nested ones carry school_code too)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_isams' "
            "and table_name not like '\\_dlt%' escape '\\'").fetchall()]
        out = {}
        for t in tables:
            for code, n in con.execute(f'select school_code, count(*) from raw_isams."{t}" group by 1').fetchall():
                out[(t, code)] = n
        return out


def _wait_until(condition, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"schoolwh ended before {what}: {proc.communicate()[0][-3000:]}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.002)


def _assert_consistent(sandbox: dict, warehouse: Path) -> None:
    assert _counts(warehouse) == sandbox["reference"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from (select school_code, id from raw_isams.registration_statuses "
            "group by 1, 2 having count(*) > 1)").fetchall() == [(0,)]
    import dlt

    for school in sandbox["group"].schools:
        pipeline = dlt.attach(f"isams_{school.code.lower()}", pipelines_dir=str(pipelines_dir(Warehouse.duckdb(warehouse))))
        assert not pipeline.has_pending_data, school.code
        assert pipeline.list_extracted_load_packages() == [] and pipeline.list_normalized_load_packages() == []


def _load_started(warehouse: Path, code: str) -> bool:
    """A normalized package of ``code`` is waiting for or in the load step."""
    folder = pipelines_dir(Warehouse.duckdb(warehouse)) / f"isams_{code.lower()}" / "load" / "normalized"
    return folder.is_dir() and any(folder.iterdir())


def test_sigkill_mid_run_then_rerun_is_consistent(sandbox: dict, server: SandboxServer, tmp_path: Path) -> None:
    first, second = (s.code for s in sandbox["group"].schools)
    warehouse = tmp_path / "wh" / "w.duckdb"
    plan = GatedPlan(school=second, dataset=REGISTERS)  # the run cannot finish before the kill
    server.faults = plan
    proc = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    # kill while the first school's package is in dlt's load step; should the poll miss that short step,
    # at the latest while the second school is fetching registers (first school loaded, second half-extracted)
    _wait_until(lambda: _load_started(warehouse, first) or plan.held.is_set(), proc, "a load to start")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    plan.gate.set()

    server.faults = FaultPlan()
    rerun = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    out = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, out[-3000:]
    _assert_consistent(sandbox, warehouse)


def test_second_run_is_refused_while_the_first_holds_the_lock(sandbox: dict, server: SandboxServer,
                                                              tmp_path: Path) -> None:
    warehouse = tmp_path / "wh" / "w.duckdb"
    plan = GatedPlan(dataset=REGISTERS)  # the first run waits at its first register request
    server.faults = plan
    first = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    _wait_until(plan.held.is_set, first, "the first run to be fetching")

    second = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    out = second.communicate(timeout=120)[0]
    assert second.returncode == 4, out[-3000:]
    assert "Locked" in out and "w.duckdb.lock" in "".join(out.split()), out
    assert first.poll() is None  # still held at the sandbox: the refusal did not disturb it

    plan.gate.set()
    out = first.communicate(timeout=300)[0]
    assert first.returncode == 0, out[-3000:]
    _assert_consistent(sandbox, warehouse)


def test_sigterm_during_ingestion_exits_143_logs_the_run_and_the_rerun_is_consistent(
    sandbox: dict, server: SandboxServer, tmp_path: Path
) -> None:
    first, second = (s.code for s in sandbox["group"].schools)
    warehouse = tmp_path / "wh" / "w.duckdb"
    plan = GatedPlan(school=second, dataset=REGISTERS)  # the first school has loaded, the second is fetching
    server.faults = plan
    proc = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    _wait_until(plan.held.is_set, proc, "the second school to be fetching")
    os.kill(proc.pid, signal.SIGTERM)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, out[-3000:]
    assert "Traceback" not in out and "Aborted: stopped by SIGTERM during ingestion" in " ".join(out.split())
    plan.gate.set()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select school_code, dataset, outcome from ops.run_log").fetchall()
    # the school that finished is logged as it loaded (every dataset ok), then the run as aborted for both
    assert {(c, o) for c, d, o in rows if d == "*"} == {(first, "ok"), (first, "aborted"), (second, "aborted")}
    assert {o for c, d, o in rows if c == first and d != "*"} == {"ok"}
    assert warehouse.with_name(warehouse.name + ".lock").read_text() == ""  # cleaned up

    server.faults = FaultPlan()
    rerun = _ingest(sandbox["schools_file"], sandbox["env"], warehouse)
    out = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, out[-3000:]
    assert "ended without finishing" not in out
    _assert_consistent(sandbox, warehouse)


# --- a nightly killed in each phase, rerun at once --------------------------------------------------------
def _nightly(schools_file: Path, env: dict, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(SCHOOLWH), "nightly", "--schools", str(schools_file), *ARGS],
        env={**env, "SCHOOLWH_WAREHOUSE": str(warehouse)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted (text, so that rows of mixed types sort)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        return {t: sorted(tuple(map(str, r)) for r in con.execute(f'select * from marts."{t}"').fetchall())
                for t in tables}


def _lock_record(warehouse: Path) -> dict:
    import json

    try:
        return json.loads(warehouse.with_name(warehouse.name + ".lock").read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _in_phase(warehouse: Path, phase: str, child: bool = False) -> bool:
    record = _lock_record(warehouse)
    return record.get("phase") == phase and (not child or bool(record.get("children")))


def _dbt_log_has_started_a_node(warehouse: Path, offset: int) -> bool:
    log = warehouse.parent / "dbt" / "logs" / "dbt.log"
    if not log.exists():
        return False
    with open(log, "rb") as handle:
        handle.seek(offset)
        return b" START " in handle.read()


def _finish(proc: subprocess.Popen) -> str:
    """The run's output with line wrapping undone; never a traceback."""
    out = proc.communicate(timeout=300)[0]
    assert "Traceback" not in out, out[-4000:]
    print(out)
    return " ".join(out.split())


@pytest.fixture(scope="module")
def clean_nightly(sandbox, tmp_path_factory) -> dict[str, list[tuple]]:
    """The marts of one clean nightly into a fresh warehouse: what every recovery must end with."""
    warehouse = tmp_path_factory.mktemp("clean") / "w.duckdb"
    proc = _nightly(sandbox["schools_file"], sandbox["env"], warehouse)
    out = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, out[-4000:]
    return _marts(warehouse)


def test_nightly_killed_in_every_phase_recovers_with_nothing_left_running(
    sandbox: dict, server: SandboxServer, clean_nightly: dict, tmp_path: Path
) -> None:
    from ingestion.app.runlock import alive

    schools_file, env = sandbox["schools_file"], sandbox["env"]
    codes = sorted(s.code for s in sandbox["group"].schools)
    warehouse = tmp_path / "wh" / "w.duckdb"
    killed: dict[str, str] = {}  # phase -> run id

    # 1. SIGKILL during ingestion (the second school's registers are held at the sandbox)
    plan = GatedPlan(school=codes[1], dataset=REGISTERS)
    server.faults = plan
    proc = _nightly(schools_file, env, warehouse)
    _wait_until(plan.held.is_set, proc, "ingestion")
    killed["ingestion"] = _lock_record(warehouse)["run_id"]
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    plan.gate.set()
    server.faults = FaultPlan()

    # 2. rerun at once; Ctrl-C (SIGINT) during validation: exit 130, logged as aborted
    proc = _nightly(schools_file, env, warehouse)
    _wait_until(lambda: _in_phase(warehouse, "validation"), proc, "validation")
    killed["validation"] = _lock_record(warehouse)["run_id"]
    os.kill(proc.pid, signal.SIGINT)
    out = _finish(proc)
    assert proc.returncode == 130, out[-4000:]
    assert "ended without finishing" in out and "Aborted" in out and "validation" in out

    # 3. rerun at once; SIGKILL once dbt build is running nodes: the dbt process survives its parent
    log = warehouse.parent / "dbt" / "logs" / "dbt.log"
    offset = log.stat().st_size if log.exists() else 0
    proc = _nightly(schools_file, env, warehouse)
    _wait_until(lambda: _in_phase(warehouse, "build", child=True) and _dbt_log_has_started_a_node(warehouse, offset),
                proc, "dbt build", timeout=300)
    record = _lock_record(warehouse)
    killed["build"] = record["run_id"]
    orphan_pid, orphan_start, _ = record["children"][0]
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert alive(orphan_pid, orphan_start)  # the situation to recover from: dbt still writing the warehouse

    # 4. rerun at once: stops the leftover dbt, then SIGTERM during docs: exit 143, its dbt docs stopped too
    proc = _nightly(schools_file, env, warehouse)
    _wait_until(lambda: _in_phase(warehouse, "docs", child=True), proc, "docs", timeout=600)
    record = _lock_record(warehouse)
    killed["docs"] = record["run_id"]
    docs_pid, docs_start, _ = record["children"][0]
    os.kill(proc.pid, signal.SIGTERM)
    out = _finish(proc)
    assert proc.returncode == 143, out[-4000:]
    assert f"left dbt build running (pid {orphan_pid})" in out
    assert not alive(orphan_pid, orphan_start) and not alive(docs_pid, docs_start)
    assert _lock_record(warehouse) == {}  # cleaned up: the next run finds nothing stale

    # 5. rerun at once: a normal, complete run
    proc = _nightly(schools_file, env, warehouse)
    out = _finish(proc)
    assert proc.returncode == 0, out[-4000:]
    assert "ended without finishing" not in out
    assert _marts(warehouse) == clean_nightly

    # the run log has every run: each interrupted one as aborted, per school, naming its phase
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for phase, run_id in killed.items():
            rows = con.execute("select school_code, error from ops.run_log where run_id = ? and outcome = 'aborted'",
                               [run_id]).fetchall()
            assert sorted(code for code, _ in rows) == codes, (phase, rows)
            label = {"build": "dbt build", "docs": "dbt docs generate"}.get(phase, phase)
            assert all(f"during {label}" in error for _, error in rows), (phase, rows)
        last = con.execute("select school_code, outcome from ops.run_log where dataset = '*' and finished_at = "
                           "(select max(finished_at) from ops.run_log)").fetchall()
    assert sorted(last) == [(c, "ok") for c in codes]
