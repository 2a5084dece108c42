"""The run contract: an unconfigured source, and two run-contract commands started at once.

Kept apart from tests/test_end_to_end.py (which shares one warehouse per module) so pytest-xdist
can run these long, self-contained runs on the other worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.ga4 import ga4_raw
from pipelines.resources import GA4Resource, WarehouseResource
from sources.emulators.stack import build_stack
from tests.e2e import query


def test_a_source_without_settings_loads_nothing_and_warns(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    for name in ("GA4_PROPERTY_IDS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    result = dg.materialize(
        [ga4_raw],
        resources={"warehouse": WarehouseResource(), "ga4": GA4Resource()},
        partition_key="2025-03-01",
    )
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    configured = checks["source_configured"]
    assert not configured.passed
    assert configured.severity == dg.AssetCheckSeverity.WARN
    assert "GA4_PROPERTY_IDS" in configured.description


def test_two_run_contract_commands_at_once_both_finish(tmp_path) -> None:
    """Two `dagster asset materialize ... --partition-range` processes started together on one
    warehouse: the `duckdb_warehouse` pool queues their steps instead of a DuckDB lock error."""
    stack = build_stack(tmp_path / "sa.json", properties={"250000001": 1.0})
    stack.pin_business_clock(datetime(2025, 3, 6, tzinfo=UTC))  # Stripe/HubSpot/Zendesk "now"
    stack.server.start()
    env = {
        **os.environ,
        # GA4 and FX only: the other sources are not configured, load nothing and WARN, which
        # keeps two full-graph runs short while every asset still takes its turn in the pool.
        **{k: v for k, v in stack.env().items() if k.startswith(("GA4_", "GOOGLE_", "FX_"))},
        "KPI_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(Path(__file__).resolve().parent.parent),
        "PYTHONWARNINGS": "ignore",
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    # Create the instance's storage once first: two processes creating it together on a fresh
    # checkout race on "table runs already exists" (Dagster's, not the warehouse's).
    subprocess.run([dagster, "instance", "migrate"], env=env, capture_output=True, check=True)
    try:
        runs = [
            subprocess.Popen(
                [
                    dagster,
                    "asset",
                    "materialize",
                    "-m",
                    "pipelines.definitions",
                    "--select",
                    "*",
                    "--partition-range",
                    window,
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for window in ("2025-03-01...2025-03-02", "2025-03-03...2025-03-04")
        ]
        outputs = [run.communicate(timeout=540)[0] for run in runs]
    finally:
        stack.server.stop()
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    assert "blocked by limit for pool duckdb_warehouse" in "".join(outputs)
    (days,) = query(
        tmp_path / "w.duckdb",
        "select count(distinct period_start) from marts.kpi_values "
        "where grain = 'day' and kpi_id = 'digital.site_traffic' and segment = 'all'",
    )
    assert days[0] == 4
