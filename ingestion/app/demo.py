"""Glue between the sandbox and the pipeline: a schools file and secrets for a synthetic group.

The schools file names environment variables; the keys themselves go into a separate env file readable
only by its owner (and into this process's environment for ``demo``), never into output.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from ingestion.ops import pupil_key
from ingestion.sandbox.contract import SchoolGroup


def env_names(code: str) -> tuple[str, str, str]:
    prefix = f"ISAMS_{code.upper()}"
    return f"{prefix}_API_KEY", f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"


# every synthetic school teaches Reception to Year 13 (sandbox.synthetic.DIVISIONS): all-through, so the mart
# benchmark_comparison compares it with the national total
SANDBOX_PHASE = "all_through"


# the SEEMiS school of a mixed sandbox group: its exports are dropped in <config dir>/seemis/<code>
SEEMIS_FOLDER = "seemis"


def seemis_folder(directory: Path) -> Path:
    from ingestion.sandbox import seemis

    return directory / SEEMIS_FOLDER / seemis.CODE


def write_seemis_night(directory: Path, as_of: date, seed: int = 42) -> list[Path]:
    """Drop the SEEMiS sandbox school's exports for night ``as_of`` in its folder (beside the schools file)."""
    from ingestion.sandbox import seemis

    return seemis.write_exports(seemis_folder(directory), as_of, seed=seed)


def write_sandbox_config(
    group: SchoolGroup, base_url: str, directory: Path, *, seemis: bool = False,
) -> tuple[Path, Path, dict[str, str]]:
    """Write ``schools.toml`` and ``sandbox.env`` for ``group``; return both paths and the secrets.

    ``seemis``: add the Scottish SEEMiS school (``ingestion/sandbox/seemis.py``), read from its export folder;
    its files are written per night by ``write_seemis_night``.

    The secrets are the schools' keys plus the warehouse's pupil-key secret (``SCHOOLWH_PUPIL_KEY_SECRET``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["# Generated for the built-in iSAMS sandbox. Keys are in sandbox.env, never here.", ""]
    secrets: dict[str, str] = {}
    for school in group.schools:
        key_env, id_env, secret_env = env_names(school.code)
        lines += [
            "[[school]]",
            f'code = "{school.code}"',
            f'name = "{school.name}"',
            f'base_url = "{base_url}"',
            f'api_key_env = "{key_env}"',
            f'phase = "{SANDBOX_PHASE}"',
        ]
        secrets[key_env] = school.api_key
        if school.rest_client_id and school.rest_client_secret:
            lines += [f'rest_client_id_env = "{id_env}"', f'rest_client_secret_env = "{secret_env}"']
            secrets[id_env] = school.rest_client_id
            secrets[secret_env] = school.rest_client_secret
        lines.append("")
    if seemis:
        from ingestion.sandbox import seemis as scot

        lines += ["[[school]]", f'code = "{scot.CODE}"', f'name = "{scot.NAME}"', 'source = "seemis"',
                  f'folder = "{SEEMIS_FOLDER}/{scot.CODE}"', f'phase = "{scot.PHASE}"', 'jurisdiction = "scotland"', ""]
        seemis_folder(directory).mkdir(parents=True, exist_ok=True)
    # a sandbox warehouse gets its own pupil-key secret, kept beside it so pupil keys are stable between demos
    secrets[pupil_key.ENV] = pupil_key.demo_secret(directory)
    schools_file = directory / "schools.toml"
    schools_file.write_text("\n".join(lines))
    env_file = directory / "sandbox.env"
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"export {k}={v}\n" for k, v in secrets.items()))
    return schools_file, env_file, secrets


def demo_group(seed: int, n_schools: int, pupils: int, today: date) -> SchoolGroup:
    from ingestion.sandbox.synthetic import generate_group

    return generate_group(seed=seed, n_schools=n_schools, pupils_per_school=pupils, today=today)
