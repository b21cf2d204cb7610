"""Validation at the landing boundary: GX suites over raw rows of every source (``raw_isams``,
``raw_seemis``), failures to ``ops.quarantine``.

Rules live in ``rules``; the run and the report in ``gx_validate``; the quarantine tables and the staging
contract in ``ingestion.ops.quarantine``. GX itself is imported only when a validation runs (it takes seconds).
"""

from ingestion.validation.gx_validate import DatasetResult, ValidationReport, load_ids_since, validate_landed
from ingestion.validation.rules import BY_DATASET, BY_SCHEMA_DATASET, RULES, SEEMIS_RULES, DatasetRules

__all__ = [
    "BY_DATASET", "BY_SCHEMA_DATASET", "RULES", "SEEMIS_RULES", "DatasetResult", "DatasetRules",
    "ValidationReport", "load_ids_since", "validate_landed",
]
