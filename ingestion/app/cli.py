"""``schoolwh``: the command-line tool of the school data warehouse.

Start with ``schoolwh demo``: it serves a synthetic school group from the built-in iSAMS sandbox and runs
the nightly pipeline against it. For real schools, write a schools file (see ``schools.example.toml``), put
each school's API key in the environment variable the file names, and run ``schoolwh nightly``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import date
from pathlib import Path

# dlt warns at length about optional fields no school has sent yet; staging types them, so only errors show.
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")

from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402

from ingestion.core import config as cfg  # noqa: E402
from ingestion.app import pipeline, runlock, serving, simulate, views  # noqa: E402
from ingestion.ops import pupil_key, runlog  # noqa: E402
from ingestion.core.warehouse import PgSettings, Warehouse, WarehouseConfigError, WarehouseUnavailable  # noqa: E402

# wide enough for the health table when output goes to a log file (cron) rather than a terminal
console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error (unknown option, bad date) exits 3 like any configuration error;
    argparse's own 2 is the code of a failed dbt build."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(pipeline.EXIT_CONFIG, f"{self.prog}: error: {message}\n")


EXIT_CODES = """\
Exit codes:
  0          ok
  1          ingestion failed for a school or dataset (the others loaded); `status`: a school is not ok
  2          dbt build, a test or docs failed, or the serving file for analysts was not published
  3          configuration or usage error (schools file, a key in the wrong place, bad date, unknown option)
  4          the warehouse is in use (another schoolwh run, or another process holding the DuckDB file)
  130 / 143  stopped by Ctrl-C (SIGINT) / SIGTERM: its dbt process stopped, the run logged as aborted
A run killed with SIGKILL has no code of its own: the next run stops whatever it left running, logs it as
aborted in ops.run_log and carries on.
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _settings(args: argparse.Namespace) -> cfg.Settings:
    return cfg.Settings(
        schools=cfg.load_schools(cfg.schools_path(args.schools)),
        register_start=args.register_start,
        window_days=args.window_days,
        lookback_days=args.lookback_days,
    )


def _warehouse(args: argparse.Namespace) -> Warehouse:
    """The one warehouse of this command, built here and passed down: ``--target`` (or ``$SCHOOLWH_TARGET``),
    ``--warehouse`` (or ``$SCHOOLWH_WAREHOUSE``), for postgres the ``SCHOOLWH_PG_*`` variables, and
    ``--today`` as its as-of date (commands without ``--today`` see it at none)."""
    try:
        return Warehouse.resolve(getattr(args, "target", None), args.warehouse, as_of=getattr(args, "today", None))
    except WarehouseConfigError as exc:
        raise cfg.ConfigError(str(exc)) from exc


def cmd_ingest(args: argparse.Namespace) -> int:
    settings, wh = _settings(args), _warehouse(args)
    only = {c.lower() for c in args.school} if args.school else None
    codes = [s.code for s in settings.schools if not only or s.code.lower() in only]
    with pipeline.warehouse_lock(wh, command="ingest", schools=codes, console=console) as lock:
        lock.set_phase("ingestion")
        outcome = pipeline.ingest_all(settings, wh, console, only=only, run_id=lock.run_id)
    if outcome.runs:
        console.print(views.ingest_table(outcome))
    for line in outcome.errors:
        console.print(f"[red]✗ {escape(line)}[/]")
    return pipeline.EXIT_OK if outcome.ok else pipeline.EXIT_INGEST_FAILED


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.date_to < args.date_from:
        raise cfg.ConfigError(f"--to {args.date_to} is before --from {args.date_from}")
    settings, wh = _settings(args), _warehouse(args)
    codes = {s.code.lower() for s in settings.schools}
    if args.school.lower() not in codes:
        raise cfg.ConfigError(f"school {args.school} is not in the schools file (known: {', '.join(sorted(codes))})")
    school = next(s.code for s in settings.schools if s.code.lower() == args.school.lower())
    if next(s for s in settings.schools if s.code == school).source != "isams":
        raise cfg.ConfigError(f"school {school} is a SEEMiS school: its registers come from export files, not a "
                              "date window; ask the school to re-send the attendance export (a re-sent file "
                              "replaces its rows on the next run)")
    with pipeline.warehouse_lock(wh, command="backfill", schools=[school], console=console) as lock:
        lock.set_phase("ingestion")
        outcome = pipeline.ingest_all(
            settings, wh, console, only={args.school.lower()}, datasets=["registration_statuses"],
            backfill=(args.date_from, args.date_to), command="backfill", run_id=lock.run_id,
        )
    for line in outcome.errors:
        console.print(f"[red]✗ {escape(line)}[/]")
    return pipeline.EXIT_OK if outcome.ok else pipeline.EXIT_INGEST_FAILED


def cmd_status(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    if not warehouse.exists():
        raise cfg.ConfigError(f"no warehouse at {warehouse.describe()}: run schoolwh nightly (or make demo) first")
    healths = runlog.health(warehouse)
    console.print(views.status_table(warehouse, healths))
    if (line := views.serving_line(warehouse)) is not None:
        console.print(line)
    # non-zero unless every school is ok, so a scheduler can alert on stale or quarantined data too
    return pipeline.EXIT_OK if healths and all(h.state == "ok" for h in healths) else pipeline.EXIT_INGEST_FAILED


def cmd_build(args: argparse.Namespace) -> int:
    pupil_key.from_env()  # fail before doing anything when the deployment secret is missing
    warehouse = _warehouse(args)
    with pipeline.warehouse_lock(warehouse, command="build", console=console) as lock:
        lock.set_phase("build")
        result = pipeline.build(warehouse, console, select=args.select, exclude=args.exclude,
                               full_refresh=args.full_refresh, unit_tests=args.unit_tests)
    views.print_dbt_problems(console, result)
    return pipeline.EXIT_OK if result.ok else pipeline.EXIT_BUILD_FAILED


def cmd_unit_tests(args: argparse.Namespace) -> int:
    pupil_key.from_env()
    warehouse = _warehouse(args)
    with pipeline.warehouse_lock(warehouse, command="unit-tests", console=console) as lock:
        lock.set_phase("build")
        result = pipeline.unit_tests(warehouse, console)
    views.print_dbt_problems(console, result)
    passed = result.statuses.get("pass", 0)
    console.print(f"dbt unit tests: {passed} passed" + ("" if result.ok else ", [red]some failed[/]"))
    return pipeline.EXIT_OK if result.ok else pipeline.EXIT_BUILD_FAILED


def cmd_docs(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    with pipeline.warehouse_lock(warehouse, command="docs", console=console) as lock:
        lock.set_phase("docs")
        path = pipeline.docs(warehouse, console)
    if path:
        console.print(f"Docs: {path}")
    return pipeline.EXIT_OK if path else pipeline.EXIT_BUILD_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from ingestion.app.export import export_marts

    warehouse = _warehouse(args)
    try:
        paths = export_marts(warehouse, Path(args.out).resolve())
    except (FileNotFoundError, ValueError) as exc:
        raise cfg.ConfigError(str(exc)) from exc
    console.print(f"Exported {len(paths) - 1} marts to {paths[-1].parent} (Parquet + manifest.json)")
    return pipeline.EXIT_OK


def cmd_lake(args: argparse.Namespace) -> int:
    from ingestion.app.lake import publish_lake

    warehouse = _warehouse(args)
    if warehouse.kind != "duckdb" or not warehouse.exists():
        raise cfg.ConfigError(f"the lake is published from an existing DuckDB warehouse, not {warehouse.describe()}")
    with pipeline.warehouse_lock(warehouse, command="lake", console=console) as lock:
        lock.set_phase("lake")
        tables = publish_lake(warehouse, args.lake, warehouse.local_dir / "lake_pipelines")
    console.print(f"Lake: {len(tables)} tables, {sum(t.rows for t in tables):,} rows in {args.lake}")
    return pipeline.EXIT_OK


def cmd_spark_build(args: argparse.Namespace) -> int:
    from ingestion.app import spark

    try:
        spark.check_installed()
    except spark.SparkUnavailable as exc:
        raise cfg.ConfigError(str(exc)) from exc
    rc = spark.run_dbt_on_spark(
        spark.build_args(full_refresh=args.full_refresh, unit_tests=args.unit_tests),
        args.lake, Path(args.spark_dir).resolve(), args.today,
    )
    return pipeline.EXIT_OK if rc == 0 else pipeline.EXIT_BUILD_FAILED


def cmd_publish(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    try:
        serving.check_publishable(warehouse)  # before taking the lock: PostgreSQL, or no warehouse yet
    except serving.ServingError as exc:
        raise cfg.ConfigError(str(exc)) from exc
    with pipeline.warehouse_lock(warehouse, command="publish", console=console) as lock:
        lock.set_phase("publish")
        try:
            served = serving.publish(warehouse)
        except serving.ServingError as exc:
            raise cfg.ConfigError(str(exc)) from exc
    console.print(f"Published {len(served.tables)} marts tables to {served.path} "
                  f"(DuckDB storage {serving.STORAGE_VERSION}, for analysts' tools)")
    return pipeline.EXIT_OK


def cmd_nightly(args: argparse.Namespace) -> int:
    pupil_key.from_env()  # fail before ingesting when the deployment secret is missing
    return pipeline.run_nightly(_settings(args), _warehouse(args), console, full_refresh=args.full_refresh)


def _group(args: argparse.Namespace):
    from ingestion.app.demo import demo_group

    return demo_group(args.seed, args.school_count, args.pupils, args.today)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ingestion.app.demo import write_sandbox_config
    from ingestion.sandbox.server import SandboxServer

    group = _group(args)
    server = SandboxServer(group, host=args.host, port=args.port)
    url = server.start()
    config_dir = Path(args.config_dir).resolve()
    schools_file, env_file, _ = write_sandbox_config(group, url, config_dir, seemis=not args.isams_only)
    console.print(f"iSAMS sandbox serving {len(group.schools)} synthetic schools at [bold]{url}[/]")
    if not args.isams_only:
        from ingestion.app.demo import seemis_folder, write_seemis_night

        write_seemis_night(config_dir, args.today)
        console.print(f"SEEMiS school exports for {args.today.isoformat()} in {seemis_folder(config_dir)}")
    console.print(f"Schools file: {schools_file}\nAPI keys:     {env_file} (source it; keys are never printed)")
    console.print(f"Try: source {env_file} && schoolwh nightly --schools {schools_file}\nCtrl-C to stop.")
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return pipeline.EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo; with ``--target postgres`` and no ``SCHOOLWH_PG_HOST``, on a throwaway local cluster."""
    wh = _warehouse(args)
    if wh.kind == "postgres" and not os.environ.get("SCHOOLWH_PG_HOST"):
        from ingestion.sandbox.pgcluster import PgClusterError, start_cluster

        try:
            cluster = start_cluster()
        except PgClusterError as exc:
            raise cfg.ConfigError(str(exc)) from exc
        with cluster:
            os.environ.update(cluster.env())  # this process and its dbt runs only
            console.print(f"Throwaway PostgreSQL cluster on 127.0.0.1:{cluster.port} (removed when the demo ends)")
            return _demo(args, dataclasses.replace(wh, pg=PgSettings.from_env(cluster.env())))
    return _demo(args, wh)


def _demo(args: argparse.Namespace, wh: Warehouse) -> int:
    from ingestion.app.demo import write_sandbox_config, write_seemis_night
    from ingestion.sandbox.server import SandboxServer

    warehouse = wh.path
    console.rule("schoolwh demo")
    console.print(
        f"Generating a synthetic school group: {args.school_count} schools × ~{args.pupils} pupils, "
        f"seed {args.seed}, registers to {args.today.isoformat()}"
    )
    group = _group(args)
    with SandboxServer(group) as server:
        schools_file, _, secrets = write_sandbox_config(group, server.url, warehouse.parent / "sandbox",
                                                        seemis=not args.isams_only)
        if not args.isams_only:  # the Scottish school drops its CSV exports for the night
            write_seemis_night(warehouse.parent / "sandbox", args.today)
        os.environ.update(secrets)  # the demo's own keys, for this process only
        console.print(f"Sandbox listening on {server.url}; schools file {schools_file}")
        settings = cfg.Settings(schools=cfg.load_schools(schools_file))
        code = pipeline.run_nightly(settings, wh, console)
    if wh.kind == "duckdb" and serving.serving_path(wh).is_file():
        console.print(f"\nAnalysts' tools open the serving file (marts only, DuckDB 1.0 or later), read-only: "
                      f"{serving.serving_path(wh)}")
    return code


def _common(p: argparse.ArgumentParser, *, schools: bool = True, today: bool = True) -> None:
    p.add_argument("--warehouse", metavar="PATH",
                   help="DuckDB file (default $SCHOOLWH_WAREHOUSE or warehouse/schoolwh.duckdb); "
                        "with --target postgres, local state (dlt, dbt artifacts) goes beside it")
    p.add_argument("--target", choices=("duckdb", "postgres"), default=None,
                   help="warehouse backend (default $SCHOOLWH_TARGET or duckdb); postgres reads SCHOOLWH_PG_HOST, "
                        "SCHOOLWH_PG_PORT, SCHOOLWH_PG_USER, DBT_ENV_SECRET_SCHOOLWH_PG_PASSWORD, SCHOOLWH_PG_DATABASE")
    if schools:
        p.add_argument("--schools", metavar="FILE", help="schools TOML file (default $SCHOOLWH_SCHOOLS); see schools.example.toml")
        p.add_argument("--register-start", type=_date, metavar="DATE",
                       help="first register date to backfill on a first run (default: 1 Sep of the previous academic year)")
        p.add_argument("--window-days", type=int, default=14, help="days of registers per Batch request (default 14)")
        p.add_argument("--lookback-days", type=int, default=14,
                       help="days of registers re-read every run to pick up corrections (default 14)")
    if today:
        p.add_argument("--today", type=_date, default=date.today(), metavar="DATE",
                       help="the run's as-of date (default: today): ingestion windows, validation, dbt's "
                            "as_of_date and the incremental look-back, attribute history validity, staleness")


def _full_refresh(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild the incremental attendance models from all history (weekly, and after editing "
                        "code mappings or back-dated corrections)")


def _sandbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=2024, help="random seed of the synthetic group (default 2024)")
    p.add_argument("--school-count", type=int, default=3, help="number of schools (default 3)")
    p.add_argument("--pupils", type=int, default=300, help="pupils per school (default 300)")
    p.add_argument("--isams-only", action="store_true",
                   help="leave out the SEEMiS (Scottish) school whose CSV exports the sandbox also writes")


def parser() -> argparse.ArgumentParser:
    root = _Parser(
        prog="schoolwh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES,
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the nightly pipeline against the built-in sandbox (start here)")
    _common(p, schools=False)
    _sandbox_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sandbox", help="serve a synthetic iSAMS school group on 127.0.0.1 until Ctrl-C")
    _sandbox_args(p)
    p.add_argument("--today", type=_date, default=date.today(), metavar="DATE", help="last day with registers")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--config-dir", default="warehouse/sandbox", help="where to write schools.toml and sandbox.env")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("ingest", help="land iSAMS data for every configured school in raw_isams")
    _common(p)
    p.add_argument("--school", action="append", metavar="CODE", help="only this school (repeatable)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("backfill", help="re-ingest one school's registration statuses for a date window")
    _common(p)
    p.add_argument("--school", required=True, metavar="CODE", help="the school's code")
    p.add_argument("--from", dest="date_from", required=True, type=_date, metavar="DATE", help="first date (inclusive)")
    p.add_argument("--to", dest="date_to", required=True, type=_date, metavar="DATE", help="last date (inclusive)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("status", help="per-school health: last load, last success, register freshness, failures")
    _common(p, schools=False)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("build", help="dbt build: seeds, models, snapshots and tests")
    _common(p, schools=False)
    p.add_argument("--select", nargs="+", metavar="SELECTOR", help="dbt selectors (default: everything)")
    p.add_argument("--exclude", nargs="+", metavar="SELECTOR", help="dbt selectors to leave out")
    p.add_argument("--unit-tests", action="store_true",
                   help="also run the dbt unit tests with their models (left out of builds and nightlies: they test "
                        "the SQL, not the data; `make test` runs them; alone: schoolwh unit-tests)")
    _full_refresh(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("unit-tests", help="run the dbt unit tests (the SQL's own tests on hand-made fixtures; CI "
                                          "runs them, nightlies do not) on a built warehouse")
    _common(p, schools=False)
    p.set_defaults(func=cmd_unit_tests)

    p = sub.add_parser("docs", help="generate the dbt docs as one static HTML file")
    _common(p, schools=False)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("export", help="write every mart to Parquet (for file-based Power BI), DuckDB warehouse")
    p.add_argument("--warehouse", metavar="PATH", help="DuckDB file (default $SCHOOLWH_WAREHOUSE or warehouse/schoolwh.duckdb)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for <mart>.parquet and manifest.json")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("lake", help="write the raw layer of the DuckDB warehouse to the lake (Parquet, dlt's "
                                    "filesystem destination) that --target spark reads")
    p.add_argument("--warehouse", metavar="PATH", help="DuckDB file (default $SCHOOLWH_WAREHOUSE or warehouse/schoolwh.duckdb)")
    p.add_argument("--lake", required=True, metavar="URL", help="a folder, or an object-storage URL dlt can write")
    p.set_defaults(func=cmd_lake)

    p = sub.add_parser("spark-build", help="dbt build on Apache Spark (session mode) from the lake; needs "
                                           ".venv-spark (make spark-install)")
    p.add_argument("--lake", required=True, metavar="URL", help="the lake `schoolwh lake` wrote")
    p.add_argument("--spark-dir", required=True, metavar="DIR", help="Spark's tables and metastore (kept between runs)")
    p.add_argument("--today", type=_date, default=date.today(), metavar="DATE", help="the run's as-of date")
    p.add_argument("--unit-tests", action="store_true", help="also run the dbt unit tests")
    _full_refresh(p)
    p.set_defaults(func=cmd_spark_build)

    p = sub.add_parser("publish", help="write the serving file for analysts (marts only, readable by DuckDB 1.x) "
                                       "from the DuckDB warehouse; the nightly does it after a successful build")
    _common(p, schools=False, today=False)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("nightly", help="ingest every school, build, test and document the warehouse")
    _common(p)
    _full_refresh(p)
    p.set_defaults(func=cmd_nightly)

    p = sub.add_parser("simulate", help="nightly after nightly against a changing sandbox; marts vs a full refresh")
    simulate.add_arguments(p)
    p.set_defaults(func=lambda args: simulate.command(
        args, lambda line: console.print(line, markup=False, highlight=False)))
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        code = args.func(args)
    except (cfg.ConfigError, pupil_key.PupilKeySecretError) as exc:
        console.print(f"[bold red]Configuration error:[/] {escape(str(exc))}")
        code = pipeline.EXIT_CONFIG
    except runlock.WarehouseInUse as exc:
        console.print(f"[bold red]Warehouse in use:[/] {escape(str(exc))}")
        code = pipeline.EXIT_LOCKED
    except runlock.WarehouseLocked as exc:
        console.print(f"[bold red]Locked:[/] {escape(str(exc))}")
        code = pipeline.EXIT_LOCKED
    except runlock.RunAborted as exc:
        console.print(f"[bold red]Aborted:[/] {escape(str(exc))}. Its dbt process (if any) was stopped and data "
                      "already loaded is kept; a run that ingests is recorded as aborted in ops.run_log. "
                      "Run again when ready.")
        code = exc.exit_code
    except Exception as exc:
        if not runlock.is_conflicting_lock(exc):
            raise
        # DuckDB's single writer: e.g. status or export while a BI tool writes to the file
        where = Warehouse.resolve("duckdb", getattr(args, "warehouse", None))
        console.print(f"[bold red]Warehouse in use:[/] {escape(runlock.in_use_message(where, exc))}")
        code = pipeline.EXIT_LOCKED
    except KeyboardInterrupt:  # Ctrl-C before a run took the warehouse: nothing to stop or record
        console.print("[bold red]Aborted[/] (Ctrl-C)")
        code = pipeline.EXIT_ABORTED_SIGINT
    except WarehouseUnavailable as exc:
        console.print(f"[bold red]Warehouse unavailable:[/] {escape(str(exc))}")
        code = pipeline.EXIT_CONFIG
    sys.exit(code)


if __name__ == "__main__":
    main()
