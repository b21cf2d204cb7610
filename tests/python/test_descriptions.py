"""Descriptions for people: every mart and every one of its columns has a short, plain-text description.

On PostgreSQL ``persist_docs`` turns a mart's description into its table comment and each column's into the
column comment, which is what a BI tool (Superset, Power BI, Metabase) shows beside the table. So a mart's
description is one or two plain sentences (at most ``MAX_MODEL`` characters, no Markdown heading or bold), and the
engineering notes (rules, incremental behaviour, examples) live in the model's ``config.meta.notes`` or in its SQL
header, which are not persisted. ``description_problems`` is fed fake manifests to prove each rule fails; the
real manifest (``dbt parse``) must have no problem.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ingestion.core.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / ".venv" / "bin" / "dbt"
MAX_MODEL = 300
MAX_COLUMN = 300
MARKDOWN = ("#", "**", "\n\n")


def marts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every model built in schema ``marts`` (what bi_reader reads), wherever its file lives."""
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["config"].get("schema") == "marts"]


def description_problems(manifest: dict[str, Any]) -> list[str]:
    problems = []
    for node in sorted(marts(manifest), key=lambda n: n["name"]):
        name, text = node["name"], (node.get("description") or "").strip()
        if not text:
            problems.append(f"{name}: no description")
        elif len(text) > MAX_MODEL:
            problems.append(f"{name}: description is {len(text)} characters (at most {MAX_MODEL}; move the rules to "
                            f"config.meta.notes)")
        if any(mark in text for mark in MARKDOWN):
            problems.append(f"{name}: description holds Markdown (a heading, bold or paragraphs): keep it plain text")
        if not node.get("columns"):
            problems.append(f"{name}: no columns documented")
        for column in node.get("columns", {}).values():
            ctext = (column.get("description") or "").strip()
            if not ctext:
                problems.append(f"{name}.{column['name']}: no description")
            elif len(ctext) > MAX_COLUMN:
                problems.append(f"{name}.{column['name']}: description is {len(ctext)} characters (at most {MAX_COLUMN})")
            if any(mark in ctext for mark in MARKDOWN):
                problems.append(f"{name}.{column['name']}: description holds Markdown (a heading, bold or paragraphs)")
    return problems


def _fake(description: str, columns: dict[str, str] | None = None, schema: str = "marts") -> dict[str, Any]:
    columns = {"school_code": "The school."} if columns is None else columns
    node = {"resource_type": "model", "name": "some_mart", "config": {"schema": schema}, "description": description,
            "columns": {c: {"name": c, "description": d} for c, d in columns.items()}}
    return {"nodes": {"model.schoolwh.some_mart": node}}


def test_a_short_plain_description_passes() -> None:
    assert description_problems(_fake("Attendance per school and term. One row per school, year and term.")) == []


@pytest.mark.parametrize("description, expected", [
    ("", "some_mart: no description"),
    ("An overview. " * 30, "some_mart: description is 389 characters"),
    ("##### Overview\nAttendance per school.", "some_mart: description holds Markdown"),
    ("Attendance. **Grain:** school.", "some_mart: description holds Markdown"),
])
def test_a_missing_long_or_markdown_description_fails(description: str, expected: str) -> None:
    problems = description_problems(_fake(description))
    assert any(p.startswith(expected) for p in problems), problems


def test_an_undocumented_or_long_column_fails() -> None:
    problems = description_problems(_fake("Attendance per school.", {"school_code": "", "rate": "x" * 301}))
    assert "some_mart.school_code: no description" in problems
    assert any(p.startswith("some_mart.rate: description is 301 characters") for p in problems)


def test_models_outside_the_marts_schema_are_not_checked() -> None:
    assert description_problems(_fake("##### Overview\n" + "long " * 100, schema="canonical")) == []


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """target/manifest.json of `dbt parse` (no secret, no warehouse needed), as tests/python/test_privacy.py runs it."""
    work = tmp_path_factory.mktemp("dbt_descriptions")
    env = {k: v for k, v in os.environ.items() if k != "SCHOOLWH_PUPIL_KEY_SECRET"}
    env.update(Warehouse.duckdb(work / "wh.duckdb").dbt_env())
    cmd = [str(DBT), "parse", "--project-dir", str(REPO), "--profiles-dir", str(REPO),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))


def test_every_mart_and_column_has_a_short_plain_description(manifest: dict[str, Any]) -> None:
    assert {"cohort_attendance", "school_attendance_by_term", "metricflow_time_spine"} <= {n["name"] for n in marts(manifest)}
    problems = description_problems(manifest)
    assert not problems, "\n".join(problems)
