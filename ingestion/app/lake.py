"""The raw layer as a lake that Spark reads: every raw and ops table of a DuckDB warehouse, written as Parquet
by dlt's ``filesystem`` destination, one folder per table::

    <lake>/<schema>/<table>/<load_id>.<file_id>.parquet        (schema: raw_isams, raw_seemis, ops)

The lake is a local folder here and object storage in production (any ``bucket_url`` dlt's filesystem
destination takes, e.g. ``s3://bucket/schoolwh``, with the credentials dlt reads from its config). On
``--target spark`` dbt declares each source table over its folder at the start of every run
(``macros/spark/lake_sources.sql``), so the models read it through ``source()`` unchanged (docs/spark.md).

Ingestion itself still lands in DuckDB first: the run log, quarantine, drift and validation work there, and
this step publishes the result. Each table is replaced whole (dlt's ``replace`` disposition deletes the
table's earlier files), so re-publishing is always safe and the lake equals the warehouse's raw layer.

The lake holds children's data and the pupil-key secret (``ops.pupil_key_secret``): protect it like the
warehouse file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingestion.core.warehouse import Connection, Warehouse

# the schemas dbt's sources read (models/staging/*/_*__sources.yml, models/monitoring/_ops__sources.yml)
LAKE_SCHEMAS = ("raw_isams", "raw_seemis", "ops")


@dataclass(frozen=True)
class LakeTable:
    schema: str
    table: str
    rows: int


def lake_tables(con: Connection) -> list[tuple[str, str]]:
    """(schema, table) of every table and view the lake carries, dlt's own bookkeeping tables excepted."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({', '.join('?' for _ in LAKE_SCHEMAS)}) and table_name not like '\\_dlt\\_%' "
        "escape '\\' order by 1, 2", list(LAKE_SCHEMAS),
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def lake_folders(bucket_url: str) -> list[str]:
    """``schema/table`` of every table folder in the lake (what Spark can declare), dlt's own folders excepted."""
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(bucket_url)
    found = []
    for schema in LAKE_SCHEMAS:
        base = f"{root.rstrip('/')}/{schema}"
        if fs.isdir(base):
            found += [f"{schema}/{Path(p).name}" for p in fs.ls(base, detail=False)
                      if fs.isdir(p) and not Path(p).name.startswith("_dlt")]
    return sorted(found)


def publish_lake(warehouse: Warehouse, bucket_url: str, pipelines_dir: Path) -> list[LakeTable]:
    """Write every raw and ops table of the DuckDB ``warehouse`` to the lake at ``bucket_url`` (a folder path or
    an object-storage URL), replacing each table's earlier files. Returns what was written."""
    import dlt

    if warehouse.kind != "duckdb":
        raise ValueError(f"the lake is published from a DuckDB warehouse, not {warehouse.describe()}")
    written: list[LakeTable] = []
    destination = dlt.destinations.filesystem(bucket_url=bucket_url, layout="{table_name}/{load_id}.{file_id}.{ext}")
    with warehouse.connect(read_only=True) as con:
        by_schema: dict[str, list[str]] = {}
        for schema, table in lake_tables(con):
            by_schema.setdefault(schema, []).append(table)
        for schema, tables in by_schema.items():
            frames = {t: con.raw.sql(f'select * from "{schema}"."{t}"').to_arrow_table() for t in tables}
            pipeline = dlt.pipeline(
                pipeline_name=f"lake_{schema}", destination=destination, dataset_name=schema,
                pipelines_dir=str(pipelines_dir),
            )
            pipeline.run(
                [dlt.resource(frame, name=table, write_disposition="replace") for table, frame in frames.items()],
                loader_file_format="parquet",
            )
            written += [LakeTable(schema, table, frame.num_rows) for table, frame in frames.items()]
    return written
