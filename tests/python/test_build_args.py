"""Which dbt nodes a build runs: data tests always; dbt unit tests only in CI or when asked (issue 16)."""

from __future__ import annotations

from datetime import date

import pytest
from rich.console import Console

from ingestion.app import pipeline
from ingestion.app.dbt_runner import DbtResult
from ingestion.core.warehouse import Warehouse

pytestmark = pytest.mark.fast


@pytest.fixture
def dbt_args(monkeypatch):
    calls: list[list[str]] = []

    def fake_run_dbt(args, warehouse, echo=None, variables=None):
        calls.append(list(args))
        return DbtResult(command=" ".join(args), returncode=0)

    monkeypatch.setattr(pipeline, "run_dbt", fake_run_dbt)
    monkeypatch.setattr(pipeline.buildlog, "record", lambda *a, **k: None)
    return calls


def _build(tmp_path, **kwargs) -> None:
    wh = Warehouse.duckdb(tmp_path / "wh.duckdb", as_of=date(2026, 11, 20))
    pipeline.build(wh, Console(quiet=True), **kwargs)


def test_a_full_build_leaves_the_unit_tests_out(tmp_path, dbt_args):
    _build(tmp_path)
    _build(tmp_path, full_refresh=True, exclude=["tag:slow"])
    assert dbt_args[0] == ["build", "--exclude", "test_type:unit"]
    assert dbt_args[1] == ["build", "--exclude", "tag:slow", "test_type:unit", "--full-refresh"]


def test_unit_tests_run_when_asked_or_selected(tmp_path, dbt_args):
    _build(tmp_path, unit_tests=True)
    _build(tmp_path, select=["persistent_absence"])  # an explicit selection is run as selected, its unit tests too
    assert dbt_args == [["build"], ["build", "--select", "persistent_absence"]]
