"""The dbt project built on Apache Spark (dbt-spark, session mode: Spark inside the dbt process, ``local[N]``).

Spark reads the raw layer from the lake (``ingestion/app/lake.py`` publishes it) and keeps its tables and an
embedded Derby metastore under one folder, ``spark_dir`` (``tables/``, ``metastore_db/``), so the next run
finds them: incremental runs overwrite whole academic-year partitions (docs/spark.md). One run at a time per
``spark_dir`` (Derby's lock). dbt-spark and pyspark are not in the project's main environment: ``make
spark-install`` makes ``.venv-spark`` (and installs Java 17 when it is missing); run this from there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from ingestion.app.dbt_runner import DBT_ENV, PROJECT_DIR, _dbt_executable
from ingestion.app.lake import lake_folders
from ingestion.app.pipeline import UNIT_TESTS


class SparkUnavailable(RuntimeError):
    """dbt-spark, pyspark or Java is missing from this environment."""


def check_installed() -> None:
    missing = [name for name, module in (("dbt-spark", "dbt.adapters.spark"), ("pyspark", "pyspark"))
               if importlib.util.find_spec(module) is None]
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17")
    if missing:
        raise SparkUnavailable(f"{', '.join(missing)} not installed here: run `make spark-install` and use "
                               ".venv-spark/bin/schoolwh (docs/spark.md)")


# Spark's master and driver memory unless the environment sets them (profiles.yml has no defaults of its own)
SPARK_DEFAULTS = {"SCHOOLWH_SPARK_MASTER": "local[2]", "SCHOOLWH_SPARK_DRIVER_MEMORY": "2g"}


def spark_env(lake: str, spark_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """What profiles.yml's `spark` output and the lake macro read."""
    env = dict(os.environ if env is None else env)
    return {
        "SCHOOLWH_TARGET": "spark", "SCHOOLWH_LAKE": lake, "SCHOOLWH_SPARK_WAREHOUSE_DIR": str(spark_dir),
        **{name: env.get(name) or default for name, default in SPARK_DEFAULTS.items()},
    }


def run_dbt_on_spark(
    args: Sequence[str], lake: str, spark_dir: Path, as_of: date, *, echo: Callable[[str], None] | None = None,
) -> int:
    """``dbt <args>`` on Spark, as of ``as_of``; returns dbt's exit code. Artifacts go to ``spark_dir/dbt``."""
    check_installed()
    spark_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **DBT_ENV, **spark_env(lake, spark_dir), "DBT_PROFILES_DIR": str(PROJECT_DIR),
           "SCHOOLWH_LAKE_TABLES": ",".join(lake_folders(lake))}  # the sources Spark can declare
    cmd = [
        *_dbt_executable(), *args, "--vars", json.dumps({"as_of_date": as_of.isoformat()}),
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(spark_dir / "dbt" / "target"), "--log-path", str(spark_dir / "dbt" / "logs"),
    ]
    # Derby writes derby.log into the working directory: keep it beside the metastore
    with subprocess.Popen(cmd, cwd=spark_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if echo is None:
                sys.stdout.write(line)
            else:
                echo(line.rstrip("\n"))
        return proc.wait()


def build_args(*, full_refresh: bool = False, unit_tests: bool = False) -> list[str]:
    """``dbt build`` as the nightly runs it: without the unit tests unless asked (they test the SQL)."""
    return ["build", *(["--full-refresh"] if full_refresh else []),
            *([] if unit_tests else ["--exclude", UNIT_TESTS])]
