"""The landing-boundary rules for every raw dataset of every source: the ONE place they are declared.

Rules are keyed by (raw schema, table): ``RULES`` for ``raw_isams`` (iSAMS), ``SEEMIS_RULES`` for
``raw_seemis`` (SEEMiS CSV exports), both in ``BY_SCHEMA_DATASET``. Columns are the dlt (snake_case) names;
every iSAMS Batch leaf and every SEEMiS field lands as VARCHAR, so "type" rules ask whether the text
*parses*, in the schema's date format (``DATE_FORMATS``). ``gx_validate`` turns each ``DatasetRules`` into a
GX expectation suite named ``<schema>.<dataset>``; nothing else should restate a rule.

A required column that a table lacks altogether (dlt never creates a column no school has sent) fails on
every row; an optional column that is absent has nothing to check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"  # iSAMS Batch dates: 2000-11-02T00:00:00, no zone
TIMESTAMP_SHAPE = "YYYY-MM-DDTHH:MM:SS"
INTEGER_REGEX = r"^-?[0-9]+$"
ISAMS, SEEMIS = "raw_isams", "raw_seemis"
RAW_SCHEMAS = (ISAMS, SEEMIS)
# per raw schema, how its date columns land as text: (strftime format, the shape named in reasons). SEEMiS
# dates land as ISO dates (ingestion/seemis/exports.py iso_date); a DATE column cast to text reads the same.
DATE_FORMATS: dict[str, tuple[str, str]] = {
    ISAMS: (TIMESTAMP_FORMAT, TIMESTAMP_SHAPE),
    SEEMIS: ("%Y-%m-%d", "YYYY-MM-DD"),
}


def years_before(day: date, years: int) -> date:
    """``day`` ``years`` years earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class DateRange:
    """A sane window for a date column (inclusive), fixed or relative to the run's as-of date ``today``:
    from ``earliest`` (or ``today`` minus ``earliest_years_ago`` years) to ``today + days_after_today`` (or
    ``today`` minus ``latest_years_ago`` years)."""

    earliest: date | None = None
    days_after_today: int = 0
    earliest_years_ago: int | None = None  # e.g. a date of birth: at most 25 years ago
    latest_years_ago: int | None = None  # e.g. a date of birth: at least 2 years ago

    def __post_init__(self) -> None:
        if (self.earliest is None) == (self.earliest_years_ago is None):
            raise ValueError("DateRange: give exactly one of earliest and earliest_years_ago")

    def first(self, today: date) -> date:
        if self.earliest_years_ago is not None:
            return years_before(today, self.earliest_years_ago)
        return self.earliest  # type: ignore[return-value]

    def latest(self, today: date) -> date:
        if self.latest_years_ago is not None:
            return years_before(today, self.latest_years_ago)
        return today + timedelta(days=self.days_after_today)


@dataclass(frozen=True)
class DatasetRules:
    """What a landed row of one dataset must satisfy. Tuples keep the rules hashable and ordered."""

    name: str  # raw table name in ``schema``
    key: str  # the record id column (unique per school among current rows)
    scd2: bool = True  # dlt scd2 history: only rows with _dlt_valid_to is null are current
    required: tuple[str, ...] = ()  # not null (the key is always required)
    integers: tuple[str, ...] = ()  # text that must parse as a whole number
    timestamps: tuple[str, ...] = ()  # text that must parse as a date in the schema's DATE_FORMATS
    accepted: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> allowed values
    ranges: dict[str, DateRange] = field(default_factory=dict)  # timestamp column -> sane window
    unique: tuple[str, ...] = ()  # unique per school among current rows (the key always is)
    ordered: tuple[tuple[str, str], ...] = ()  # (earlier, later) timestamp pairs: later >= earlier
    typed: bool = False  # REST tables: dlt typed the columns already, so only presence/uniqueness apply
    schema: str = ISAMS  # the raw schema holding the table: rules are keyed by (schema, name)
    patterns: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (regex, what it should be)

    @property
    def date_format(self) -> str:
        return DATE_FORMATS[self.schema][0]

    @property
    def date_shape(self) -> str:
        return DATE_FORMATS[self.schema][1]

    @property
    def suite(self) -> str:
        """The GX suite (and validation definition) name: ``<schema>.<dataset>``."""
        return f"{self.schema}.{self.name}"

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.key, *self.required)))

    @property
    def unique_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.key, *self.unique)))


# Values that identify a person: never shown in Data Docs or in quarantine reasons.
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"


@functools.cache
def personal_data_terms() -> tuple[str, ...]:
    """The one list of personal-data column-name terms: var ``personal_data_terms`` in dbt_project.yml (the
    macro ``privacy_identifying_names`` returns the same var)."""
    project = yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))
    return tuple(str(t).lower() for t in project["vars"]["schoolwh"]["personal_data_terms"])


def is_sensitive(column: str) -> bool:
    """True when a term's words appear consecutively in the column's words (split on ``_``), the macro's rule:
    ``email`` matches ``school_email_address``, ``address`` matches ``address__town``, ``sen`` not ``session``."""
    words = f"_{column.lower()}_"
    return any(f"_{term}_" in words for term in personal_data_terms())


_GENDER = ("M", "F")
_FLAG = ("0", "1")
_SINCE_2000 = date(2000, 1, 1)
_BOOKED_AHEAD = 3 * 366  # terms and enrolments are entered years ahead

RULES: tuple[DatasetRules, ...] = (
    DatasetRules(
        "pupils", "id",
        required=("school_id", "forename", "surname"),
        integers=("id", "person_id", "school_id", "nc_year"),
        timestamps=("dob", "enrolment_date"),
        accepted={"gender": _GENDER, "pupil_type": ("Boarder", "Day")},
        ranges={"dob": DateRange(date(1990, 1, 1)), "enrolment_date": DateRange(date(1990, 1, 1), _BOOKED_AHEAD)},
        unique=("school_id",),  # SchoolId is what registers, set lists and contacts join on
    ),
    DatasetRules(
        "staff", "id",
        required=("forename", "surname"),
        integers=("id", "person_id"),
        timestamps=("dob",),
        accepted={"gender": _GENDER, "teaching_staff": _FLAG},
        ranges={"dob": DateRange(date(1920, 1, 1))},
    ),
    DatasetRules("contacts", "person_id", integers=("person_id",)),
    DatasetRules("custom_groups", "id", integers=("id", "category_id", "author_id")),
    DatasetRules(
        "custom_group_memberships", "id",
        required=("pupil_id", "custom_group_id"), integers=("id", "pupil_id", "custom_group_id"),
    ),
    DatasetRules(
        "academic_houses", "id", required=("name",), integers=("id",),
        accepted={"type": ("Academic", "Boarding"), "sex": ("F", "M", "U")},
    ),
    DatasetRules(
        "boarding_houses", "id", required=("name",), integers=("id",),
        accepted={"type": ("Academic", "Boarding"), "sex": ("F", "M", "U")},
    ),
    DatasetRules("forms", "id", integers=("year_id",)),  # a form's @Id is its name, e.g. "Y0-A"
    DatasetRules("divisions", "id", integers=("id",)),
    DatasetRules("year_groups", "id", integers=("id",)),  # @Id is the NC year, may be negative
    DatasetRules(
        "terms", "id",
        required=("start_date", "finish_date"),
        integers=("id",),
        timestamps=("start_date", "finish_date"),
        ranges={"start_date": DateRange(_SINCE_2000, _BOOKED_AHEAD), "finish_date": DateRange(_SINCE_2000, _BOOKED_AHEAD)},
        ordered=(("start_date", "finish_date"),),
    ),
    DatasetRules("departments", "id", integers=("id",)),
    DatasetRules("teaching_forms", "id", integers=("id", "subject_id")),
    DatasetRules("teaching_sets", "id", integers=("id", "subject_id", "year_id")),
    DatasetRules("set_lists", "id", required=("set_id", "pupil_id"), integers=("id", "set_id", "pupil_id")),
    DatasetRules(
        "registration_statuses", "id", scd2=False,
        required=("pupil_id", "registered", "registration_date_time"),
        integers=("id", "pupil_id", "code"),
        timestamps=("registration_date_time",),
        accepted={"registered": _FLAG},
        ranges={"registration_date_time": DateRange(_SINCE_2000, 1)},
    ),
    DatasetRules("absence_codes", "id", scd2=False, required=("code",), typed=True),
    DatasetRules("present_codes", "id", scd2=False, required=("code",), typed=True),
    DatasetRules("rest_terms", "id", scd2=False, typed=True),
    DatasetRules("former_pupils", "id", scd2=False, required=("school_id",), typed=True),  # REST leavers
)

BY_DATASET: dict[str, DatasetRules] = {r.name: r for r in RULES}  # raw_isams only (names repeat across schemas)

# SEEMiS (raw_seemis, ingestion/seemis/exports.py). The reader already refused lines whose fields do not parse
# (dates, openings, codes) or lack a required field; these rules check the *values* that landed. Record ids are
# the ``record_id`` column every SEEMiS table has (pupils: the pupil id), the key staging_from anti-joins on.
_SEEMIS_DATES = DateRange(_SINCE_2000, _BOOKED_AHEAD)

SEEMIS_RULES: tuple[DatasetRules, ...] = (
    DatasetRules(
        "attendance", "record_id", scd2=False, schema=SEEMIS,
        required=("pupil_id", "attendance_date", "opening", "attendance_code"),
        timestamps=("attendance_date",),
        accepted={"opening": ("AM", "PM")},
        patterns={"attendance_code": (r"^[0-9]{2}$", "a two-digit SEEMiS code like '02'")},
        ranges={"attendance_date": DateRange(_SINCE_2000)},  # not after the run's as-of date
    ),
    DatasetRules(
        "pupils", "record_id", schema=SEEMIS,
        required=("pupil_id",),
        timestamps=("date_of_birth",),
        accepted={"gender": _GENDER},
        # as stg_seemis__pupils reads stages: any case, spaces ignored
        patterns={"stage": (r"^ *([Pp] *[1-7]|[Ss] *[1-6]) *$", "a stage P1-P7 or S1-S6")},
        ranges={"date_of_birth": DateRange(earliest_years_ago=25, latest_years_ago=2)},  # aged 2 to 25
    ),
    DatasetRules(
        "enrolments", "record_id", schema=SEEMIS,
        required=("pupil_id", "start_date"),
        timestamps=("start_date", "leaving_date"),
        ranges={"start_date": _SEEMIS_DATES, "leaving_date": _SEEMIS_DATES},
        ordered=(("start_date", "leaving_date"),),
    ),
    DatasetRules(
        "terms", "record_id", scd2=False, schema=SEEMIS,
        required=("session", "term", "start_date", "end_date"),
        timestamps=("start_date", "end_date"),
        patterns={"session": (r"^[0-9]{4}/[0-9]{2}$", "a session like '2025/26'")},
        ranges={"start_date": _SEEMIS_DATES, "end_date": _SEEMIS_DATES},
        ordered=(("start_date", "end_date"),),
    ),
    DatasetRules("schools", "school_code", scd2=False, schema=SEEMIS, required=("school_name",)),
)

ALL_RULES: tuple[DatasetRules, ...] = (*RULES, *SEEMIS_RULES)
BY_SCHEMA_DATASET: dict[tuple[str, str], DatasetRules] = {(r.schema, r.name): r for r in ALL_RULES}
