"""The deployment secret behind ``pupil_key``: validated here, handed to dbt through a table.

``keyed_hash`` (macros/privacy) reads the secret from the one-row table ``ops.pupil_key_secret`` rather than
from an environment variable, because anything dbt compiles lands in ``target/`` and in its debug log.
The pipeline writes the table from ``SCHOOLWH_PUPIL_KEY_SECRET`` before every dbt run.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ingestion.core.redact import register_secret
from ingestion.core.warehouse import Warehouse

ENV = "SCHOOLWH_PUPIL_KEY_SECRET"
MIN_LENGTH = 16


class PupilKeySecretError(ValueError):
    """The secret is missing or too short: a person must set it (message says how)."""


def from_env() -> str:
    value = os.environ.get(ENV, "")
    if len(value) < MIN_LENGTH:
        state = "not set" if not value else f"shorter than {MIN_LENGTH} characters"
        raise PupilKeySecretError(
            f"{ENV} is {state}. pupil_key is a keyed hash of each pupil and needs this deployment's secret: "
            "generate one with `python -c \"import secrets; print(secrets.token_hex(32))\"`, keep it with the "
            "warehouse credentials and export it before every run. Never change it: every pupil_key would change."
        )
    return value


def store(warehouse: Warehouse) -> None:
    """Write the secret from the environment into ``ops.pupil_key_secret`` (one row) for dbt to read."""
    value = from_env()
    register_secret(value)  # never echoed, even if a tool prints it
    with warehouse.connect() as con:
        con.execute("create schema if not exists ops")
        con.execute("create table if not exists ops.pupil_key_secret (secret varchar not null)")
        con.execute("delete from ops.pupil_key_secret")
        con.execute("insert into ops.pupil_key_secret (secret) values (?)", [value])


def demo_secret(directory: Path) -> str:
    """A random secret for a sandbox warehouse, kept beside it (mode 0600) so keys stay stable between demos."""
    path = directory / "pupil_key.secret"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
