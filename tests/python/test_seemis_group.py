"""The mixed sandbox group: iSAMS schools and the SEEMiS school GBA ingested together, night after night."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from rich.console import Console

from ingestion.app.demo import seemis_folder, write_sandbox_config, write_seemis_night
from ingestion.app.pipeline import ingest_all
from ingestion.core import config as cfg
from ingestion.core.warehouse import Warehouse
from ingestion.ops import runlog
from ingestion.sandbox import seemis
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import generate_group

NIGHT1, NIGHT2 = date(2025, 12, 3), date(2025, 12, 4)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    group = generate_group(seed=5, n_schools=1, pupils_per_school=15, today=NIGHT2)
    out = {"nights": []}
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, root / "config", seemis=True)
        with pytest.MonkeyPatch.context() as mp:
            for k, v in secrets.items():
                mp.setenv(k, v)
            settings = cfg.Settings(schools=cfg.load_schools(schools_file), register_start=date(2025, 11, 1))
            out["schools"] = settings.schools
            for night in (NIGHT1, NIGHT2, NIGHT2):
                write_seemis_night(schools_file.parent, night)
                wh = Warehouse.duckdb(root / "wh" / "w.duckdb", as_of=night)
                console = Console(record=True, width=200)
                outcome = ingest_all(settings, wh, console)
                with wh.connect() as con:
                    counts = {t: con.execute(f"select count(*) from raw_seemis.{t}").fetchall()[0][0]
                              for t in ("pupils", "enrolments", "attendance", "terms", "schools")}
                    codes = dict(con.execute("select attendance_code, count(*) from raw_seemis.attendance "
                                             "group by 1").fetchall())
                    settled = dict(con.execute("select attendance_code, count(*) from raw_seemis.attendance "
                                               "where attendance_date = '2025-12-01' group by 1").fetchall())
                    reloads = con.execute("select min(from_date), max(to_date) from ops.register_reloads "
                                          "where school_code = 'GBA' and run_id = ?", [outcome.run_id]).fetchall()[0]
                    isams = con.execute("select jurisdiction from raw_isams.schools").fetchall()
                out["nights"].append({"outcome": outcome, "counts": counts, "codes": codes, "settled": settled, "reloads": reloads,
                                      "text": console.export_text(), "isams": isams})
    out["folder"] = seemis_folder(schools_file.parent)
    out["health"] = {h.school_code: h for h in runlog.health(wh)}
    return out


def test_the_schools_file_has_the_seemis_school(story):
    gba = story["schools"][-1]
    assert (gba.code, gba.source, gba.jurisdiction, gba.phase) == ("GBA", "seemis", "scotland", "secondary")
    assert gba.folder == story["folder"]


def test_both_sources_land_every_night(story):
    first, second, rerun = story["nights"]
    for night in story["nights"]:
        assert night["outcome"].ok, "\n".join(night["outcome"].errors)
        assert night["isams"] == [("england",)]
    assert first["counts"]["schools"] == 1 and first["counts"]["terms"] == 8
    assert 355 <= first["counts"]["pupils"] <= 365
    # the backfill (from the 2024/25 session's first pupil day, Wed 21 Aug 2024: term 1 opens Mon 19 Aug with two
    # in-service days) and the week to 3 Dec: every mark once
    keys = set()
    for name in ("attendance_backfill_20251203.csv", "attendance_20251203.csv"):
        with (story["folder"] / name).open(newline="") as handle:
            keys |= {(r["Pupil ID"], r["Date"], r["Opening"]) for r in csv.DictReader(handle)}
    assert first["counts"]["attendance"] == len(keys) > 150_000
    assert first["reloads"] == (date(2024, 8, 21), NIGHT1)
    # night 2 adds 4 Dec only (360 pupils on roll: 360 S1-S6 + the joiner - the leaver) (the other six days were re-sent), and corrects some 32s into 22s
    assert second["counts"]["attendance"] - first["counts"]["attendance"] == 2 * 360  # 361 enrolled, 1 has left
    # 1 Dec is 3 days old on 4 Dec: the sicknesses first shown as 32 are 22 now, the day's total unchanged
    before, after = first["settled"], second["settled"]
    assert after["32"] < before["32"] and after["22"] - before["22"] == before["32"] - after["32"]
    assert sum(after.values()) == sum(before.values())
    assert second["reloads"] == (date(2025, 11, 28), NIGHT2)
    assert rerun["counts"] == second["counts"] and rerun["codes"] == second["codes"]
    assert rerun["reloads"] == (None, None)  # nothing re-read
    assert "✓ GBA" in first["text"]


def test_sandbox_codes_are_what_landed(story):
    assert set(story["nights"][1]["codes"]) <= set(seemis.CODES)


def test_status_sees_the_seemis_school(story):
    gba = story["health"]["GBA"]
    assert gba.healthy and gba.latest_register_date == NIGHT2.isoformat()
