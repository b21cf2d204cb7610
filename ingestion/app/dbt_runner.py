"""Run dbt against the warehouse as a subprocess and summarise what it did.

A subprocess (not dbt's in-process runner) keeps dbt's global logging and DuckDB's single-writer lock
out of the ingestion process, and lets us redact and filter its output line by line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ingestion.ops import pupil_key, reloads

from ingestion.app import runlock
from ingestion.ops.buildlog import NodeProblem, schools_named
from ingestion.core.redact import redact, register_secret
from ingestion.core.telemetry import QUIET_ENV
from ingestion.core.warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the repository root is the dbt project

# Telemetry off for every tool, whatever the caller's environment says; plain lines (they are filtered,
# redacted and logged).
DBT_ENV = {**QUIET_ENV, "DBT_USE_COLORS": "False"}
# Commands that execute models or unit tests, and so need the pupil-key secret in ops.pupil_key_secret.
EXECUTING = ("build", "run", "test")


@dataclass
class DbtResult:
    command: str
    returncode: int
    statuses: Counter = field(default_factory=Counter)  # node status -> count, from run_results.json
    failures: list[str] = field(default_factory=list)  # "test not_null_x: Got 3 results" lines
    warnings: list[str] = field(default_factory=list)  # warned tests, with the problems they stored
    tail: list[str] = field(default_factory=list)  # last output lines: the reason when dbt fails early
    problems: list[NodeProblem] = field(default_factory=list)  # failed/warned nodes and the schools they name
    succeeded: set[str] = field(default_factory=set)  # unique ids of the models built successfully

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def dbt_env(warehouse: Warehouse) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DBT_ENV)
    env.update(warehouse.dbt_env())
    env["DBT_PROFILES_DIR"] = str(PROJECT_DIR)
    return env


def _dbt_executable() -> list[str]:
    exe = Path(sys.executable).parent / "dbt"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dbt.cli.main"]


def artifacts_dir(warehouse: Warehouse) -> Path:
    """dbt's target and logs live beside their warehouse: runs on two warehouses never mix artifacts."""
    return warehouse.local_dir / "dbt"


def _stored(warehouse: Warehouse, relation: str | None, limit: int = 5) -> tuple[list[str], tuple[str, ...]]:
    """A failed test's stored failures: up to ``limit`` ``problem`` sentences (monitoring and data tests name
    the school there) and every school code they name."""
    if not relation:
        return [], ()
    try:
        with warehouse.connect(read_only=True) as con:
            columns = con.relation_columns(relation)
            sentences = (
                [r[0] for r in con.execute(f"select problem from {relation} limit {limit}").fetchall()]
                if "problem" in columns else []
            )
            return sentences, schools_named(con, relation)
    except Exception:  # the summary must never fail because a failure table cannot be read
        return [], ()


def _summarise(result: DbtResult, warehouse: Warehouse) -> None:
    path = artifacts_dir(warehouse) / "target" / "run_results.json"
    if not path.exists():
        return
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return
    for node in data.get("results", []):
        status = str(node.get("status"))
        result.statuses[status] += 1
        if status == "success":
            result.succeeded.add(str(node.get("unique_id")))
        if status in ("error", "fail", "runtime error", "warn"):
            unique_id = node.get("unique_id", "?")
            message = (node.get("message") or "").strip()
            # only a test's relation is its stored failures (a model's relation is the model itself)
            relation = node.get("relation_name") if unique_id.startswith("test.") else None
            sentences, schools = _stored(warehouse, relation)
            lines = [f"{unique_id.split('.', 2)[-1]}: {message}"] + [f"    {p}" for p in sentences]
            (result.warnings if status == "warn" else result.failures).append("\n".join(lines))
            result.problems.append(NodeProblem(unique_id, status, message, schools))


def run_dbt(
    args: Sequence[str],
    warehouse: Warehouse,
    *,
    echo: Callable[[str], None] | None = None,
    variables: dict[str, Any] | None = None,
) -> DbtResult:
    """Run ``dbt <args>`` in the project; ``echo`` receives each (redacted) output line.

    The warehouse's as-of date is passed to dbt as the var ``as_of_date`` (every model reads "today"
    through it: the incremental look-back, staleness, the current academic year), with ``variables`` in the
    same ``--vars`` (dbt reads one).
    """
    merged = {**(variables or {}), **({"as_of_date": warehouse.as_of.isoformat()} if warehouse.as_of else {})}
    if merged:
        args = [*args, "--vars", json.dumps(merged)]
    if warehouse.pg is not None:
        register_secret(warehouse.pg.password)  # dbt masks DBT_ENV_SECRET_* itself; this guards our echo too
    if args and args[0] in EXECUTING:
        pupil_key.store(warehouse)  # dbt reads it from the table, never from compiled SQL
        reloads.ensure(warehouse)  # attendance_lookback_start() reads it
    started = datetime.now()
    out = artifacts_dir(warehouse)
    (out / "target" / "run_results.json").unlink(missing_ok=True)  # never summarise a previous run
    cmd = [
        *_dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(out / "target"), "--log-path", str(out / "logs"),
    ]
    # its own process group, holding the run lock while it lives, stopped with the run (ingestion/app/runlock.py)
    with runlock.spawn(
        cmd, what=f"dbt {args[0] if args else ''}".strip(), cwd=PROJECT_DIR, env=dbt_env(warehouse),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        tail: deque[str] = deque(maxlen=30)
        for raw in proc.stdout:
            line = redact(raw.rstrip("\n"))
            tail.append(line)
            if echo:
                echo(line)
        result = DbtResult(command=" ".join(args), returncode=proc.wait(), tail=list(tail))
    if args and args[0] in ("build", "run", "test", "seed", "snapshot"):
        _summarise(result, warehouse)
    if reloads.INCREMENTAL_MODELS <= result.succeeded:
        reloads.mark_built(warehouse, started)  # what ingestion re-read before this build is in the marts
    if not result.ok and not result.failures:
        result.failures.append("dbt stopped before running any node:\n" + "\n".join(result.tail))
    return result
