"""The SEEMiS export catalogue: every assumption about the CSV files a school drops in its folder.

SEEMiS has no public API; schools (or their local authority) schedule CSV exports into a folder or SFTP
area. **Nothing here is evidenced by a real SEEMiS export**: no sample file was available. Each assumption is
marked *inferred* (from how MIS CSV exports usually look and from the Scottish attendance guidance) or
*evidenced* (from published guidance) so that the first real export can be checked against this one module.

- File names [inferred]: a prefix per dataset, then anything, then ``.csv`` (``attendance_20251203.csv``,
  ``attendance_backfill_20251203.csv``). Matching is case-insensitive.
- Pupils [inferred]: a full snapshot of the pupils on roll (a leaver disappears from it).
- Enrolments [inferred]: the session's enrolments, leavers included; Leaving Date blank while on roll; a pupil
  who left and came back has two rows.
- Attendance [evidenced: the unit is the half-day opening, SG summary statistics; inferred: one row per pupil
  per opening, the column names]. Codes are SEEMiS two-digit numeric codes [evidenced for 02/10/11/12, IEI
  2019 Appendix 2; the rest inferred, see seeds/seemis_attendance_codes.csv], kept as text; ``2`` is read as
  ``02`` [inferred: a spreadsheet round trip drops the zero].
- Terms [inferred]: ``Session`` like ``2025/26``, one row per term.
- Encoding [inferred]: UTF-8, a byte order mark tolerated; a file that is not valid UTF-8 is a Windows export
  and is read as cp1252 (a warning is logged).
- Delimiter [inferred]: comma, fields may be quoted (RFC 4180).
- Dates [inferred]: DD/MM/YYYY (UK), ISO YYYY-MM-DD accepted; landed as ISO text.
- Openings [inferred]: ``AM``/``PM``; ``Morning``/``Afternoon`` and ``1``/``2`` accepted.
- Headers [inferred]: matched ignoring case, spaces and underscores; columns the file has beyond these land
  too (as snake_case columns) and are reported as schema drift.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

log = logging.getLogger(__name__)

DELIMITER = ","
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
OPENINGS = {"am": "AM", "pm": "PM", "morning": "AM", "afternoon": "PM", "1": "AM", "2": "PM"}
CODE = re.compile(r"[0-9]{1,2}\Z")


class BadValue(ValueError):
    """A field that does not parse: ``rule`` (e.g. 'parse:date') and a sentence without the value."""

    def __init__(self, rule: str, what: str) -> None:
        super().__init__(what)
        self.rule = rule


def text(value: str) -> str | None:
    value = value.strip()
    return value or None


def iso_date(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    raise BadValue("parse:date", "is not a date (DD/MM/YYYY or YYYY-MM-DD)")


def opening(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    try:
        return OPENINGS[value.lower()]
    except KeyError:
        raise BadValue("parse:opening", "is not an opening (AM, PM, Morning, Afternoon, 1 or 2)") from None


def code(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not CODE.match(value):
        raise BadValue("parse:code", "is not a numeric SEEMiS attendance code")
    return value.zfill(2)


@dataclass(frozen=True)
class Column:
    header: str  # as SEEMiS writes it [inferred]
    name: str  # the raw_seemis column
    parse: Callable[[str], str | None] = text
    required: bool = False  # a row with it empty is quarantined ('structure:empty')


@dataclass(frozen=True)
class Export:
    table: str  # raw_seemis table
    prefix: str  # file name prefix
    columns: tuple[Column, ...]
    key: Callable[[dict], str]  # record_id from the parsed row
    snapshot: bool  # the newest file is the whole truth (scd2); otherwise files add up (merge)


def header_key(header: str) -> str:
    return re.sub(r"[\s_]+", "", header.strip().lower())


def column_name(header: str) -> str:
    """A file's own extra column as a warehouse column name (snake_case, ascii)."""
    name = re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")
    return name or "unnamed"


PUPILS = Export("pupils", "pupils", (
    Column("Pupil ID", "pupil_id", required=True), Column("SCN", "scn"), Column("Forename", "forename"),
    Column("Surname", "surname"), Column("Preferred Name", "preferred_name"),
    Column("Date of Birth", "date_of_birth", iso_date), Column("Gender", "gender"), Column("Stage", "stage"),
    Column("Reg Class", "reg_class"), Column("House", "house"),
), key=lambda r: r["pupil_id"], snapshot=True)

ENROLMENTS = Export("enrolments", "enrolments", (
    Column("Pupil ID", "pupil_id", required=True), Column("Start Date", "start_date", iso_date, required=True),
    Column("Leaving Date", "leaving_date", iso_date), Column("Leaving Reason", "leaving_reason"),
), key=lambda r: f"{r['pupil_id']}:{r['start_date']}", snapshot=True)

ATTENDANCE = Export("attendance", "attendance", (
    Column("Pupil ID", "pupil_id", required=True), Column("Date", "attendance_date", iso_date, required=True),
    Column("Opening", "opening", opening, required=True),
    Column("Attendance Code", "attendance_code", code, required=True),
), key=lambda r: f"{r['pupil_id']}:{r['attendance_date']}:{r['opening']}", snapshot=False)

TERMS = Export("terms", "terms", (
    Column("Session", "session", required=True), Column("Term", "term", required=True),
    Column("Start Date", "start_date", iso_date, required=True),
    Column("End Date", "end_date", iso_date, required=True),
), key=lambda r: f"{r['session']}:{r['term']}", snapshot=False)

EXPORTS: tuple[Export, ...] = (PUPILS, ENROLMENTS, ATTENDANCE, TERMS)
BY_TABLE = {e.table: e for e in EXPORTS}


@dataclass(frozen=True)
class BadRow:
    line: int
    rule: str  # 'structure:field_count', 'structure:empty', 'parse:date', ...
    reason: str  # names file, line and column; never the value


@dataclass
class ParsedFile:
    name: str
    encoding: str
    headers: list[str]  # as written in the file
    missing: list[str] = field(default_factory=list)  # required headers (as SEEMiS writes them) not found
    extra: list[str] = field(default_factory=list)  # the file's own columns (warehouse names)
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (line, parsed row incl. record_id)
    bad: list[BadRow] = field(default_factory=list)
    raw_sample: list[dict] = field(default_factory=list)  # first rows as text (for schema drift)


def file_signature(path: Path) -> dict:
    """What tells a re-sent or changed file from one already read: size, mtime and sha256."""
    data = path.read_bytes()
    stat = path.stat()
    return {"size": stat.st_size, "mtime": stat.st_mtime, "sha256": hashlib.sha256(data).hexdigest()}


def decode(data: bytes, name: str) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        log.warning("%s is not valid UTF-8: read as cp1252 (a Windows export)", name)
        return data.decode("cp1252", errors="replace"), "cp1252"


def parse_file(export: Export, name: str, data: bytes, sample: int = 200) -> ParsedFile:
    """Parse one export; never raises on content: bad rows and a drifted header are in the result."""
    content, encoding = decode(data, name)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=DELIMITER)
    headers = next(reader, [])
    parsed = ParsedFile(name=name, encoding=encoding, headers=headers)
    index = {header_key(h): i for i, h in enumerate(headers)}
    known = {header_key(c.header) for c in export.columns}
    parsed.missing = [c.header for c in export.columns if header_key(c.header) not in index]
    own = [(i, column_name(h)) for i, h in enumerate(headers) if header_key(h) not in known and h.strip()]
    parsed.extra = [n for _, n in own]
    if parsed.missing:
        return parsed
    for row in reader:
        line = reader.line_num
        if not row or all(not v.strip() for v in row):
            continue
        where = f"file {name}, line {line}"
        if len(row) != len(headers):
            parsed.bad.append(BadRow(line, "structure:field_count",
                                     f"{where}: {len(row)} fields where the header has {len(headers)}"))
            continue
        if len(parsed.raw_sample) < sample:
            parsed.raw_sample.append({column_name(h): v for h, v in zip(headers, row)})
        out: dict = {}
        problem = None
        for col in export.columns:
            try:
                value = col.parse(row[index[header_key(col.header)]])
            except BadValue as exc:
                problem = BadRow(line, exc.rule, f"{where}, column {col.header}: the value {exc}")
                break
            if value is None and col.required:
                problem = BadRow(line, "structure:empty", f"{where}, column {col.header}: empty")
                break
            out[col.name] = value
        if problem:
            parsed.bad.append(problem)
            continue
        for i, extra in own:
            out.setdefault(extra, text(row[i]))
        out["record_id"] = export.key(out)
        parsed.rows.append((line, out))
    return parsed


def files_for(export: Export, folder: Path) -> list[Path]:
    """The export's files in ``folder``, oldest first: (mtime, name) order."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir()
             if p.is_file() and p.name.lower().startswith(export.prefix) and p.name.lower().endswith(".csv")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def dates_of(rows: list[tuple[int, dict]], column: str) -> tuple[date, date] | None:
    values = [r[column] for _, r in rows if r.get(column)]
    if not values:
        return None
    return date.fromisoformat(min(values)), date.fromisoformat(max(values))
