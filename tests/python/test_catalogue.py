"""One dataset catalogue: ``ingestion/isams/datasets.py``. Every other list of iSAMS datasets must agree with it.

The lists dbt needs as literals (the sources yml, the reconciliation and freshness monitors) and the
validation rules are checked here against the catalogue, so adding a dataset in one place and forgetting
another fails the fast tests, naming what is missing where. ``schools`` is ours (written from the schools
file, not fetched), so it is in the dbt lists but not in the catalogue; an optional dataset (``former_pupils``:
REST alumni, not every school has it) is never "stale", so the freshness monitor leaves it out.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ingestion.isams import datasets as catalogue
from ingestion.isams.registers import normalized
from ingestion.validation import rules

REPO = Path(__file__).resolve().parents[2]
OURS = {"schools"}


def _catalogue() -> dict[str, tuple[str, bool, bool]]:
    """name -> (key column as it lands, scd2 history, optional)."""
    batch = {d.name: (normalized(d.primary_key.lstrip("@")), not d.windowed, False) for d in catalogue.BATCH_DATASETS}
    rest = {d.name: (normalized(d.primary_key), False, d.optional) for d in catalogue.REST_DATASETS}
    return {**batch, **rest}


def _source_tables() -> set[str]:
    doc = yaml.safe_load((REPO / "models/staging/isams/_isams__sources.yml").read_text())
    return {t["name"] for s in doc["sources"] if s["name"] == "isams" for t in s["tables"] if "__" not in t["name"]}


def _reconciliation() -> dict[str, tuple[str, bool]]:
    sql = (REPO / "models/monitoring/monitoring_reconciliation.sql").read_text()
    rows = re.findall(r"\(\s*'(\w+)'\s*,\s*'stg_isams__\w+'\s*,\s*'(\w+)'\s*,\s*(true|false)\s*\)", sql)
    return {name: (key, scd2 == "true") for name, key, scd2 in rows}


def _freshness() -> set[str]:
    sql = (REPO / "models/monitoring/monitoring_school_freshness.sql").read_text()
    block = re.search(r"set datasets = \[(.*?)\]", sql, re.S)
    assert block, "monitoring_school_freshness.sql: the `datasets` list moved; update this test"
    return set(re.findall(r"'(\w+)'", block.group(1)))


def disagreements(cat: dict[str, tuple[str, bool, bool]], sources: set[str], recon: dict[str, tuple[str, bool]],
                  fresh: set[str], rule_keys: dict[str, tuple[str, bool]]) -> list[str]:
    names = set(cat)
    problems = []
    for where, listed, expected in (
        ("_isams__sources.yml", sources, names | OURS),
        ("monitoring_reconciliation.sql", set(recon), names | OURS),
        ("monitoring_school_freshness.sql", fresh, {n for n in names if not cat[n][2]} | OURS),
    ):
        if missing := sorted(expected - listed):
            problems.append(f"{where} lacks {missing}")
        if extra := sorted(listed - expected):
            problems.append(f"{where} lists {extra}, which the catalogue does not have")
    for name, (key, scd2, _) in sorted(cat.items()):
        if name not in rule_keys:
            problems.append(f"validation/rules.py has no rules for {name}")
            continue
        if rule_keys[name] != (key, scd2):
            problems.append(f"validation/rules.py: {name} key/scd2 {rule_keys[name]}, catalogue {(key, scd2)}")
        if name in recon and recon[name] != rule_keys[name]:
            problems.append(f"monitoring_reconciliation.sql: {name} key/scd2 {recon[name]}, rules {rule_keys[name]}")
    return problems


def _rule_keys() -> dict[str, tuple[str, bool]]:
    return {r.name: (r.key, r.scd2) for r in rules.RULES}


def test_every_dataset_list_agrees_with_the_catalogue():
    problems = disagreements(_catalogue(), _source_tables(), _reconciliation(), _freshness(), _rule_keys())
    assert not problems, "\n".join(problems)


def test_rules_cover_only_catalogued_landings():
    """Rules may cover a landing that is not a dataset of its own (the REST terms cross-check), nothing else."""
    assert set(_rule_keys()) - set(_catalogue()) <= {catalogue.REST_TERMS.name}


def test_a_forgotten_dataset_is_named():
    cat = _catalogue()
    cat["timetable"] = ("id", True, False)
    problems = disagreements(cat, _source_tables(), _reconciliation(), _freshness(), _rule_keys())
    assert any("_isams__sources.yml lacks ['timetable']" in p for p in problems)
    assert any("validation/rules.py has no rules for timetable" in p for p in problems)
    assert any("monitoring_school_freshness.sql lacks ['timetable']" in p for p in problems)


def test_one_personal_data_list_covers_isams_spellings_and_spares_attendance():
    """Validation and the published-model check share dbt_project.yml's ``personal_data_terms``."""
    for column in ("forename", "preferredname", "middle_names", "dob", "upn", "school_email_address",
                   "mobile_number", "address__postcode", "address__address_lines__address1", "nationalities",
                   "ethnicity", "user_name", "title", "person_id", "pupil_id"):
        assert rules.is_sensitive(column), column
    for column in ("registered", "code", "session", "registration_date_time", "school_id", "form", "year_id"):
        assert not rules.is_sensitive(column), column
    macro = (REPO / "macros/privacy/privacy_checks.sql").read_text()
    assert "return(var('personal_data_terms'))" in macro


def test_every_model_has_one_yml_of_its_own_beside_it():
    """One obvious place for a model's documentation and tests: ``_<model>.yml`` next to ``<model>.sql``,
    declaring that model only (and only that model's unit tests)."""
    problems = []
    for sql in sorted((REPO / "models").rglob("*.sql")):
        name, yml = sql.stem, sql.with_name(f"_{sql.stem}.yml")
        if not yml.exists():
            problems.append(f"{sql.relative_to(REPO)}: no {yml.name} beside it")
            continue
        doc = yaml.safe_load(yml.read_text()) or {}
        declared = [m["name"] for m in doc.get("models", [])]
        tested = {t["model"] for t in doc.get("unit_tests", [])}
        if declared != [name] or tested - {name}:
            problems.append(f"{yml.relative_to(REPO)}: declares models {declared}, unit tests of {sorted(tested)}")
    for yml in sorted((REPO / "models").rglob("*.yml")):
        doc = yaml.safe_load(yml.read_text()) or {}
        if doc.get("models") and not yml.with_name(yml.name[1:-4] + ".sql").exists():
            problems.append(f"{yml.relative_to(REPO)}: declares models but has no {yml.name[1:-4]}.sql beside it")
    assert not problems, "\n".join(problems)


def test_model_and_unit_test_names_fit_postgres_identifiers():
    """PostgreSQL truncates identifiers at 63 bytes and dbt refuses a longer relation name: a unit test named
    over that passes on DuckDB and errors on PostgreSQL ("Relation name ... is longer than 63 characters")."""
    too_long = []
    for yml in sorted((REPO / "models").rglob("*.yml")):
        doc = yaml.safe_load(yml.read_text()) or {}
        for entry in doc.get("models", []) + doc.get("unit_tests", []):
            if len(entry["name"].encode()) > 63:
                too_long.append(f"{yml.relative_to(REPO)}: {entry['name']} ({len(entry['name'])} characters)")
    assert not too_long, "\n".join(too_long)
