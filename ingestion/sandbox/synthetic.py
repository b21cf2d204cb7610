"""A deterministic synthetic iSAMS school group for the sandbox server (implements ``contract.py``).

Everything derives from hashes of ``(seed, school, pupil, ...)``, never from one shared random stream, so:
- the same arguments give the same group;
- a register mark for (school, pupil, date, session) is the same whatever window is asked for, and
  moving ``today`` forward only reveals more days (the roster and every pupil's enrolment/leaving
  dates are fixed from the seed and calendar, not from ``today``).

Marks are planned per pupil and academic year (absence episodes span days) and built lazily per window.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from ingestion.sandbox import codes as codelists
from ingestion.sandbox import names
from ingestion.sandbox.calendar_uk import AcademicYear, academic_year, academic_year_of
from ingestion.sandbox.contract import ElementDict, SchoolGroup

MASK = (1 << 64) - 1
DIVISIONS = ((1, "Pre-Prep", "PP", range(0, 3)), (2, "Prep", "PR", range(3, 7)),
             (3, "Senior", "SS", range(7, 12)), (4, "Sixth Form", "6F", range(12, 14)))
FORM_LETTERS = ("A", "B")
# Illness seasonality by month: winter peak (Dec-Feb), low in summer.
SEASON = {9: 0.75, 10: 0.95, 11: 1.1, 12: 1.35, 1: 1.35, 2: 1.25, 3: 1.0, 4: 0.85, 5: 0.8, 6: 0.75, 7: 0.7}


def _mix(*parts: int | str) -> int:
    """A stable 64-bit hash of ints/strings (splitmix64 chain); Python's hash() is salted per process."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        v = part if isinstance(part, int) else int.from_bytes(str(part).encode()[:16].ljust(16, b"\0"), "little")
        h = (h ^ (v & MASK)) * 0xBF58476D1CE4E5B9 & MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & MASK
        h ^= h >> 29
    return h


def _unit(*parts: int | str) -> float:
    """A uniform number in [0, 1) from a stable hash."""
    return _mix(*parts) / 2**64


def _rng(*parts: int | str) -> np.random.Generator:
    return np.random.default_rng([_mix(*parts) & 0xFFFFFFFF, _mix(*parts) >> 32])


def _dt(d: date | None) -> str | None:
    return None if d is None else f"{d.isoformat()}T00:00:00"


def _legacy(value: str | None) -> dict[str, str | None]:
    """A ``Legacy="True"`` duplicate element."""
    return {"@Legacy": "True", "#text": value}


def year_name(nc: int) -> str:
    return "Reception" if nc == 0 else f"Year {nc}"


def form_name(nc: int, letter: str) -> str:
    return f"{'R' if nc == 0 else nc}{letter}"


def division_of(nc: int) -> tuple[int, str]:
    return next((i, n) for i, n, _, years in DIVISIONS if nc in years)


@dataclass
class Pupil:
    """One enrolment of a pupil at one school (a mover has one Pupil per school)."""

    idx: int  # index within the school, stable
    num_id: int  # the Batch @Id
    person_id: int
    school_id: str  # the SchoolId join key
    upn: str | None
    forename: str
    middlename: str | None
    surname: str
    gender: str
    dob: date
    entry_year: int  # academic year of enrolment
    entry_nc: int  # NC year on enrolment
    enrol_date: date
    leave_date: date | None  # last day on roll
    family_id: int
    boarder: bool  # boards once in Senior/Sixth Form
    house: int  # academic house index
    letter: str  # form letter

    def nc_in(self, year: int) -> int:
        return self.entry_nc + year - self.entry_year

    def on_roll(self, d: date) -> bool:
        return self.enrol_date <= d and (self.leave_date is None or d <= self.leave_date)


@dataclass
class Staff:
    idx: int
    num_id: int
    person_id: int
    title: str
    forename: str
    surname: str
    gender: str
    dob: date
    user_code: str
    teaching: bool
    roles: tuple[str, ...]
    divisions: tuple[int, ...]


# ---------------------------------------------------------------------------------------------- roster


def _first_day_on_or_after(cal: AcademicYear, d: date) -> date:
    return next((x for x in cal.school_days if x >= d), cal.school_days[-1])


def _dob(rng: np.random.Generator, year: int, nc: int) -> date:
    """A birth date that puts the child in NC year ``nc`` in academic year ``year``."""
    start = date(year - nc - 5, 9, 1)
    return start + timedelta(days=int(rng.integers(0, 365)))


def _leave_date(rng: np.random.Generator, p: Pupil, shift: int, from_year: int) -> date:
    """When a pupil leaves: mid-year now and then, often after Year 6 or 11, else after Year 13."""
    for year in range(from_year, p.entry_year + 14 - p.entry_nc):
        nc = p.nc_in(year)
        cal = academic_year(year, shift)
        days = [d for d in cal.school_days if d > p.enrol_date]
        u = rng.random(2)
        if u[0] < 0.012 and len(days) > 10:
            return days[int(u[1] * (len(days) - 5))]
        if (nc == 6 and u[1] < 0.15) or (nc == 11 and u[1] < 0.25) or nc == 13:
            return cal.terms[2].finish
    return academic_year(p.entry_year + 13 - p.entry_nc, shift).terms[2].finish


class _RosterBuilder:
    """Creates a school's pupils year by year; indices depend only on seed, school and year."""

    def __init__(self, seed: int, school_idx: int, shift: int, cohort: int):
        self.seed, self.school_idx, self.shift, self.cohort = seed, school_idx, shift, cohort
        self.pupils: list[Pupil] = []
        self._school_ids: set[str] = set()
        self._families: list[tuple[int, str]] = []  # (family id, surname)

    def _school_id(self, idx: int) -> str:
        digits = 10 + (self.school_idx % 3)
        h = _mix(self.seed, self.school_idx, idx, "sid")
        while True:
            sid = str(10 ** (digits - 1) + h % (9 * 10 ** (digits - 1)))
            if sid not in self._school_ids:
                self._school_ids.add(sid)
                return sid
            h = _mix(h)

    def add(self, year: int, nc: int, enrol: date, entry_nc: int | None = None, like: Pupil | None = None,
            stay: bool = False) -> Pupil:
        """Add a pupil in NC ``nc`` in ``year`` (enrolled at ``entry_nc`` earlier when given)."""
        idx = len(self.pupils)
        rng = _rng(self.seed, self.school_idx, idx, "pupil")
        entry_nc = nc if entry_nc is None else entry_nc
        gender = "M" if rng.random() < 0.5 else "F"
        first = names.BOYS if gender == "M" else names.GIRLS
        if like is None and self._families and rng.random() < 0.15:  # sibling of an existing family
            family_id, surname = self._families[int(rng.integers(len(self._families)))]
        else:
            family_id = 1000 * (self.school_idx + 1) + len(self._families) + 1
            surname = names.SURNAMES[int(rng.integers(len(names.SURNAMES)))]
            self._families.append((family_id, surname))
        upn_digits = _mix(self.seed, self.school_idx, idx, "upn") % 10**12
        p = Pupil(
            idx=idx, num_id=700 + idx, person_id=20000 * (self.school_idx + 1) + idx,
            school_id=self._school_id(idx),
            upn=None if rng.random() < 0.04 else f"{'ABCDEFGHJKLMNPQRTUVWXYZ'[upn_digits % 23]}{upn_digits:012d}",
            forename=first[int(rng.integers(len(first)))],
            middlename=None if rng.random() < 0.35 else first[int(rng.integers(len(first)))],
            surname=surname, gender=gender, dob=_dob(rng, year, nc),
            entry_year=year - (nc - entry_nc), entry_nc=entry_nc, enrol_date=enrol, leave_date=None,
            family_id=family_id, boarder=rng.random() < 0.25, house=int(rng.integers(4)),
            letter=FORM_LETTERS[int(rng.integers(2))],
        )
        if like is not None:  # a mover: the same child, a new enrolment
            p.upn, p.forename, p.middlename, p.surname = like.upn, like.forename, like.middlename, like.surname
            p.gender, p.dob = like.gender, like.dob
        p.leave_date = (academic_year(p.entry_year + 13 - entry_nc, self.shift).terms[2].finish if stay
                        else _leave_date(rng, p, self.shift, year))
        self.pupils.append(p)
        return p

    def initial(self, year: int) -> None:
        """The roll at the start of the first academic year."""
        for nc in range(14):
            size = self.cohort if nc < 12 else int(self.cohort * 0.85)
            for _ in range(size):
                u = _unit(self.seed, self.school_idx, len(self.pupils), "entry")
                entry_nc = 0
                if nc >= 12 and u < 0.2:
                    entry_nc = 12
                elif nc >= 7 and u < 0.45:
                    entry_nc = 7
                elif nc >= 1 and u > 0.9:
                    entry_nc = 1 + int((u - 0.9) * 10 * nc)
                entry_year = year - (nc - entry_nc)
                enrol = academic_year(entry_year, self.shift).school_days[0]
                self.add(year, nc, enrol, entry_nc)

    def september(self, year: int) -> None:
        """September intake: Reception, and top-ups into Year 7 and Year 12 replacing leavers."""
        cal = academic_year(year, self.shift)
        for nc, size in ((0, self.cohort), (7, int(self.cohort * 0.2)), (12, int(self.cohort * 0.3))):
            for _ in range(size):
                self.add(year, nc, cal.school_days[0])

    def midyear(self, year: int) -> None:
        """A few joiners during the year (they appear in registers from their enrolment date)."""
        cal = academic_year(year, self.shift)
        rng = _rng(self.seed, self.school_idx, year, "midyear")
        for _ in range(max(1, round(self.cohort * 14 * 0.012))):
            nc = int(rng.integers(1, 11))
            self.add(year, nc, cal.school_days[int(rng.integers(10, len(cal.school_days) - 20))])


# ---------------------------------------------------------------------------------------------- marks


@dataclass(frozen=True)
class _Propensity:
    absence: float  # target share of sessions absent
    late: float  # share of AM sessions late
    severe: bool


def _propensity(seed: int, school_idx: int, p: Pupil, year: int) -> _Propensity:
    """Skewed per-pupil absence: lognormal with a small severe tail; secondary higher than primary."""
    rng = _rng(seed, school_idx, p.idx, "propensity")
    z, tail, wobble, late_z = rng.standard_normal(), rng.random(), rng.standard_normal(), rng.standard_normal()
    secondary = p.nc_in(year) >= 7
    median, sigma, p_severe = (0.060, 0.85, 0.018) if secondary else (0.046, 0.75, 0.006)
    severe = tail < p_severe
    year_wobble = _rng(seed, school_idx, p.idx, year, "wobble").standard_normal() * 0.25
    if severe:
        absence = 0.6 + 0.25 * min(1.0, abs(wobble) / 2)
    else:
        absence = min(0.45, median * math.exp(sigma * z + year_wobble))
    return _Propensity(absence, min(0.3, 0.03 * math.exp(0.8 * late_z)), severe)


@dataclass
class _YearPlan:
    """A pupil's non-plain-present sessions in one academic year: day index -> [AM code, PM code]."""

    marks: dict[int, list[str | None]] = field(default_factory=dict)

    def set(self, i: int, am: str | None, pm: str | None, overwrite: bool = True) -> None:
        cur = self.marks.setdefault(i, [None, None])
        for s, code in ((0, am), (1, pm)):
            if code is not None and (overwrite or cur[s] is None):
                cur[s] = code


def _block(plan: _YearPlan, start: int, length: int, n: int, code: str) -> None:
    for i in range(start, min(n, start + length)):
        plan.set(i, code, code)


def _plan_year(seed: int, school_idx: int, p: Pupil, cal: AcademicYear, closure_day: int | None) -> _YearPlan:
    """Plan one pupil's year of marks (government codes and "L"); depends only on seed/school/pupil/year."""
    year, days, n = cal.start_year, cal.school_days, len(cal.school_days)
    new = days[0] >= codelists.CODE_SET_2024
    prop = _propensity(seed, school_idx, p, year)
    nc = p.nc_in(year)
    rng = _rng(seed, school_idx, p.idx, year, "plan")
    u = rng.random((n, 8))
    plan = _YearPlan()
    a = prop.absence
    season = np.array([SEASON.get(d.month, 1.0) for d in days])
    # Illness: whole-day episodes of 1-5 days, most absence, peaking in winter.
    ill_share, unauth_share = (0.35, 0.45) if prop.severe else (0.62, 0.16)
    starts = np.flatnonzero(u[:, 0] < a * ill_share * season / 1.9)
    for i in starts:
        length = 1 if u[i, 1] < 0.5 else 2 if u[i, 1] < 0.8 else 3 if u[i, 1] < 0.93 else 5
        if length == 1 and u[i, 1] < 0.07:  # sent home at lunch, or back for the afternoon
            plan.set(int(i), None, "I") if u[i, 1] < 0.035 else plan.set(int(i), "I", None)
        else:
            _block(plan, int(i), length, n, "I")
    for i in np.flatnonzero(u[:, 2] < a * 0.07):  # medical/dental appointments: one session
        plan.set(int(i), "M" if u[i, 3] < 0.5 else None, None if u[i, 3] < 0.5 else "M", overwrite=False)
    for i in np.flatnonzero(u[:, 4] < a * unauth_share * 0.7):  # unexplained, often whole days
        code = "N" if u[i, 3] < 0.6 else "O"
        plan.set(int(i), code, code if u[i, 3] > 0.3 else None, overwrite=False)
    if prop.severe:  # severe absentees miss whole days, mostly unexplained
        for i in np.flatnonzero(u[:, 1] < a * 0.75):
            code = "O" if u[i, 3] < 0.5 else "I" if u[i, 3] < 0.8 else "N"
            plan.set(int(i), code, code, overwrite=False)
    if prop.severe and new and u[0, 5] < 0.4:  # a part-time timetable, with some LA-arranged provision
        for i in range(0, n, 2):
            plan.set(i, None, "K" if u[i, 2] < 0.1 else "C2", overwrite=False)
    for i in np.flatnonzero(u[:, 5] < a * 0.04):  # religious observance / exceptional circumstances
        plan.set(int(i), "R" if u[i, 3] < 0.5 else "C", "R" if u[i, 3] < 0.5 else "C", overwrite=False)
    for i in np.flatnonzero(u[:, 6] < prop.late):  # late: mostly before registers close (L), some U
        plan.set(int(i), "U" if u[i, 3] < 0.1 else "L", None, overwrite=False)
    for i in np.flatnonzero(u[:, 7] < prop.late * 0.2):
        plan.set(int(i), None, "L", overwrite=False)
    for i in np.flatnonzero(u[:, 7] > 0.9945):  # trips and fixtures count as attendance
        plan.set(int(i), "V" if u[i, 3] < 0.6 else None, "V" if u[i, 3] < 0.6 else "P")
    _events(plan, rng, prop, nc, cal, new, closure_day)
    return plan


def _events(plan: _YearPlan, rng: np.random.Generator, prop: _Propensity, nc: int, cal: AcademicYear,
            new: bool, closure_day: int | None) -> None:
    """Rarer multi-day events: holidays, suspensions, work experience, interviews, closures."""
    days, n = cal.school_days, len(cal.school_days)
    v = rng.random(12)
    if v[0] < 0.05 + prop.absence * 0.6:  # term-time holiday next to a half term
        ht = [t.half_term for t in cal.terms]
        start_h, end_h = ht[int(v[1] * 3)]
        length = 3 + int(v[2] * 6)
        before = v[3] < 0.5
        idx = [i for i, d in enumerate(days) if (d < start_h if before else d > end_h)]
        span = idx[-length:] if before else idx[:length]
        code = ("C" if new else "H") if v[4] < 0.3 else "G"
        for i in span:
            plan.set(i, code, code)
    if nc >= 7 and v[5] < (0.25 if prop.severe else 0.012):  # suspension
        _block(plan, int(v[6] * (n - 3)), 1 + int(v[7] * 3), n, "E")
    if nc == 10 and v[8] < 0.7:  # work experience week: the second-to-last full week
        week = [i for i, d in enumerate(days) if days[-1] - timedelta(days=14) < d <= days[-1] - timedelta(days=7)]
        for i in week:
            plan.set(i, "W", "W")
    if nc in (11, 13) and v[9] < 0.25:  # college/university interview
        plan.set(int(n * (0.3 + 0.3 * v[10])), "J1" if new else "J", None)
    if nc == 0 and v[9] < 0.4:  # phased start: Reception not required in the afternoons (not possible)
        for i in range(5):
            plan.set(i, None, "X")
    if v[11] < 0.004:  # dual registration: a few days at another school
        for i in range(int(v[10] * (n - 5)), int(v[10] * (n - 5)) + 3):
            plan.set(i, "D", "D")
    if new and v[11] > 0.997:
        _block(plan, int(v[1] * (n - 3)), 2, n, "Q" if v[2] < 0.5 else "C1")
    if closure_day is not None and v[2] < 0.2:  # snow: could not travel in
        code = "Y2" if new else "Y"
        plan.set(closure_day, code, code)


# ---------------------------------------------------------------------------------------------- school


# The third school (RVC) has the Batch API only, at every group size, so the warehouse must map its register
# codes from seeds/isams_code_map.csv, whose demo rows describe exactly this school.
BATCH_ONLY_SCHOOL = 2


class SyntheticSchool:
    """One school of the group (implements ``contract.SandboxSchool``)."""

    def __init__(self, group_seed: int, idx: int, n_schools: int, pupils: list[Pupil], staff: list[Staff],
                 first_year: int, today: date, shift: int, code_style: codelists.CodeStyle = codelists.DEFAULT_STYLE):
        code, name, acad, board = names.SCHOOLS[idx % len(names.SCHOOLS)]
        self.seed, self.idx, self.shift = group_seed, idx, shift
        lap = idx // len(names.SCHOOLS)  # more schools than names: "NHSB", "Northgate High School B"
        self.code = code + ("" if lap == 0 else chr(65 + lap % 26))
        self.name = name + ("" if lap == 0 else f" {chr(65 + lap % 26)}")
        self.academic_houses, self.boarding_houses = acad, board
        self.api_key = str(uuid.UUID(int=_mix(group_seed, idx, "api") << 64 | _mix(group_seed, idx, "api2"))).upper()
        has_rest = idx != BATCH_ONLY_SCHOOL
        self.rest_client_id = f"{self.code.lower()}-sandbox-{_mix(group_seed, idx, 'cid') % 10**6:06d}" if has_rest else None
        self.rest_client_secret = f"{_mix(group_seed, idx, 'sec'):016x}" if has_rest else None
        self.pupils, self.staff = pupils, staff
        self.first_year, self.today = first_year, today
        self._plans: dict[tuple[int, int], _YearPlan] = {}
        self._by_year: dict[int, tuple[AcademicYear, dict[date, int], int | None]] = {}
        self.code_style = code_style
        self._abs_ids, self._pres_ids = codelists.code_ids(idx, code_style)
        self.scenario: Any = None  # an opt-in sandbox/scenario.Scenario: what is served then depends on today

    # ----- calendar
    def calendar(self, year: int) -> tuple[AcademicYear, dict[date, int], int | None]:
        """The year's calendar, day index lookup and (maybe) a snow day when some could not travel."""
        if year not in self._by_year:
            cal = academic_year(year, self.shift)
            winter = [i for i, d in enumerate(cal.school_days) if d.month in (12, 1, 2)]
            u = _unit(self.seed, self.idx, year, "closure")
            closure = winter[int(u / 0.35 * len(winter))] if u < 0.35 and winter else None
            self._by_year[year] = (cal, {d: i for i, d in enumerate(cal.school_days)}, closure)
        return self._by_year[year]

    def school_days(self, start: date, end: date) -> list[date]:
        """School days with start <= d < end."""
        out: list[date] = []
        for year in range(academic_year_of(start), academic_year_of(end - timedelta(days=1)) + 1):
            out.extend(d for d in self.calendar(year)[0].school_days if start <= d < end)
        return out

    def _plan(self, p: Pupil, year: int) -> _YearPlan:
        key = (p.idx, year)
        if key not in self._plans:
            cal, _, closure = self.calendar(year)
            self._plans[key] = _plan_year(self.seed, self.idx, p, cal, closure)
        return self._plans[key]

    # ----- registers
    def registration_statuses(self, start: date, end: date) -> Iterator[ElementDict]:
        end = min(end, self.today + timedelta(days=1))
        if end <= start:
            return
        days = self.school_days(start, end)
        recent = set(self.school_days(self.today - timedelta(days=10), self.today + timedelta(days=1))[-3:])
        for d in days:
            year = academic_year_of(d)
            i = self.calendar(year)[1][d]
            base = ((d.toordinal() - 735000) * 2) * 20000
            for p in self.pupils:
                if not p.on_roll(d):
                    continue
                codes = self._plan(p, year).marks.get(i, (None, None))
                for s in (0, 1):
                    unregistered = d in recent and _unit(self.seed, self.idx, p.idx, d.toordinal(), s) < 0.01
                    mark = self._mark(base + s * 20000 + p.idx, p, d, s, None if unregistered else codes[s],
                                      unregistered)
                    if self.scenario is not None:
                        mark = self.scenario.mark(self, p, d, s, mark)
                        if mark is None:
                            continue
                    yield mark

    def _mark(self, mark_id: int, p: Pupil, d: date, session: int, code: str | None,
              unregistered: bool) -> ElementDict:
        mark: ElementDict = {"@Id": str(mark_id), "PupilId": p.school_id}
        if unregistered:
            mark["Registered"] = "0"
        elif code is None:
            mark["Registered"] = "1"
            if "/" in self._pres_ids:  # a school that sends plain presence with its own present code
                mark["Code"] = self._pres_ids["/"]
        elif code == "L":
            mark["Registered"], mark["Code"] = "1", self._pres_ids["L"]
        else:
            mark["Registered"], mark["Code"] = self.code_style.absent_registered, self._abs_ids[code]
        mark["RegistrationDateTime"] = f"{d.isoformat()}T{'08:40:00' if session == 0 else '13:40:00'}"
        return mark

    # ----- REST
    def absence_codes(self) -> list[dict[str, Any]]:
        codes = codelists.absence_codes(self.idx, self.code_style)
        return codes if self.scenario is None else self.scenario.absence_codes(self, codes)

    def present_codes(self) -> list[dict[str, Any]]:
        return codelists.present_codes(self.idx, self.code_style)

    def _terms(self) -> list[tuple[int, int, str, date, date]]:
        out = []
        for year in range(self.first_year, academic_year_of(self.today) + 1):
            for k, term in enumerate(self.calendar(year)[0].terms):
                out.append((10 * (self.idx + 1) + 3 * (year - self.first_year) + k + 1, year, term.name,
                            term.start, term.finish))
        return out

    def rest_terms(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": n, "schoolYear": y, "startDate": s.isoformat(), "finishDate": f.isoformat()}
                for i, y, n, s, f in self._terms()]

    def former_pupils(self) -> list[dict[str, Any]]:
        """REST alumni: pupils who left before today (since the first academic year), as they were on leaving."""
        out = []
        for p in self.pupils:
            if p.leave_date is None or p.leave_date >= self.today or p.leave_date < date(self.first_year, 9, 1):
                continue
            nc = p.nc_in(academic_year_of(p.leave_date))
            boarder = p.boarder and nc >= 7
            out.append({
                "id": p.num_id, "schoolId": p.school_id, "gender": p.gender, "yearGroup": nc,
                "formGroup": form_name(nc, p.letter), "academicHouse": self.academic_houses[p.house],
                "boardingHouse": self.boarding_houses[p.idx % 3] if boarder else None,
                "boardingStatus": "Boarder" if boarder else "Day", "enrolmentDate": p.enrol_date.isoformat(),
                "leavingDate": p.leave_date.isoformat(),
            })
        return out

    # ----- Batch
    def current_pupils(self) -> list[Pupil]:
        return [p for p in self.pupils if p.on_roll(self.today)]

    def batch_records(self, dataset: str) -> list[ElementDict]:
        return RENDERERS[dataset](self)


# ---------------------------------------------------------------------------------------------- group


def _staff(seed: int, school_idx: int, n: int) -> list[Staff]:
    out = []
    for i in range(n):
        rng = _rng(seed, school_idx, i, "staff")
        gender = "M" if rng.random() < 0.4 else "F"
        fore = (names.ADULT_MEN if gender == "M" else names.ADULT_WOMEN)[int(rng.integers(11))]
        sur = names.SURNAMES[int(rng.integers(len(names.SURNAMES)))]
        teaching = i < 4 or rng.random() < 0.8
        roles = ("Teacher", "Form Tutor") if teaching else (names.STAFF_ROLES[4 + int(rng.integers(2))],)
        if teaching and i < len(names.DEPARTMENTS):
            roles += ("Head of Department",)
        divisions = tuple(sorted({1 + int(rng.integers(4)), 1 + int(rng.integers(4))}))
        out.append(Staff(
            idx=i, num_id=1 + i, person_id=90000 + 1000 * school_idx + i,
            title=("Mr" if gender == "M" else ("Mrs", "Ms", "Dr", "Miss")[int(rng.integers(4))]),
            forename=fore, surname=sur, gender=gender,
            dob=date(1962, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 38))),
            user_code=f"{fore[0]}{sur[0]}{chr(65 + int(rng.integers(26)))}{_mix(seed, school_idx, i, 'uc') % 10**17:017d}",
            teaching=teaching, roles=roles, divisions=divisions,
        ))
    return out


def _mover_leave(seed: int, pupils: list[Pupil], cal: AcademicYear) -> tuple[Pupil, date] | None:
    """Pick a school-1 pupil (Years 3-10, staying all year) who moves away in the autumn term."""
    leave = cal.school_days[min(40, len(cal.school_days) - 1)]
    year = cal.start_year
    candidates = [p for p in pupils if 3 <= p.nc_in(year) <= 10 and p.enrol_date < cal.school_days[0] + timedelta(1)
                  and (p.leave_date is None or p.leave_date > cal.terms[2].finish - timedelta(1))]
    if not candidates:
        return None
    p = candidates[_mix(seed, "mover") % len(candidates)]
    p.leave_date = leave
    return p, leave


def default_first_year(today: date) -> int:
    return academic_year_of(today) - 1


def generate_group(seed: int = 2024, n_schools: int = 3, pupils_per_school: int = 300,
                   first_academic_year: int | None = None, today: date | None = None,
                   code_styles: dict[int, codelists.CodeStyle] | None = None) -> SchoolGroup:
    """Build the synthetic group; registers run from 1 Sep of ``first_academic_year`` through ``today``.

    ``code_styles`` (opt-in) gives a school (by index) its own way of keeping register codes
    (``codes.CodeStyle``: own letters colliding with DfE letters, ``Registered="1"`` on absent marks,
    codes without a government code); the other schools keep the demo's codes."""
    today = today or date.today()
    first = default_first_year(today) if first_academic_year is None else first_academic_year
    last = max(first, academic_year_of(today))
    cohort = max(2, round(pupils_per_school / 14))
    group = SchoolGroup(seed=seed, today=today)
    mover: tuple[Pupil, date] | None = None
    for s in range(n_schools):
        shift = s % 3
        roster = _RosterBuilder(seed, s, shift, cohort)
        roster.initial(first)
        if s == 1 and mover is not None:  # the mover joins about two weeks later
            src, left = mover
            cal = academic_year(first, shift)
            roster.add(first, src.nc_in(first), _first_day_on_or_after(cal, left + timedelta(days=12)),
                       like=src, stay=True)
        for year in range(first, last + 1):
            if year > first:  # the first year's September roll comes from initial()
                roster.september(year)
            roster.midyear(year)
        if s == 0 and n_schools >= 2:
            mover = _mover_leave(seed, roster.pupils, academic_year(first, shift))
        staff = _staff(seed, s, max(12, pupils_per_school // 10))
        group.schools.append(SyntheticSchool(seed, s, n_schools, roster.pupils, staff, first, today, shift,
                                             (code_styles or {}).get(s, codelists.DEFAULT_STYLE)))
    return group


# ---------------------------------------------------------------------------------------------- Batch records

AUTHOR = "ADMIN3791959249"
UPDATED = "2024-06-01T09:00:00"


def _tutor(school: SyntheticSchool, nc: int, letter: str) -> Staff:
    teachers = [st for st in school.staff if st.teaching]
    return teachers[(2 * nc + FORM_LETTERS.index(letter)) % len(teachers)]


def _houses(school: SyntheticSchool, boarding: bool) -> list[ElementDict]:
    names_ = school.boarding_houses if boarding else school.academic_houses
    out = []
    for i, name in enumerate(names_):
        master = school.staff[(5 + 3 * i + (7 if boarding else 0)) % len(school.staff)]
        assistant = school.staff[(6 + 3 * i + (7 if boarding else 0)) % len(school.staff)]
        out.append({
            "@Id": str(i + 1 + (10 if boarding else 0)), "@HouseMasterId": str(master.num_id),
            "@AssistantHouseMasterId": str(assistant.num_id),
            "HouseMaster": _legacy(master.user_code), "AssistantHouseMaster": _legacy(assistant.user_code),
            "Name": name, "Code": name[:2].upper(), "Type": "Boarding" if boarding else "Academic",
            "Sex": ("M", "F", "U")[i % 3] if boarding else "U",
            "Address1": None, "Town": None, "County": None, "Postcode": None, "Telephone": None, "Fax": None,
            "PrimaryEmail": f"{name.lower().replace(' ', '')}@{school.code.lower()}.sch.example",
            "Website": None,
        })
    return out


def _pupil_record(school: SyntheticSchool, p: Pupil) -> ElementDict:
    if school.scenario is not None:  # a form/house change from a date (sandbox/scenario.py)
        p = school.scenario.pupil(school, p)
    year = academic_year_of(school.today)
    nc = p.nc_in(year)
    div_id, div_name = division_of(nc)
    boarder = p.boarder and nc >= 7
    tutor = _tutor(school, nc, p.letter)
    enrol_term = next((t.name for t in academic_year(p.entry_year, school.shift).terms
                       if p.enrol_date <= t.finish), "Summer")
    middle = f" {p.middlename}" if p.middlename else ""
    rec: ElementDict = {
        "@Id": str(p.num_id), "@PersonId": str(p.person_id),
        "@PersonGuid": str(uuid.UUID(int=_mix(school.seed, school.idx, p.idx, "guid") << 64
                                     | _mix(school.seed, p.person_id, "guid"))),
        "@DivisionId": str(div_id), "@AcademicHouseId": str(p.house + 1),
    }
    if boarder:
        rec["@BoardingHouseId"] = str(11 + p.idx % 3)
    if p.upn:
        rec["UPN"] = p.upn
    rec |= {
        "SchoolCode": f"{school.code}{p.idx:04d}", "SchoolId": p.school_id,
        "UserCode": f"{p.forename.upper()}{p.surname.upper().replace(chr(39), '')}{p.school_id}",
        "UserName": f"{p.surname[:4]}{p.forename[0]}{p.idx}".replace("'", ""),
        "Title": "Mr" if p.gender == "M" else "Miss",
        "Forename": p.forename, "Surname": p.surname, "Middlename": p.middlename,
        "Initials": f"{p.forename[0]}{p.middlename[0] if p.middlename else ''}{p.surname[0]}",
        "Preferredname": p.forename, "Fullname": f"{p.forename}{middle} {p.surname}",
        "Gender": p.gender, "DOB": _dt(p.dob),
        "AcademicHouse": school.academic_houses[p.house],
    }
    if boarder:
        rec["BoardingHouse"] = school.boarding_houses[p.idx % 3]
    rec |= {
        "Form": form_name(nc, p.letter), "NCYear": str(nc), "DivisionName": div_name,
        "EmailAddress": f"{p.forename.lower()}.{p.surname.lower().replace(chr(39), '')}{p.idx}@pupils.{school.code.lower()}.sch.example",
    }
    if nc >= 9 and _unit(school.seed, school.idx, p.idx, "mobile") < 0.7:
        rec["MobileNumber"] = f"07{_mix(school.seed, school.idx, p.idx, 'tel') % 10**9:09d}"
    rng = _unit(school.seed, school.idx, p.idx, "nat")
    rec |= {
        "PupilType": "Boarder" if boarder else "Day",
        "EnrolmentDate": _dt(p.enrol_date), "EnrolmentTerm": enrol_term, "EnrolmentSchoolYear": str(p.entry_year),
        "FamilyId": str(p.family_id),
        "Nationalities": names.NATIONALITIES[int(rng * len(names.NATIONALITIES))],
        "Languages": names.LANGUAGES[int(rng * len(names.LANGUAGES))],
        "Tutor": tutor.user_code,
    }
    if rng > 0.2:  # ethnicity is often not recorded
        rec["Ethnicity"] = ("White, British", "Asian, Pakistani", "Black, African", "Mixed, White and Asian",
                            "White, Other", "Asian, Indian", "Chinese")[int(rng * 1000) % 7]
    return rec


def _staff_record(school: SyntheticSchool, st: Staff) -> ElementDict:
    div_names = {i: n for i, n, _, _ in DIVISIONS}
    return {
        "@Id": str(st.num_id), "@PersonId": str(st.person_id),
        "@PersonGuid": str(uuid.UUID(int=_mix(school.seed, school.idx, st.idx, "sguid") << 64
                                     | _mix(school.seed, st.person_id, "sguid"))).upper(),
        "PreviousMISId": None, "Initials": f"{st.forename[0]}{st.surname[0]}", "UserCode": st.user_code,
        "UserName": f"{st.forename[0]}{st.surname}".upper().replace("'", ""), "Title": st.title,
        "Forename": st.forename, "MiddleNames": None, "Surname": st.surname,
        "FullName": f"{st.forename} {st.surname}", "NameInitials": f"{st.forename[0]} {st.surname[0]}",
        "PreferredName": st.forename, "Salutation": f"{st.title} {st.surname}", "DOB": _dt(st.dob),
        "Gender": st.gender,
        "SchoolEmailAddress": f"{st.forename[0].lower()}{st.surname.lower().replace(chr(39), '')}@{school.code.lower()}.sch.example",
        "SchoolMobileNumber": None, "PersonalMobileNumber": None,
        "TeachingStaff": "1" if st.teaching else "0", "LeavingDate": None,
        "Roles": {"Role": [{"@Id": str(1 + names.STAFF_ROLES.index(r)), "Name": r} for r in st.roles]},
        "Divisions": {"Division": [{"@Id": str(d), "Name": div_names[d]} for d in st.divisions]},
    }


def _contacts(school: SyntheticSchool) -> list[ElementDict]:
    families: dict[int, list[Pupil]] = {}
    for p in school.current_pupils():
        families.setdefault(p.family_id, []).append(p)
    out = []
    for fam, kids in sorted(families.items()):
        u = _rng(school.seed, school.idx, fam, "family").random(6)
        surname = kids[0].surname
        street = names.STREETS[int(u[0] * len(names.STREETS))]
        town = names.TOWNS[int(u[1] * len(names.TOWNS))]
        address = {"AddressLines": {"Address1": f"{1 + int(u[2] * 120)} {street}"}, "Town": town,
                   "Postcode": f"{town[:2].upper()}{1 + int(u[3] * 20)} {int(u[4] * 9)}{'ABDEFGHJ'[int(u[5] * 8)]}Z",
                   "Country": "United Kingdom"}
        parents = [("Mother", names.ADULT_WOMEN), ("Father", names.ADULT_MEN)]
        if u[5] < 0.3:
            parents = parents[:1] if u[5] < 0.2 else parents[1:]
        for k, (rel, first) in enumerate(parents):
            forename = first[int(u[k + 1] * len(first))]
            out.append({
                "@PersonId": str(500000 + 100000 * school.idx + fam * 2 + k), "Forename": forename,
                "Surname": surname, "Address": address, "RelationshipRaw": rel,
                "EmailAddress": f"{forename.lower()}.{surname.lower().replace(chr(39), '')}@mail.example",
                "Telephone": None if u[4] < 0.5 else f"01{_mix(fam, k, 'tel') % 10**9:09d}",
                "Mobile": f"07{_mix(school.seed, fam, k, 'mob') % 10**9:09d}",
                "Profession": None,
                "ParentalResponsibility": "Yes" if u[3] > 0.05 else "No",
                "Pupils": {"Pupil": [{"SchoolId": p.school_id} for p in kids]},
            })
    return out


def _custom_groups(school: SyntheticSchool) -> list[ElementDict]:
    return [{"@Id": str(i + 1), "@AuthorID": str(school.staff[i % len(school.staff)].num_id), "Name": name,
             "CategoryId": "1" if i < 3 else "2", "Shared": "1", "ExpiryDate": None, "ExpiryDisable": "1",
             "Author": school.staff[i % len(school.staff)].user_code, "Deleted": "0"}
            for i, name in enumerate(names.CUSTOM_GROUPS[:5])]


def _memberships(school: SyntheticSchool) -> list[ElementDict]:
    out = []
    for p in school.current_pupils():
        for g in range(5):
            if _unit(school.seed, school.idx, p.idx, g, "group") < 0.12:
                out.append({"@Id": str(len(out) + 1), "@PupilID": str(p.num_id), "CustomGroupId": str(g + 1)})
    return out


def _subjects() -> list[tuple[int, str, str, int]]:
    """(subject id, name, code, department id)."""
    out, sid = [], 1
    for dept_id, (_, subjects) in enumerate(names.DEPARTMENTS, start=1):
        for name, code in subjects:
            out.append((sid, name, code, dept_id))
            sid += 1
    return out


def _departments(school: SyntheticSchool) -> list[ElementDict]:
    subs = _subjects()
    return [{"@Id": str(d), "Name": name,
             "Subjects": {"Subject": [{"@Id": str(s), "Name": n, "Code": c} for s, n, c, dd in subs if dd == d]}}
            for d, (name, _) in enumerate(names.DEPARTMENTS, start=1)]


def _sets_and_lists(school: SyntheticSchool) -> tuple[list[ElementDict], list[ElementDict]]:
    """Teaching sets for Years 7-13 with their current members."""
    year = academic_year_of(school.today)
    by_nc: dict[int, list[Pupil]] = {}
    for p in school.current_pupils():
        by_nc.setdefault(p.nc_in(year), []).append(p)
    teachers = [st for st in school.staff if st.teaching]
    sets: list[ElementDict] = []
    lists: list[ElementDict] = []
    for nc in range(7, 14):
        pupils = by_nc.get(nc, [])
        for sid, sname, scode, _ in _subjects():
            sixth = nc >= 12
            members = [p for p in pupils if not sixth or _unit(school.seed, p.idx, sid, "option") < 0.25]
            n_sets = 1 if sixth else max(1, round(len(pupils) / 14))
            for k in range(1, n_sets + 1):
                set_id = len(sets) + 1
                teacher = teachers[(set_id * 7) % len(teachers)]
                code = f"{nc}{scode}{k}"
                sets.append({
                    "@Id": str(set_id), "@SubjectId": str(sid), "@YearId": str(nc), "@AuthorId": "1",
                    "SubjectId": _legacy(str(sid)), "YearId": _legacy(str(nc)), "Teacher": _legacy(teacher.user_code),
                    "Author": _legacy(AUTHOR), "SetNumber": str(k), "Block": "ABCDEF"[sid % 6], "SetCode": code,
                    "Name": f"{year_name(nc)} {sname} {k}" if sid % 3 else code,
                    "Teachers": {"Teacher": [{"@Id": str(set_id), "@StaffId": str(teacher.num_id),
                                              "@PrimaryTeacher": "True"}]},
                    "Description": None, "LastUpdated": UPDATED,
                })
                for p in members:
                    if n_sets == 1 or 1 + _mix(school.seed, p.idx, sid, "set") % n_sets == k:
                        lists.append({"@Id": str(len(lists) + 1), "@SetId": str(set_id), "@PupilId": str(p.num_id),
                                      "@AuthorId": "1", "SetId": _legacy(str(set_id)), "SchoolId": _legacy(p.school_id),
                                      "Author": _legacy(None), "LastUpdated": None})
    return sets, lists


def _forms(school: SyntheticSchool) -> list[ElementDict]:
    out = []
    for nc in range(14):
        for letter in FORM_LETTERS:
            tutor = _tutor(school, nc, letter)
            name = form_name(nc, letter)
            out.append({
                "@Id": name, "@TutorId": str(tutor.num_id), "@YearId": str(nc), "@RoomId": str(100 + 2 * nc + len(out) % 2),
                "@AuthorId": "1", "Tutor": _legacy(tutor.user_code), "AssistantFormTutor": _legacy(None),
                "SecondAssistantFormTutor": _legacy(None), "NationalCurriculumYear": _legacy(str(nc)),
                "RoomId": _legacy(str(100 + 2 * nc + len(out) % 2)), "Author": _legacy(AUTHOR), "Form": name,
                "EmailAddress": f"{name}@{school.code.lower()}.sch.example", "Website": None, "LastUpdated": UPDATED,
            })
    return out


def _year_groups(school: SyntheticSchool) -> list[ElementDict]:
    out = []
    for nc in range(14):
        tutor = _tutor(school, nc, "A")
        out.append({
            "@Id": str(nc), "@AuthorId": "1", "@TutorId": str(tutor.num_id),
            "NationalCurriculumYear": _legacy(str(nc)), "Tutor": _legacy(tutor.user_code),
            "AssistantTutor": _legacy(None), "Author": _legacy(AUTHOR), "Name": year_name(nc),
            "Code": "R" if nc == 0 else f"Y{nc}", "Email": f"year{nc}@{school.code.lower()}.sch.example",
            "Website": None, "LastUpdated": UPDATED,
        })
    return out


def _divisions(school: SyntheticSchool) -> list[ElementDict]:
    return [{"@Id": str(i), "Author": _legacy(AUTHOR), "Name": name, "Code": code, "LastUpdated": UPDATED,
             "Years": {"Year": [{"@Id": str(60 + nc), "@YearId": str(nc), "NationalCurriculumYear": _legacy(str(nc)),
                                 "Author": _legacy(None)} for nc in years]}}
            for i, name, code, years in DIVISIONS]


def _batch_terms(school: SyntheticSchool) -> list[ElementDict]:
    return [{"@Id": str(i), "@AuthorId": "1", "Author": _legacy(AUTHOR), "SchoolYear": str(y), "Name": n,
             "StartDate": _dt(s), "FinishDate": _dt(f), "LastUpdated": UPDATED} for i, y, n, s, f in school._terms()]


def _teaching_forms(school: SyntheticSchool) -> list[ElementDict]:
    """Form-taught primary lessons (Reception-Year 6): English and Mathematics per form."""
    out = []
    for nc in range(7):
        for letter in FORM_LETTERS:
            for sid, _, scode, _ in _subjects()[:2]:
                out.append({"@Id": str(len(out) + 1), "FormCode": form_name(nc, letter),
                            "TimetableCode": f"{form_name(nc, letter)}-{scode}", "SubjectId": str(sid)})
    return out


RENDERERS = {
    "staff": lambda s: [_staff_record(s, st) for st in s.staff],
    "pupils": lambda s: [_pupil_record(s, p) for p in s.current_pupils()],
    "contacts": _contacts,
    "custom_groups": _custom_groups,
    "custom_group_memberships": _memberships,
    "academic_houses": lambda s: _houses(s, boarding=False),
    "boarding_houses": lambda s: _houses(s, boarding=True),
    "forms": _forms,
    "divisions": _divisions,
    "year_groups": _year_groups,
    "terms": _batch_terms,
    "departments": _departments,
    "teaching_forms": _teaching_forms,
    "teaching_sets": lambda s: _sets_and_lists(s)[0],
    "set_lists": lambda s: _sets_and_lists(s)[1],
}
