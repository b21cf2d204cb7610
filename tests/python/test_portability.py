"""The SQL stays in what DuckDB, PostgreSQL and Spark share (docs/spark.md), checked without Spark.

`make test-spark` builds the project on Spark, but it is opt-in; this test runs in every `make test` and fails
on the constructs measured to break on one of the three, when they appear outside the one macro that spells
each per backend (macros/cross_db.sql, macros/spark/, the SHA-256 macro). Comments are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# (what, pattern, where it may appear): the portable spelling is in the message
RULES = [
    # Jinja's own ~ (string concatenation) is not SQL: this rule reads the SQL with each {{ ... }} as a J
    ("a regular-expression match with ~ (Spark: rlike); use regex_matches()", r"[\w)\]]\s+~\s+['\w(]", {"macros/cross_db.sql"}),
    ("'\\' (a syntax error on Spark); use chr(92)", r"'\\'", set()),
    ("a bare varchar cast (Spark needs a length); use dbt.type_string() or varchar_type()",
     r"\bas\s+varchar\b(?!\s*\()", {"macros/cross_db.sql"}),
    ("double precision (Spark: double); use epoch_seconds_to_timestamp() or a numeric type",
     r"double\s+precision", {"macros/cross_db.sql"}),
    ("at time zone (not Spark); use utc_timestamp()", r"at\s+time\s+zone", {"macros/cross_db.sql"}),
    ("isodow (not Spark); use iso_day_of_week()", r"\bisodow\b", {"macros/cross_db.sql"}),
    ("a time cast (Spark has no time type); use extract(hour from ...)", r"as\s+time\s*\)", set()),
    ("dbt.generate_series (a double on Spark); use integer_series()", r"dbt\.generate_series", {"macros/cross_db.sql"}),
    ("sha256() (Spark: sha2); use keyed_hash()/schoolwh_sha256_hex()", r"\bsha256\s*\(", {"macros/privacy/keyed_hash.sql"}),
    ("a double-quoted identifier (a string on Spark); use adapter.quote()", r"(?<![\w'])\"[a-z_][a-z0-9_]*\"\.", set()),
    ("select * exclude (not PostgreSQL or Spark); list the columns", r"\*\s+exclude\s*\(", set()),
    ("group by all (not PostgreSQL); list the columns", r"group\s+by\s+all\b", set()),
    ("qualify (not PostgreSQL); filter in a subquery", r"\bqualify\b", set()),
]


def _sql_files() -> list[Path]:
    return sorted(p for folder in ("models", "macros", "tests/singular", "tests/generic")
                  for p in (REPO / folder).rglob("*.sql"))


def _blank(pattern: str, text: str, replacement: str = "") -> str:
    """``text`` with each match of ``pattern`` replaced, keeping its line breaks (line numbers stay right)."""
    return re.sub(pattern, lambda m: replacement + "\n" * m.group(0).count("\n"), text, flags=re.S)


def _code(text: str, sql_only: bool = False) -> str:
    """The text without Jinja comments and SQL line comments (prose may name what the code must not do);
    ``sql_only``: also every Jinja expression as ``J`` and every Jinja statement removed."""
    text = _blank(r"\{#.*?#\}", text)
    if sql_only:
        text = _blank(r"\{%.*?%\}", _blank(r"\{\{.*?\}\}", text, "J"))
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


@pytest.mark.parametrize(("what", "pattern", "allowed"), RULES, ids=[r[0].split(" (")[0].split(";")[0] for r in RULES])
def test_no_construct_that_breaks_on_one_backend(what, pattern, allowed):
    found = []
    for path in _sql_files():
        relative = path.relative_to(REPO).as_posix()
        if relative in allowed:
            continue
        for number, line in enumerate(_code(path.read_text(), sql_only=pattern == RULES[0][1]).splitlines(), 1):
            if re.search(pattern, line, flags=re.I):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == [], f"{what}:\n" + "\n".join(found)


def test_the_rules_catch_what_they_name(tmp_path):
    """Each pattern matches its construct (so a rule cannot pass by matching nothing)."""
    samples = ["case when x ~ '^[0-9]+$' then 1 end", "else '\\' end", "cast(a as varchar)", "cast(x as double precision)",
               "ts at time zone 'UTC'", "extract(isodow from d)", "cast(ts as time)", "{{ dbt.generate_series(9) }}",
               "sha256(x)", 'select "raw".x', "select * exclude (a)", "group by all", "qualify row_number() = 1"]
    for (what, pattern, _), sample in zip(RULES, samples, strict=True):
        assert re.search(pattern, _code(sample, sql_only=pattern == RULES[0][1]), flags=re.I), what
    assert re.search(RULES[0][1], _code("when {{ text }} ~ {{ iso }} then", sql_only=True))
    assert not re.search(RULES[0][1], _code("{%- set x = a ~ '.' ~ b -%} {{ f(a ~ 'b') }}", sql_only=True))
    assert not re.search(RULES[2][1], "cast(a as varchar(10))", flags=re.I)
