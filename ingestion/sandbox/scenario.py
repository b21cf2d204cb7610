"""Time-dependent sandbox behaviour for the nightly simulation (opt-in; the default group never uses it).

A plain synthetic group (``synthetic.py``) only *reveals* more days as ``today`` moves forward: a mark, once
served, never changes. Real schools are untidier, and the nightly simulation (``ingestion/app/simulate.py``)
needs the sandbox to be untidy on a known schedule. A :class:`Scenario` attached to a group with
:func:`attach` makes what the sandbox serves depend on ``today``:

- **register corrections** made days after the mark's date (served with the old code before
  ``corrected_on``, the new one from then), inside and outside the 14-day look-back;
- a **removed mark** (served until ``corrected_on``, absent afterwards);
- a pupil who **changes form and academic house** mid-year (visible in the pupils dataset from a date);
- a **new absence code** a school starts using mid-year (in its REST code list from a date, and every
  illness mark of that school from that date is recorded with it);
- a school whose load **fails for exactly one night** (every Batch and REST request for that school answers
  401 on that ``today``; see ``FaultPlan.down``).

Everything a real iSAMS does at the academic-year rollover (NC year +1, leavers gone from the current pupil
list, new Reception and Year 7 on roll) already follows from ``today`` in ``synthetic.py``; joiners, leavers
and the mover between two schools come from the roster (fixed from the seed). :func:`events_between`
lists which of them fall inside an itinerary, so a test can prove the simulation crosses every one.

Everything is deterministic: pupils are chosen by a fixed rule from the seeded roster, dates come from the
calendar of the scenario's academic year.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ingestion.sandbox.calendar_uk import AcademicYear, academic_year, academic_year_of
from ingestion.sandbox.contract import ElementDict, SchoolGroup
from ingestion.sandbox.faults import FaultPlan

REMOVED = "<removed>"  # a correction whose new value is "no mark at all"
PRESENT = "/"  # a correction to plain presence


@dataclass(frozen=True)
class Correction:
    """The mark of (school, pupil, ``day``, ``session``) as served from ``corrected_on`` on.

    ``code`` is a government code (``"I"``, ``"N"``, ``"L"``...), :data:`PRESENT` or :data:`REMOVED`.
    Before ``corrected_on`` the mark is served as generated. ``kind`` names the event for reports.
    """

    kind: str
    school: int  # school index in the group
    pupil: int  # pupil index within the school
    day: date
    session: int  # 0 = AM, 1 = PM
    corrected_on: date
    code: str


@dataclass(frozen=True)
class FormChange:
    """From ``on`` (inclusive), the pupil's form letter flips (A <-> B) and their academic house moves on by one."""

    school: int
    pupil: int
    on: date


@dataclass(frozen=True)
class NewCode:
    """From ``on``, the school lists a new local absence code and records its ``government`` marks with it."""

    school: int
    on: date
    code: str = "ILV"
    name: str = "Illness (viral, isolating on medical advice)"
    government: str = "I"

    def code_id(self) -> int:
        """An id outside the range ``codes.absence_codes`` uses for this school."""
        return 100 * (self.school + 1) + 90


@dataclass
class Scenario:
    corrections: tuple[Correction, ...] = ()
    form_changes: tuple[FormChange, ...] = ()
    new_codes: tuple[NewCode, ...] = ()
    outages: tuple[tuple[int, date], ...] = ()  # (school index, the one night its load fails)
    _by_mark: dict[tuple[int, int, date, int], Correction] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_mark = {(c.school, c.pupil, c.day, c.session): c for c in self.corrections}

    # hooks called by synthetic.SyntheticSchool when a scenario is attached
    def mark(self, school: Any, pupil: Any, day: date, session: int, mark: ElementDict) -> ElementDict | None:
        """The mark as served today: corrected, removed, re-coded with a new code, or as generated."""
        correction = self._by_mark.get((school.idx, pupil.idx, day, session))
        if correction is not None and school.today >= correction.corrected_on:
            if correction.code == REMOVED:
                return None
            code = None if correction.code == PRESENT else correction.code
            mark = school._mark(int(mark["@Id"]), pupil, day, session, code, False)
        for new in self.new_codes:
            if (new.school == school.idx and day >= new.on and mark.get("Registered") == "0"
                    and mark.get("Code") == school._abs_ids.get(new.government)):
                mark = {**mark, "Code": str(new.code_id())}
        return mark

    def absence_codes(self, school: Any, codes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The REST code list, with each new code once ``today`` has reached its first day."""
        extra = [
            {"id": new.code_id(), "code": new.code, "description": "", "displayOrder": len(codes) + 1 + k,
             "governmentCode": new.government, "governmentCodeName": next(
                 (c["governmentCodeName"] for c in codes if c["governmentCode"] == new.government), new.name),
             "isOOSActive": False, "name": new.name}
            for k, new in enumerate(self.new_codes) if new.school == school.idx and school.today >= new.on
        ]
        return codes + extra

    def pupil(self, school: Any, pupil: Any) -> Any:
        """The pupil as the pupils dataset shows them today (after any form and house change)."""
        for change in self.form_changes:
            if change.school == school.idx and change.pupil == pupil.idx and school.today >= change.on:
                letter = "B" if pupil.letter == "A" else "A"
                return dataclasses.replace(pupil, letter=letter, house=(pupil.house + 1) % 4)
        return pupil

    def fault_plan(self, group: SchoolGroup) -> FaultPlan:
        """A fault plan that takes each outage school down for its one night (401 to every request)."""
        return FaultPlan(down=tuple((group.schools[i].code, night) for i, night in self.outages))


def attach(group: SchoolGroup, scenario: Scenario) -> SchoolGroup:
    """Make ``group`` serve ``scenario`` (every school gets it; each school applies only its own events)."""
    for school in group.schools:
        school.scenario = scenario
    return group


def set_today(group: SchoolGroup, today: date) -> None:
    """Move the whole group (the server's windows and every school's roster and registers) to ``today``."""
    group.today = today
    for school in group.schools:
        school.today = today


# --------------------------------------------------------------------------------------- the built-in plan


def _days(cal: AcademicYear) -> tuple[date, ...]:
    return cal.school_days


def _stayer(school: Any, when: tuple[date, ...], ncs: range = range(1, 11), skip: int = 0) -> Any:
    """The ``skip``-th pupil (by index) on roll on every date of ``when``, in NC years ``ncs``, who stays all
    year and is not the mover (deterministic: depends only on the seeded roster)."""
    year = academic_year_of(when[0])
    finish = academic_year(year, school.shift).terms[2].finish
    found = [p for p in school.pupils
             if all(p.on_roll(d) for d in when) and p.nc_in(year) in ncs
             and (p.leave_date is None or p.leave_date >= finish)]
    return found[skip % len(found)]


def build_scenario(group: SchoolGroup, year: int) -> Scenario:
    """The simulation's events in academic year ``year``, on dates of the first school's calendar.

    Autumn term, the fortnight before half term (weeks W1 and W2):
    - W1 Mon AM: corrected on W1 Thu (3 days later: inside the 14-day look-back);
    - W1 Tue PM: removed on W2 Mon;
    - W1 Wed AM: corrected 26 days later, after half term (outside the look-back: only a backfill or a
      full re-read would see it);
    - W2 Tue: the second school's load fails for that night only (it recovers on W2 Wed);
    - the Monday after half term: a pupil of the second school changes form and house;
    - the first school day of the spring term: the first school starts using a new illness code.
    """
    cal = academic_year(year, group.schools[0].shift)
    autumn = cal.terms[0]
    before_ht = [d for d in _days(cal) if d < autumn.half_term[0]]
    w1 = [d for d in before_ht[-10:-5]]
    w2 = [d for d in before_ht[-5:]]
    after_ht = next(d for d in _days(cal) if d > autumn.half_term[1])
    spring_first = next(d for d in _days(cal) if d >= cal.terms[1].start)
    s0 = group.schools[0]
    s1 = group.schools[1] if len(group.schools) > 1 else s0
    a = _stayer(s0, (w1[0], w2[-1], spring_first))
    b = _stayer(s0, (w1[0], w2[-1], spring_first), skip=1)
    c = _stayer(s0, (w1[0], w2[-1], spring_first), skip=2)
    moved = _stayer(s1, (w1[0], after_ht, spring_first), ncs=range(3, 10))
    outside = w1[2] + timedelta(days=26)
    corrections = (
        Correction("correction inside look-back", s0.idx, a.idx, w1[0], 0, w1[3], _other(s0, a, w1[0], 0)),
        Correction("mark removed", s0.idx, b.idx, w1[1], 1, w2[0], REMOVED),
        Correction("correction outside look-back", s0.idx, c.idx, w1[2], 0, outside, _other(s0, c, w1[2], 0)),
        # one illness mark on the new code's first day, so the new code is certainly used
        Correction("first mark with the new code", s0.idx, a.idx, spring_first, 0, spring_first, "I"),
    )
    return Scenario(
        corrections=corrections,
        form_changes=(FormChange(s1.idx, moved.idx, after_ht),),
        new_codes=(NewCode(s0.idx, spring_first),),
        outages=((s1.idx, w2[1]),),
    )


def _other(school: Any, pupil: Any, day: date, session: int) -> str:
    """A different value for a mark: illness for a present mark, present for an absence."""
    year = academic_year_of(day)
    index = school.calendar(year)[1][day]
    code = school._plan(pupil, year).marks.get(index, (None, None))[session]
    return "I" if code in (None, "L") else PRESENT


# ------------------------------------------------------------------------------------------ what happens


def events_between(group: SchoolGroup, scenario: Scenario | None, first: date, last: date) -> list[tuple[date, str]]:
    """Every roster and scenario event with ``first < date <= last``: what a simulation from ``first`` to
    ``last`` should see happen (joiners, leavers, the mover, rollovers, corrections, the outage...)."""
    out: list[tuple[date, str]] = []
    for s in group.schools:
        septembers = {academic_year(y, s.shift).school_days[0]
                      for y in range(academic_year_of(first), academic_year_of(last) + 1)}
        for p in s.pupils:
            if first < p.enrol_date <= last:
                kind = ("september intake" if p.enrol_date in septembers
                        else "mover joins" if _moved(group, s, p) else "mid-year joiner")
                out.append((p.enrol_date, f"{s.code}: {kind} (pupil {p.idx}, NC {p.nc_in(academic_year_of(p.enrol_date))})"))
            if p.leave_date is not None and first <= p.leave_date < last:
                kind = "mover leaves" if _moved(group, s, p) else "leaver"
                out.append((p.leave_date, f"{s.code}: {kind} (pupil {p.idx}, NC {p.nc_in(academic_year_of(p.leave_date))})"))
    for y in range(academic_year_of(first) + 1, academic_year_of(last) + 1):
        out.append((date(y, 9, 1), f"academic year {y}/{(y + 1) % 100:02d} begins (year groups move up)"))
    if scenario is not None:
        for c in scenario.corrections:
            out.append((c.corrected_on, f"{group.schools[c.school].code}: {c.kind} (mark of {c.day}, "
                                        f"{'AM' if c.session == 0 else 'PM'})"))
        for f in scenario.form_changes:
            out.append((f.on, f"{group.schools[f.school].code}: pupil {f.pupil} changes form and house"))
        for n in scenario.new_codes:
            out.append((n.on, f"{group.schools[n.school].code}: starts using new absence code {n.code}"))
        for i, night in scenario.outages:
            out.append((night, f"{group.schools[i].code}: load fails for this night"))
    return sorted(e for e in out if first <= e[0] <= last)


def _moved(group: SchoolGroup, school: Any, p: Any) -> bool:
    """Whether the same child (name and date of birth) is also on another school's roster."""
    return any(q.dob == p.dob and q.forename == p.forename and q.surname == p.surname
               for t in group.schools if t is not school for q in t.pupils)
