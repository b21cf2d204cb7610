"""Spark against DuckDB, measured: the figures behind the cost model in ``benchmarks/README.md``.

``.venv-spark/bin/python -m benchmarks.spark_cost`` (after ``make spark-install``), for each size (default
2 x 300 and 4 x 600 pupils, one academic year of registers): ingest the synthetic group into a DuckDB warehouse,
then time on the same raw data

- DuckDB: ``dbt build`` in full, then again incrementally (the nightly's build, no unit tests);
- ``schoolwh lake`` (the raw layer to Parquet through dlt's filesystem destination);
- Spark (session mode, ``$SCHOOLWH_SPARK_MASTER``, default ``local[2]``): ``dbt build`` in full, then again
  incrementally (whole academic-year partitions).

From two sizes each engine's time is fitted as fixed + per-mark cost (``a + b x marks``, marks = rows of
``fct_attendance_session``); both are printed and written to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.bench import REPO, Size, _register_start, dbt_build, make_group, run_ingest

from ingestion.app import spark
from ingestion.app.demo import write_sandbox_config
from ingestion.app.lake import publish_lake
from ingestion.core.warehouse import Warehouse
from ingestion.sandbox.server import SandboxServer


def _timed(fn, *args, **kwargs) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


def measure(size: Size, first_year: int, today: date, workdir: Path) -> dict[str, Any]:
    import duckdb

    here = workdir / size.label
    warehouse = here / "schoolwh.duckdb"
    log = here / "run.log"
    here.mkdir(parents=True)
    group = make_group(size, first_year, today)
    with SandboxServer(group) as server:
        _, _, secrets = write_sandbox_config(group, server.url, here / "config")
        ingest = run_ingest(here / "config", warehouse, today, _register_start(first_year), secrets, log)
    duck_full = dbt_build(warehouse, today)
    duck_incremental = dbt_build(warehouse, today)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marks = con.execute("select count(*) from marts.fct_attendance_session").fetchall()[0][0]
    lake_s, tables = _timed(publish_lake, Warehouse.duckdb(warehouse), str(here / "lake"), here / "lake_pipelines")
    spark_dir = here / "spark"
    with open(log, "a") as out:
        full_s, full_rc = _timed(spark.run_dbt_on_spark, spark.build_args(full_refresh=True), str(here / "lake"),
                                 spark_dir, today, echo=lambda line: out.write(line + "\n"))
        incr_s, incr_rc = _timed(spark.run_dbt_on_spark, spark.build_args(), str(here / "lake"), spark_dir, today,
                                 echo=lambda line: out.write(line + "\n"))
    if full_rc or incr_rc or not (duck_full["ok"] and duck_incremental["ok"]):
        raise RuntimeError(f"{size.label}: a build failed (see {log})")
    return {
        "size": size.label, "marks": marks, "ingest_wall_s": ingest["wall_s"],
        "duckdb_full_s": duck_full["seconds"], "duckdb_incremental_s": duck_incremental["seconds"],
        "lake_s": lake_s, "lake_rows": sum(t.rows for t in tables),
        "spark_full_s": full_s, "spark_incremental_s": incr_s,
    }


def fit(points: list[dict[str, Any]], key: str) -> dict[str, float]:
    """``a + b x marks`` through the smallest and largest size."""
    lo, hi = min(points, key=lambda p: p["marks"]), max(points, key=lambda p: p["marks"])
    per_mark = (hi[key] - lo[key]) / (hi["marks"] - lo["marks"])
    return {"fixed_s": lo[key] - per_mark * lo["marks"], "us_per_mark": per_mark * 1e6}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.spark_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="2x300,4x600", help="SCHOOLSxPUPILS, comma separated (default 2x300,4x600)")
    p.add_argument("--first-year", type=int, default=2025)
    p.add_argument("--today", type=date.fromisoformat, default=date(2026, 7, 16))
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "spark_cost.json")
    p.add_argument("--workdir", type=Path, help="keep the work files here (default: a temp dir, removed)")
    args = p.parse_args(argv)
    spark.check_installed()
    sizes = [Size(*map(int, s.split("x"))) for s in args.sizes.split(",")]
    if args.workdir:
        points = [measure(size, args.first_year, args.today, args.workdir.resolve()) for size in sizes]
    else:
        with tempfile.TemporaryDirectory(prefix="schoolwh-spark-cost-") as tmp:
            points = [measure(size, args.first_year, args.today, Path(tmp)) for size in sizes]
    keys = ("duckdb_full_s", "duckdb_incremental_s", "spark_full_s", "spark_incremental_s", "lake_s")
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "spark_master": spark.spark_env("", Path("."))["SCHOOLWH_SPARK_MASTER"]},
        "points": points, "fits": {k: fit(points, k) for k in keys} if len(points) > 1 else {},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for point in points:
        print("  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items()))
    for key, line in result["fits"].items():
        print(f"{key:22s} fixed {line['fixed_s']:7.1f} s   {line['us_per_mark']:7.2f} µs a mark")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
