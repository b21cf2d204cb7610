"""Superset settings for the schoolwh dashboard (read through ``SUPERSET_CONFIG_PATH``).

Everything that changes between machines comes from the environment, set by ``bi/superset/run.py``:

- ``SCHOOLWH_SUPERSET_STATE``: a state directory (default ``warehouse/superset``) holding Superset's SQLite
  metadata database and the locally generated ``secret_key`` (mode 0600). Neither is committed.
- ``SUPERSET_SECRET_KEY``: overrides the generated key (a real deployment sets its own).

No telemetry: Scarf analytics off (here and through the environment), no thumbnails, no outside calls.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

STATE_DIR = Path(os.environ.get("SCHOOLWH_SUPERSET_STATE", Path(__file__).resolve().parents[2] / "warehouse" / "superset"))
STATE_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    configured = os.environ.get("SUPERSET_SECRET_KEY")
    if configured:
        return configured
    path = STATE_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{STATE_DIR / 'superset.db'}?check_same_thread=false"

# No telemetry and nothing that calls out to the internet.
SCARF_ANALYTICS = False
FEATURE_FLAGS = {
    "THUMBNAILS": False,
    "ALERT_REPORTS": False,
    "EMBEDDED_SUPERSET": False,
    # render every chart of the dashboard at once (a headless screenshot sees them all)
    "DASHBOARD_VIRTUALIZATION": False,
}
# Rate limiting state in memory (a single local process), not a warning about it on every start.
RATELIMIT_STORAGE_URI = "memory://"
# A local demo on http://127.0.0.1: no HTTPS redirect, no HSTS.
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
# Charts read small pre-aggregated marts; no results backend, no async queries, no cache to keep fresh.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
ROW_LIMIT = 50000
# The warehouse connection is a least-privilege login (member of bi_reader): no DML, no file uploads.
PREVENT_UNSAFE_DB_CONNECTIONS = True
