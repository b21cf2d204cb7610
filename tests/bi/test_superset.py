"""Opt-in: the Superset dashboard on a real PostgreSQL demo warehouse, checked through the API and in a browser.

Not part of `make test` (testpaths is tests/python); `make test-bi` runs it, after `make bi-install` (Superset in
.venv-bi) and `make bi-browser` (Debian's chromium and chromium-driver). One stack for the module
(bi/superset/stack.py): a throwaway cluster built by `schoolwh nightly --target postgres` from the sandbox,
Superset connected as a login in `bi_reader`, the dashboard provisioned by bi/superset/dashboard.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bi" / "superset"))

import stack  # noqa: E402  (bi/superset/stack.py)
from ingestion.sandbox import pgcluster  # noqa: E402

SCREENSHOT = REPO / "docs" / "img" / "superset-dashboard.png"
EXPECTED_CHARTS = 8


@pytest.fixture(scope="module")
def bi(tmp_path_factory):
    if not (stack.BI_VENV / "bin" / "superset").exists():
        pytest.fail("Superset is not installed: run `make bi-install` (or `make test-bi`)", pytrace=False)
    try:
        pgcluster.find_bindir()
    except pgcluster.PgClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    with stack.superset_stack(tmp_path_factory.mktemp("bi")) as running:
        yield running


@pytest.fixture(scope="module")
def api(bi):
    client = httpx.Client(base_url=bi.url, timeout=120)
    token = client.post("/api/v1/security/login", json={"username": bi.admin_user, "password": bi.admin_password,
                                                        "provider": "db", "refresh": False}).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    yield client
    client.close()


def _dashboard_charts(api, slug):
    response = api.get(f"/api/v1/dashboard/{slug}/charts")
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_the_dashboard_has_every_chart(bi, api):
    charts = _dashboard_charts(api, bi.dashboard_slug)
    assert len(charts) == EXPECTED_CHARTS, [c["slice_name"] for c in charts]


def test_superset_reads_the_warehouse_as_a_bi_reader_login(bi, api):
    databases = api.get("/api/v1/database/").json()["result"]
    assert len(databases) == 1
    detail = api.get(f"/api/v1/database/{databases[0]['id']}/connection").json()["result"]
    uri = detail["sqlalchemy_uri"]
    assert f"{stack.BI_LOGIN}:" in uri and bi.cluster.password not in uri
    # the login is a member of bi_reader and of nothing that could read outside marts
    con = bi.cluster.admin_connect()
    with con.cursor() as cur:
        cur.execute("select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid "
                    "join pg_roles u on u.oid = m.member where u.rolname = %s", [stack.BI_LOGIN])
        assert [name for (name,) in cur.fetchall()] == ["bi_reader"]
    con.close()


def test_every_dataset_is_a_physical_table_of_marts(bi, api):
    datasets = api.get("/api/v1/dataset/?q=(page_size:100)").json()["result"]
    assert datasets
    for dataset in datasets:
        assert (dataset["schema"], dataset["kind"]) == ("marts", "physical"), dataset["table_name"]


def test_every_chart_returns_rows_through_the_api(bi, api):
    empty = {}
    for chart in _dashboard_charts(api, bi.dashboard_slug):
        response = api.get(f"/api/v1/chart/{chart['id']}/data/")
        assert response.status_code == 200, (chart["slice_name"], response.text[:1000])
        results = response.json()["result"]
        assert all(not r.get("error") for r in results), (chart["slice_name"], results)
        rows = sum(r["rowcount"] for r in results)
        if rows == 0:
            empty[chart["slice_name"]] = results[0].get("query")
    assert not empty, empty


def test_the_dashboard_renders_in_chromium_without_a_chart_error(bi):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **stack.NO_TELEMETRY, "SUPERSET_URL": bi.url, "SUPERSET_ADMIN_USER": bi.admin_user,
           "SUPERSET_ADMIN_PASSWORD": bi.admin_password, "SUPERSET_DASHBOARD": bi.dashboard_slug}
    run = subprocess.run([str(stack.BI_VENV / "bin" / "python"), str(stack.HERE / "screenshot.py"), str(SCREENSHOT)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(seen["charts"]) == EXPECTED_CHARTS, seen
    assert seen["problems"] == [], seen["problems"]
    assert SCREENSHOT.stat().st_size > 50_000
