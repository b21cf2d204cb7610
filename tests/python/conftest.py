"""Shared test helpers: the real iSAMS sample responses live outside the repository (../shared)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import ingestion  # noqa: F401  (importing the package switches telemetry off before any tool loads)

REPO = Path(__file__).resolve().parents[2]

# Unit-level modules: no warehouse build, no dbt, no PostgreSQL. `make test-fast` runs them (under a minute);
# `make test` runs everything. A module joins this list only if that stays true.
FAST_MODULES = frozenset({
    "test_architecture", "test_catalogue", "test_client", "test_config", "test_faults", "test_jsonnet", "test_portability", "test_quirks",
    "test_registers", "test_reloads", "test_runlock", "test_sandbox_server", "test_seemis_config", "test_seemis_exports", "test_seemis_sandbox", "test_synthetic",
})


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.stem in FAST_MODULES:
            item.add_marker(pytest.mark.fast)


def shared_fixtures() -> Path:
    """``$SCHOOLWH_SHARED_FIXTURES`` or ``../shared/fixtures/isams-batch-samples`` beside the clone."""
    configured = os.environ.get("SCHOOLWH_SHARED_FIXTURES")
    candidates = [Path(configured)] if configured else []
    candidates += [p / "shared/fixtures/isams-batch-samples" for p in (REPO.parent, REPO.parent.parent, Path("/work"))]
    return next((c for c in candidates if c.is_dir()), candidates[0] if configured else REPO / "missing-fixtures")


@pytest.fixture(scope="session")
def isams_samples() -> Path:
    path = shared_fixtures()
    if not path.is_dir():
        pytest.skip(f"iSAMS sample responses not found at {path} (set SCHOOLWH_SHARED_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the session (ingestion/sandbox/pgcluster.py); stopped and removed after.

    Every module builds in a database of its own (``pg_cluster.fresh_database(name)`` returns the environment
    for it); test_postgres.py alone uses the default database. Sharing one database let one module's views over
    ``raw_isams`` block another's ``drop table``, depending on which tests an xdist worker happened to run.

    Fails (never skips) when it cannot start, so a CI machine without PostgreSQL is noticed; set
    SCHOOLWH_SKIP_POSTGRES=1 to skip the PostgreSQL tests deliberately.
    """
    if os.environ.get("SCHOOLWH_SKIP_POSTGRES") == "1":
        pytest.skip("SCHOOLWH_SKIP_POSTGRES=1: PostgreSQL tests skipped")
    from ingestion.sandbox.pgcluster import PgClusterError, start_cluster

    try:
        cluster = start_cluster()
    except PgClusterError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {exc} (set SCHOOLWH_SKIP_POSTGRES=1 to skip)",
                    pytrace=False)
    with cluster:
        yield cluster
