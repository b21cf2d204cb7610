"""Smoke test of the benchmark (``python -m benchmarks.bench``) at a tiny size: it completes and reports
every figure. No timing is asserted: timings on a shared test machine mean nothing."""

from __future__ import annotations

import json
import os

from benchmarks import bench


def test_benchmark_runs_at_a_tiny_size_and_reports_every_figure(tmp_path, capsys):
    out = tmp_path / "results.json"
    code = bench.main([
        "--schools", "2", "--pupils", "20", "--first-year", "2025", "--today", "2025-09-19",
        "--sizes", "1x20", "--out", str(out), "--workdir", str(tmp_path / "work"),
    ])
    assert code == 0
    results = json.loads(out.read_text())
    printed = capsys.readouterr().out

    main = results["main"]
    assert main["size"]["schools"] == 2 and main["size"]["pupils_per_school"] == 20
    assert main["marks"] > 0
    # the direct read saw exactly the marks the ingestion landed (same payloads)
    assert main["duckdb_direct"]["rows"] == main["marks"]
    assert main["duckdb_direct"]["enrolments"] > 0
    for key in ("wall_s", "marks_per_s", "peak_rss_mib", "net_of_serving_s", "marks_per_s_net_of_serving"):
        assert main["ingest"][key] > 0, key
    for key in ("register_payloads_s", "small_datasets_s", "total_s", "payload_mib"):
        assert main["sandbox_serving"][key] > 0, key
    for key in ("read_s", "read_cpu_s", "marks_per_s", "per_enrolment_query_s"):
        assert main["duckdb_direct"][key] > 0, key
    for key in ("ingest_cpu_vs_direct_read_cpu", "ingest_vs_direct_read", "ingest_net_of_serving_vs_direct_read"):
        assert main["ratios"][key] > 0, key

    # both builds pass, with every test (the reconciliation tests included), and are timed
    assert results["dbt_build_full"]["ok"], results["dbt_build_full"]["failures"]
    assert results["dbt_build_full"]["seconds"] > 0
    # the end-to-end figure: ingest + validation of the full load + build + docs, each timed
    assert results["validation_full"]["rows_checked"] >= main["marks"] and results["validation_full"]["duckdb_s"] > 0
    assert results["docs_full"]["ok"] and results["docs_full"]["seconds"] > 0
    assert results["end_to_end_full_s"] > results["dbt_build_full"]["seconds"]
    inc = results["one_more_school_day"]
    assert inc["today"] == "2025-09-22"  # Friday 19th -> Monday 22nd
    assert inc["ingest"]["wall_s"] > 0 and inc["ingest"]["register_rows_landed"] > 0
    assert inc["dbt_build"]["ok"], inc["dbt_build"]["failures"]
    # the next day's validation, on DuckDB and on PostgreSQL over a copy of the same raw tables
    validation = inc["validation"]
    assert validation["loads"] > 0 and validation["rows_checked"] > 0 and validation["duckdb_s"] > 0
    if os.environ.get("SCHOOLWH_SKIP_POSTGRES") != "1":
        assert validation["postgres_rows_checked"] == validation["rows_checked"], validation
        assert validation["postgres_s"] > 0
    assert inc["dbt_build"]["seconds"] > 0 and inc["incremental_vs_full"] > 0

    queries = results["queries"]
    for mart in bench.MARTS:
        assert queries[mart]["status"] in ("ok", "not built")
        if queries[mart]["status"] == "ok":
            assert queries[mart]["median_ms"] > 0

    assert [g["size"]["label"] for g in results["growth"]] == ["1x20", "2x20"]
    # PostgreSQL's ingestion and build at the smallest size (the nightly's, without unit tests)
    pg = results["growth"][0]["postgres_build"]
    if os.environ.get("SCHOOLWH_SKIP_POSTGRES") != "1":
        assert pg["status"] == "ok", pg
        assert pg["seconds"] > 0 and pg["ingest"]["cpu_s"] > 0
    assert "peak RSS" in results["memory_bound"]["statement"]
    assert results["targets"] == bench.TARGETS
    for label in ("session marks landed", "peak RSS", "DuckDB direct read", "ratio ingestion CPU / direct read CPU",
                  "end to end (ingest + validate + build + docs)", "dbt docs generate",
                  "dbt build (full)", "ratio incremental / full", "memory bound", "growth",
                  "validation, DuckDB", "validation, PostgreSQL"):
        assert label in printed, label
