"""The run contract: an unconfigured source, and two run-contract commands started at once.

Kept apart from tests/end_to_end/test_end_to_end.py (which shares one warehouse per module) so pytest-xdist
can run these long, self-contained runs on the other worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.connectors import ga4
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.stack import EmulatorStack, build_stack
from tests.dagster_ui import add_ui_backfill
from tests.e2e import query

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOOKS = Path(__file__).resolve().parents[1] / "chaos_hooks"


def test_a_source_without_settings_loads_nothing_and_warns(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    for name in ("GA4_PROPERTY_IDS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    result = dg.materialize(
        connector_assets([ga4.SOURCE]),
        resources={"warehouse": WarehouseResource(), **connector_resources([ga4.SOURCE])},
        partition_key="2025-03-01",
    )
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    configured = checks["source_configured"]
    assert not configured.passed
    assert configured.severity == dg.AssetCheckSeverity.WARN
    assert "GA4_PROPERTY_IDS" in configured.description


BLOCKED = "blocked by limit for pool duckdb_warehouse"
WINDOWS = ("2025-03-01...2025-03-02", "2025-03-03...2025-03-04")


def contract_home(tmp_path: Path, stack: EmulatorStack) -> tuple[Path, dict[str, str]]:
    """A temporary Dagster instance with the project's ``dagster.yaml`` and the environment of
    its processes. GA4 and FX only: the other sources are not configured, load nothing and WARN,
    which keeps full-graph runs short while every asset still takes its turn in the pool."""
    home = tmp_path / "dagster_home"  # the instance's storage, runs and logs: temporary
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home, {
        **os.environ,
        **{k: v for k, v in stack.env().items() if k.startswith(("GA4_", "GOOGLE_", "FX_"))},
        "KPI_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "DAGSTER_HOME": str(home),
        "PYTHONWARNINGS": "ignore",
    }


class Output:
    """The lines of a process's output as they come, and whether one says a step was blocked."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.blocked = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)
            if BLOCKED in line:
                self.blocked.set()

    def text(self) -> str:
        self.thread.join(timeout=60)
        return "".join(self.lines)


def wait_for_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_two_run_contract_commands_at_once_both_finish(tmp_path) -> None:
    """Two `dagster asset materialize ... --partition-range` processes on one warehouse: while one
    holds the `duckdb_warehouse` pool, the other's step is queued, not failed on DuckDB's lock.

    The overlap is made certain: the first run to load GA4 (a pooled step; extraction is not
    pooled) is held inside its load (tests/chaos_hooks, stage ``hold_pool``) until the other
    process reports a step blocked by the pool."""
    stack = build_stack(tmp_path / "sa.json", properties={"250000001": 1.0})
    stack.pin_business_clock(datetime(2025, 3, 6, tzinfo=UTC))  # Stripe/HubSpot/Zendesk "now"
    outputs: list[Output] = []
    held: dict[str, object] = {}
    holding, release = tmp_path / "holding", tmp_path / "release"
    stack.server.start()
    home, env = contract_home(tmp_path, stack)
    env = {
        **env,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(HOOKS),
        "KPI_CHAOS_STAGE": "hold_pool",
        "KPI_CHAOS_MARKER": str(holding),
        "KPI_CHAOS_RELEASE": str(release),
    }
    dagster = str(Path(sys.executable).parent / "dagster")
    materialize = [dagster, "asset", "materialize", "-m", "pipelines.definitions", "--select", "*"]
    # Create the instance's storage once first: two processes creating it together on a fresh
    # instance race on "table runs already exists" (Dagster's, not the warehouse's).
    subprocess.run(
        [dagster, "instance", "migrate"], cwd=home, env=env, capture_output=True, check=True
    )
    try:
        runs = [
            subprocess.Popen(
                [*materialize, "--partition-range", window],
                cwd=home,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for window in WINDOWS
        ]
        outputs.extend(Output(run) for run in runs)
        if wait_for_file(holding, timeout=300):
            holder = [run.pid for run in runs].index(int(holding.read_text()))
            held["window"] = WINDOWS[holder]
            held["other_blocked"] = outputs[1 - holder].blocked.wait(timeout=100)
        release.touch()
        for run in runs:
            run.wait(timeout=540)
    finally:
        stack.server.stop()
    texts = [output.text() for output in outputs]
    for run, text in zip(runs, texts, strict=True):
        assert run.returncode == 0, text[-3000:]
    assert held.get("other_blocked"), f"no step of the other run was seen queued: {held}"
    assert BLOCKED in texts[1 - WINDOWS.index(str(held["window"]))]  # the other process's
    (days,) = query(
        tmp_path / "w.duckdb",
        "select count(distinct period_start) from marts.kpi_values "
        "where grain = 'day' and kpi_id = 'digital.site_traffic' and segment = 'all'",
    )
    assert days[0] == 4
    assert (home / "history" / "runs.db").is_file()  # the instance state is in the temporary home


DAEMON = [str(Path(sys.executable).parent / "dagster-daemon"), "run"]


def test_a_ui_backfill_of_every_asset_builds_and_checks_the_days_asked(tmp_path) -> None:
    """The UI's Materialize with a partition range launches an asset backfill: the daemon runs
    the partitioned assets with the range's tags and the unpartitioned ones (every dbt model,
    the checks) in a run without them. That run builds and checks the backfill's days, as the run
    contract would, not every date (decision 72)."""
    from dagster._core.execution.backfill import BulkActionStatus

    from pipelines.definitions import defs

    stack = build_stack(tmp_path / "sa.json", properties={"250000001": 1.0})
    stack.pin_business_clock(datetime(2025, 3, 6, tzinfo=UTC))
    home, env = contract_home(tmp_path, stack)
    days = ["2025-03-03", "2025-03-04", "2025-03-05"]
    graph = defs.resolve_asset_graph()
    stack.server.start()
    daemon = None
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assets = graph.materializable_asset_keys
            add_ui_backfill(instance, graph, assets, days, "uibackfill")
            daemon = subprocess.Popen(
                [*DAEMON, "-m", "pipelines.definitions"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=(tmp_path / "daemon.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 600
            while instance.get_backfill("uibackfill").status == BulkActionStatus.REQUESTED:
                assert time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()[-5000:]
                time.sleep(2)
            status = instance.get_backfill("uibackfill").status
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": "uibackfill"}))
            kpi_values = instance.get_latest_materialization_event(
                dg.AssetKey(["marts", "kpi_values"])
            )
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
        stack.server.stop()
    assert status == BulkActionStatus.COMPLETED_SUCCESS, [(r.run_id, r.status) for r in runs]
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    ranged = [r for r in runs if "dagster/asset_partition_range_start" in r.tags]
    assert len(ranged) >= 1 and len(ranged) < len(runs)  # the dbt models ran without the tags
    assert kpi_values is not None
    dbt_run = next(run for run in runs if run.run_id == kpi_values.run_id)
    assert "dagster/asset_partition_range_start" not in dbt_run.tags
    assert kpi_values.asset_materialization.metadata["window"].value == "2025-03-03..2025-03-05"
    (built,) = query(
        tmp_path / "w.duckdb",
        "select min(period_start), max(period_start), count(distinct period_start) "
        "from marts.kpi_values where grain = 'day' and kpi_id = 'digital.site_traffic' "
        "and segment = 'all'",
    )
    assert [str(value) for value in built] == ["2025-03-03", "2025-03-05", "3"]
