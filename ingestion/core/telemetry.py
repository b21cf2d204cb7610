"""Telemetry off for every tool the project runs (dbt, dlt, Great Expectations): nothing calls out."""

from __future__ import annotations

import os

QUIET_ENV = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "False",
}


def silence() -> None:
    """Apply ``QUIET_ENV`` to this process (call before importing dbt, dlt or GX)."""
    os.environ.update(QUIET_ENV)
