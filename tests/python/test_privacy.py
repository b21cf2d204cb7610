"""Privacy by construction: no personal data in published models; keyed pupil keys; semantic layer parses.

The leak check here mirrors the dbt singular test ``assert_no_personal_data_in_published_models`` (macros
``privacy_published_leaks`` / ``privacy_identifying_names``): same denylist (read from the macro file), same
rules. ``find_leaks`` is fed fake manifests to prove each rule fails on a leak; the real manifest (``dbt
parse``) must have none; and one test runs the dbt singular test on a copy of the project with a leaking mart.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestion.ops import pupil_key
from ingestion.core.warehouse import Warehouse
from ingestion.validation.rules import personal_data_terms

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / ".venv" / "bin" / "dbt"
PRIVACY_MACROS = REPO / "macros" / "privacy" / "privacy_checks.sql"
RESTRICTED = {"pii", "special_category"}
SECRET_ENV = "SCHOOLWH_PUPIL_KEY_SECRET"


# --- the rules (Python twin of macros/privacy/privacy_checks.sql) ---------------------------------------


def identifying_names() -> list[str]:
    """The denylist: var ``personal_data_terms`` of dbt_project.yml, which the macro privacy_identifying_names()
    returns and validation reads (one source)."""
    assert "var('personal_data_terms')" in PRIVACY_MACROS.read_text(encoding="utf-8")
    return list(personal_data_terms())


def name_matches(column: str, term: str) -> bool:
    """True when the words of ``term`` appear consecutively in the words of ``column`` (split on '_')."""
    return f"_{term.lower()}_" in f"_{column.lower()}_"


def classification(column: dict[str, Any]) -> str | None:
    meta = column.get("meta") or {}
    config_meta = (column.get("config") or {}).get("meta") or {}
    return meta.get("classification") or config_meta.get("classification")


PERSONAL_DATA_SCHEMAS = {"staging", "canonical", "restricted"}  # macro privacy_personal_data_schemas()


def _folder(node: dict[str, Any]) -> str | None:
    return node["fqn"][1] if len(node["fqn"]) > 2 else None


def _is_restricted(node: dict[str, Any]) -> bool:
    return node["config"].get("schema") == "restricted" or _folder(node) == "restricted"


def _exposed(manifest: dict[str, Any]) -> set[str]:
    return {uid for exp in manifest.get("exposures", {}).values() for uid in exp["depends_on"]["nodes"]}


def published_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Models in schema marts or under models/marts, every model an exposure depends on, and every model outside
    the layers where personal data may live (staging, canonical, restricted)."""
    exposed = _exposed(manifest)
    return [
        node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and (node["config"].get("schema") == "marts" or _folder(node) == "marts" or uid in exposed
             or (node["config"].get("schema") not in PERSONAL_DATA_SCHEMAS and _folder(node) not in PERSONAL_DATA_SCHEMAS))
    ]


def find_leaks(manifest: dict[str, Any], denylist: list[str]) -> list[str]:
    """'model.column: reason' for every published column that is classified or identifying by name, and every
    restricted model read by an exposure or with a column without a classification."""
    leaks: list[str] = []
    exposed = _exposed(manifest)
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or not _is_restricted(node):
            continue
        if uid in exposed:
            leaks.append(f"{node['name']}: restricted model read by an exposure")
        leaks += [f"{node['name']}.{name}: restricted model column without a classification"
                  for name, column in node.get("columns", {}).items() if not classification(column)]
    for node in published_models(manifest):
        if node["config"].get("schema") == "marts" and not node["config"].get("contract", {}).get("enforced"):
            leaks.append(f"{node['name']}: contract not enforced, so its columns cannot be checked")
        for name, column in node.get("columns", {}).items():
            if (found := classification(column)) in RESTRICTED:
                leaks.append(f"{node['name']}.{name}: classified {found}")
            leaks += [f"{node['name']}.{name}: identifying name ({t})" for t in denylist if name_matches(name, t)]
    return leaks


# --- fake manifests --------------------------------------------------------------------------------------


def _model(name: str, columns: dict[str, dict[str, Any]], folder: str = "marts", schema: str | None = "marts",
           contract: bool = True) -> tuple[str, dict[str, Any]]:
    uid = f"model.schoolwh.{name}"
    node = {
        "resource_type": "model",
        "name": name,
        "fqn": ["schoolwh", folder, name],
        "config": {"schema": schema, "contract": {"enforced": contract}},
        "columns": {col: {"name": col, **spec} for col, spec in columns.items()},
    }
    return uid, node


def fake_manifest(*models: tuple[str, dict[str, Any]], exposed: tuple[str, ...] = ()) -> dict[str, Any]:
    safe = _model("dim_school", {"school_key": {}, "school_code": {}, "school_name": {}})
    nodes = dict([safe, *models])
    exposures = {"exposure.schoolwh.dash": {"depends_on": {"nodes": [f"model.schoolwh.{n}" for n in exposed]}}}
    return {"nodes": nodes, "exposures": exposures}


LEAKING = {
    "meta_pii": (fake_manifest(_model("fct_x", {"pupil_ref": {"meta": {"classification": "pii"}}})), "fct_x.pupil_ref"),
    "config_meta_special_category": (
        fake_manifest(_model("fct_x", {"flag": {"config": {"meta": {"classification": "special_category"}}}})),
        "fct_x.flag",
    ),
    "surname": (fake_manifest(_model("dim_p", {"surname": {}})), "dim_p.surname"),
    "date_of_birth": (fake_manifest(_model("dim_p", {"date_of_birth": {}})), "dim_p.date_of_birth"),
    "dob_word": (fake_manifest(_model("dim_p", {"pupil_dob": {}})), "dim_p.pupil_dob"),
    "upn": (fake_manifest(_model("dim_p", {"upn": {}})), "dim_p.upn"),
    "email_in_longer_name": (fake_manifest(_model("dim_p", {"school_email_address": {}})), "dim_p.school_email_address"),
    "postcode": (fake_manifest(_model("dim_p", {"address_postcode": {}})), "dim_p.address_postcode"),
    "mis_pupil_id": (fake_manifest(_model("dim_p", {"survivor_mis_pupil_id": {}})), "dim_p.survivor_mis_pupil_id"),
    "ethnicity": (fake_manifest(_model("cohorts", {"ethnicity": {}})), "cohorts.ethnicity"),
    "religion": (fake_manifest(_model("cohorts", {"religion": {}})), "cohorts.religion"),
    "mart_by_schema_only": (
        fake_manifest(_model("odd_place", {"forename": {}}, folder="semantic", schema="marts")),
        "odd_place.forename",
    ),
    "exposure_dependency_outside_marts": (
        fake_manifest(_model("monitoring_x", {"person_guid": {}}, folder="monitoring", schema="monitoring"),
                      exposed=("monitoring_x",)),
        "monitoring_x.person_guid",
    ),
    "mart_without_contract": (
        fake_manifest(_model("loose", {"school_code": {}}, contract=False)),
        "loose: contract not enforced",
    ),
    "monitoring_model_not_exposed": (
        fake_manifest(_model("monitoring_y", {"surname": {}}, folder="monitoring", schema="monitoring")),
        "monitoring_y.surname",
    ),
    "restricted_model_read_by_an_exposure": (
        fake_manifest(_model("support_list", {"surname": {"meta": {"classification": "pii"}}}, folder="restricted",
                             schema="restricted"), exposed=("support_list",)),
        "support_list: restricted model read by an exposure",
    ),
    "restricted_column_unclassified": (
        fake_manifest(_model("support_list", {"surname": {"meta": {"classification": "pii"}}, "band": {}},
                             folder="restricted", schema="restricted")),
        "support_list.band: restricted model column without a classification",
    ),
}


@pytest.mark.parametrize("case", sorted(LEAKING))
def test_find_leaks_fails_on_each_kind_of_leak(case: str) -> None:
    manifest, expected = LEAKING[case]
    leaks = find_leaks(manifest, identifying_names())
    assert any(leak.startswith(expected) for leak in leaks), leaks


@pytest.mark.parametrize(
    "column",
    ["pupil_key", "enrolment_key", "school_name", "session", "session_date", "is_suppressed", "gender",
     "year_group", "possible_sessions", "absence_rate", "academic_week"],
)
def test_find_leaks_allows_pseudonymous_and_aggregate_columns(column: str) -> None:
    spec = {"meta": {"classification": "quasi_identifier"}} if column == "gender" else {}
    assert find_leaks(fake_manifest(_model("fct_ok", {column: spec})), identifying_names()) == []


def test_find_leaks_ignores_unpublished_models() -> None:
    canonical = _model("pupils", {"surname": {"meta": {"classification": "pii"}}}, folder="canonical",
                       schema="canonical", contract=False)
    assert find_leaks(fake_manifest(canonical), identifying_names()) == []


def test_find_leaks_allows_classified_names_in_restricted_only() -> None:
    restricted = _model("support_list", {"surname": {"meta": {"classification": "pii"}},
                                         "band": {"meta": {"classification": "special_category"}}},
                        folder="restricted", schema="restricted")
    assert find_leaks(fake_manifest(restricted), identifying_names()) == []
    in_marts = _model("support_list", {"surname": {"meta": {"classification": "pii"}}})
    assert find_leaks(fake_manifest(in_marts), identifying_names()) != []


@pytest.mark.parametrize(
    ("column", "term", "expected"),
    [("sen_status", "sen", True), ("session", "sen", False), ("date_of_birth", "date_of_birth", True),
     ("birth_date_of", "date_of_birth", False), ("email", "email", True), ("emailed", "email", False)],
)
def test_name_matching_is_by_whole_words(column: str, term: str, expected: bool) -> None:
    assert name_matches(column, term) is expected


def test_denylist_covers_the_required_names() -> None:
    required = {"forename", "surname", "first_name", "last_name", "full_name", "preferred_name", "date_of_birth",
                "dob", "upn", "email", "mobile", "telephone", "address", "postcode", "person_guid", "mis_pupil_id",
                "ethnicity", "religion", "nationality"}
    assert required <= set(identifying_names())


# --- the real project ------------------------------------------------------------------------------------


def _dbt_env(**extra: str) -> dict[str, str]:
    """dbt by hand: what profiles.yml reads comes from a warehouse object, as when schoolwh runs it."""
    env = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    env.update(Warehouse.duckdb(Path(extra.pop("SCHOOLWH_WAREHOUSE"))).dbt_env())
    env.update(extra)  # telemetry is off in os.environ already (importing ingestion did it)
    return env


def _dbt(args: list[str], project: Path, work: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(DBT), *args, "--project-dir", str(project), "--profiles-dir", str(project),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return subprocess.run(cmd, cwd=project, env=_dbt_env(**env), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def dbt_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target/log directory for the module, so later dbt calls parse partially (fast)."""
    return tmp_path_factory.mktemp("dbt_work")


@pytest.fixture(scope="module")
def manifest(dbt_work: Path) -> dict[str, Any]:
    """target/manifest.json of `dbt parse` (no secret, no warehouse needed)."""
    work = dbt_work
    # the restricted models are built on PostgreSQL only unless a var says so: enable them to check them too
    result = _dbt(["parse", "--vars", "{build_restricted_on_duckdb: true}"], REPO, work,
                  SCHOOLWH_WAREHOUSE=str(work / "wh.duckdb"))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))


def test_real_published_models_have_no_personal_data(manifest: dict[str, Any]) -> None:
    names = {node["name"] for node in published_models(manifest)}
    assert {"dim_pupil", "fct_attendance_session", "persistent_absence", "cohort_attendance",
            "attendance_bands", "weekly_attendance", "monitoring_school_freshness"} <= names
    assert "attendance_support_list" not in names
    assert find_leaks(manifest, identifying_names()) == []


def test_the_restricted_list_carries_names_and_classifies_every_column(manifest: dict[str, Any]) -> None:
    node = manifest["nodes"]["model.schoolwh.attendance_support_list"]
    assert node["config"]["schema"] == "restricted"
    columns = node["columns"]
    assert {classification(columns[c]) for c in ("forename", "surname", "preferred_name")} == {"pii"}
    assert all(classification(column) for column in columns.values())


@pytest.mark.parametrize(
    ("model", "column"),
    [("pupils", "upn"), ("pupils", "forename"), ("pupils", "surname"), ("pupils", "date_of_birth"),
     ("pupils", "person_guid"), ("pupils", "person_id"), ("pupil_identity_xref", "person_id"),
     ("pupil_identity_xref", "mis_pupil_id"), ("contacts", "email_address"), ("contacts", "address_postcode"),
     ("contacts", "contact_person_id"), ("staff", "surname"), ("staff", "date_of_birth"), ("staff", "person_id")],
)
def test_canonical_personal_columns_are_classified(manifest: dict[str, Any], model: str, column: str) -> None:
    node = manifest["nodes"][f"model.schoolwh.{model}"]
    assert classification(node["columns"][column]) in RESTRICTED


def test_semantic_models_and_metrics_are_in_the_manifest(manifest: dict[str, Any]) -> None:
    semantic = {node["name"]: node for node in manifest["semantic_models"].values()}
    assert {"attendance_sessions", "persistent_absence_enrolments"} <= set(semantic)
    sessions = {m["name"] for m in semantic["attendance_sessions"]["measures"]}
    assert {"possible_sessions", "attended_sessions", "absence_sessions"} <= sessions
    enrolments = {m["name"] for m in semantic["persistent_absence_enrolments"]["measures"]}
    assert {"enrolments", "persistent_absentees", "severe_absentees"} <= enrolments
    metrics = {node["name"]: node for node in manifest["metrics"].values()}
    ratios = {
        "attendance_rate": ("attended_sessions", "possible_sessions"),
        "absence_rate": ("absence_sessions", "possible_sessions"),
        "persistent_absence_rate": ("persistent_absentees", "enrolments"),
        "severe_absence_rate": ("severe_absentees", "enrolments"),
    }
    for name, (numerator, denominator) in ratios.items():
        params = metrics[name]["type_params"]
        assert metrics[name]["type"] == "ratio"
        assert (params["numerator"]["name"], params["denominator"]["name"]) == (numerator, denominator)
    spine = manifest["nodes"]["model.schoolwh.metricflow_time_spine"]
    assert spine["time_spine"]["standard_granularity_column"] == "date_day"


# --- the dbt singular test fails on a leak ---------------------------------------------------------------


@pytest.fixture
def project_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the dbt project (no target, logs or warehouse) to add a leaking model to."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(REPO / name, copy / name)
    for name in ("models", "macros", "tests", "seeds"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("python", "__pycache__"))
    yield copy


def test_dbt_singular_test_fails_when_a_mart_leaks(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "models" / "marts" / "leaky_mart.sql").write_text(
        "select 'x' as school_code, 'Smith' as surname\n", encoding="utf-8")
    (project_copy / "models" / "marts" / "_leaky_mart.yml").write_text(
        "models:\n  - name: leaky_mart\n    columns:\n      - name: school_code\n"
        "        config: {meta: {classification: pii}}\n", encoding="utf-8")
    result = _dbt(["test", "--select", "assert_no_personal_data_in_published_models"], project_copy, tmp_path,
                  SCHOOLWH_WAREHOUSE=str(tmp_path / "wh.duckdb"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Got 2 results" in output, output  # contract not enforced + school_code classified pii


# --- keyed pupil keys ------------------------------------------------------------------------------------


def reference_keyed_hash(secret: str, value: str) -> str:
    """The documented construction: sha256(secret || ':' || sha256(secret || ':' || value)), hex."""
    inner = hashlib.sha256(f"{secret}:{value}".encode()).hexdigest()
    return hashlib.sha256(f"{secret}:{inner}".encode()).hexdigest()


SECRETS = {"one": "python-test-secret-one-0001", "two": "python-test-secret-two-0002"}


def _key_from_dbt(work: Path, label: str, secret: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Store ``secret`` the way the pipeline does (ops.pupil_key_secret), then let dbt compute keyed_hash."""
    warehouse = work / f"key-{label}.duckdb"
    monkeypatch.setenv(SECRET_ENV, secret)
    pupil_key.store(Warehouse.duckdb(warehouse))
    sql = "select {{ keyed_hash(\"'upn:U1'\") }} as k"
    result = _dbt(["show", "--quiet", "--output", "json", "--inline", sql], REPO, work,
                  SCHOOLWH_WAREHOUSE=str(warehouse))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["show"][0]["k"]


def test_keyed_hash_is_stable_secret_dependent_and_not_a_plain_hash(dbt_work: Path, monkeypatch) -> None:
    runs = {label: _key_from_dbt(dbt_work, label, SECRETS[label.split("_")[0]], monkeypatch)
            for label in ("one", "one_again", "two")}
    assert runs["one"] == runs["one_again"] == reference_keyed_hash(SECRETS["one"], "upn:U1")
    assert runs["two"] == reference_keyed_hash(SECRETS["two"], "upn:U1") != runs["one"]
    unkeyed = {hashlib.md5(b"upn:U1").hexdigest(), hashlib.sha256(b"upn:U1").hexdigest()}
    assert runs["one"] not in unkeyed and runs["two"] not in unkeyed
    assert re.fullmatch(r"[0-9a-f]{64}", runs["one"])
    # dbt read the secret from the table: it is in no compiled SQL, artifact or log of those runs
    for path in [p for p in dbt_work.rglob("*") if p.is_file() and p.suffix != ".duckdb"]:
        for secret in SECRETS.values():
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(("secret", "message"), [(None, "is not set"), ("short", "is shorter than 16 characters")])
def test_a_missing_or_short_secret_fails_clearly(monkeypatch, secret: str | None, message: str) -> None:
    if secret is None:
        monkeypatch.delenv(SECRET_ENV, raising=False)
    else:
        monkeypatch.setenv(SECRET_ENV, secret)
    with pytest.raises(pupil_key.PupilKeySecretError, match=f"{SECRET_ENV} {message}.*token_hex"):
        pupil_key.from_env()


def test_demo_secret_is_generated_once_and_private(tmp_path) -> None:
    first = pupil_key.demo_secret(tmp_path)
    assert len(first) >= pupil_key.MIN_LENGTH and pupil_key.demo_secret(tmp_path) == first  # stable keys
    assert (tmp_path / "pupil_key.secret").stat().st_mode & 0o077 == 0  # readable by its owner only


def _validate_semantic_manifest(target: Path):
    """MetricFlow's own validation rules (dbt-semantic-interfaces, shipped with dbt-core), run in-process:
    the `mf` CLI is not used because it checks PyPI for updates on every start (nothing may call out)."""
    from dbt_semantic_interfaces.implementations.semantic_manifest import PydanticSemanticManifest
    from dbt_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    semantic = PydanticSemanticManifest.parse_raw((target / "semantic_manifest.json").read_text(encoding="utf-8"))
    return semantic, SemanticManifestValidator[PydanticSemanticManifest]().validate_semantic_manifest(semantic)


def test_semantic_layer_passes_metricflow_validation(manifest: dict[str, Any], dbt_work: Path) -> None:
    semantic, results = _validate_semantic_manifest(dbt_work / "target")
    assert not results.has_blocking_issues, [str(e) for e in results.errors]
    metrics = {m.name for m in semantic.metrics}
    assert {"attendance_rate", "absence_rate", "persistent_absence_rate", "severe_absence_rate"} <= metrics


def test_semantic_validation_fails_on_a_broken_metric(project_copy: Path, tmp_path: Path) -> None:
    (project_copy / "models" / "semantic" / "_broken_metric.yml").write_text(
        "metrics:\n  - name: broken_rate\n    label: Broken\n    type: ratio\n"
        "    type_params: {numerator: no_such_metric, denominator: possible_sessions}\n", encoding="utf-8")
    result = _dbt(["parse"], project_copy, tmp_path, SCHOOLWH_WAREHOUSE=str(tmp_path / "wh.duckdb"))
    if result.returncode != 0:  # dbt itself may already refuse the dangling reference
        assert "no_such_metric" in result.stdout + result.stderr
        return
    _, results = _validate_semantic_manifest(tmp_path / "target")
    assert results.has_blocking_issues and any("no_such_metric" in str(e) for e in results.errors)


def test_the_restricted_list_is_not_built_on_duckdb_unless_enabled(dbt_work: Path) -> None:
    """DuckDB has no roles: whoever can open the file reads every table, so the named list is off by default."""
    work = dbt_work / "restricted_off"
    args = ["ls", "--resource-type", "model", "--select", "attendance_support_list", "--output", "name"]
    default = _dbt(args, REPO, work, SCHOOLWH_WAREHOUSE=str(work / "wh.duckdb"))
    # dbt's warning "... does not match any enabled nodes" names it too: look for it as a listed node only
    assert "attendance_support_list" not in [line.strip() for line in default.stdout.splitlines()], default.stdout
    enabled = _dbt([*args, "--vars", "{build_restricted_on_duckdb: true}"], REPO, work,
                   SCHOOLWH_WAREHOUSE=str(work / "wh.duckdb"))
    listed = [line.strip() for line in enabled.stdout.splitlines()]
    assert enabled.returncode == 0 and "attendance_support_list" in listed, enabled.stdout + enabled.stderr
