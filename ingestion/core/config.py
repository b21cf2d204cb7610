"""Configuration: which schools to ingest and how their secrets are found (the warehouse: ``core.warehouse``).

Schools come from a TOML file (``--schools FILE`` or ``SCHOOLWH_SCHOOLS``). The file holds *names* of
environment variables, never keys. A secret is looked up, in order, in:
1. the environment variable the school names (e.g. ``api_key_env = "ISAMS_NHS_API_KEY"``);
2. dlt's secrets (``.dlt/secrets.toml`` or env), at ``sources.isams.<code>.api_key`` /
   ``rest_client_id`` / ``rest_client_secret`` (env form: ``SOURCES__ISAMS__NHS__API_KEY``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ingestion.core.redact import looks_like_key, safe_url

SCHOOL_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,15}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# a setting named like one of these holds a secret itself, unless it ends in _env (the name of a variable)
SECRET_SETTING = re.compile(r"(?i)(key|secret|password|passwd|pwd|token|credential)s?$")
# a school's phase (optional): which national figures its attendance is compared with (mart benchmark_comparison)
PHASES = ("primary", "secondary", "special", "all_through")
# where a school is: which national rules and figures apply (England: DfE; Scotland: SG/SEEMiS openings)
JURISDICTIONS = ("england", "scotland")
# which MIS a school's data comes from, and the jurisdiction a school of that MIS is in unless it says
SOURCES = {"isams": "england", "seemis": "scotland"}


class ConfigError(ValueError):
    """A configuration problem a person must fix; the message says where and how."""


@dataclass(frozen=True)
class SchoolConfig:
    """One school to ingest. ``repr`` never shows secrets."""

    code: str
    name: str
    base_url: str = ""  # iSAMS only
    api_key_env: str = ""  # iSAMS only
    rest_client_id_env: str | None = None
    rest_client_secret_env: str | None = None
    phase: str | None = None  # one of PHASES, or None when the schools file does not say
    source: str = "isams"  # one of SOURCES
    jurisdiction: str = "england"  # one of JURISDICTIONS
    folder: Path | None = None  # SEEMiS: the folder its CSV exports are dropped in (absolute)
    api_key: str = field(default="", repr=False)
    rest_client_id: str | None = field(default=None, repr=False)
    rest_client_secret: str | None = field(default=None, repr=False)

    @property
    def has_rest(self) -> bool:
        return bool(self.rest_client_id and self.rest_client_secret)

    def secrets(self) -> list[str]:
        """Every secret value of this school, for redaction."""
        return [s for s in (self.api_key, self.rest_client_id, self.rest_client_secret) if s]


@dataclass(frozen=True)
class Settings:
    """What ``ingest``, ``backfill`` and ``nightly`` read from the schools file and their options."""

    schools: tuple[SchoolConfig, ...]
    register_start: date | None = None  # first register date to backfill; default: previous academic year
    window_days: int = 14  # register window per Batch request (real API times out at ~35 s)
    lookback_days: int = 14  # registers are corrected after the fact: re-read this many days each night


def _dlt_secret(code: str, key: str) -> str | None:
    env_name = f"SOURCES__ISAMS__{code.upper()}__{key.upper()}"
    if os.environ.get(env_name):
        return os.environ[env_name]
    try:  # dlt reads .dlt/secrets.toml (and env) through its providers
        import dlt

        value = dlt.secrets.get(f"sources.isams.{code.lower()}.{key}")
    except Exception:  # a missing or unreadable secrets file is not an error here
        return None
    return str(value) if value else None


def _secret(code: str, env_name: str | None, dlt_key: str) -> str | None:
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    return _dlt_secret(code, dlt_key)


def _setting_paths(value: object, path: str) -> list[tuple[str, object]]:
    """Every leaf of a TOML value with its dotted setting name (lists by index)."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _setting_paths(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _setting_paths(v, f"{path}[{i}]")]
    return [(path, value)]


def _refuse_secrets(entry: dict, where: str) -> None:
    """No key in the schools file, under any name: a secret-named setting, a key-like value (GUID, long
    hex, random-looking token), or a ``*_env`` setting that is not an environment variable name. Messages name
    the setting, never the value."""
    for name, value in _setting_paths(entry, ""):
        leaf = name.rsplit(".", 1)[-1].split("[", 1)[0]
        if leaf.lower().endswith("_env"):
            if not isinstance(value, str) or not ENV_NAME.match(value) or looks_like_key(value):
                what = "looks like a key itself" if isinstance(value, str) and looks_like_key(value) else (
                    "is not an environment variable name (letters, digits and _, not starting with a digit)")
                raise ConfigError(
                    f"{where}: the value of '{name}' {what} (value not shown). '{name}' names the environment "
                    f"variable that holds the secret: put the secret in the environment, e.g. "
                    f"export ISAMS_<CODE>_API_KEY=..., and write {name} = \"ISAMS_<CODE>_API_KEY\". If a real key "
                    "was written here, treat it as exposed and have it replaced in the iSAMS API Services Manager."
                )
            continue
        if SECRET_SETTING.search(leaf):
            raise ConfigError(
                f"{where}: '{name}' must not be in the schools file (value not shown); put the secret in an "
                f"environment variable and name it with '{leaf}_env'"
            )
        if isinstance(value, str) and "://" in value and any(
            SECRET_SETTING.search(param) or param.lower() == "apikey"
            for param, _ in parse_qsl(urlsplit(value.strip()).query, keep_blank_values=True)
        ):
            raise ConfigError(
                f"{where}: '{name}' carries a key in its query string (value not shown). The Batch key goes in the "
                "environment variable named by api_key_env; schoolwh adds it to each request itself. If it is a "
                "real key, treat it as exposed and have it replaced."
            )
        if isinstance(value, str) and looks_like_key(value):
            raise ConfigError(
                f"{where}: the value of '{name}' looks like a key or secret (a GUID, a long hexadecimal or random "
                "string; value not shown). Keys never go in the schools file: put it in an environment variable "
                "and name that variable with api_key_env / rest_client_id_env / rest_client_secret_env. If it is "
                "a real key, treat it as exposed and have it replaced."
            )


def _phase(entry: dict, where: str) -> str | None:
    """The optional ``phase`` setting: one of PHASES (any case, surrounding spaces ignored), or None."""
    value = entry.get("phase")
    if value is None:
        return None
    phase = value.strip().lower() if isinstance(value, str) else None
    if phase not in PHASES:
        allowed = ", ".join(f'"{p}"' for p in PHASES)
        raise ConfigError(f"{where}: phase = {value!r} is not a school phase; write one of {allowed} "
                          "(or leave phase out: the school is then compared with the national total)")
    return phase


def _choice(entry: dict, setting: str, allowed: tuple[str, ...], where: str, default: str) -> str:
    """An optional setting that is one of ``allowed`` (any case, spaces ignored); ``default`` when left out."""
    value = entry.get(setting)
    if value is None:
        return default
    choice = value.strip().lower() if isinstance(value, str) else None
    if choice not in allowed:
        names = ", ".join(f'"{a}"' for a in allowed)
        raise ConfigError(f"{where}: {setting} = {value!r} is not known; write one of {names} "
                          f"(or leave {setting} out: \"{default}\")")
    return choice


def _seemis_school(entry: dict, where: str, base_dir: Path | None) -> SchoolConfig:
    """A SEEMiS school: CSV exports dropped in ``folder`` (relative to the schools file's directory)."""
    missing = [k for k in ("code", "name", "folder") if not entry.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)} (a SEEMiS school needs the folder its "
                          "exports are dropped in, e.g. folder = \"exports/GBA\")")
    code = str(entry["code"])
    if not SCHOOL_CODE.match(code):
        raise ConfigError(f"{where}: school code {code!r} must be 2-16 letters, digits or _ starting with a letter")
    extra = [k for k in ("base_url", "api_key_env", "rest_client_id_env", "rest_client_secret_env") if k in entry]
    if extra:
        raise ConfigError(f"{where}: {', '.join(extra)} is for iSAMS schools; a SEEMiS school (source = \"seemis\") "
                          "is read from its export folder only")
    folder = Path(str(entry["folder"])).expanduser()
    if not folder.is_absolute():
        folder = (base_dir or Path.cwd()) / folder
    return SchoolConfig(
        code=code, name=str(entry["name"]), phase=_phase(entry, where), source="seemis",
        jurisdiction=_choice(entry, "jurisdiction", JURISDICTIONS, where, SOURCES["seemis"]),
        folder=folder.resolve(),
    )


def _school(entry: dict, where: str, base_dir: Path | None = None) -> SchoolConfig:
    if SCHOOL_CODE.match(str(entry.get("code", ""))):
        where = f"{where} (code = \"{entry['code']}\")"
    _refuse_secrets(entry, where)
    source = _choice(entry, "source", tuple(SOURCES), where, "isams")
    if source == "seemis":
        return _seemis_school(entry, where, base_dir)
    jurisdiction = _choice(entry, "jurisdiction", JURISDICTIONS, where, SOURCES["isams"])
    missing = [k for k in ("code", "name", "base_url") if not entry.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    code = str(entry["code"])
    if not SCHOOL_CODE.match(code):
        raise ConfigError(f"{where}: school code {code!r} must be 2-16 letters, digits or _ starting with a letter")
    base_url = safe_url(str(entry["base_url"]))  # no user:pass@, query or fragment, ever
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
        raise ConfigError(f"{where}: base_url must be the school's iSAMS address, like "
                          f"\"https://yourschool.isams.cloud\", not \"{base_url}\"")
    phase = _phase(entry, where)
    api_key_env = entry.get("api_key_env") or f"ISAMS_{code.upper()}_API_KEY"
    id_env = entry.get("rest_client_id_env")
    secret_env = entry.get("rest_client_secret_env")
    api_key = _secret(code, api_key_env, "api_key")
    if not api_key:
        raise ConfigError(
            f"school {code}: no Batch API key. Set the environment variable {api_key_env} "
            f"(or sources.isams.{code.lower()}.api_key in .dlt/secrets.toml)"
        )
    return SchoolConfig(
        code=code,
        name=str(entry["name"]),
        base_url=base_url,
        api_key_env=api_key_env,
        rest_client_id_env=id_env,
        rest_client_secret_env=secret_env,
        phase=phase,
        jurisdiction=jurisdiction,
        api_key=api_key,
        rest_client_id=_secret(code, id_env, "rest_client_id") if id_env else _dlt_secret(code, "rest_client_id"),
        rest_client_secret=(
            _secret(code, secret_env, "rest_client_secret") if secret_env else _dlt_secret(code, "rest_client_secret")
        ),
    )


def load_schools(path: Path) -> tuple[SchoolConfig, ...]:
    """Read and validate the schools file; secrets are resolved now so a missing one fails early."""
    if not path.exists():
        raise ConfigError(f"schools file {path} not found (see schools.example.toml)")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"schools file {path} is not valid TOML: {exc}") from exc
    entries = data.get("school") or []
    if not entries:
        raise ConfigError(f"schools file {path} has no [[school]] entries")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"schools file {path}: each school is a [[school]] table (double brackets)")
    _refuse_secrets({k: v for k, v in data.items() if k != "school"}, f"schools file {path}")
    schools = tuple(_school(e, f"{path} [[school]] #{i + 1}", path.parent) for i, e in enumerate(entries))
    codes = [s.code.lower() for s in schools]
    if len(set(codes)) != len(codes):
        raise ConfigError(f"schools file {path}: school codes must be unique, got {codes}")
    return schools


def schools_path(flag: str | None = None) -> Path:
    value = flag or os.environ.get("SCHOOLWH_SCHOOLS")
    if not value:
        raise ConfigError("no schools file: pass --schools FILE or set SCHOOLWH_SCHOOLS (see schools.example.toml)")
    return Path(value).resolve()


def academic_year_start(day: date) -> date:
    """1 September of the academic year containing ``day`` (English academic years run Sep-Aug)."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def default_register_start(today: date) -> date:
    """Backfill the current and the previous academic year by default."""
    current = academic_year_start(today)
    return date(current.year - 1, 9, 1)
