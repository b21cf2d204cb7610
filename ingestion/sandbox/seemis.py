"""A Scottish secondary's SEEMiS exports, written night by night into a drop folder (deterministic).

``write_exports(folder, as_of)`` is what a SEEMiS schedule would leave in the folder on night ``as_of``:
``pupils_<D>.csv``, ``enrolments_<D>.csv`` and ``attendance_<D>.csv`` (the openings of the last 7 calendar
days, so marks are re-sent and some corrected between nights: an unexplained 32 becomes a 22 once the
family phones), ``terms_<D>.csv`` when the folder has none, and on the first night
``attendance_backfill_<D>.csv`` from the first opening of the previous session (mid-August) to D-7.
Earlier files stay (the folder accumulates), and each file's mtime is a fixed time on its night. Every
value is a function of (seed, pupil, date, opening) and the night only, so the same inputs give the same bytes.

One school, GBA Glenbrae Academy, S1-S6, 60 pupils a stage. Calibrated to Scottish figures: attendance
about 90-91% of openings, persistent absence (absent 10% or more of openings) near 28% of pupils. It has a
mid-session joiner, a leaver, a few pupils on extended leave (02), work experience for some S4-S5 (12),
and uses only codes in ``seeds/seemis_attendance_codes.csv``. The writer knows the file format on its own
(it does not import the source's catalogue), so the source's parsing is tested against it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from ingestion.sandbox.names import BOYS, GIRLS, SURNAMES

CODE, NAME, PHASE = "GBA", "Glenbrae Academy", "secondary"
PER_STAGE = 60
HOUSES = ("Arran", "Bute", "Cumbrae", "Iona")
# every code the sandbox writes (a test checks each is in seeds/seemis_attendance_codes.csv)
CODES = ("02", "10", "11", "12", "13", "21", "22", "25", "31", "32", "40")
ABSENCE_MIX = (("22", 0.60), ("25", 0.14), ("32", 0.14), ("31", 0.07), ("40", 0.03), ("13", 0.02))
HEADERS = {
    "pupils": "Pupil ID,SCN,Forename,Surname,Preferred Name,Date of Birth,Gender,Stage,Reg Class,House",
    "enrolments": "Pupil ID,Start Date,Leaving Date,Leaving Reason",
    "attendance": "Pupil ID,Date,Opening,Attendance Code",
    "terms": "Session,Term,Start Date,End Date",
}
WINDOW_DAYS = 7  # each night's attendance file covers the last 7 calendar days
CORRECTED_AFTER = 3  # days an explained absence shows as 32 before the school records the reason
LEAVER_REASON = "Moved out of area"


def _u(*parts: object) -> list[float]:
    """Four uniforms in [0, 1) from the parts (stable across Python runs, unlike hash())."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return [int.from_bytes(digest[i:i + 4], "little") / 2**32 for i in range(0, 16, 4)]


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


@dataclass(frozen=True)
class Term:
    session: str  # '2025/26'
    number: int
    start: date
    end: date


@lru_cache(maxsize=16)
def session_terms(year: int) -> tuple[Term, ...]:
    """The four terms of session ``year``/``year+1`` (2025: 18 Aug-10 Oct, 20 Oct-19 Dec, 6 Jan-27 Mar, 13 Apr-26 Jun)."""
    name = f"{year}/{(year + 1) % 100:02d}"
    t1 = _monday_on_or_after(date(year, 8, 15))
    t3 = date(year + 1, 1, 6) + timedelta(days=(1 - date(year + 1, 1, 6).weekday()) % 7)  # first Tuesday from 6 Jan
    spans = [(t1, t1 + timedelta(days=53)), (t1 + timedelta(days=63), t1 + timedelta(days=123)),
             (t3, t3 + timedelta(days=80)), (t3 + timedelta(days=97), t3 + timedelta(days=171))]
    return tuple(Term(name, i + 1, s, e) for i, (s, e) in enumerate(spans))


def session_year(day: date) -> int:
    return day.year if day >= date(day.year, 8, 1) else day.year - 1


@lru_cache(maxsize=16)
def closed_days(year: int) -> frozenset[date]:
    """Days inside terms without openings: two in-service days at the start, one in November, the February
    break (Monday and Tuesday) and the May Day holiday."""
    t1, t2, t3, _ = session_terms(year)
    feb = _monday_on_or_after(date(year + 1, 2, 14))
    may = _monday_on_or_after(date(year + 1, 5, 1))
    return frozenset({t1.start, t1.start + timedelta(days=1), t2.start + timedelta(days=28), feb,
                      feb + timedelta(days=1), may})


def is_school_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    year = session_year(day)
    return any(t.start <= day <= t.end for t in session_terms(year)) and day not in closed_days(year)


@dataclass(frozen=True)
class Pupil:
    pupil_id: str
    entry_year: int  # the session it started S1 (or joined)
    forename: str
    surname: str
    gender: str
    dob: date
    scn: str | None
    preferred: str | None
    start: date  # enrolment start
    leaving: date | None = None

    def stage(self, day: date) -> int:
        return session_year(day) - self.entry_year + 1


def _pupil(seed: int, entry_year: int, i: int, start: date | None = None, leaving: date | None = None) -> Pupil:
    u = _u(seed, "pupil", entry_year, i)
    gender = "F" if u[0] < 0.5 else "M"
    forename = (GIRLS if gender == "F" else BOYS)[int(u[1] * len(GIRLS if gender == "F" else BOYS))]
    surname = SURNAMES[int(u[2] * len(SURNAMES))]
    dob = date(entry_year - 12, 3, 1) + timedelta(days=int(u[3] * 365))
    v = _u(seed, "pupil-extra", entry_year, i)
    scn = f"{int(v[0] * 900_000_000) + 100_000_000}" if v[1] < 0.7 else None
    preferred = forename[:3] if v[2] < 0.05 else None
    return Pupil(f"{entry_year % 100:02d}{i:04d}", entry_year, forename, surname, gender, dob, scn, preferred,
                 start or session_terms(entry_year)[0].start, leaving)


def roll(seed: int, as_of: date) -> list[Pupil]:
    """Every pupil of the session's enrolments on ``as_of``: S1-S6, the S3 joiner (from two weeks after the
    October break, once that has come) and the leaver (the first S4 pupil, left on the last day before the
    October break, once that has passed)."""
    year = session_year(as_of)
    out = [_pupil(seed, year - stage + 1, i) for stage in range(1, 7) for i in range(1, PER_STAGE + 1)]
    t1, t2, *_ = session_terms(year)
    joined = t2.start + timedelta(days=14)
    if as_of >= joined:
        out.append(_pupil(seed, year - 2, 900, start=joined))  # an S3 pupil from another authority
    leaving = t1.end
    out = [p if p.pupil_id != out[3 * PER_STAGE].pupil_id or as_of <= leaving
           else Pupil(**{**p.__dict__, "leaving": leaving}) for p in out]  # the first S4 pupil leaves
    return out


def _absence_rate(seed: int, pupil: Pupil) -> float:
    u = _u(seed, "rate", pupil.pupil_id)
    if u[0] < 0.30:  # the persistently absent: 11-32% of openings
        return 0.11 + u[1] * 0.21
    return 0.01 + u[1] * 0.08


@dataclass(frozen=True)
class _Profile:
    """What is fixed per pupil: absence rate, extended leave, work experience (drawn once, not per opening)."""

    rate: float
    leave: bool
    wex: bool
    correct: float  # threshold for a sickness first shown as unexplained


def _profile(seed: int, pupil: Pupil) -> _Profile:
    return _Profile(_absence_rate(seed, pupil), _u(seed, "leave", pupil.pupil_id)[0] < 0.012,
                    _u(seed, "wex", pupil.pupil_id)[0] < 0.3, 0.35)


def _leave_span(day: date) -> tuple[date, date]:
    start = session_terms(session_year(day))[1].start + timedelta(days=21)
    return start, start + timedelta(days=14)


def _wex_span(day: date) -> tuple[date, date]:
    start = _monday_on_or_after(date(session_year(day) + 1, 3, 2))
    return start, start + timedelta(days=5)


def day_codes(seed: int, pupil: Pupil, prof: _Profile, day: date, night: date) -> tuple[str, str]:
    """The (AM, PM) marks exported on ``night`` for the pupil's school day: the final mark, except that a
    third of sicknesses show as unexplained (32) for the first ``CORRECTED_AFTER`` days."""
    if prof.leave and _leave_span(day)[0] <= day < _leave_span(day)[1]:
        return "02", "02"
    if prof.wex and pupil.stage(day) in (4, 5) and _wex_span(day)[0] <= day < _wex_span(day)[1]:
        return "12", "12"
    d = _u(seed, "day", pupil.pupil_id, day)
    rate = prof.rate
    full = d[0] < rate * 0.85
    half = not full and d[1] < rate * 0.3
    out = []
    for opening in ("AM", "PM"):
        if full or (half and (d[2] < 0.5) == (opening == "AM")):
            pick, total, code = d[3], 0.0, "22"
            for candidate, share in ABSENCE_MIX:
                total += share
                if pick < total:
                    code = candidate
                    break
            if code == "22" and d[2] < prof.correct and (night - day).days < CORRECTED_AFTER:
                code = "32"
        elif opening == "AM" and d[1] > 0.5 and (late := _u(seed, "late", pupil.pupil_id, day))[0] < 0.09:
            code = "11" if late[1] > 0.08 else "21"
        else:
            code = "10"
        out.append(code)
    return out[0], out[1]


def _on_roll(pupil: Pupil, day: date) -> bool:
    return pupil.start <= day and (pupil.leaving is None or day <= pupil.leaving) and 1 <= pupil.stage(day) <= 6


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def attendance_lines(seed: int, pupils: list[Pupil], start: date, end: date, night: date) -> list[str]:
    """Marks for school days in [start, end] as exported on ``night``, by date, opening and pupil."""
    profiles = {p.pupil_id: _profile(seed, p) for p in pupils}
    lines, day = [], start
    while day <= end:
        if is_school_day(day):
            dmy = _dmy(day)
            am, pm = [], []
            for p in pupils:
                if _on_roll(p, day):
                    a, b = day_codes(seed, p, profiles[p.pupil_id], day, night)
                    am.append(f"{p.pupil_id},{dmy},AM,{a}")
                    pm.append(f"{p.pupil_id},{dmy},PM,{b}")
            lines += am + pm
        day += timedelta(days=1)
    return lines


def _stamp(path: Path, night: date, minute: int) -> None:
    """A fixed mtime on the file's night: 19:00 plus ``minute`` (UTC)."""
    when = datetime.combine(night, time(19, minute), tzinfo=timezone.utc).timestamp()
    os.utime(path, (when, when))


def _write(path: Path, header: str, lines: list[str], night: date, minute: int) -> Path:
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode("utf-8"))  # Windows line ends, as exported
    _stamp(path, night, minute)
    return path


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value or '"' in value else value


def write_exports(folder: Path, as_of: date, seed: int = 42) -> list[Path]:
    """What SEEMiS drops in ``folder`` on night ``as_of`` (see module docstring); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = as_of.strftime("%Y%m%d")
    pupils = roll(seed, as_of)
    current = [p for p in pupils if p.leaving is None or as_of <= p.leaving]
    written = []
    pupil_lines = []
    for p in current:
        stage = p.stage(as_of)
        reg = f"{stage}{'ABCD'[int(_u(seed, 'reg', p.pupil_id)[0] * 4)]}"
        house = HOUSES[int(_u(seed, "house", p.pupil_id)[0] * len(HOUSES))]
        pupil_lines.append(",".join([p.pupil_id, p.scn or "", p.forename, _quote(p.surname), p.preferred or "",
                                     _dmy(p.dob), p.gender, f"S{stage}", reg, house]))
    written.append(_write(folder / f"pupils_{stamp}.csv", HEADERS["pupils"], pupil_lines, as_of, 0))
    enrol_lines = [f"{p.pupil_id},{_dmy(p.start)},{_dmy(p.leaving) if p.leaving else ''},"
                   f"{LEAVER_REASON if p.leaving else ''}" for p in pupils]
    written.append(_write(folder / f"enrolments_{stamp}.csv", HEADERS["enrolments"], enrol_lines, as_of, 1))
    if not any(f.name.startswith("terms") for f in folder.iterdir()):
        year = session_year(as_of)
        terms = [t for y in (year - 1, year) for t in session_terms(y)]
        lines = [f"{t.session},{t.number},{_dmy(t.start)},{_dmy(t.end)}" for t in terms]
        written.append(_write(folder / f"terms_{stamp}.csv", HEADERS["terms"], lines, as_of, 2))
    first_day = as_of - timedelta(days=WINDOW_DAYS - 1)
    if not any(f.name.startswith("attendance") for f in folder.iterdir()):
        start = session_terms(session_year(as_of) - 1)[0].start  # the previous session, from its first opening
        lines = attendance_lines(seed, pupils, start, first_day - timedelta(days=1), as_of)
        written.append(_write(folder / f"attendance_backfill_{stamp}.csv", HEADERS["attendance"], lines, as_of, 3))
    lines = attendance_lines(seed, pupils, first_day, as_of, as_of)
    written.append(_write(folder / f"attendance_{stamp}.csv", HEADERS["attendance"], lines, as_of, 4))
    return written


# ---- faults, for tests: what a real drop folder does on a bad night ----

def add_malformed_row(path: Path, line: str = "999999,01/01/2025,AM") -> int:
    """Append a row with a field missing (mtime kept); returns its line number."""
    data = path.read_bytes()
    stat = path.stat()
    path.write_bytes(data + line.encode() + b"\r\n")
    os.utime(path, (stat.st_atime, stat.st_mtime))
    return data.count(b"\n") + 1


def rename_header(path: Path, old: str, new: str) -> None:
    """Rename one column of the file's header (a changed export layout); mtime kept."""
    stat = path.stat()
    header, rest = path.read_bytes().split(b"\r\n", 1)
    path.write_bytes(header.replace(old.encode(), new.encode()) + b"\r\n" + rest)
    os.utime(path, (stat.st_atime, stat.st_mtime))


def resend(path: Path, change_line: int, new_code: str, drop_line: int, later_minutes: int = 60) -> None:
    """Re-send a file under the same name: line ``change_line``'s code becomes ``new_code`` and line
    ``drop_line`` is gone (1-based, the header is line 1); its mtime moves ``later_minutes`` on."""
    stat = path.stat()
    lines = path.read_bytes().decode().split("\r\n")
    fields = lines[change_line - 1].split(",")
    lines[change_line - 1] = ",".join([*fields[:-1], new_code])
    del lines[drop_line - 1]
    path.write_bytes("\r\n".join(lines).encode())
    when = stat.st_mtime + later_minutes * 60
    os.utime(path, (when, when))
