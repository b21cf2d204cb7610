"""The schoolwh attendance dashboard for Apache Superset, as code: the one source of truth.

Runs in ``.venv-bi`` (Superset's own environment; needs only ``requests``) against a running Superset, through
its REST API:

    python bi/superset/dashboard.py provision   # connection, datasets + metrics, charts, dashboard
    python bi/superset/dashboard.py export OUT.zip   # the same dashboard as Superset's importable bundle

Settings from the environment: ``SUPERSET_URL``, ``SUPERSET_ADMIN_USER``, ``SUPERSET_ADMIN_PASSWORD`` and the
warehouse login ``SCHOOLWH_BI_DB_HOST``/``_PORT``/``_NAME``/``_USER``/``_PASSWORD`` (a member of ``bi_reader``).
``provision`` prints one JSON line: the dashboard's id and slug and each chart's id.

Every dataset is a physical table of schema ``marts`` (drag and drop in Explore, no SQL). Rates are dataset
metrics computed as ratios of sums (``100 * SUM(absence) / SUM(possible)``), so they stay right whatever a
chart groups by; a filter picks one grain where a mart has several (``cohort_type``, ``term``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

DATABASE_NAME = "schoolwh warehouse (marts, bi_reader)"
SCHEMA = "marts"
DASHBOARD_TITLE = "School attendance"
DASHBOARD_SLUG = "school-attendance"
ROW_LIMIT = 10000


def ratio(numerator: str, denominator: str) -> str:
    """100 * SUM(numerator) / SUM(denominator): a rate as a ratio of sums, null without a denominator."""
    return f"100.0 * SUM({numerator}) / NULLIF(SUM({denominator}), 0)"


# Dataset metrics: name -> (SQL expression, label, description). Analysts reuse them by drag and drop.
METRICS: dict[str, dict[str, tuple[str, str, str]]] = {
    "cohort_attendance": {
        "absence_rate_pct": (ratio("absence_sessions", "possible_sessions"), "Absence rate (%)",
                             "Overall absence: 100 * absence sessions / possible sessions."),
        "unauthorised_absence_rate_pct": (ratio("unauthorised_absence_sessions", "possible_sessions"),
                                          "Unauthorised absence rate (%)",
                                          "100 * unauthorised absence sessions / possible sessions."),
        "persistent_absence_rate_pct": (ratio("persistent_absentees", "enrolments"), "Persistent absence (%)",
                                        "100 * persistent absentees (missed >= 10%) / enrolments."),
        "severe_absence_rate_pct": (ratio("severe_absentees", "enrolments"), "Severe absence (%)",
                                    "100 * severe absentees (missed >= 50%) / enrolments."),
    },
    "cross_campus_attendance": {
        "absence_rate_pct": (ratio("absence_sessions", "possible_sessions"), "Absence rate (%)",
                             "100 * absence sessions / possible sessions; school_code ALL is the group."),
        "attendance_rate_pct": (ratio("attended_sessions", "possible_sessions"), "Attendance rate (%)",
                                "100 * attended sessions / possible sessions."),
    },
    "punctuality": {
        "late_rate_pct": (ratio("late_sessions", "possible_sessions"), "Late (%)",
                          "100 * late sessions (L + U) / possible sessions."),
        "late_before_close_rate_pct": (ratio("late_before_close_sessions", "possible_sessions"),
                                       "Late before registers closed, L (%)", "100 * L / possible sessions."),
        "late_after_close_rate_pct": (ratio("late_after_close_sessions", "possible_sessions"),
                                      "Late after registers closed, U (%)", "100 * U / possible sessions."),
    },
    "weekly_attendance": {
        "attendance_rate_pct": (ratio("attended_sessions", "possible_sessions"), "Attendance rate (%)",
                                "The week's 100 * attended / possible, summed over year groups."),
        "absence_rate_pct": (ratio("absence_sessions", "possible_sessions"), "Absence rate (%)",
                             "The week's 100 * absence / possible, summed over year groups."),
        "possible_sessions_sum": ("SUM(possible_sessions)", "Possible sessions", "Sum of possible sessions."),
    },
    "attendance_band_counts": {
        "pupils_sum": ("SUM(pupils)", "Pupils", "Pupils in the band (sum over schools and year groups)."),
    },
    "unauthorised_absence_threshold": {
        "pupils_newly_over": ("COUNT(DISTINCT CASE WHEN is_newly_over_threshold THEN pupil_key END)",
                              "Pupils newly over the threshold",
                              "Pupils who reached the unauthorised-absence threshold that week for the first time."),
        "pupils_over": ("COUNT(DISTINCT CASE WHEN is_over_threshold THEN pupil_key END)",
                        "Pupils over the threshold", "Pupils over the threshold that week."),
    },
    "benchmark_comparison": {
        # one row per school and academic year: MAX reads the row's own figure
        "school_absence_rate": ("MAX(dfe_comparable_absence_rate)", "Absence (%): school",
                                "The school's overall absence rate, compulsory-age enrolments (DfE-comparable)."),
        "national_absence_rate": ("MAX(national_absence_rate)", "Absence (%): national",
                                  "The national overall absence rate for the school's phase."),
        "school_persistent_absence_rate": ("MAX(dfe_comparable_persistent_absence_rate)",
                                           "Persistent absence (%): school",
                                           "The school's persistent absence rate (DfE-comparable)."),
        "national_persistent_absence_rate": ("MAX(national_persistent_absence_rate)",
                                             "Persistent absence (%): national",
                                             "The national persistent absence rate for the school's phase."),
    },
}


def where(column: str, operator: str, value: Any = None) -> dict[str, Any]:
    """A simple adhoc filter (chart params) on ``column``."""
    spec: dict[str, Any] = {"clause": "WHERE", "expressionType": "SIMPLE", "subject": column, "operator": operator}
    if value is not None:
        spec["comparator"] = value
    return spec


@dataclass
class Chart:
    key: str
    title: str
    dataset: str
    viz_type: str
    x_axis: str
    metrics: list[str]
    description: str
    groupby: list[str] = field(default_factory=list)
    filters: list[dict[str, Any]] = field(default_factory=list)
    time_grain: str | None = None  # for a date x axis: P1W, P1M
    extra: dict[str, Any] = field(default_factory=dict)
    width: int = 6


CHARTS: list[Chart] = [
    Chart("absence_by_school_term", "Absence by school and term", "cohort_attendance", "echarts_timeseries_bar",
          x_axis="school_code", groupby=["academic_year", "term"], metrics=["absence_rate_pct"],
          filters=[where("cohort_type", "==", "whole_school"), where("term", "!=", "all")],
          description="Which school had the most absence in which term? Whole school, each term of each year."),
    Chart("persistent_by_year_group", "Persistent absence by year group", "cohort_attendance",
          "echarts_timeseries_bar", x_axis="cohort_value", groupby=["school_code"],
          metrics=["persistent_absence_rate_pct"],
          filters=[where("cohort_type", "==", "year_group"), where("term", "==", "all")],
          description="Which year groups have the most persistent absentees (missed 10% or more) over the year?"),
    Chart("cross_campus_trend", "Cross-campus monthly absence (ALL = the group)", "cross_campus_attendance",
          "echarts_timeseries_line", x_axis="month_start", time_grain="P1M", groupby=["school_code"],
          metrics=["absence_rate_pct"],
          description="How does each campus's monthly absence compare with the group's (the ALL line)?"),
    Chart("lateness_by_month", "Lateness by month", "punctuality", "echarts_timeseries_bar", x_axis="month_start",
          time_grain="P1M", groupby=["school_code"], metrics=["late_rate_pct"],
          filters=[where("cohort_type", "==", "whole_school")],
          description="How often are pupils late (L before, U after registers close), month by month?"),
    Chart("weekly_attendance", "Weekly attendance", "weekly_attendance", "echarts_timeseries_line",
          x_axis="week_start", time_grain="P1W", groupby=["school_code"], metrics=["attendance_rate_pct"],
          description="The week-by-week attendance rate of each school, summed over year groups "
                      "(partial weeks are marked is_partial_week in the mart)."),
    Chart("band_counts_by_week", "Pupils per attendance band by week", "attendance_band_counts",
          "echarts_timeseries_bar", x_axis="week_start", time_grain="P1W", groupby=["band_order", "band_label"],
          metrics=["pupils_sum"], extra={"stack": "Stack"},
          description="How many pupils are in each attendance band (year to date) at the end of each week?"),
    Chart("newly_over_threshold", "Pupils newly over the unauthorised-absence threshold",
          "unauthorised_absence_threshold", "echarts_timeseries_bar", x_axis="week_start", time_grain="P1W",
          groupby=["school_code"], metrics=["pupils_newly_over"], extra={"stack": "Stack"},
          filters=[where("is_newly_over_threshold", "IS TRUE")],
          description="Which week did pupils first reach the unauthorised-absence threshold (a possible "
                      "penalty notice)?"),
    Chart("school_vs_national", "School vs national (current year)", "benchmark_comparison",
          "echarts_timeseries_bar", x_axis="school_name",
          metrics=["school_absence_rate", "national_absence_rate", "school_persistent_absence_rate",
                   "national_persistent_absence_rate"],
          filters=[where("is_current_academic_year", "IS TRUE")],
          description="How does each school's absence (compulsory-age pupils) compare with the national figure "
                      "for its phase?"),
]


class Superset:
    """A logged-in REST client (JWT plus the session's CSRF token for writes)."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()
        token = self._call("POST", "/api/v1/security/login",
                           json={"username": user, "password": password, "provider": "db", "refresh": False})
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"
        csrf = self._call("GET", "/api/v1/security/csrf_token/")["result"]
        self.http.headers.update({"X-CSRFToken": csrf, "Referer": self.url})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, self.url + path, timeout=120, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json() if response.content else {}

    def get(self, path: str) -> dict[str, Any]:
        return self._call("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json=body)

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", path, json=body)


def warehouse_uri() -> str:
    env = os.environ
    user, password = quote(env["SCHOOLWH_BI_DB_USER"], safe=""), quote(env["SCHOOLWH_BI_DB_PASSWORD"], safe="")
    return (f"postgresql+psycopg2://{user}:{password}@{env['SCHOOLWH_BI_DB_HOST']}:{env['SCHOOLWH_BI_DB_PORT']}/"
            f"{env['SCHOOLWH_BI_DB_NAME']}")


def create_database(api: Superset) -> int:
    body = {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": warehouse_uri(),
        "expose_in_sqllab": True,
        "allow_dml": False,
        "allow_file_upload": False,
        "allow_ctas": False,
        "allow_cvas": False,
        # Superset lists only schema marts: the login cannot read anything else anyway (bi_reader)
        "extra": json.dumps({"schemas_allowed_for_file_upload": [], "allows_virtual_table_explore": True,
                             "metadata_params": {}, "engine_params": {}}),
    }
    return api.post("/api/v1/database/", body)["id"]


def create_dataset(api: Superset, database_id: int, table: str) -> int:
    dataset_id = api.post("/api/v1/dataset/", {"database": database_id, "schema": SCHEMA, "table_name": table})["id"]
    metrics = [{"metric_name": name, "expression": expression, "verbose_name": label, "description": text,
                "d3format": ",.1f"} for name, (expression, label, text) in METRICS.get(table, {}).items()]
    api.put(f"/api/v1/dataset/{dataset_id}?override_columns=false", {"metrics": metrics})
    return dataset_id


def _axis_column(chart: Chart) -> dict[str, Any] | str:
    if not chart.time_grain:
        return chart.x_axis
    return {"columnType": "BASE_AXIS", "expressionType": "SQL", "label": chart.x_axis, "sqlExpression": chart.x_axis,
            "timeGrain": chart.time_grain}


def chart_params(chart: Chart, dataset_id: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "datasource": f"{dataset_id}__table",
        "viz_type": chart.viz_type,
        "x_axis": chart.x_axis,
        "time_grain_sqla": chart.time_grain,
        "x_axis_sort_asc": True,
        "metrics": chart.metrics,
        "groupby": chart.groupby,
        "adhoc_filters": chart.filters,
        "row_limit": ROW_LIMIT,
        "order_desc": True,
        "truncate_metric": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "rich_tooltip": True,
        "y_axis_format": ",.1f",
        "x_axis_time_format": "smart_date",
        "orientation": "vertical",
        # series by name: terms within academic years, bands by band_order, each figure beside its national one
        "sort_series_type": "name",
        "sort_series_ascending": True,
        "truncateYAxis": chart.viz_type == "echarts_timeseries_line",
        "y_axis_bounds": [None, None],
        "markerEnabled": chart.viz_type == "echarts_timeseries_line",
        "zoomable": False,
        "extra_form_data": {},
        "dashboards": [],
        **chart.extra,
    }
    if not chart.time_grain:
        params["x_axis_sort"] = chart.x_axis
    return params


def query_context(chart: Chart, dataset_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """The saved query behind ``GET /api/v1/chart/<id>/data/`` (reports and API readers use it)."""
    filters = []
    for spec in chart.filters:
        item = {"col": spec["subject"], "op": spec["operator"]}
        if "comparator" in spec:
            item["val"] = spec["comparator"]
        filters.append(item)
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [{
            "filters": filters,
            "extras": {"having": "", "where": ""},
            "applied_time_extras": {},
            "columns": [_axis_column(chart), *chart.groupby],
            "metrics": chart.metrics,
            "orderby": [[chart.metrics[0], False]],
            "annotation_layers": [],
            "row_limit": ROW_LIMIT,
            "series_columns": chart.groupby,
            "series_limit": 0,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
        }],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }


def layout(charts: list[tuple[Chart, int]]) -> dict[str, Any]:
    """position_json: an intro row, then the charts two by two (12-column grid)."""
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    rows: list[list[str]] = [["MARKDOWN-intro"]]
    position["MARKDOWN-intro"] = {
        "type": "MARKDOWN", "id": "MARKDOWN-intro", "children": [],
        "meta": {"width": 12, "height": 14, "code": INTRO},
    }
    for index, (chart, chart_id) in enumerate(charts):
        component = f"CHART-{chart.key}"
        position[component] = {"type": "CHART", "id": component, "children": [],
                               "meta": {"width": chart.width, "height": 56, "chartId": chart_id,
                                        "sliceName": chart.title}}
        if index % 2 == 0:
            rows.append([])
        rows[-1].append(component)
    for number, children in enumerate(rows):
        row = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row)
        position[row] = {"type": "ROW", "id": row, "children": children, "parents": ["ROOT_ID", "GRID_ID"],
                         "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for child in children:
            position[child]["parents"] = ["ROOT_ID", "GRID_ID", row]
    return position


INTRO = (
    "**Attendance across the group**, from schema `marts` of the schoolwh warehouse (read as a member of "
    "`bi_reader`). Rates are ratios of sums (DfE methodology): absence = absence sessions / possible sessions; "
    "persistent absence = pupils missing 10% or more. The first five charts are the standard ones; the last "
    "three are what an attendance lead monitors each week. See docs/superset.md."
)


def provision(api: Superset) -> dict[str, Any]:
    database_id = create_database(api)
    datasets = {table: create_dataset(api, database_id, table) for table in dict.fromkeys(c.dataset for c in CHARTS)}
    dashboard = api.post("/api/v1/dashboard/", {"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG,
                                                "published": True})
    dashboard_id = dashboard["id"]
    made: list[tuple[Chart, int]] = []
    for chart in CHARTS:
        dataset_id = datasets[chart.dataset]
        params = chart_params(chart, dataset_id)
        body = {"slice_name": chart.title, "viz_type": chart.viz_type, "datasource_id": dataset_id,
                "datasource_type": "table", "description": chart.description, "params": json.dumps(params),
                "query_context": json.dumps(query_context(chart, dataset_id, params)),
                "dashboards": [dashboard_id]}
        made.append((chart, api.post("/api/v1/chart/", body)["id"]))
    metadata = {"color_scheme": "supersetColors", "refresh_frequency": 0, "cross_filters_enabled": True,
                "native_filter_configuration": [], "timed_refresh_immune_slices": [], "expanded_slices": {},
                "label_colors": {}, "shared_label_colors": [], "color_scheme_domain": []}
    api.put(f"/api/v1/dashboard/{dashboard_id}", {"position_json": json.dumps(layout(made)),
                                                  "json_metadata": json.dumps(metadata)})
    return {"dashboard_id": dashboard_id, "dashboard_slug": DASHBOARD_SLUG,
            "charts": {chart.key: chart_id for chart, chart_id in made}, "datasets": datasets}


def export(api: Superset, out: str) -> None:
    dashboard_id = api.get(f"/api/v1/dashboard/{DASHBOARD_SLUG}")["result"]["id"]
    response = api.http.get(f"{api.url}/api/v1/dashboard/export/", params={"q": f"!({dashboard_id})"}, timeout=120)
    response.raise_for_status()
    with open(out, "wb") as handle:
        handle.write(response.content)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"provision", "export"}:
        print(__doc__, file=sys.stderr)
        return 3
    api = Superset(os.environ["SUPERSET_URL"], os.environ["SUPERSET_ADMIN_USER"], os.environ["SUPERSET_ADMIN_PASSWORD"])
    if argv[0] == "export":
        export(api, argv[1])
        return 0
    print(json.dumps(provision(api)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
