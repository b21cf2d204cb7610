"""Register code lists of a synthetic school, in the iSAMS REST shape.

Marks are generated with DfE *government* codes; each school then maps them to its own local code ids.
Schools differ in ids and, for one school, in local letters (e.g. local "S" = Sick -> government "I"),
which is exactly what the warehouse must undo through ``governmentCode``.

A :class:`CodeStyle` (opt-in, per school, through ``generate_group(code_styles=...)``) makes a school keep its
codes the way some real schools do: its own letters that collide with DfE letters meaning something else
(its ``P`` is plain presence, its ``L`` is leave of absence, its late codes are ``LT``/``LC``), present codes
with and without a ``governmentCode``, ``Registered="1"`` on absent marks, and absence codes sent with no
``governmentCode`` at all (so they map to nothing). The default style is the demo group's, unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

CODE_SET_2024 = date(2024, 8, 19)  # the 2024 Regulations' code set applies from this date

# (government code, name, legacy?) — legacy codes stay in the list for historical marks.
ABSENCE_CODES: tuple[tuple[str, str, bool], ...] = (
    ("N", "No Reason Yet Provided For Absence", False),
    ("I", "Illness (not medical or dental appointments)", False),
    ("M", "Medical/dental appointments", False),
    ("R", "Religious observance", False),
    ("S", "Study leave", False),
    ("T", "Mobile child (parent travelling for occupation)", False),
    ("E", "Suspended or permanently excluded, no alternative provision", False),
    ("C", "Leave of absence for exceptional circumstances", False),
    ("C1", "Leave of absence: regulated performance or employment abroad", False),
    ("C2", "Leave of absence: part-time timetable", False),
    ("J1", "Leave of absence: interview", False),
    ("H", "Holiday authorised by the school (legacy, before Aug 2024)", True),
    ("F", "Extended family holiday agreed (legacy)", True),
    ("G", "Holiday not authorised by the school", False),
    ("O", "Absent in other or unknown circumstances", False),
    ("U", "Arrived in school after registration closed", False),
    ("B", "Educated off site (other approved educational activity)", False),
    ("J", "Interview (approved educational activity, legacy before Aug 2024)", True),
    ("K", "Attending education provision arranged by the local authority", False),
    ("P", "Participating in a supervised sporting activity", False),
    ("V", "Attending an educational visit or trip", False),
    ("W", "Attending work experience", False),
    ("D", "Dual registered: at another school", False),
    ("X", "Not of compulsory school age, not required to attend", False),
    ("Q", "Unable to attend: lack of access arrangements", False),
    ("Y", "Unable to attend due to exceptional circumstances (legacy, before Aug 2024)", True),
    ("Y1", "Unable to attend: transport not available", False),
    ("Y2", "Unable to attend: widespread disruption to travel", False),
    ("Y3", "Unable to attend: part of school premises closed", False),
    ("Y4", "Unable to attend: whole school site unexpectedly closed", False),
    ("Y5", "Unable to attend: criminal justice detention", False),
    ("Y6", "Unable to attend: public health guidance or law", False),
    ("Y7", "Unable to attend: any other unavoidable cause", False),
    ("Z", "Prospective pupil not on admission register", False),
    ("#", "Planned whole-school closure", False),
)

# School-specific local letters: {school index: {government code: (local code, local name)}}.
LOCAL_LETTERS: dict[int, dict[str, tuple[str, str]]] = {
    1: {"I": ("S", "Sick"), "S": ("SL", "Study leave"), "M": ("MED", "Medical appointment")},
    2: {"G": ("HOL", "Unauthorised holiday")},
}

# (code, name, governmentCode) of the present list. The demo's present codes carry their government code.
PRESENT_CODES: tuple[tuple[str, str, str | None], ...] = (
    ("/", "Present (AM)", "/"),
    ("\\", "Present (PM)", "\\"),
    ("L", "Late (before registers closed)", "L"),
)

# A school with its own letters (CodeStyle.own_letters). Present list: its "P" is plain presence and carries
# no government code (the warehouse assumes present), its late code "LT" carries governmentCode "L", and
# "EX" (exam) has no government code. Absence list: letters that are DfE letters with another meaning.
OWN_PRESENT_CODES: tuple[tuple[str, str, str | None], ...] = (
    ("P", "Present", None),
    ("LT", "Late (before registers closed)", "L"),
    ("EX", "Present: in an exam", None),
)
OWN_ABSENCE_LETTERS: dict[str, tuple[str, str]] = {
    "C": ("L", "Leave of absence (exceptional circumstances)"),  # DfE L = late (present)
    "U": ("LC", "Late after registers closed"),
    "P": ("SP", "Sports fixture"),
    "I": ("S", "Sick"),  # DfE S = study leave
    "S": ("ST", "Study leave"),
    "M": ("D", "Doctor or dentist"),  # DfE D = dual registered (not a possible session)
    "D": ("DR", "Dual registered"),
    "N": ("?", "No reason yet"),
}


@dataclass(frozen=True)
class CodeStyle:
    """How one synthetic school keeps its register codes; the default is the demo group's."""

    own_letters: bool = False  # OWN_PRESENT_CODES / OWN_ABSENCE_LETTERS; plain presence sent as code "P"
    absent_registered: str = "0"  # "1": absent marks are sent with Registered="1" too
    unmapped: tuple[str, ...] = ()  # government codes whose local code is sent with no governmentCode


DEFAULT_STYLE = CodeStyle()


def code_set_for(d: date) -> str:
    """``"2024"`` for marks on or after 19 Aug 2024, else ``"2006"`` (the pre-2024 regulations)."""
    return "2024" if d >= CODE_SET_2024 else "2006"


def _order(school_idx: int, n: int) -> list[int]:
    """A per-school permutation of display order, so ids are not aligned across schools."""
    step = next(k for k in (7, 11, 13, 17, 19) if math.gcd(k, n) == 1)
    return [((i * step) + school_idx * 3) % n for i in range(n)]


def absence_codes(school_idx: int, style: CodeStyle = DEFAULT_STYLE) -> list[dict[str, Any]]:
    """REST ``absenceCodes`` for one school."""
    local = OWN_ABSENCE_LETTERS if style.own_letters else LOCAL_LETTERS.get(school_idx, {})
    order = _order(school_idx, len(ABSENCE_CODES))
    out = []
    for i, (gov, gov_name, legacy) in enumerate(ABSENCE_CODES):
        code, name = local.get(gov, (gov, gov_name))
        out.append({
            "id": 100 * (school_idx + 1) + 17 + order[i],
            "code": code,
            "description": "Legacy code: use for historical marks only" if legacy else "",
            "displayOrder": order[i] + 1,
            "governmentCode": None if gov in style.unmapped else gov,
            "governmentCodeName": None if gov in style.unmapped else gov_name,
            "isOOSActive": gov in {"B", "K", "P", "V", "W"},
            "name": name,
        })
    return sorted(out, key=lambda c: c["displayOrder"])


def present_codes(school_idx: int, style: CodeStyle = DEFAULT_STYLE) -> list[dict[str, Any]]:
    """REST ``presentCodes`` for one school; ids come from a different range than absence codes."""
    codes = OWN_PRESENT_CODES if style.own_letters else PRESENT_CODES
    return [
        {"id": 10 * (school_idx + 1) + 3 + i, "code": code, "name": name, "displayOrder": i + 1,
         "governmentCode": gov, "isOOCActive": False, "showOnRegister": code not in ("/", "\\")}
        for i, (code, name, gov) in enumerate(codes)
    ]


def code_ids(school_idx: int, style: CodeStyle = DEFAULT_STYLE) -> tuple[dict[str, str], dict[str, str]]:
    """(government absence code -> id, government present code -> id) as strings, for building marks.

    The present map has ``"/"`` only when plain presence is sent with a code (the own-letters style's "P")."""
    absent = {gov: str(c["id"]) for (gov, _, _), c in zip(ABSENCE_CODES, _by_government(school_idx, style))}
    present = {(c["governmentCode"] or "/"): str(c["id"]) for c in present_codes(school_idx, style)
               if c["governmentCode"] or c["code"] == "P"}
    if not style.own_letters:
        present.pop("/", None)
        present.pop("\\", None)
    return absent, present


def _by_government(school_idx: int, style: CodeStyle) -> list[dict[str, Any]]:
    """The absence codes in ABSENCE_CODES order (governmentCode may be blank, so match by position)."""
    by_order = {c["displayOrder"]: c for c in absence_codes(school_idx, style)}
    order = _order(school_idx, len(ABSENCE_CODES))
    return [by_order[order[i] + 1] for i in range(len(ABSENCE_CODES))]
