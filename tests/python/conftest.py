"""Shared test helpers: the real iSAMS sample responses live outside the repository (../shared)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

REPO = Path(__file__).resolve().parents[2]


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
