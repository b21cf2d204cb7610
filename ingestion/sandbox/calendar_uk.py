"""A generic English school calendar: terms, half terms, bank holidays and INSET days for any year.

Dates are computed from rules (not tables) so the sandbox works for any academic year. ``shift`` (0-2)
moves a school's term boundaries by a day or two, as neighbouring schools differ in practice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

DAY = timedelta(days=1)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _first_weekday_on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def _last_weekday_on_or_before(d: date, weekday: int) -> date:
    return d - timedelta(days=(d.weekday() - weekday) % 7)


def _next_working_day(d: date) -> date:
    while d.weekday() >= 5:
        d += DAY
    return d


def bank_holidays(year: int) -> set[date]:
    """England & Wales bank holidays that can fall in term time (New Year, Easter, May)."""
    new_year = _next_working_day(date(year, 1, 1))  # substitute day when 1 Jan is a weekend
    easter = easter_sunday(year)
    early_may = _first_weekday_on_or_after(date(year, 5, 1), 0)
    late_may = _last_weekday_on_or_before(date(year, 5, 31), 0)
    return {new_year, easter - 2 * DAY, easter + DAY, early_may, late_may}


@dataclass(frozen=True)
class Term:
    name: str  # Autumn / Spring / Summer
    start: date  # first day of term (may be an INSET day)
    finish: date  # last day of term
    half_term: tuple[date, date]  # Monday..Friday with no school
    inset: tuple[date, ...]  # staff training days: open, but no registers


@dataclass(frozen=True)
class AcademicYear:
    start_year: int
    terms: tuple[Term, Term, Term]
    school_days: tuple[date, ...]  # days with registers, in order

    def contains(self, d: date) -> bool:
        return self.terms[0].start <= d <= self.terms[2].finish


def _autumn(y: int, shift: int) -> Term:
    start = _next_working_day(date(y, 9, 2) + shift * DAY)
    half = _first_weekday_on_or_after(date(y, 10, 21), 0)  # last full week of October
    finish = date(y, 12, 20) - shift * DAY
    while finish.weekday() >= 5:
        finish -= DAY
    inset = (start, start + DAY) if shift != 1 else (start,)
    return Term("Autumn", start, finish, (half, half + 4 * DAY), inset)


def _spring(y: int, shift: int) -> Term:
    start = _next_working_day(date(y + 1, 1, 4) + (shift % 2) * DAY)
    half = _first_weekday_on_or_after(date(y + 1, 2, 12), 0)
    good_friday = easter_sunday(y + 1) - 2 * DAY
    finish = good_friday - 7 * DAY  # two-week Easter break: Good Friday week and Easter Monday week
    return Term("Spring", start, finish, (half, half + 4 * DAY), (start,))


def _summer(y: int, shift: int) -> Term:
    start = easter_sunday(y + 1) + 8 * DAY  # Monday after the Easter Monday week
    late_may = _last_weekday_on_or_before(date(y + 1, 5, 31), 0)
    finish = date(y + 1, 7, 17) + shift * DAY
    while finish.weekday() not in (1, 2, 3, 4):  # years end Tuesday-Friday, never a weekend or Monday
        finish -= DAY
    inset = (late_may + 7 * DAY,) if shift != 2 else (finish,)
    return Term("Summer", start, finish, (late_may, late_may + 4 * DAY), inset)


@lru_cache(maxsize=256)
def academic_year(start_year: int, shift: int = 0) -> AcademicYear:
    """The calendar of academic year ``start_year``/``start_year+1`` for a school with ``shift``."""
    terms = (_autumn(start_year, shift), _spring(start_year, shift), _summer(start_year, shift))
    closed = bank_holidays(start_year) | bank_holidays(start_year + 1)
    days: list[date] = []
    for term in terms:
        d = term.start
        while d <= term.finish:
            if (d.weekday() < 5 and d not in closed and d not in term.inset
                    and not term.half_term[0] <= d <= term.half_term[1]):
                days.append(d)
            d += DAY
    return AcademicYear(start_year, terms, tuple(days))


def academic_year_of(d: date) -> int:
    """Start year of the academic year holding ``d`` (years run 1 Sep - 31 Aug)."""
    return d.year if d.month >= 9 else d.year - 1
