"""Schools file and secret resolution: keys come from the environment, never from the file."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from ingestion.core import config as cfg
from ingestion.app.spark import spark_env
from ingestion.core.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]

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
    assert Warehouse.resolve().path == tmp_path / "env.duckdb"
    assert Warehouse.resolve(None, str(tmp_path / "flag.duckdb")).path == tmp_path / "flag.duckdb"
    monkeypatch.delenv("SCHOOLWH_WAREHOUSE")
    assert Warehouse.resolve().path.name == "schoolwh.duckdb"
    assert Warehouse.resolve().path.is_absolute()


def test_one_warehouse_carries_target_path_and_as_of_to_dbt(monkeypatch, tmp_path):
    """What profiles.yml reads comes only from the warehouse object, and its as-of date is dbt's as_of_date."""
    monkeypatch.delenv("SCHOOLWH_TARGET", raising=False)
    wh = Warehouse.resolve(None, tmp_path / "w.duckdb", as_of=date(2025, 11, 3))
    assert wh.dbt_env() == {"SCHOOLWH_TARGET": "duckdb", "SCHOOLWH_WAREHOUSE": str(tmp_path / "w.duckdb")}
    assert wh.require_as_of() == date(2025, 11, 3) and wh.at(date(2025, 11, 4)).as_of == date(2025, 11, 4)
    with pytest.raises(ValueError, match="as-of date"):
        Warehouse.resolve(None, tmp_path / "w.duckdb").require_as_of()
    profile = (REPO / "profiles.yml").read_text()
    read = set(re.findall(r"env_var\('([A-Z_]+)'", profile))
    spark = set(spark_env("/lake", tmp_path)) - {"SCHOOLWH_LAKE"}  # the lake is read by a macro, not the profile
    assert read == set(wh.dbt_env()) | spark | {"SCHOOLWH_PG_HOST", "SCHOOLWH_PG_PORT", "SCHOOLWH_PG_USER",
                                                 "SCHOOLWH_PG_DATABASE", "DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD"}
    assert "env_var('" in profile and not re.search(r"env_var\('[A-Z_]+',", profile), "profiles.yml has no defaults"


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


# --- keys cannot leak through configuration mistakes ------------------------------------------------------
GUID_KEY = "{6F9619FF-8B86-D011-B42D-00C04FC964FF}"  # what an iSAMS Batch key looks like
REST_SECRET = "Zx81Qp7Lw2Ty9Vb4Nc6Md3Ks5Hj0Rf8G"  # a random-looking client secret


def _school_file(tmp_path: Path, **settings: str) -> Path:
    body = {"code": "ABC", "name": "Abbey School", "base_url": "https://abbey.isams.cloud", "api_key_env": "K_ABC"}
    body.update(settings)
    path = tmp_path / "s.toml"
    path.write_text("[[school]]\n" + "".join(f'{k} = "{v}"\n' for k, v in body.items()))
    return path


@pytest.mark.parametrize("setting", ["api_key_env", "rest_client_id_env", "rest_client_secret_env", "other_env"])
@pytest.mark.parametrize("value", [GUID_KEY, GUID_KEY.strip("{}").lower(), REST_SECRET, "6f9619ff8b86d011b42d00c04fc964ff"])
def test_a_key_pasted_as_an_env_setting_is_refused_without_showing_it(tmp_path, monkeypatch, setting, value):
    monkeypatch.setenv("K_ABC", "k")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load_schools(_school_file(tmp_path, **{setting: value}))
    message = str(caught.value)
    assert setting in message and "[[school]] #1" in message and "value not shown" in message
    assert value not in message and value.strip("{}") not in message and value.lower() not in message.lower()


@pytest.mark.parametrize("value", ["ISAMS KEY", "my-key-var", "1ST_KEY", "K=v"])
def test_an_env_setting_that_is_no_variable_name_is_refused(tmp_path, value):
    with pytest.raises(cfg.ConfigError, match="not an environment variable name") as caught:
        cfg.load_schools(_school_file(tmp_path, api_key_env=value))
    assert value not in str(caught.value)


@pytest.mark.parametrize(("setting", "value"), [
    ("notes", GUID_KEY), ("name", f"Abbey {GUID_KEY}"), ("batch", REST_SECRET), ("code_list", "a1b2c3d4e5f60718293a"),
    ("apikey", "short"), ("password", "hunter2"), ("client_secret", "x"), ("access_token", "abc"),
    ("base_url", "https://abbey.isams.cloud/?apiKey=letmein"),
    ("base_url", f"https://abbey.isams.cloud/api/batch/1.0/json.ashx?apiKey={GUID_KEY}"),
])
def test_a_key_anywhere_in_the_schools_file_is_refused_without_showing_it(tmp_path, monkeypatch, setting, value):
    monkeypatch.setenv("K_ABC", "k")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load_schools(_school_file(tmp_path, **{setting: value}))
    message = str(caught.value)
    assert f"'{setting}'" in message and "(code = \"ABC\")" in message
    secret = value.split("apiKey=")[-1] if "apiKey=" in value else value
    assert secret not in message


def test_a_key_in_a_top_level_setting_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("K_ABC", "k")
    path = _school_file(tmp_path)
    path.write_text(f'default_key = "{GUID_KEY}"\n' + path.read_text())
    with pytest.raises(cfg.ConfigError, match="'default_key'") as caught:
        cfg.load_schools(path)
    assert GUID_KEY not in str(caught.value)


@pytest.mark.parametrize(("name", "base_url"), [
    ("St Mary's C of E Primary School (2024)", "https://st-marys-primary.isams.cloud"),
    ("Northgate High School", "http://127.0.0.1:8765"),
    ("École Internationale", "https://isams.ecole-internationale.example.org:8443/main"),
])
def test_ordinary_names_and_urls_are_accepted(tmp_path, monkeypatch, name, base_url):
    monkeypatch.setenv("ISAMS_ABBEY_SCHOOL_2024_API_KEY", "k")
    path = _school_file(tmp_path, name=name, base_url=base_url, api_key_env="ISAMS_ABBEY_SCHOOL_2024_API_KEY",
                        rest_client_id_env="ISAMS_ABC_CLIENT_ID", rest_client_secret_env="ISAMS_ABC_CLIENT_SECRET")
    (school,) = cfg.load_schools(path)
    assert (school.name, school.base_url) == (name, base_url)


def test_credentials_and_query_are_stripped_from_base_url(tmp_path, monkeypatch):
    monkeypatch.setenv("K_ABC", "k")
    path = _school_file(tmp_path, base_url="https://admin:Hunter2@abbey.isams.cloud:8443/main/?tenant=abbey#top")
    (school,) = cfg.load_schools(path)
    assert school.base_url == "https://abbey.isams.cloud:8443/main"


def test_base_url_must_be_an_http_address(tmp_path, monkeypatch):
    monkeypatch.setenv("K_ABC", "k")
    with pytest.raises(cfg.ConfigError, match="base_url must be"):
        cfg.load_schools(_school_file(tmp_path, base_url="abbey.isams.cloud"))


def test_real_looking_keys_are_keys_and_names_are_not():
    from ingestion.core.redact import looks_like_key

    for key in (GUID_KEY, GUID_KEY.strip("{}"), GUID_KEY.strip("{}").replace("-", ""), REST_SECRET,
                "Hl4VAqg16oSyYPQHaGzj4nkQcdgYGLjLVo/o08c0+eo=", "8b1b0fce78326e0e"):
        assert looks_like_key(key), key
    for name in ("ISAMS_NHS_API_KEY", "SOURCES__ISAMS__NHS__API_KEY", "Northgate High School", "nhs-sandbox-123456",
                 "https://northgate.isams.cloud", "isams_nhs_client_secret_2024", "ISAMS_ABC123_API_KEY_V2"):
        assert not looks_like_key(name), name


# --- usage errors and messages --------------------------------------------------------------------------
def _cli(*args: str, env: dict | None = None):
    import subprocess
    import sys

    schoolwh = Path(sys.executable).parent / "schoolwh"
    return subprocess.run([str(schoolwh), *args], env=env or dict(os.environ), capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [
    ["nightly", "--today", "2026-13-40"], ["ingest", "--no-such-option"], ["backfill", "--school", "X"],
    ["nightly", "--window-days", "many"], ["no-such-command"],
])
def test_usage_errors_exit_3_like_configuration_errors(args):
    result = _cli(*args)
    assert result.returncode == 3, result.stderr
    assert "usage:" in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_configuration_messages_quote_the_toml_as_written(tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text('[[school]]\ncode = "ABC"\nname = "A"\nbase_url = "https://a.isams.cloud"\n'
                    f'api_key_env = "{GUID_KEY}"\n')
    result = _cli("ingest", "--schools", str(path), "--warehouse", str(tmp_path / "w.duckdb"))
    assert result.returncode == 3
    out = " ".join(result.stdout.split())
    assert "[[school]] #1" in out and "api_key_env" in out
    assert GUID_KEY.strip("{}") not in result.stdout + result.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_help_lists_every_exit_code():
    out = " ".join(_cli("--help").stdout.split())
    for code in ("0 ok", "1 ingestion failed", "2 dbt build", "3 configuration or usage error",
                 "4 the warehouse is in use", "130 / 143 stopped by Ctrl-C"):
        assert code in out, code


def _one_school(tmp_path, monkeypatch, extra: str = "") -> Path:
    monkeypatch.setenv("ISAMS_ABC_API_KEY", "k-abc")
    path = tmp_path / "s.toml"
    path.write_text(f'[[school]]\ncode = "ABC"\nname = "A"\nbase_url = "https://abc.isams.cloud"\n{extra}')
    return path


@pytest.mark.parametrize(("written", "phase"), [
    ('"primary"', "primary"), ('"secondary"', "secondary"), ('"special"', "special"),
    ('"all_through"', "all_through"), ('" All_Through "', "all_through"),
])
def test_phase_is_read_from_the_schools_file(tmp_path, monkeypatch, written, phase):
    (school,) = cfg.load_schools(_one_school(tmp_path, monkeypatch, f"phase = {written}\n"))
    assert school.phase == phase


def test_phase_is_optional(tmp_path, monkeypatch):
    (school,) = cfg.load_schools(_one_school(tmp_path, monkeypatch))
    assert school.phase is None


@pytest.mark.parametrize("written", ['"infant"', '"all-through"', '""', "3", "true"])
def test_a_wrong_phase_names_the_school_and_the_allowed_values(tmp_path, monkeypatch, written):
    path = _one_school(tmp_path, monkeypatch, f"phase = {written}\n")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load_schools(path)
    message = str(caught.value)
    assert 'code = "ABC"' in message and "phase" in message
    assert all(f'"{p}"' in message for p in ("primary", "secondary", "special", "all_through"))


def test_example_file_and_sandbox_config_carry_a_phase(tmp_path, monkeypatch):
    from ingestion.app.demo import write_sandbox_config
    from ingestion.sandbox.synthetic import DIVISIONS, generate_group

    for name in ("ISAMS_NHS_API_KEY", "ISAMS_NHS_CLIENT_ID", "ISAMS_NHS_CLIENT_SECRET", "ISAMS_ELM_API_KEY"):
        monkeypatch.setenv(name, "k")
    assert [s.phase for s in cfg.load_schools(EXAMPLE)] == ["secondary", "primary"]
    # the synthetic schools teach Reception (0) to Year 13: all-through
    assert sorted(nc for *_, years in DIVISIONS for nc in years) == list(range(14))
    group = generate_group(seed=2024, n_schools=2, pupils_per_school=30, today=date(2025, 10, 1))
    schools_file, _, secrets = write_sandbox_config(group, "http://127.0.0.1:1", tmp_path / "config")
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    assert {s.phase for s in cfg.load_schools(schools_file)} == {"all_through"}
