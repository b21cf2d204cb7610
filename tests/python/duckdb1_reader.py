"""A DuckDB 1.x reader, as analysts' drivers are, in a virtual environment of its own.

The project runs DuckDB 2.0; the serving file must open in the latest DuckDB 1.x (the ODBC driver of Power BI
and Metabase's driver are 1.x). The first test that needs it creates ``.venv/.duckdb1-reader-<version>``
(``python -m venv`` + ``pip install duckdb==READER_VERSION`` from the package registry, about 30 s) and later
runs reuse it; a file lock keeps two pytest workers from building it at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

READER_VERSION = "1.5.6"  # the latest DuckDB 1.x release: the one place it is pinned

REPO = Path(__file__).resolve().parents[2]
READER_DIR = REPO / ".venv" / f".duckdb1-reader-{READER_VERSION}"

# Run by the 1.x reader: open the file read-only, list every schema and relation, read every row, and look
# for the text of $READER_SECRET in every string value. Prints one JSON document.
_READ_ALL = r"""
import json, os, sys
import duckdb
secret = os.environ.get("READER_SECRET") or None
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("set enable_progress_bar = false")  # it prints to stdout on a long query
db = con.execute("select current_database()").fetchone()[0]
out = {"version": duckdb.__version__, "schemas": [], "tables": {}, "views": [], "other": [], "secret_found_in": []}
out["schemas"] = sorted(r[0] for r in con.execute(
    "select schema_name from duckdb_schemas() where database_name = ? and not internal", [db]).fetchall())
def names(sql):
    return sorted(f"{s}.{n}" for s, n in con.execute(sql, [db]).fetchall())
out["views"] = names("select schema_name, view_name from duckdb_views() where database_name = ? and not internal")
out["other"] = (
    names("select schema_name, 'sequence ' || sequence_name from duckdb_sequences() where database_name = ?")
    + names("select schema_name, 'index ' || index_name from duckdb_indexes() where database_name = ?")
    + names("select schema_name, 'type ' || type_name from duckdb_types() where database_name = ? and not internal")
    + names("select schema_name, 'function ' || function_name from duckdb_functions() "
            "where database_name = ? and not internal")
)
for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? order by all", [db]).fetchall():
    cur = con.execute(f'select * from "{schema}"."{table}"')
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    out["tables"][f"{schema}.{table}"] = len(rows)
    if secret:
        for row in rows:
            for name, value in zip(names, row):
                if secret in str(value):
                    out["secret_found_in"].append(f"{schema}.{table}.{name}")
out["secret_found_in"] = sorted(set(out["secret_found_in"]))
print(json.dumps(out))
"""


class ReaderFailed(RuntimeError):
    """The DuckDB 1.x reader could not open or read the file (its message says why)."""


def reader_python() -> Path:
    """The Python of the DuckDB 1.x reader environment, created on first use."""
    python = READER_DIR / "bin" / "python"
    READER_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(READER_DIR.parent / f".duckdb1-reader-{READER_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _has_reader(python):
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(READER_DIR)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"duckdb=={READER_VERSION}"],
            capture_output=True, text=True, timeout=600,
        )
        if done.returncode != 0 or not _has_reader(python):
            raise RuntimeError(f"could not install duckdb=={READER_VERSION} into {READER_DIR} (the package registry "
                               f"must be reachable once):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return python


def _has_reader(python: Path) -> bool:
    if not python.is_file():
        return False
    found = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                           capture_output=True, text=True)
    return found.returncode == 0 and found.stdout.strip() == READER_VERSION


def read_all(path: Path, secret: str | None = None) -> dict:
    """What the DuckDB 1.x reader sees in ``path``: its version, schemas, views and other objects, every table
    with its row count (every row read), and the columns whose values contain ``secret``. Raises
    :class:`ReaderFailed` (with DuckDB's message) when it cannot open or read the file."""
    env = {**os.environ, "READER_SECRET": secret or ""}
    done = subprocess.run([str(reader_python()), "-c", _READ_ALL, str(path)], env=env, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise ReaderFailed(f"DuckDB {READER_VERSION} could not read {path}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)
