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

from ingestion.demo import write_sandbox_config
from ingestion.nightly import pipelines_dir
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
        pipeline = dlt.attach(f"isams_{school.code.lower()}", pipelines_dir=str(pipelines_dir(warehouse)))
        assert not pipeline.has_pending_data, school.code
        assert pipeline.list_extracted_load_packages() == [] and pipeline.list_normalized_load_packages() == []


def _load_started(warehouse: Path, code: str) -> bool:
    """A normalized package of ``code`` is waiting for or in the load step."""
    folder = pipelines_dir(warehouse) / f"isams_{code.lower()}" / "load" / "normalized"
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
