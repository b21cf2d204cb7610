"""Configuration and network faults through the real ``schoolwh ingest`` against the sandbox (no dbt).

A school whose iSAMS cannot be reached fails in seconds with a message naming the school and the address, and
the other schools load; keys pasted into the wrong place of the schools file are refused without being
printed, and credentials in a ``base_url`` never reach output, logs, dlt state or the warehouse (byte scan).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion.app.demo import env_names, write_sandbox_config
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

TODAY = date(2026, 11, 20)
SCHOOLWH = Path(sys.executable).parent / "schoolwh"
ARGS = ["--today", TODAY.isoformat(), "--register-start", (TODAY - timedelta(days=6)).isoformat()]
USERINFO = ("wh-operator", "Pa55wordInUrl")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    group = generate_group(seed=11, n_schools=3, pupils_per_school=8, today=TODAY)
    with SandboxServer(group) as server:
        _, _, secrets = write_sandbox_config(group, server.url, root / "config")
        yield {"root": root, "group": group, "url": server.url, "env": {**os.environ, **secrets}, "secrets": secrets}


def _schools_file(path: Path, entries: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("[[school]]\n" + "".join(f'{k} = "{v}"\n' for k, v in e.items()) + "\n" for e in entries))
    return path


def _entry(school, base_url: str, **extra: str) -> dict[str, str]:
    return {"code": school.code, "name": school.name, "base_url": base_url,
            "api_key_env": env_names(school.code)[0], **extra}


def _ingest(schools_file: Path, env: dict, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCHOOLWH), "ingest", "--schools", str(schools_file), *ARGS],
                          env={**env, "SCHOOLWH_WAREHOUSE": str(warehouse)}, capture_output=True, text=True,
                          timeout=300)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_schools_fail_fast_name_the_address_and_the_others_load(sandbox: dict, tmp_path: Path) -> None:
    refused, unknown, live = sandbox["group"].schools
    refused_url, unknown_url = f"http://127.0.0.1:{_closed_port()}", "https://isams.nonexistent.invalid"
    schools_file = _schools_file(tmp_path / "config" / "schools.toml", [
        _entry(refused, refused_url), _entry(unknown, unknown_url), _entry(live, sandbox["url"]),
    ])
    warehouse = tmp_path / "wh" / "w.duckdb"
    started = time.monotonic()
    result = _ingest(schools_file, sandbox["env"], warehouse)
    elapsed = time.monotonic() - started
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, out[-3000:]
    assert "Traceback" not in out and "under load" not in out
    assert f"school {refused.code}" in out and refused_url in out and "connection was refused" in out
    assert f"school {unknown.code}" in out and unknown_url in out and "does not resolve" in out
    assert "Check the spelling of base_url" in out and "Check the host and port in base_url" in out
    # two dead schools cost one short retry each, not 5 attempts x every dataset (~285 s a school before)
    assert elapsed < 60, elapsed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        outcomes = dict(con.execute("select school_code, outcome from ops.run_log where dataset = '*'").fetchall())
        retries = dict(con.execute("select school_code, http_retries from ops.run_log where dataset = '*'").fetchall())
        loaded = {c for (c,) in con.execute("select distinct school_code from raw_isams.pupils").fetchall()}
    assert outcomes == {refused.code: "failed", unknown.code: "failed", live.code: "ok"}
    assert retries[refused.code] == 1 and retries[unknown.code] == 1
    assert loaded == {live.code}


def _all_bytes_free_of(root: Path, needles: list[str], skip: str = "config") -> None:
    files = [p for p in root.rglob("*") if p.is_file() and skip not in p.relative_to(root).parts]
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, (path, needle)


def test_credentials_and_query_in_base_url_are_never_stored_or_printed(sandbox: dict, tmp_path: Path) -> None:
    (school, *_) = sandbox["group"].schools
    user, password = USERINFO
    url = sandbox["url"].replace("http://", f"http://{user}:{password}@") + "/?tenant=QueryValueInUrl"
    schools_file = _schools_file(tmp_path / "config" / "schools.toml", [_entry(school, url)])
    warehouse = tmp_path / "wh" / "w.duckdb"
    result = _ingest(schools_file, sandbox["env"], warehouse)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select base_url from raw_isams.schools").fetchall() == [(sandbox["url"],)]
    needles = [password, user, "QueryValueInUrl", *sandbox["secrets"].values()]
    for needle in needles:
        assert needle not in result.stdout + result.stderr
    _all_bytes_free_of(tmp_path, needles)  # warehouse file, dlt state and trace pickles, logs


@pytest.mark.parametrize("mistake", ["key_as_api_key_env", "key_under_another_setting", "key_in_base_url"])
def test_a_key_in_the_schools_file_is_refused_and_never_printed(sandbox: dict, tmp_path: Path, mistake: str) -> None:
    (school, *_) = sandbox["group"].schools
    key = school.api_key
    entry = {
        "key_as_api_key_env": _entry(school, sandbox["url"], api_key_env=key),
        "key_under_another_setting": _entry(school, sandbox["url"], isams_batch=key),
        "key_in_base_url": _entry(school, f"{sandbox['url']}/api/batch/1.0/json.ashx?apiKey={key}"),
    }[mistake]
    schools_file = _schools_file(tmp_path / "config" / "schools.toml", [entry])
    result = _ingest(schools_file, sandbox["env"], tmp_path / "wh" / "w.duckdb")
    out = result.stdout + result.stderr
    assert result.returncode == 3, out[-3000:]
    assert "Configuration error" in out and "[[school]] #1" in " ".join(out.split()) and "Traceback" not in out
    for form in (key, key.lower(), re.sub("[^0-9A-Fa-f]", "", key)):
        assert form not in out and form.lower() not in out.lower()
    assert not (tmp_path / "wh").exists()  # refused before anything was opened
