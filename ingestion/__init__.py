"""schoolwh: the school data warehouse's ingestion and orchestration (layers: docs/architecture.md).

Importing the package switches telemetry off for every tool the project runs (dbt, dlt, Great
Expectations) before any of them is imported: ``ingestion.core.telemetry`` is the one place that does it.
"""

from ingestion.core.telemetry import silence

silence()
