"""Schools file: a SEEMiS school (source = "seemis", folder) and the jurisdiction setting."""

from __future__ import annotations

import pytest

from ingestion.core import config as cfg


def _write(tmp_path, monkeypatch, body: str):
    monkeypatch.setenv("ISAMS_ABC_API_KEY", "k-abc")
    path = tmp_path / "s.toml"
    path.write_text('[[school]]\ncode = "ABC"\nname = "A"\nbase_url = "https://abc.isams.cloud"\n\n' + body)
    return path


def test_a_seemis_school_has_a_folder_relative_to_the_schools_file(tmp_path, monkeypatch):
    path = _write(tmp_path, monkeypatch, '[[school]]\ncode = "GBA"\nname = "Glenbrae Academy"\nsource = "seemis"\n'
                                         'folder = "exports/GBA"\nphase = "secondary"\n')
    isams, seemis = cfg.load_schools(path)
    assert (isams.source, isams.jurisdiction) == ("isams", "england")
    assert (seemis.source, seemis.jurisdiction, seemis.phase) == ("seemis", "scotland", "secondary")
    assert seemis.folder == (tmp_path / "exports/GBA").resolve() and seemis.secrets() == []


def test_a_seemis_school_without_a_folder_is_named(tmp_path, monkeypatch):
    path = _write(tmp_path, monkeypatch, '[[school]]\ncode = "GBA"\nname = "G"\nsource = "seemis"\n')
    with pytest.raises(cfg.ConfigError, match=r'code = "GBA".*missing folder'):
        cfg.load_schools(path)


def test_a_seemis_school_takes_no_isams_address(tmp_path, monkeypatch):
    path = _write(tmp_path, monkeypatch, '[[school]]\ncode = "GBA"\nname = "G"\nsource = "seemis"\nfolder = "x"\n'
                                         'base_url = "https://gba.isams.cloud"\n')
    with pytest.raises(cfg.ConfigError, match=r'code = "GBA".*base_url is for iSAMS'):
        cfg.load_schools(path)


def test_secrets_are_refused_for_a_seemis_school_too(tmp_path, monkeypatch):
    path = _write(tmp_path, monkeypatch, '[[school]]\ncode = "GBA"\nname = "G"\nsource = "seemis"\nfolder = "x"\n'
                                         'sftp_password = "hunter2"\n')
    with pytest.raises(cfg.ConfigError, match=r"sftp_password"):
        cfg.load_schools(path)


@pytest.mark.parametrize(("written", "expected"), [('"scotland"', "scotland"), ('" England "', "england")])
def test_jurisdiction_is_read(tmp_path, monkeypatch, written, expected):
    (school,) = cfg.load_schools(_write(tmp_path, monkeypatch, "").with_name("s.toml"))  # default first
    assert school.jurisdiction == "england"
    path = tmp_path / "s.toml"
    path.write_text(path.read_text().replace('base_url', f"jurisdiction = {written}\nbase_url"))
    (school,) = cfg.load_schools(path)
    assert school.jurisdiction == expected


@pytest.mark.parametrize("written", ['"wales"', '""', "1"])
def test_a_wrong_jurisdiction_or_source_names_the_school_and_the_choices(tmp_path, monkeypatch, written):
    for setting, choices in (("jurisdiction", ("england", "scotland")), ("source", ("isams", "seemis"))):
        path = _write(tmp_path, monkeypatch, "")
        path.write_text(path.read_text().replace("base_url", f"{setting} = {written}\nbase_url"))
        with pytest.raises(cfg.ConfigError) as caught:
            cfg.load_schools(path)
        message = str(caught.value)
        assert 'code = "ABC"' in message and setting in message
        assert all(f'"{c}"' in message for c in choices)


def test_demo_sandbox_and_simulate_can_leave_the_seemis_school_out():
    from ingestion.app.cli import parser

    assert parser().parse_args(["demo", "--isams-only"]).isams_only is True
    assert parser().parse_args(["demo"]).isams_only is False
    assert parser().parse_args(["sandbox", "--isams-only"]).isams_only is True
    assert parser().parse_args(["simulate", "--isams-only"]).isams_only is True


def test_the_sandbox_schools_file_adds_the_seemis_school_only_when_asked(tmp_path):
    from ingestion.app.demo import write_sandbox_config
    from ingestion.sandbox.synthetic import generate_group
    from datetime import date

    group = generate_group(seed=1, n_schools=1, pupils_per_school=5, today=date(2025, 12, 3))
    plain, _, _ = write_sandbox_config(group, "http://127.0.0.1:1", tmp_path / "a")
    mixed, _, _ = write_sandbox_config(group, "http://127.0.0.1:1", tmp_path / "b", seemis=True)
    assert 'source = "seemis"' not in plain.read_text()
    assert 'code = "GBA"\nname = "Glenbrae Academy"\nsource = "seemis"\nfolder = "seemis/GBA"' in mixed.read_text()
    assert (tmp_path / "b/seemis/GBA").is_dir()
