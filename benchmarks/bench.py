"""Benchmark of the schoolwh pipeline against the built-in iSAMS sandbox (issue 6).

``python -m benchmarks.bench`` generates a synthetic school group, serves it from ``SandboxServer`` and,
in one run, measures (see ``benchmarks/README.md`` for what each figure means and the targets):

- ingestion (``schoolwh ingest`` in a child process): wall time, session marks landed per second and the
  child's peak resident memory (``os.wait4`` rusage of that child);
- the baseline: the same register Batch JSON payloads, fetched again from the same sandbox (that fetch time
  is the sandbox's serving time), saved to files and read straight into a DuckDB table with ``read_json`` +
  ``unnest``; plus one per-enrolment aggregate over that table;
- ``dbt build`` of the whole warehouse, then "one more school day": ingestion + ``dbt build`` again with
  ``today`` advanced to the next school day, as a ratio of the full run; the next day's validation step
  (Great Expectations over that run's loads) timed on DuckDB and on PostgreSQL (a throwaway cluster holding a
  copy of the same raw tables), which must stay linear in the rows it touches;
- query times on the attendance marts (read-only connection);
- growth: ingestion + baseline at smaller sizes, to show how time and peak memory scale.

Every figure is printed as a table and written to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ingestion  # noqa: E402, F401  (importing the package switches telemetry off before any tool loads)

# dbt keys pupils with a keyed hash and refuses to run without this deployment secret; the benchmark's
# warehouse holds synthetic data only, so a fixed throwaway value is used unless one is set.
os.environ.setdefault("SCHOOLWH_PUPIL_KEY_SECRET", "bench-only-not-a-secret-" + "0" * 40)

import duckdb  # noqa: E402
import httpx  # noqa: E402

from ingestion.app.demo import write_sandbox_config  # noqa: E402
from ingestion.isams.client import BATCH_PATH, filters_xml  # noqa: E402
from ingestion.isams.datasets import BATCH_DATASETS  # noqa: E402
from ingestion.sandbox.server import SandboxServer  # noqa: E402
from ingestion.sandbox.synthetic import generate_group  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SEED = 2024
WINDOW_DAYS = 14  # the ingestion's default register window (schoolwh --window-days)
LOOKBACK_DAYS = 14
REGISTERS = next(d for d in BATCH_DATASETS if d.windowed)
REGISTER_LIST_KEY = b'"RegistrationStatus":'
QUERY_RUNS = 7
MARTS = ("persistent_absence", "cohort_attendance")
TARGETS = {
    "ingest_cpu_vs_direct_read_cpu": 2.0,  # ingesting process CPU / DuckDB direct read CPU
    "incremental_vs_full": 0.10,  # one more school day / full run
    "mart_query_ms": 100.0,  # median, one school
}


@dataclass(frozen=True)
class Size:
    schools: int
    pupils: int

    @property
    def label(self) -> str:
        return f"{self.schools}x{self.pupils}"


# ----------------------------------------------------------------------------------------------- helpers


def _register_start(first_year: int) -> date:
    return date(first_year, 9, 1)


def register_windows(start: date, today: date) -> list[tuple[date, date]]:
    """The windows ``schoolwh ingest`` asks for on a first run (same function as the ingestion)."""
    from ingestion.isams.source import register_windows as windows

    return windows(start, today + timedelta(days=1), WINDOW_DAYS)


def make_group(size: Size, first_year: int, today: date) -> Any:
    """The synthetic group (its Batch-only school RVC is mapped by seeds/isams_code_map.csv at any size)."""
    return generate_group(SEED, size.schools, size.pupils, first_year, today)


def next_school_day(group: Any, today: date) -> date:
    """The first day after ``today`` that is a school day for the group's first school."""
    days = group.schools[0].school_days(today + timedelta(days=1), today + timedelta(days=120))
    if not days:
        raise RuntimeError(f"no school day within 120 days after {today}")
    return days[0]


def _peak_rss_self_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_ingest(config_dir: Path, warehouse: Path, today: date, register_start: date,
               env: dict[str, str], log: Path) -> dict[str, Any]:
    """``schoolwh ingest`` in a child process: wall time, exit code and the child's peak RSS (KiB)."""
    cmd = [
        sys.executable, "-c", "from ingestion.app.cli import main; main()", "ingest",
        "--schools", str(config_dir / "schools.toml"), "--warehouse", str(warehouse),
        "--today", today.isoformat(), "--register-start", register_start.isoformat(),
        "--window-days", str(WINDOW_DAYS), "--lookback-days", str(LOOKBACK_DAYS),
    ]
    child_env = {**os.environ, **env, "COLUMNS": "160"}
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=child_env, stdout=out, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the max over every child so far)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"schoolwh ingest exited {proc.returncode}; log {log}:\n{tail}")
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


def ingest_run_stats(warehouse: Path) -> dict[str, Any]:
    """Rows landed by the latest ingest run (ops.run_log) and the in-process time summed over schools."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        run = con.sql("select run_id from ops.run_log order by started_at desc limit 1").fetchall()[0][0]
        rows = con.execute(
            "select coalesce(sum(rows_landed) filter (where dataset = ?), 0), "
            "coalesce(sum(duration_seconds) filter (where dataset = '*'), 0) from ops.run_log where run_id = ?",
            [REGISTERS.name, run],
        ).fetchall()[0]
        total = con.sql(f"select count(*) from raw_isams.{REGISTERS.name}").fetchall()[0][0]
    return {"register_rows_landed": int(rows[0]), "schools_s": float(rows[1]), "register_rows_in_table": int(total)}


def fetch_payloads(group: Any, url: str, windows: list[tuple[date, date]], dest: Path) -> dict[str, Any]:
    """Fetch every register window of every school (the ingestion's requests) to files, timed.

    The time is the sandbox's serving time for those payloads (rendering + local HTTP); files are written
    outside the timed part. Also fetches the small Batch datasets the ingestion asks for (timed apart).
    Returns the list files (RegistrationStatus is a list) and object files (exactly one mark).
    """
    dest.mkdir(parents=True, exist_ok=True)
    lists, objects, empty, size, serve_s = [], [], 0, 0, 0.0
    small_s = 0.0
    headers = {"Content-Type": "application/xml", "Accept": "application/json"}
    with httpx.Client(base_url=url, timeout=600) as http:
        for school in group.schools:
            params = {"apiKey": school.api_key}
            for start, end in windows:
                body = filters_xml([REGISTERS], (start, end)).encode()
                t0 = time.perf_counter()
                response = http.post(BATCH_PATH, params=params, content=body, headers=headers)
                content = response.content
                serve_s += time.perf_counter() - t0
                response.raise_for_status()
                size += len(content)
                at = content.find(REGISTER_LIST_KEY)
                if at < 0:
                    empty += 1  # no marks in the window (holidays): RegistrationStatuses is null
                    continue
                first = content[at + len(REGISTER_LIST_KEY):].lstrip()[:1]
                path = dest / f"{school.code}_{start.isoformat()}.json"
                path.write_bytes(content)
                (lists if first == b"[" else objects).append(str(path))
            for ds in BATCH_DATASETS:
                if ds.windowed:
                    continue
                t0 = time.perf_counter()
                response = http.post(BATCH_PATH, params=params, content=filters_xml([ds]).encode(), headers=headers)
                _ = response.content
                small_s += time.perf_counter() - t0
                response.raise_for_status()
    return {
        "list_files": lists, "object_files": objects, "empty_windows": empty, "bytes": size,
        "register_serve_s": serve_s, "small_datasets_serve_s": small_s,
    }


def duckdb_direct_read(payloads: dict[str, Any], db: Path) -> dict[str, Any]:
    """Read the saved Batch JSON straight into a DuckDB table (read_json + unnest), then aggregate it."""
    db.unlink(missing_ok=True)
    path = "iSAMS.RegistrationManager.RegistrationStatuses.RegistrationStatus"
    # each file is one JSON object: the reader needs maximum_object_size >= the largest file, and it
    # allocates buffers of that size per thread, so no bigger than needed
    largest = max((os.path.getsize(f) for f in payloads["list_files"] + payloads["object_files"]), default=0)
    limit = max(16 * 2**20, 1 << (largest + 1).bit_length())
    opts = f"filename = true, maximum_object_size = {limit}"
    parts = []
    if payloads["list_files"]:
        parts.append(
            f"select split_part(parse_filename(filename), '_', 1) as school_code, unnest(r, recursive := true) "
            f"from (select filename, unnest({path}) as r from read_json($lists, {opts}))"
        )
    if payloads["object_files"]:  # Json.NET writes a lone mark as an object, not a one-item list
        parts.append(
            f"select split_part(parse_filename(filename), '_', 1) as school_code, unnest(r) "
            f"from (select filename, {path} as r from read_json($objects, {opts}))"
        )
    if not parts:
        return {"read_s": 0.0, "read_cpu_s": 0.0, "rows": 0, "query_s": 0.0, "enrolments": 0}
    params = {}
    if payloads["list_files"]:
        params["lists"] = payloads["list_files"]
    if payloads["object_files"]:
        params["objects"] = payloads["object_files"]
    with duckdb.connect(str(db)) as con:
        t0, c0 = time.perf_counter(), time.process_time()  # process CPU: DuckDB's threads included
        con.execute("create table marks as " + " union all by name ".join(parts), params)
        read_s, read_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        rows = con.sql("select count(*) from marks").fetchall()[0][0]
        t0 = time.perf_counter()
        per_enrolment = con.sql(
            """
            select school_code, PupilId as pupil_id,
                   count(*) filter (where cast(Registered as varchar) is not null) as possible_sessions,
                   count(*) filter (where cast(Registered as varchar) = '0' and Code is not null) as absence_sessions
            from marks group by all
            """
        ).fetchall()
        query_s = time.perf_counter() - t0
    return {"read_s": read_s, "read_cpu_s": read_cpu_s, "rows": int(rows), "query_s": query_s,
            "enrolments": len(per_enrolment)}


def dbt_build(warehouse: Path, today: date, previous: date | None = None, scope: str = "all") -> dict[str, Any]:
    """``dbt build`` as of ``today``; after a gap since ``previous`` (the summer holiday between the default
    today and the next school day), the incremental look-back is widened to cover the gap plus the usual 14
    days, as an operator resuming after a gap must (otherwise corrections landed for the days before the gap
    stay out of canonical, and the reconciliation test says so). ``scope``: var data_tests_scope, as the
    nightly would ask for it (``touched`` after a clean build: ``ingestion.app.pipeline.data_tests_scope``)."""
    from ingestion.app.dbt_runner import run_dbt
    from ingestion.app.pipeline import UNIT_TESTS
    from ingestion.core.warehouse import Warehouse

    variables: dict[str, Any] = {"as_of_date": today.isoformat(), "data_tests_scope": scope}
    if previous is not None:
        variables["attendance_lookback_days"] = (today - previous).days + 14
    t0 = time.perf_counter()
    # what the nightly builds: every model and data test, no dbt unit test (those are CI's: `make test`)
    result = run_dbt(["build", "--exclude", UNIT_TESTS, "--vars", json.dumps(variables)], Warehouse.duckdb(warehouse))
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds, "ok": result.ok, "statuses": dict(result.statuses),
        "failures": result.failures[:10],
    }


def docs_generate(warehouse: Path, today: date) -> dict[str, Any]:
    """``dbt docs generate --static``, the nightly's last step."""
    from ingestion.app.dbt_runner import run_dbt
    from ingestion.core.warehouse import Warehouse

    t0 = time.perf_counter()
    result = run_dbt(["docs", "generate", "--static", "--vars", json.dumps({"as_of_date": today.isoformat()})],
                     Warehouse.duckdb(warehouse))
    return {"seconds": time.perf_counter() - t0, "ok": result.ok}


def _last_run_load_ids(warehouse: Path) -> set[str]:
    """The dlt loads of the latest ingest run (those ``nightly`` validates)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        started = con.sql("select max(started_at) from ops.run_log").fetchall()[0][0]
        rows = con.execute("select load_id from raw_isams._dlt_loads where status = 0 and inserted_at >= ?",
                           [started.astimezone()]).fetchall()
    return {r[0] for r in rows}


def _copy_raw_to_postgres(warehouse: Path, cluster: Any, workdir: Path) -> int:
    """Every ``raw_isams`` table of the DuckDB warehouse into the cluster (text columns, CSV COPY); returns rows."""
    admin = cluster.admin_connect()
    admin.autocommit = True
    total = 0
    with duckdb.connect(str(warehouse), read_only=True) as con, admin.cursor() as cur:
        cur.execute(f'create schema if not exists raw_isams authorization "{cluster.user}"')
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'raw_isams'").fetchall()]
        for table in tables:
            columns = [c for (c,) in con.execute("select column_name from information_schema.columns where "
                                                 "table_schema = 'raw_isams' and table_name = ? "
                                                 "order by ordinal_position", [table]).fetchall()]
            listed = ", ".join(f'"{c}"' for c in columns)
            typed = ", ".join(f'"{c}" {"bigint" if c == "status" and table == "_dlt_loads" else "text"}'
                              for c in columns)
            cur.execute(f'create table raw_isams."{table}" ({typed})')
            cur.execute(f'alter table raw_isams."{table}" owner to "{cluster.user}"')
            csv = workdir / f"{table}.csv"
            con.execute(f"copy (select {listed} from raw_isams.\"{table}\") to '{csv}' (header, format csv)")
            with open(csv) as handle:
                cur.copy_expert(f'copy raw_isams."{table}" ({listed}) from stdin with (format csv, header)', handle)
            csv.unlink()
            total += con.execute(f'select count(*) from raw_isams."{table}"').fetchall()[0][0]
    admin.close()
    return total


def validation_times(warehouse: Path, workdir: Path, today: date, postgres: bool = True) -> dict[str, Any]:
    """The nightly's validation step (Great Expectations over the latest run's loads) on DuckDB, and on
    PostgreSQL over a copy of the same raw tables (a throwaway cluster); skipped without PostgreSQL."""
    from ingestion.sandbox.pgcluster import PgClusterError, start_cluster
    from ingestion.validation import validate_landed
    from ingestion.core.warehouse import Warehouse

    load_ids = _last_run_load_ids(warehouse)
    scratch = workdir / "validation"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    copy = scratch / "copy.duckdb"
    shutil.copy(warehouse, copy)  # validation writes ops.quarantine: keep the measured warehouse as it was
    t0 = time.perf_counter()
    report = validate_landed(Warehouse.duckdb(copy), "bench", load_ids=load_ids, docs_dir=scratch / "gx_duckdb",
                            today=today)
    out: dict[str, Any] = {"loads": len(load_ids), "rows_checked": report.rows_checked,
                           "duckdb_s": time.perf_counter() - t0}
    if not postgres:
        shutil.rmtree(scratch, ignore_errors=True)
        return out
    try:
        cluster = start_cluster()
    except PgClusterError as exc:
        out["postgres"] = f"skipped: {exc}"
        return out
    with cluster:
        t0 = time.perf_counter()
        out["postgres_rows_copied"] = _copy_raw_to_postgres(copy, cluster, scratch)
        out["postgres_copy_s"] = time.perf_counter() - t0
        pg = Warehouse.resolve("postgres", copy, env=cluster.env())
        t0 = time.perf_counter()
        report = validate_landed(pg, "bench", load_ids=load_ids, docs_dir=scratch / "gx_pg", today=today)
        out["postgres_s"] = time.perf_counter() - t0
        out["postgres_rows_checked"] = report.rows_checked
    shutil.rmtree(scratch, ignore_errors=True)
    return out


def postgres_build_time(group: Any, workdir: Path, today: date, register_start: date, log: Path) -> dict[str, Any]:
    """The nightly's ingestion and ``dbt build`` on PostgreSQL (a throwaway cluster): the same group served
    again and ingested with ``--target postgres``, then built (no dbt unit tests, as the nightly)."""
    from ingestion.app.dbt_runner import run_dbt
    from ingestion.app.pipeline import UNIT_TESTS
    from ingestion.core.warehouse import Warehouse
    from ingestion.sandbox.pgcluster import PgClusterError, start_cluster

    scratch = workdir / "postgres_build"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        cluster = start_cluster()
    except PgClusterError as exc:
        return {"status": f"skipped: {exc}"}
    with cluster:
        local = scratch / "schoolwh.duckdb"  # PostgreSQL's local state (dlt pipelines, dbt target) sits beside it
        with SandboxServer(group) as server:
            _, _, secrets = write_sandbox_config(group, server.url, scratch / "config")
            ingest = run_ingest(scratch / "config", local, today, register_start,
                                {**secrets, **cluster.env(), "SCHOOLWH_TARGET": "postgres"}, log)
        pg = Warehouse.resolve("postgres", local, env=cluster.env())
        t0 = time.perf_counter()
        result = run_dbt(["build", "--exclude", UNIT_TESTS, "--vars", json.dumps({"as_of_date": today.isoformat()})], pg)
        seconds = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    return {"status": "ok" if result.ok else "failed", "seconds": seconds, "ingest": ingest,
            "failures": result.failures[:10]}


def mart_query_times(warehouse: Path, school: str) -> dict[str, Any]:
    """Median of several runs of ``select * from marts.<mart> where school_code = ?``, read-only."""
    out: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = dict(con.sql(
            "select table_name, table_schema from information_schema.tables "
            f"where table_name in {MARTS!r} and table_schema like '%marts'"
        ).fetchall())
        for mart in MARTS:
            if mart not in found:
                out[mart] = {"status": "not built"}
                continue
            sql = f'select * from "{found[mart]}"."{mart}" where school_code = ?'
            times, rows = [], 0
            for _ in range(QUERY_RUNS):
                t0 = time.perf_counter()
                rows = len(con.execute(sql, [school]).fetchall())
                times.append((time.perf_counter() - t0) * 1000)
            out[mart] = {"status": "ok", "median_ms": statistics.median(times), "max_ms": max(times), "rows": rows}
    return out


# ----------------------------------------------------------------------------------------------- the run


class Bench:
    def __init__(self, first_year: int, today: date, workdir: Path, log: Path) -> None:
        self.first_year, self.today, self.workdir, self.log = first_year, today, workdir, log

    def say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    def ingest_and_baseline(self, size: Size, *, keep: bool = False) -> dict[str, Any]:
        """Generate, serve, ingest (child process), then fetch + read the same payloads with DuckDB."""
        root = self.workdir / size.label
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        t0 = time.perf_counter()
        group = make_group(size, self.first_year, self.today)
        generate_s = time.perf_counter() - t0
        start = _register_start(self.first_year)
        windows = register_windows(start, self.today)
        warehouse = root / "warehouse" / "schoolwh.duckdb"
        warehouse.parent.mkdir(parents=True)
        with SandboxServer(group) as server:
            _, _, secrets = write_sandbox_config(group, server.url, root / "config")
            self.say(f"{size.label}: ingesting {size.schools} school(s) x {size.pupils} pupils, "
                     f"{start}..{self.today} ({len(windows)} windows/school)")
            ingest = run_ingest(root / "config", warehouse, self.today, start, secrets, self.log)
            ingest.update(ingest_run_stats(warehouse))
            self.say(f"{size.label}: fetching the same payloads from the sandbox")
            payloads = fetch_payloads(group, server.url, windows, root / "payloads")
        self.say(f"{size.label}: DuckDB direct read of {len(payloads['list_files']) + len(payloads['object_files'])} files")
        direct = duckdb_direct_read(payloads, root / "direct.duckdb")
        if not keep:
            shutil.rmtree(root / "payloads", ignore_errors=True)
            (root / "direct.duckdb").unlink(missing_ok=True)
        marks = ingest["register_rows_landed"]
        serve_s = payloads["register_serve_s"] + payloads["small_datasets_serve_s"]
        net_s = max(ingest["wall_s"] - serve_s, 1e-9)
        result = {
            "size": {"schools": size.schools, "pupils_per_school": size.pupils, "label": size.label,
                     "register_start": start.isoformat(), "today": self.today.isoformat(),
                     "windows_per_school": len(windows), "generate_s": generate_s},
            "marks": marks,
            "ingest": {
                **ingest,
                "marks_per_s": marks / ingest["wall_s"],
                "net_of_serving_s": net_s,
                "marks_per_s_net_of_serving": marks / net_s,
            },
            "sandbox_serving": {
                "register_payloads_s": payloads["register_serve_s"],
                "small_datasets_s": payloads["small_datasets_serve_s"],
                "total_s": serve_s,
                "payload_mib": payloads["bytes"] / 2**20,
                "files": len(payloads["list_files"]) + len(payloads["object_files"]),
                "empty_windows": payloads["empty_windows"],
            },
            "duckdb_direct": {
                "read_s": direct["read_s"], "read_cpu_s": direct["read_cpu_s"], "rows": direct["rows"],
                "marks_per_s": direct["rows"] / max(direct["read_s"], 1e-9),
                "per_enrolment_query_s": direct["query_s"], "enrolments": direct["enrolments"],
            },
            "ratios": {
                "ingest_cpu_vs_direct_read_cpu": ingest["cpu_s"] / max(direct["read_cpu_s"], 1e-9),
                "ingest_vs_direct_read": ingest["wall_s"] / max(direct["read_s"], 1e-9),
                "ingest_net_of_serving_vs_direct_read": net_s / max(direct["read_s"], 1e-9),
            },
            "_warehouse": str(warehouse), "_group": group, "_root": str(root),
        }
        if direct["rows"] != marks:
            result["warning"] = f"direct read has {direct['rows']} marks, ingestion landed {marks}"
        return result

    def full_and_incremental(self, main: dict[str, Any], skip_dbt: bool) -> dict[str, Any]:
        """dbt build on the full warehouse, then one more school day: ingest + build again."""
        warehouse, root = Path(main["_warehouse"]), Path(main["_root"])
        school = main["_group"].schools[0].code
        out: dict[str, Any] = {}
        self.say("validation of the full load (DuckDB)")
        out["validation_full"] = validation_times(warehouse, root, self.today, postgres=False)
        if not skip_dbt:
            self.say("dbt build (full warehouse)")
            out["dbt_build_full"] = dbt_build(warehouse, self.today)
            self.say("dbt docs generate")
            out["docs_full"] = docs_generate(warehouse, self.today)
            out["end_to_end_full_s"] = (main["ingest"]["wall_s"] + out["validation_full"]["duckdb_s"]
                                        + out["dbt_build_full"]["seconds"] + out["docs_full"]["seconds"])
            self.say("mart queries")
            out["queries"] = {"school_code": school, **mart_query_times(warehouse, school)}
        day = next_school_day(main["_group"], self.today)
        size = main["size"]
        group = make_group(Size(size["schools"], size["pupils_per_school"]), self.first_year, day)
        with SandboxServer(group) as server:
            _, _, secrets = write_sandbox_config(group, server.url, root / "config")
            self.say(f"one more school day: ingest with today = {day}")
            ingest = run_ingest(root / "config", warehouse, day, _register_start(self.first_year), secrets, self.log)
        ingest.update(ingest_run_stats(warehouse))
        inc: dict[str, Any] = {"today": day.isoformat(), "ingest": ingest}
        self.say("validation of the next day's loads (DuckDB, then PostgreSQL over a copy)")
        inc["validation"] = validation_times(warehouse, root, day)
        full_ingest = main["ingest"]["wall_s"]
        inc["ingest_vs_full_ingest"] = ingest["wall_s"] / full_ingest
        if not skip_dbt:
            self.say("dbt build (one more school day)")
            # the nightly's scope after the full build: its tests on the rows this build rebuilt, if that was clean
            scope = "touched" if out["dbt_build_full"]["ok"] else "all"
            inc["dbt_build"] = {**dbt_build(warehouse, day, previous=self.today, scope=scope), "data_tests_scope": scope}
            full = full_ingest + out["validation_full"]["duckdb_s"] + out["dbt_build_full"]["seconds"]
            inc["total_s"] = ingest["wall_s"] + inc["validation"]["duckdb_s"] + inc["dbt_build"]["seconds"]
            inc["full_total_s"] = full
            inc["incremental_vs_full"] = inc["total_s"] / full
            inc["dbt_vs_full_dbt"] = inc["dbt_build"]["seconds"] / out["dbt_build_full"]["seconds"]
        out["one_more_school_day"] = inc
        return out


def parse_sizes(text: str, main: Size) -> list[Size]:
    """``auto`` (schools/10, /4, /2 at the main pupils), ``none``, or e.g. ``2x1200,5x1200``."""
    text = text.strip().lower()
    if text in ("", "none", "off"):
        return []
    if text == "auto":
        sizes = [Size(max(1, main.schools // k), main.pupils) for k in (10, 4, 2)]
    else:
        sizes = []
        for part in text.split(","):
            schools, _, pupils = part.strip().partition("x")
            sizes.append(Size(int(schools), int(pupils or main.pupils)))
    seen, out = {main}, []
    for s in sizes:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if not k.startswith("_")}


def memory_bound(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Compare peak RSS between the smallest and largest runs against how much the payload grew."""
    if len(points) < 2:
        return {"statement": "only one size measured; run with --sizes to compare"}
    lo, hi = min(points, key=lambda p: p["marks"]), max(points, key=lambda p: p["marks"])
    marks_x = hi["marks"] / max(lo["marks"], 1)
    rss_x = hi["ingest"]["peak_rss_mib"] / lo["ingest"]["peak_rss_mib"]
    same_window = lo["size"]["pupils_per_school"] == hi["size"]["pupils_per_school"]
    return {
        "smallest": lo["size"]["label"], "largest": hi["size"]["label"],
        "marks_growth_x": marks_x, "peak_rss_growth_x": rss_x,
        "statement": (
            f"payload x{marks_x:.1f} ({lo['marks']:,} -> {hi['marks']:,} marks), peak RSS x{rss_x:.2f} "
            f"({lo['ingest']['peak_rss_mib']:.0f} -> {hi['ingest']['peak_rss_mib']:.0f} MiB)"
            + ("; same pupils per school: peak RSS tracks one school's load (schools load one after the "
               "other, registers window by window), not the payload" if same_window
               else "; pupils per school differ, and peak RSS grows with the size of one school")
        ),
    }


# ----------------------------------------------------------------------------------------------- output


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def report(results: dict[str, Any]) -> str:
    m = results["main"]
    rows: list[tuple[str, str, str]] = []

    def row(name: str, value: Any, unit: str = "", target: str = "") -> None:
        rows.append((name, _fmt(value, unit), target))

    row("size", f"{m['size']['schools']} schools x {m['size']['pupils_per_school']} pupils, "
                f"{m['size']['register_start']}..{m['size']['today']}")
    row("session marks landed", m["marks"])
    row("ingestion wall time", m["ingest"]["wall_s"], "s")
    row("  of which in-process (run log, sum over schools)", m["ingest"]["schools_s"], "s")
    row("ingestion throughput", m["ingest"]["marks_per_s"], "marks/s")
    row("ingesting process CPU time (user + sys)", m["ingest"]["cpu_s"], "s")
    row("peak RSS of the ingesting process", m["ingest"]["peak_rss_mib"], "MiB")
    row("sandbox serving time (same payloads)", m["sandbox_serving"]["total_s"], "s")
    row("  register payloads", m["sandbox_serving"]["register_payloads_s"], "s")
    row("  payload size", m["sandbox_serving"]["payload_mib"], "MiB")
    row("ingestion net of serving", m["ingest"]["net_of_serving_s"], "s")
    row("ingestion throughput net of serving", m["ingest"]["marks_per_s_net_of_serving"], "marks/s")
    row("DuckDB direct read (read_json + unnest)", m["duckdb_direct"]["read_s"], "s")
    row("DuckDB direct read throughput", m["duckdb_direct"]["marks_per_s"], "marks/s")
    row("per-enrolment query over the direct table", m["duckdb_direct"]["per_enrolment_query_s"], "s")
    row("DuckDB direct read CPU time", m["duckdb_direct"]["read_cpu_s"], "s")
    row("ratio ingestion CPU / direct read CPU", m["ratios"]["ingest_cpu_vs_direct_read_cpu"], "x", "<= 2x")
    row("ratio ingestion / direct read (wall)", m["ratios"]["ingest_vs_direct_read"], "x")
    row("ratio ingestion net of serving / direct read (wall)", m["ratios"]["ingest_net_of_serving_vs_direct_read"], "x")
    vfull = results.get("validation_full")
    if vfull:
        row(f"validation of the full load, DuckDB ({vfull['rows_checked']:,} rows)", vfull["duckdb_s"], "s")
    full = results.get("dbt_build_full")
    if full:
        row("dbt build (full)", full["seconds"], "s", "" if full["ok"] else "FAILED")
    docs = results.get("docs_full")
    if docs:
        row("dbt docs generate", docs["seconds"], "s", "" if docs["ok"] else "FAILED")
    if results.get("end_to_end_full_s"):
        row("end to end (ingest + validate + build + docs)", results["end_to_end_full_s"], "s", "< 180 s")
    inc = results.get("one_more_school_day")
    if inc:
        row(f"one more school day ({inc['today']}): ingestion", inc["ingest"]["wall_s"], "s")
        row("  marks landed (look-back re-read)", inc["ingest"]["register_rows_landed"])
        v = inc.get("validation") or {}
        if v:
            row(f"  validation, DuckDB ({v['rows_checked']:,} rows of {v['loads']} loads)", v["duckdb_s"], "s")
            if "postgres_s" in v:
                row(f"  validation, PostgreSQL ({v['postgres_rows_checked']:,} rows)", v["postgres_s"], "s")
            else:
                row("  validation, PostgreSQL", v.get("postgres", "not run"))
        if "dbt_build" in inc:
            row(f"  dbt build (data tests scope: {inc['dbt_build'].get('data_tests_scope', 'all')})",
                inc["dbt_build"]["seconds"], "s", "" if inc["dbt_build"]["ok"] else "FAILED")
            row("  ratio incremental / full (ingest + validate + build)", inc["incremental_vs_full"], "x", "<= 0.10")
    for mart, q in (results.get("queries") or {}).items():
        if mart == "school_code":
            continue
        if q["status"] == "ok":
            row(f"query marts.{mart} (one school, median)", q["median_ms"], "ms", "< 100 ms")
        else:
            row(f"query marts.{mart}", q["status"], "", "< 100 ms")
    row("memory bound", results["memory_bound"]["statement"])
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows if r[0] != "memory bound" and r[0] != "size")
    lines = [f"{n:<{width}}  {v:>{vwidth}}  {t}".rstrip() for n, v, t in rows]
    growth = results.get("growth") or []
    for g in growth:
        pg = g.get("postgres_build")
        if pg:
            value = pg["seconds"] if pg.get("status") == "ok" else pg.get("status")
            for name, shown in (
                (f"PostgreSQL at {g['size']['label']}: ingestion wall / CPU",
                 f"{pg['ingest']['wall_s']:.1f} s / {pg['ingest']['cpu_s']:.1f} s" if "ingest" in pg else "-"),
                (f"PostgreSQL at {g['size']['label']}: dbt build ({g['marks']:,} marks)",
                 _fmt(value, "s" if pg.get("status") == "ok" else "")),
            ):
                lines.append(f"{name:<{width}}  {shown:>{vwidth}}")
    if growth:
        lines += ["", "growth (ingestion + baseline per size)",
                  f"{'size':>10} {'marks':>11} {'ingest s':>9} {'marks/s':>9} {'peak MiB':>9} "
                  f"{'serve s':>8} {'direct s':>9} {'ratio':>6} {'net ratio':>9}"]
        for g in growth:
            lines.append(
                f"{g['size']['label']:>10} {g['marks']:>11,} {g['ingest']['wall_s']:>9.1f} "
                f"{g['ingest']['marks_per_s']:>9,.0f} {g['ingest']['peak_rss_mib']:>9.0f} "
                f"{g['sandbox_serving']['total_s']:>8.1f} {g['duckdb_direct']['read_s']:>9.2f} "
                f"{g['ratios']['ingest_vs_direct_read']:>6.0f} {g['ratios']['ingest_net_of_serving_vs_direct_read']:>9.0f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--schools", type=int, default=20, help="schools in the group (default 20)")
    p.add_argument("--pupils", type=int, default=1200, help="pupils per school (default 1200)")
    p.add_argument("--first-year", type=int, default=2025, help="first academic year of registers (default 2025)")
    p.add_argument("--today", type=date.fromisoformat, default=date(2026, 7, 16),
                   help="last day with registers (default 2026-07-16, so one more school day is the 17th)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.json", help="JSON results file")
    p.add_argument("--skip-dbt", action="store_true", help="skip dbt build, the incremental build and mart queries")
    p.add_argument("--sizes", default="auto",
                   help="extra sizes for the growth table: auto (schools/10, /4, /2), none, or e.g. 2x1200,5x1200")
    p.add_argument("--workdir", type=Path, help="keep the work files here (default: a temp dir, removed)")
    p.add_argument("--no-postgres-build", dest="postgres_build", action="store_false",
                   help="skip dbt build on PostgreSQL at the smallest --sizes size (needs the PostgreSQL binaries)")
    args = p.parse_args(argv)

    main_size = Size(args.schools, args.pupils)
    sizes = parse_sizes(args.sizes, main_size)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="schoolwh-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "ingest.log"
    bench = Bench(args.first_year, args.today, workdir, log)
    started = time.perf_counter()
    try:
        growth = []
        for n, size in enumerate(sorted(sizes, key=lambda s: s.schools * s.pupils)):
            point = bench.ingest_and_baseline(size)
            if n == 0 and args.postgres_build and not args.skip_dbt:  # PostgreSQL's build at the smallest size
                bench.say(f"{size.label}: ingestion and dbt build on PostgreSQL (a throwaway cluster)")
                point["postgres_build"] = postgres_build_time(
                    point["_group"], Path(point["_root"]), args.today, _register_start(args.first_year), log)
            shutil.rmtree(point["_root"], ignore_errors=True)
            growth.append(_public(point))
        main_result = bench.ingest_and_baseline(main_size)
        extra = bench.full_and_incremental(main_result, args.skip_dbt)
        growth.append(_public(main_result))
        results: dict[str, Any] = {
            "benchmark": "schoolwh ingestion + warehouse (issue 6)",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__,
                        "platform": platform.platform()},
            "settings": {"seed": SEED, "window_days": WINDOW_DAYS, "lookback_days": LOOKBACK_DAYS,
                         "query_runs": QUERY_RUNS, "skip_dbt": args.skip_dbt},
            "targets": TARGETS,
            "main": _public(main_result),
            **extra,
            "growth": growth,
            "memory_bound": memory_bound(growth),
            "benchmark_peak_rss_mib": _peak_rss_self_kib() / 1024,
        }
        results["total_s"] = time.perf_counter() - started
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    print(report(results))
    print(f"\nwritten to {args.out} ({results['total_s']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
