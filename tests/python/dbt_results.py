"""What the last dbt command on a warehouse ran: its run_results.json (beside the warehouse, see dbt_runner)."""

from __future__ import annotations

import json

from ingestion.app.dbt_runner import artifacts_dir
from ingestion.core.warehouse import Warehouse


def unit_test_outcomes(warehouse: Warehouse) -> dict[str, str]:
    """unit test name -> status ('pass', 'fail', ...) of the last dbt command run on ``warehouse``."""
    results = json.loads((artifacts_dir(warehouse) / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
