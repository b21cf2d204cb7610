"""The nightly simulation (issue 10 §2): the sandbox scenario and ``schoolwh simulate`` on both backends.

Fast tests check the scenario itself (what the sandbox serves as ``today`` moves: corrections, a removed
mark, a new code, a form and house change, the rollover, the one-night outage), that the built-in
itineraries cross every event, and that the mart comparison finds a difference. The two slow tests run the
simulation: ``schoolwh nightly`` night after night against one warehouse, every night's marts compared with
a full refresh built from scratch on a copy of the same raw data (DuckDB: the ``short`` itinerary, 6 nights;
PostgreSQL: ``tiny``, 3 nights). They stop at the first unexpected night, so a known failure costs one night.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import duckdb
import httpx
import pytest

from ingestion.app import simulate
from ingestion.sandbox import scenario as sc
from ingestion.sandbox.server import SandboxServer
from ingestion.sandbox.synthetic import _pupil_record, generate_group

YEAR = 2025


def _group():
    group = generate_group(seed=2024, n_schools=2, pupils_per_school=25, first_academic_year=YEAR,
                           today=date(YEAR + 1, 9, 30))
    plan = sc.build_scenario(group, YEAR)
    return sc.attach(group, plan), plan


@pytest.fixture()
def scenario_group():
    return _group()


def _mark(school, pupil_idx: int, day: date, session: int) -> dict | None:
    school_id = school.pupils[pupil_idx].school_id
    marks = [m for m in school.registration_statuses(day, day + timedelta(days=1)) if m["PupilId"] == school_id]
    times = ("08:40:00", "13:40:00")
    return next((m for m in marks if m["RegistrationDateTime"].endswith(times[session])), None)


def test_the_default_group_has_no_scenario():
    group = generate_group(seed=7, n_schools=2, pupils_per_school=20, today=date(2026, 11, 20))
    assert all(s.scenario is None for s in group.schools)


def test_corrections_are_served_from_the_day_they_are_made(scenario_group):
    group, plan = scenario_group
    for c in plan.corrections:
        if c.corrected_on == c.day:
            continue
        school = group.schools[c.school]
        sc.set_today(group, c.corrected_on - timedelta(days=1))
        before = _mark(school, c.pupil, c.day, c.session)
        sc.set_today(group, c.corrected_on)
        after = _mark(school, c.pupil, c.day, c.session)
        assert before is not None, c
        if c.code == sc.REMOVED:
            assert after is None, c
        else:
            assert after is not None and after["@Id"] == before["@Id"]
            assert (after.get("Code"), after["Registered"]) != (before.get("Code"), before["Registered"]), c
    kinds = {c.kind: (c.corrected_on - c.day).days for c in plan.corrections}
    assert kinds["correction inside look-back"] < 14 < kinds["correction outside look-back"]
    assert "mark removed" in kinds


def test_new_code_appears_in_the_code_list_and_registers_from_its_first_day(scenario_group):
    group, plan = scenario_group
    new = plan.new_codes[0]
    school = group.schools[new.school]
    sc.set_today(group, new.on - timedelta(days=1))
    assert new.code not in {c["code"] for c in school.absence_codes()}
    sc.set_today(group, new.on)
    listed = {c["code"]: c for c in school.absence_codes()}
    assert listed[new.code]["governmentCode"] == "I" and listed[new.code]["id"] == new.code_id()
    assert len({c["id"] for c in school.absence_codes()}) == len(school.absence_codes())  # ids stay unique
    used = [m for m in school.registration_statuses(new.on, new.on + timedelta(days=1)) if m.get("Code") == str(new.code_id())]
    assert used
    # marks before the first day keep the old code
    sc.set_today(group, new.on + timedelta(days=30))
    old = list(school.registration_statuses(new.on - timedelta(days=40), new.on))  # end of autumn
    assert old and not any(m.get("Code") == str(new.code_id()) for m in old)


def test_form_and_house_change_from_a_date(scenario_group):
    group, plan = scenario_group
    change = plan.form_changes[0]
    school = group.schools[change.school]
    pupil = school.pupils[change.pupil]
    sc.set_today(group, change.on - timedelta(days=1))
    before = _pupil_record(school, pupil)
    sc.set_today(group, change.on)
    after = _pupil_record(school, pupil)
    assert before["SchoolId"] == after["SchoolId"] and before["NCYear"] == after["NCYear"]
    assert before["Form"] != after["Form"] and before["AcademicHouse"] != after["AcademicHouse"]
    assert before["@AcademicHouseId"] != after["@AcademicHouseId"]


def test_rollover_follows_today(scenario_group):
    group, _ = scenario_group
    school = group.schools[0]
    sc.set_today(group, date(YEAR + 1, 7, 17))
    summer = {r["SchoolId"]: r for r in school.batch_records("pupils")}
    sc.set_today(group, date(YEAR + 1, 9, 4))
    autumn = {r["SchoolId"]: r for r in school.batch_records("pupils")}
    stayed = set(summer) & set(autumn)
    assert stayed and all(int(autumn[i]["NCYear"]) == int(summer[i]["NCYear"]) + 1 for i in stayed)
    assert not [i for i in summer if summer[i]["NCYear"] == "13" and i in autumn]  # Year 13 left
    assert {r["NCYear"] for i, r in autumn.items() if i not in summer} >= {"0"}  # new Reception


def test_a_school_is_down_for_exactly_one_night(scenario_group):
    group, plan = scenario_group
    school_idx, night = plan.outages[0]
    school = group.schools[school_idx]
    other = group.schools[1 - school_idx]
    url = "/api/batch/1.0/json.ashx"
    with SandboxServer(group, faults=plan.fault_plan(group)) as server:
        def status(s, day: date) -> int:
            sc.set_today(group, day)
            return httpx.get(f"{server.url}{url}", params={"apiKey": s.api_key}, timeout=30).status_code

        assert status(school, night - timedelta(days=1)) == 200
        assert status(school, night) == 401
        assert status(other, night) == 200
        assert status(school, night + timedelta(days=1)) == 200


@pytest.mark.parametrize("name", ["short", "full"])
def test_itineraries_cross_every_event(name):
    group, plan = _group()
    nights = simulate.itinerary(name, YEAR)
    events = " | ".join(e for _, e in sc.events_between(group, plan, nights[0], nights[-1]))
    for what in ("correction inside look-back", "mark removed", "load fails for this night", "changes form and house",
                 "starts using new absence code", "mover leaves", "mover joins", "academic year 2026/27 begins",
                 "september intake (pupil", "NC 13", "NC 0"):
        assert what in events, what
    if name == "full":
        assert "correction outside look-back" in events and "mid-year joiner" in events and "leaver" in events
        assert max((b - a).days for a, b in zip(nights, nights[1:])) <= 14  # every night incremental
        assert sum(1 for a, b in zip(nights, nights[1:]) if (b - a).days == 1) >= 8  # two school weeks
    assert plan.outages[0][1] in nights and plan.outages[0][1] + timedelta(days=1) in nights  # fails, recovers


def test_nights_from_skip_weekends_and_half_term_and_fill_holidays():
    assert simulate.nights_from(date(2025, 10, 23), 3) == [date(2025, 10, 23), date(2025, 10, 24), date(2025, 11, 3)]
    filled = simulate.fill([date(2025, 12, 19), date(2026, 1, 6)])
    assert filled == [date(2025, 12, 19), date(2026, 1, 2), date(2026, 1, 6)]


def test_a_night_is_ok_only_with_its_expected_exit_code_and_identical_marts():
    good = simulate.Night(date(2025, 10, 21), exit_code=1, expected=1, seconds=1.0, identical=True)
    assert good.ok and "exit 1 " in good.line() and "identical: yes" in good.line()
    sim = simulate.Simulation("duckdb", [good, dataclasses.replace(good, expected=0),
                                         dataclasses.replace(good, identical=False, difference="marts.x differs")])
    assert not sim.ok
    summary = sim.summary()
    assert "1 unexpected exit code(s), 1 of 3 checked night(s)" in summary and "marts.x differs" in summary
    assert summary.endswith("FAILED")


def test_compare_marts_finds_the_first_differing_table(tmp_path):
    from ingestion.core.warehouse import Warehouse

    paths = [tmp_path / "a" / "wh.duckdb", tmp_path / "b" / "wh.duckdb"]
    for p in paths:
        p.parent.mkdir()
        with duckdb.connect(str(p)) as con:
            con.execute("create schema marts; create schema canonical")
            con.execute("create table marts.m1 as select * from (values (1, 'a', 0.1), (2, 'b', 0.2)) t(k, v, r)")
            con.execute("create table marts.m2 as select 1 as k")
            con.execute("create table canonical.attendance_sessions as select 1 as k")
    a, b = (Warehouse.duckdb(p) for p in paths)
    assert simulate.compare_marts(a, b) == ""
    with duckdb.connect(str(paths[1])) as con:
        con.execute("update marts.m1 set v = 'c' where k = 2")
    diff = simulate.compare_marts(a, b)
    assert diff.startswith("1 table(s) differ: marts.m1") and "(2, 'b', 0.2)" in diff and "(2, 'c', 0.2)" in diff


def test_fidelity_names_each_event_missing_from_raw_data(tmp_path):
    from ingestion.core.warehouse import Warehouse

    group, plan = _group()
    night = date(YEAR + 1, 1, 7)
    sc.set_today(group, night)
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_isams")
        con.execute("create table raw_isams.registration_statuses (id varchar, registered varchar, code varchar, "
                    "school_code varchar)")
        con.execute("create table raw_isams.pupils (school_code varchar, school_id varchar, form varchar, "
                    "_dlt_valid_to timestamp)")
        con.execute("create table raw_isams.absence_codes (school_code varchar, code varchar)")
    report = " | ".join(simulate.fidelity(Warehouse.duckdb(path), group, plan, night))
    assert "correction inside look-back" in report and "form change" in report and "new absence code ILV" in report
    assert "outside the look-back: documented" in report
    assert "mark removed" not in report  # iSAMS serves no mark and raw has none: nothing to report


def test_simulate_command_line(tmp_path):
    from ingestion.app.cli import parser
    from ingestion.core.config import ConfigError

    args = parser().parse_args(["simulate", "--itinerary", "tiny", "--workdir", str(tmp_path)])
    assert (args.target, args.check_every, args.school_count, args.pupils) == ("duckdb", 1, 2, 25)
    (tmp_path / "something.txt").write_text("not a simulation")
    with pytest.raises(ConfigError, match="not empty"):
        simulate.command(args, echo=lambda line: None)


# ------------------------------------------------------------------------------------------------ the simulation

def _report(sim: simulate.Simulation) -> str:
    return "\n".join([*(n.line() + (f"\n    {n.difference[:3000]}" if n.difference else "") for n in sim.nights),
                      sim.summary()])


def test_simulation_on_duckdb(tmp_path):
    lines: list[str] = []
    sim = simulate.run_simulation(simulate.itinerary("short", YEAR), simulate.Backend(tmp_path), year=YEAR,
                                  echo=lines.append, stop_at_first_failure=True)
    assert sim.ok, _report(sim)
    assert len(sim.nights) == 6 and all(n.identical for n in sim.nights)
    assert [n.exit_code for n in sim.nights] == [0, 0, 1, 0, 0, 0]  # the outage night is exit 1


@pytest.fixture()
def pg_simulation_env(pg_cluster):
    """A database of its own in the session's cluster (test_postgres.py uses the default one); the simulation
    drops and recreates its reference copy itself."""
    return pg_cluster.fresh_database("simulation")


def test_simulation_on_postgres(tmp_path, pg_cluster, pg_simulation_env):
    lines: list[str] = []
    backend = simulate.PostgresBackend(tmp_path, pg_simulation_env, pg_cluster.admin_connect)
    sim = simulate.run_simulation(simulate.itinerary("tiny", YEAR), backend, year=YEAR, echo=lines.append,
                                  stop_at_first_failure=True)
    assert sim.ok, _report(sim)
    assert [n.exit_code for n in sim.nights] == [0, 0, 1] and all(n.identical for n in sim.nights)
