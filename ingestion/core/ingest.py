"""What every source's ``ingest_school`` returns, whatever the MIS (iSAMS, SEEMiS): the result, a failed
dataset, and the scd2 disposition keyed on the run's as-of date. Neutral so that no source imports another."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import orjson

from ingestion.core.shapes import Shapes

SCD2 = {"disposition": "merge", "strategy": "scd2"}
# each source system's raw schema (dlt's dataset): the one place that names them for ingestion
RAW_SCHEMAS = {"isams": "raw_isams", "seemis": "raw_seemis"}


@dataclass(frozen=True)
class IngestFailure:
    """One dataset of one school that was not loaded this run (its previous rows are untouched)."""

    school: str
    dataset: str
    error: str  # redacted, names school and dataset
    status: int | None = None


# Part of every fingerprint: bump it when what a source lands for the same records changes (a new column, a
# renamed field), so that the first run of the new code reloads every small dataset once.
FINGERPRINT_VERSION = 1


@dataclass(frozen=True)
class DatasetFingerprint:
    """What a small dataset (pupils, contacts, code lists: everything but registers) held when it last loaded:
    a digest of its records and the shapes observed in them. A run that fetches the same records again does not
    hand them to dlt (their scd2 merge would change nothing, and costs most of a quiet night's ingestion); it
    replays the shapes instead, so schema drift is still checked every night."""

    digest: str
    shapes: Shapes

    def shapes_json(self) -> str:
        return orjson.dumps({k: sorted(v) for k, v in sorted(self.shapes.items())}).decode()

    @classmethod
    def from_json(cls, digest: str, shapes: str) -> DatasetFingerprint:
        return cls(digest, {k: set(v) for k, v in orjson.loads(shapes).items()})


def records_digest(dataset: str, records: Iterable[Mapping[str, Any]]) -> str:
    """A digest of ``records`` that ignores their order (an API may list the same rows in another order) but
    not their keys' order, values or count; salted with the dataset and FINGERPRINT_VERSION."""
    lines = sorted(orjson.dumps(r, default=str) for r in records)
    digest = hashlib.blake2b(f"{FINGERPRINT_VERSION}:{dataset}:{len(lines)}".encode(), digest_size=20)
    for line in lines:
        digest.update(line)
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass
class SchoolIngestResult:
    school: str
    rows: dict[str, int] = field(default_factory=dict)  # root table -> rows normalised this run
    failures: list[IngestFailure] = field(default_factory=list)
    retries: int = 0
    fetched: dict[str, int] = field(default_factory=dict)  # dataset -> records received (parsed, before dlt)
    shapes: dict[str, Shapes] = field(default_factory=dict)  # dataset -> field -> value kinds (ingestion.ops.drift)
    # register windows [start, end) re-read in full this run: iSAMS's reply is the whole truth for them
    reread_windows: list[tuple[date, date]] = field(default_factory=list)
    removed: int = 0  # register marks deleted because a fully re-read window no longer contains them
    quarantined: int = 0  # rows not landed because they could not be parsed (SEEMiS files)
    # those rows for ops.quarantine, written by the pipeline: (dataset, record_id, rule, reason, load_id)
    quarantine_rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines for the run's console (e.g. a quarantined file line)
    header_drift: set[str] = field(default_factory=set)  # datasets whose failure is a refused header (complete shapes)
    # small datasets handed to dlt this run -> their fingerprint, recorded once the load succeeded
    fingerprints: dict[str, DatasetFingerprint] = field(default_factory=dict)
    # small datasets fetched identical to their last load, so not reloaded -> the records fetched
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def scd2_disposition(as_of: date) -> dict[str, Any]:
    """dlt scd2 with the run's as-of date as the validity boundary (not the machine clock): a version seen by
    the run for day D is valid from D 00:00 UTC, so a replay or backfill of past nights builds the same
    history as the nights themselves did."""
    boundary = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc)
    return {**SCD2, "boundary_timestamp": boundary.isoformat()}


def text_schema(name: str) -> Any:
    """A dlt schema whose leaves stay as sent: no type auto-detection (dbt staging owns types)."""
    import dlt

    schema = dlt.Schema(name)
    for detection in list(schema.settings.get("detections") or []):
        schema.remove_type_detection(detection)
    return schema


def school_pipeline(mis: str, school_code: str, warehouse: Any, pipelines_dir: Any, dataset_name: str) -> Any:
    """The dlt pipeline of one school of one MIS (``<mis>_<code>``: its own state, failures and packages)."""
    import dlt

    # Arrow tables (registers, export files) skip dlt's row normaliser; ask it to stamp _dlt_load_id anyway so
    # that freshness and "last seen" work the same on every table
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    return dlt.pipeline(
        pipeline_name=f"{mis}_{school_code.lower()}",
        destination=warehouse.dlt_destination(),
        dataset_name=dataset_name,
        pipelines_dir=str(pipelines_dir),
    )

