"""Schools file and secret resolution: keys come from the environment, never from the file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from ingestion import config as cfg

EXAMPLE = Path(__file__).resolve().parents[2] / "schools.example.toml"


def test_example_file_loads_with_keys_from_env(monkeypatch):
    monkeypatch.setenv("ISAMS_NHS_API_KEY", "k-nhs")
    monkeypatch.setenv("ISAMS_NHS_CLIENT_ID", "id-nhs")
    monkeypatch.setenv("ISAMS_NHS_CLIENT_SECRET", "s-nhs")
    monkeypatch.setenv("ISAMS_ELM_API_KEY", "k-elm")
    nhs, elm = cfg.load_schools(EXAMPLE)
    assert (nhs.code, nhs.api_key, nhs.has_rest) == ("NHS", "k-nhs", True)
    assert (elm.code, elm.api_key, elm.has_rest) == ("ELM", "k-elm", False)
    assert "k-nhs" not in repr(nhs) and "s-nhs" not in repr(nhs)


def test_missing_key_names_school_and_variable(monkeypatch):
    monkeypatch.delenv("ISAMS_NHS_API_KEY", raising=False)
    monkeypatch.setenv("ISAMS_ELM_API_KEY", "k-elm")
    with pytest.raises(cfg.ConfigError, match="school NHS.*ISAMS_NHS_API_KEY"):
        cfg.load_schools(EXAMPLE)


def test_dlt_style_env_secret_is_used(monkeypatch, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[school]]\ncode = "ABC"\nname = "A"\nbase_url = "http://x"\napi_key_env = "UNSET_VAR_X"\n')
    monkeypatch.delenv("UNSET_VAR_X", raising=False)
    monkeypatch.setenv("SOURCES__ISAMS__ABC__API_KEY", "from-dlt")
    (school,) = cfg.load_schools(path)
    assert school.api_key == "from-dlt"


def test_key_in_schools_file_is_refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[school]]\ncode = "ABC"\nname = "A"\nbase_url = "http://x"\napi_key = "oops"\n')
    with pytest.raises(cfg.ConfigError, match="must not be in the schools file"):
        cfg.load_schools(path)


def test_duplicate_codes_and_bad_codes_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("K", "v")
    entry = '[[school]]\ncode = "{c}"\nname = "A"\nbase_url = "http://x"\napi_key_env = "K"\n'
    path = tmp_path / "dup.toml"
    path.write_text(entry.format(c="ABC") + entry.format(c="abc"))
    with pytest.raises(cfg.ConfigError, match="unique"):
        cfg.load_schools(path)
    path.write_text(entry.format(c="9 bad"))
    with pytest.raises(cfg.ConfigError, match="school code"):
        cfg.load_schools(path)


def test_warehouse_path_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("SCHOOLWH_WAREHOUSE", str(tmp_path / "env.duckdb"))
    assert cfg.warehouse_path() == tmp_path / "env.duckdb"
    assert cfg.warehouse_path(str(tmp_path / "flag.duckdb")) == tmp_path / "flag.duckdb"
    monkeypatch.delenv("SCHOOLWH_WAREHOUSE")
    assert cfg.warehouse_path().name == "schoolwh.duckdb"


@pytest.mark.parametrize(
    ("today", "start"),
    [(date(2026, 11, 23), date(2025, 9, 1)), (date(2026, 8, 31), date(2024, 9, 1)), (date(2026, 9, 1), date(2025, 9, 1))],
)
def test_default_register_start_is_previous_academic_year(today, start):
    assert cfg.default_register_start(today) == start


def test_nightly_without_pupil_key_secret_is_a_configuration_error(monkeypatch):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SCHOOLWH_PUPIL_KEY_SECRET"}
    schoolwh = Path(sys.executable).parent / "schoolwh"
    result = subprocess.run([str(schoolwh), "nightly", "--schools", str(EXAMPLE)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert "SCHOOLWH_PUPIL_KEY_SECRET is not set" in result.stdout
