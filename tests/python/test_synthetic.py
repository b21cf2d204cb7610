"""Tests of the synthetic iSAMS school group (ingestion/sandbox/synthetic.py).

Expectations come from the definitions (DfE attendance rules, the England calendar, the contract),
not from the generator's output.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingestion.isams.datasets import BATCH_DATASETS
from ingestion.isams.jsonnet import to_xml, xml_to_jsonnet
from ingestion.sandbox.calendar_uk import academic_year, bank_holidays, easter_sunday
from ingestion.sandbox.synthetic import generate_group

NOT_POSSIBLE = {"D", "X", "Y", "Z", "#", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"}
AEA = {"B", "J", "K", "P", "V", "W"}  # approved educational activity counts as attendance (J until Aug 2024)
NEW_ONLY = {"J1", "C1", "C2", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "K", "Q"}
OLD_ONLY = {"H", "J", "Y"}
SWITCH = date(2024, 8, 19)
NON_REGISTER_DATASETS = [d.name for d in BATCH_DATASETS if d.name != "registration_statuses"]


def _marks(school, start: date, end: date) -> list[dict]:
    return list(school.registration_statuses(start, end))


def _gov_code(school, mark: dict) -> str | None:
    """The DfE code of a mark: "/" present, "L" etc. for present codes, the government code for absences."""
    if "Code" not in mark:
        return "/" if mark["Registered"] == "1" else None
    present = {str(c["id"]): c["governmentCode"] or "/" for c in school.present_codes()}
    if mark["Code"] in present:  # the list the id belongs to decides, not Registered
        return present[mark["Code"]]
    return {str(c["id"]): c["governmentCode"] for c in school.absence_codes()}[mark["Code"]]


@pytest.fixture(scope="module")
def year_group():
    """Two schools of 150 pupils with one full academic year (2024/25) of registers."""
    return generate_group(seed=11, n_schools=2, pupils_per_school=150, first_academic_year=2024,
                          today=date(2025, 8, 31))


@pytest.fixture(scope="module")
def year_marks(year_group):
    return {s.code: _marks(s, date(2024, 9, 1), date(2025, 9, 1)) for s in year_group.schools}


# ------------------------------------------------------------------------------------------- determinism


def _snapshot(group) -> list:
    out = []
    for s in group.schools:
        out.append((s.code, s.name, s.api_key, s.rest_client_id, s.rest_client_secret,
                    s.absence_codes(), s.present_codes(), s.rest_terms()))
        out.extend(s.batch_records(name) for name in NON_REGISTER_DATASETS)
        out.append(_marks(s, date(2025, 1, 6), date(2025, 1, 20)))
    return out


def test_same_arguments_give_identical_groups():
    args = dict(seed=5, n_schools=2, pupils_per_school=40, first_academic_year=2024, today=date(2025, 3, 3))
    assert _snapshot(generate_group(**args)) == _snapshot(generate_group(**args))


def test_different_seed_gives_different_group():
    args = dict(n_schools=2, pupils_per_school=40, first_academic_year=2024, today=date(2025, 3, 3))
    a, b = generate_group(seed=5, **args), generate_group(seed=6, **args)
    assert a.schools[0].api_key != b.schools[0].api_key
    assert a.schools[0].batch_records("pupils") != b.schools[0].batch_records("pupils")
    assert _marks(a.schools[0], date(2025, 1, 6), date(2025, 2, 1)) != _marks(b.schools[0], date(2025, 1, 6),
                                                                              date(2025, 2, 1))


def test_marks_do_not_depend_on_window(year_group):
    school = year_group.schools[0]
    day = date(2025, 1, 15)  # a Wednesday in spring term
    alone = _marks(school, day, day + timedelta(days=1))
    in_month = [m for m in _marks(school, date(2025, 1, 1), date(2025, 1, 31))
                if m["RegistrationDateTime"].startswith("2025-01-15")]
    assert alone and alone == in_month


def test_past_marks_do_not_depend_on_today():
    args = dict(seed=9, n_schools=2, pupils_per_school=40, first_academic_year=2024)
    early = generate_group(today=date(2024, 12, 20), **args)
    late = generate_group(today=date(2025, 6, 20), **args)
    for a, b in zip(early.schools, late.schools, strict=True):
        # Up to a week before the early "today": the last three school days may still be unregistered.
        window = (date(2024, 9, 1), date(2024, 12, 13))
        assert _marks(a, *window) == _marks(b, *window)
        assert not _marks(a, date(2024, 12, 21), date(2025, 1, 31))  # nothing after today


# ------------------------------------------------------------------------------------------- schools & REST


def test_only_the_third_school_lacks_rest_access_at_any_group_size(year_group):
    assert all(s.rest_client_id and s.rest_client_secret for s in year_group.schools)  # two schools: both REST
    five = generate_group(seed=3, n_schools=5, pupils_per_school=5, today=date(2025, 3, 3))
    batch_only = [s.code for s in five.schools if s.rest_client_id is None and s.rest_client_secret is None]
    assert batch_only == ["RVC"]  # the school seeds/isams_code_map.csv describes
    assert five.by_api_key(five.schools[2].api_key) is five.schools[2]


# ------------------------------------------------------------------------------------------- calendar


def test_easter_and_bank_holidays():
    assert [easter_sunday(y) for y in (2024, 2025, 2026)] == [date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5)]
    assert bank_holidays(2025) == {date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 5),
                                   date(2025, 5, 26)}
    assert date(2022, 1, 3) in bank_holidays(2022)  # 1 Jan 2022 was a Saturday: substitute Monday


def test_no_registers_on_weekends_holidays_or_half_terms(year_group, year_marks):
    closed = bank_holidays(2024) | bank_holidays(2025)
    for s in year_group.schools:
        days = {date.fromisoformat(m["RegistrationDateTime"][:10]) for m in year_marks[s.code]}
        cal = academic_year(2024, s.shift)
        assert all(d.weekday() < 5 for d in days)
        assert not days & closed
        for term in cal.terms:
            assert not any(term.half_term[0] <= d <= term.half_term[1] for d in days)
            assert not days & set(term.inset)
        for term in cal.terms[:2]:  # autumn and spring open with an INSET day
            assert min(d for d in days if d >= term.start) > term.start
        # Known closures: Christmas Day, the February half term week (Monday 17 Feb 2025), August.
        assert date(2024, 12, 25) not in days and date(2025, 2, 18) not in days
        assert not any(d.month == 8 for d in days)
        assert 180 <= len(days) <= 192


# ------------------------------------------------------------------------------------------- pupils


def test_pupil_records_shape(year_group):
    school = year_group.schools[0]
    pupils = school.batch_records("pupils")
    p = pupils[0]
    for key in ("@Id", "@PersonId", "@PersonGuid", "@DivisionId", "@AcademicHouseId", "SchoolId", "Forename",
                "Middlename", "Fullname", "Preferredname", "Gender", "DOB", "Form", "NCYear", "PupilType",
                "EnrolmentDate", "FamilyId", "Tutor"):
        assert key in p
    assert len({x["SchoolId"] for x in pupils}) == len(pupils)
    assert all(10 <= len(x["SchoolId"]) <= 12 and x["SchoolId"].isdigit() for x in pupils)
    staff_codes = {st["UserCode"] for st in school.batch_records("staff")}
    assert all(x["Tutor"] in staff_codes for x in pupils)
    for x in pupils:  # DOB in the right academic cohort: NC year n in 2024/25 => born Sep(2019-n)..Aug(2020-n)
        n, dob = int(x["NCYear"]), date.fromisoformat(x["DOB"][:10])
        assert date(2019 - n, 9, 1) <= dob <= date(2020 - n, 8, 31)
        assert (x["PupilType"] == "Boarder") == ("BoardingHouse" in x)
        assert x["PupilType"] == "Day" or n >= 7
    boarders = [x for x in pupils if int(x["NCYear"]) >= 7 and x["PupilType"] == "Boarder"]
    senior = [x for x in pupils if int(x["NCYear"]) >= 7]
    assert 0.1 <= len(boarders) / len(senior) <= 0.4
    staff = school.batch_records("staff")[0]
    assert {"MiddleNames", "FullName", "PreferredName"} <= staff.keys()
    assert "Middlename" not in staff


def _leaves_ok(value) -> bool:
    if isinstance(value, dict):
        return all(_leaves_ok(v) for v in value.values())
    if isinstance(value, list):
        return all(_leaves_ok(v) for v in value)
    return value is None or isinstance(value, str)


def test_every_dataset_renders_with_string_leaves(year_group):
    school = year_group.schools[0]
    for name in NON_REGISTER_DATASETS:
        records = school.batch_records(name)
        assert records, name
        assert _leaves_ok(records), name
        xml_to_jsonnet(f"<Items>{to_xml('Item', records)}</Items>")  # well-formed XML
    years = school.batch_records("year_groups")
    assert [y["@Id"] for y in years] == [str(n) for n in range(14)] and years[0]["Name"] == "Reception"
    sets = school.batch_records("teaching_sets")
    assert {s["@YearId"] for s in sets} == {str(n) for n in range(7, 14)}
    set_ids = {s["@Id"] for s in sets}
    pupil_ids = {p["SchoolId"] for p in school.batch_records("pupils")}
    assert all(sl["@SetId"] in set_ids and sl["SchoolId"]["#text"] in pupil_ids
               for sl in school.batch_records("set_lists"))
    contacts = school.batch_records("contacts")
    assert all(p["SchoolId"] in pupil_ids for c in contacts for p in c["Pupils"]["Pupil"])


def test_current_pupils_exclude_leavers_and_registers_stop(year_group, year_marks):
    today = year_group.today
    for s in year_group.schools:
        current = {p["SchoolId"] for p in s.batch_records("pupils")}
        left = [p for p in s.pupils if p.leave_date is not None and p.leave_date < today]
        assert left and not current & {p.school_id for p in left}
        last_mark: dict[str, str] = {}
        for m in year_marks[s.code]:
            last_mark[m["PupilId"]] = m["RegistrationDateTime"][:10]
        mid_year = [p for p in left if p.leave_date < date(2025, 7, 1)]
        assert mid_year  # a few leave during the year
        assert all(date.fromisoformat(last_mark[p.school_id]) <= p.leave_date for p in mid_year)


def test_mover_has_same_upn_in_two_schools_and_disjoint_registers(year_group, year_marks):
    a, b = year_group.schools
    upns_a = {p.upn: p for p in a.pupils if p.upn}
    movers = [(upns_a[q.upn], q) for q in b.pupils if q.upn in upns_a]
    assert movers
    pa, pb = movers[0]
    assert (pa.forename, pa.surname, pa.dob) == (pb.forename, pb.surname, pb.dob)
    assert pa.school_id != pb.school_id or pa.num_id != pb.num_id
    days_a = {m["RegistrationDateTime"][:10] for m in year_marks[a.code] if m["PupilId"] == pa.school_id}
    days_b = {m["RegistrationDateTime"][:10] for m in year_marks[b.code] if m["PupilId"] == pb.school_id}
    assert days_a and days_b and max(days_a) < min(days_b)
    assert pa.school_id not in {p["SchoolId"] for p in a.batch_records("pupils")}
    assert pb.school_id in {p["SchoolId"] for p in b.batch_records("pupils")}


# ------------------------------------------------------------------------------------------- registers


def test_mark_shape_and_pupil_ids(year_group, year_marks):
    for s in year_group.schools:
        known = {p.school_id for p in s.pupils}
        marks = year_marks[s.code]
        assert {m["PupilId"] for m in marks} <= known
        assert len({m["@Id"] for m in marks}) == len(marks)
        present_ids = {str(c["id"]) for c in s.present_codes()}
        absence_ids = {str(c["id"]) for c in s.absence_codes()}
        for m in marks:
            assert m["RegistrationDateTime"][10:] in ("T08:40:00", "T13:40:00")
            if "Code" in m:
                assert m["Code"] in (present_ids if m["Registered"] == "1" else absence_ids)


def test_unregistered_only_in_last_three_school_days():
    group = generate_group(seed=3, n_schools=1, pupils_per_school=300, first_academic_year=2024,
                           today=date(2025, 3, 12))
    school = group.schools[0]
    marks = _marks(school, date(2025, 2, 24), date(2025, 3, 13))
    open_days = {m["RegistrationDateTime"][:10] for m in marks if m["Registered"] == "0" and "Code" not in m}
    # 10-12 March 2025 are the Monday-Wednesday up to "today".
    assert open_days and open_days <= {"2025-03-10", "2025-03-11", "2025-03-12"}


def test_realism_of_one_year(year_group, year_marks):
    possible = absent = late = sessions = 0
    per_pupil: dict[tuple[str, str], list[int]] = {}
    ill_winter = ill_summer = 0
    for s in year_group.schools:
        for m in year_marks[s.code]:
            code = _gov_code(s, m)
            sessions += 1
            late += code == "L"
            if code in NOT_POSSIBLE or code is None:
                continue
            is_absent = m["Registered"] == "0" and code not in AEA
            possible += 1
            absent += is_absent
            counts = per_pupil.setdefault((s.code, m["PupilId"]), [0, 0])
            counts[0] += 1
            counts[1] += is_absent
            month = int(m["RegistrationDateTime"][5:7])
            ill_winter += code == "I" and month in (12, 1, 2)
            ill_summer += code == "I" and month in (5, 6, 7)
    assert 0.04 <= absent / possible <= 0.10
    assert 0.01 <= late / sessions <= 0.05
    nc = {(s.code, p.school_id): p.nc_in(2024) for s in year_group.schools for p in s.pupils}
    rates = [a / n for k, (n, a) in per_pupil.items() if 7 <= nc[k] <= 11]
    pa = sum(r >= 0.10 for r in rates) / len(rates)
    assert 0.10 <= pa <= 0.30
    assert max(r for (n, a) in per_pupil.values() for r in [a / n]) >= 0.5  # a severe absentee exists
    assert ill_winter > ill_summer  # illness peaks in winter


def test_code_set_switches_on_19_august_2024():
    group = generate_group(seed=4, n_schools=2, pupils_per_school=70, first_academic_year=2023,
                           today=date(2025, 3, 31))
    before: set[str] = set()
    after: set[str] = set()
    for s in group.schools:
        for m in _marks(s, date(2023, 9, 1), date(2025, 4, 1)):
            code = _gov_code(s, m)
            (before if m["RegistrationDateTime"][:10] < SWITCH.isoformat() else after).add(code)
    assert not before & NEW_ONLY
    assert not after & OLD_ONLY
    assert before & OLD_ONLY and after & {"J1", "C2", "Y2", "C"}


# ------------------------------------------------------------------------------------------- demo size
# Speed is measured by benchmarks, never asserted in tests; this checks the demo-sized window's content.


def test_demo_sized_fortnight_has_two_marks_per_pupil_day():
    group = generate_group(seed=2024, n_schools=3, pupils_per_school=300, today=date(2026, 3, 10))
    marks = _marks(group.schools[0], date(2026, 2, 23), date(2026, 3, 9))
    assert len(marks) > 2 * 10 * 250
