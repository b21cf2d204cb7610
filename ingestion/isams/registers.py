"""Register marks to Arrow tables: the generic reference (:func:`registers_table`) and the fast path.

One module for the big dataset (millions of marks a year), which the dlt source (``source.py``) imports
and which imports nothing of the source back.

**The fast path**: the same Arrow table as :func:`registers_table`, ~10x cheaper.

Registers are the big dataset (millions of marks a year), and the generic path spends ~15-40 us per mark
in Python: ``quirks.flatten`` per mark, then dlt naming per field per mark. But register items are flat:
``@Id``, ``PupilId``, ``Registered``, ``Code``, ``RegistrationDateTime`` (plus, one day, something
unknown), every value a string or null. So :func:`flat_registers_table`

1. works out the columns once per distinct *key layout* (the tuple of an item's keys, in order; a window
   has two or three: ``Code`` is absent from present marks) by running ``flatten`` and the naming on the
   keys themselves, so names, ``_element`` suffixes, the ``school_code`` rename and the column order are
   exactly the generic ones;
2. builds each column with one C-level pass (``[r.get(key) for r in records]``) and lets pyarrow check
   that every value is a string or null while it converts (``pa.string()`` refuses anything else).

Anything it cannot prove identical (a value that is an object/list/number, two keys that end in the same
column) makes it return None, and :func:`registers_window_table` then runs the generic path, on a
``json.loads`` of the very same body, so drift and JSON-text behaviour stay exactly as they were.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from dlt.common.normalizers.naming.snake_case import NamingConvention

from ingestion.core.shapes import Shapes, column_value_tokens, kind_of, merge_shapes
from ingestion.isams.datasets import BatchDataset
from ingestion.isams.quirks import flatten, items

log = logging.getLogger(__name__)

SCHOOL_COLUMN = "school_code"
REGISTER_KEY = [SCHOOL_COLUMN, "id"]  # "@Id" after flatten + dlt naming
_naming = NamingConvention()


@functools.lru_cache(maxsize=4096)
def normalized(name: str) -> str:
    """The column name dlt gives ``name`` (snake_case naming convention); cached: called once per field per mark."""
    return _naming.normalize_identifier(name)


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)  # an unexpected nested field: keep it, as JSON text


def registers_table(records: Sequence[dict], school_code: str, shapes: Shapes | None = None) -> pa.Table:
    """Register marks as one all-string Arrow table, columns named as dlt would name them.

    The generic reference: the registers resource builds the same table through
    ``registers_fast.registers_window_table``, which falls back to this for anything unusual.

    ``shapes``, when given, receives each column's value kinds (for drift): non-strings are counted as
    they are turned into JSON text, strings are inferred from the non-null count, so the hot loop stays cheap.
    """
    columns: dict[str, list[str | None]] = {}
    odd: dict[str, dict[str, int]] = {}  # column -> non-string kind -> values
    for i, record in enumerate(records):
        for key, value in flatten(record).items():
            name = normalized(key)
            if name == SCHOOL_COLUMN:
                name = normalized(f"isams_{key}")
            if value is not None and not isinstance(value, str):
                kinds = odd.setdefault(name, {})
                kinds[kind_of(value)] = kinds.get(kind_of(value), 0) + 1
            # a field first seen part-way through (e.g. Code) is null for the earlier rows; build that padding
            # only then (setdefault would build it for every field of every mark: quadratic in window size)
            if name not in columns:
                columns[name] = [None] * i
            columns[name].append(as_text(value))
        for values in columns.values():
            values.extend([None] * (i + 1 - len(values)))
    columns[SCHOOL_COLUMN] = [school_code] * len(records)
    # the key columns are declared non-null, matching dlt's primary-key hints (else dlt warns per window)
    schema = pa.schema([pa.field(k, pa.string(), nullable=k not in REGISTER_KEY) for k in columns])
    table = pa.table(columns, schema=schema)
    if shapes is not None and records:
        merge_shapes(shapes, _column_kinds(table, odd))
    return table


def _column_kinds(table: pa.Table, odd: dict[str, dict[str, int]]) -> Shapes:
    out: Shapes = {}
    for name in table.column_names:
        if name == SCHOOL_COLUMN:
            continue
        others = odd.get(name, {})
        strings = table.num_rows - table.column(name).null_count - sum(others.values())
        out[name] = set(others) | ({"string"} | column_value_tokens(table, name) if strings > 0 else set())
    return out


def _column_name(key: str) -> str:
    """The generic path's column for a flattened key (``SchoolCode`` would clash with ours: renamed)."""
    name = normalized(key)
    return normalized(f"isams_{key}") if name == SCHOOL_COLUMN else name


def _layout_columns(records: Sequence[dict]) -> dict[str, str] | None:
    """Column name -> the raw item key it is read from, in the generic path's column order.

    None when that is not one fixed key per column across the window: a key that ``flatten`` merges with
    another (``@text`` and ``#text``), two keys with the same column name (``PupilId`` and ``pupil_id``, or
    ``@Id`` + ``Id`` in one item and ``Id`` alone in another).
    """
    source_of: dict[str, str] = {}  # column -> raw key
    column_of: dict[str, str] = {}  # raw key -> column
    for keys in dict.fromkeys(map(tuple, records)):  # distinct layouts, in first-seen order
        flat = flatten(dict(zip(keys, keys)))  # with string values: flattened key -> raw key holding its value
        if len(flat) != len(keys):
            return None
        for flat_key, raw_key in flat.items():
            name = _column_name(flat_key)
            if source_of.setdefault(name, raw_key) != raw_key or column_of.setdefault(raw_key, name) != name:
                return None
    return source_of


def flat_registers_table(records: Sequence[dict], school_code: str, shapes: Shapes | None = None) -> pa.Table | None:
    """``registers_table(records, school_code, shapes)`` for flat items of JSON strings/nulls, else None.

    ``records`` are items as parsed from JSON (``quirks.items``); ``shapes`` is only touched on success.
    """
    try:
        columns = _layout_columns(records)
    except Exception:  # e.g. a key the naming convention refuses: let the generic path say so
        return None
    if columns is None:
        return None
    arrays: list[pa.Array] = []
    try:
        for key in columns.values():
            arrays.append(pa.array([r.get(key) for r in records], type=pa.string()))
    except (pa.ArrowException, TypeError, ValueError):  # an object, list, number or boolean: generic path
        return None
    names = [*columns, SCHOOL_COLUMN]
    arrays.append(pa.array([school_code] * len(records), type=pa.string()))
    schema = pa.schema([pa.field(k, pa.string(), nullable=k not in REGISTER_KEY) for k in names])
    table = pa.Table.from_arrays(arrays, schema=schema)
    if shapes is not None and records:
        merge_shapes(shapes, _column_kinds(table, {}))  # every value is a string or null: no "odd" kinds
    return table


def registers_window_table(
    doc: dict, body: bytes | None, ds: BatchDataset, school_code: str, shapes: Shapes | None = None,
) -> pa.Table:
    """The register table of one Batch response (``IsamsClient.batch_fast``): fast when it can be.

    ``doc`` is ``body`` parsed by ``client.fast_loads``; when the fast path declines, the generic one runs on
    ``json.loads(body)`` (on ``doc`` when there is no body), exactly what the resource used to do.
    """
    records = items(doc, ds)
    try:
        table = flat_registers_table(records, school_code, shapes)
    except Exception:  # a bug here must cost speed, not the window
        log.warning("school %s, dataset %s: fast register path failed; using the generic one",
                    school_code, ds.name, exc_info=True)
        table = None
    if table is not None:
        return table
    if body is not None:
        records = items(json.loads(body), ds)
    return registers_table(records, school_code, shapes)
