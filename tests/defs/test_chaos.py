"""Runs of the run contract killed at every stage: the next run recovers, the KPIs are unchanged.

One warehouse, one DAGSTER_HOME and no daemon, as an operator's crontab or shell has them. Each
`dagster asset materialize ... --select '*' --partition-range` run below is killed at a stage
(SIGKILL, as the OOM killer or a lost machine does; one SIGTERM, as `systemctl stop` does). The
next run is started just before the kill, so it waits on the pool behind the doomed run: it must
notice the death, recover the dead run (its log says so) and go on, and it is itself the run
killed at the next stage. The runs killed at the checks and at publishing have finished dbt (their
`marts.kpi_values` is read from a copy of the file taken while they are paused), and the last run
finishes: at those three points `marts.kpi_values` must equal, row for row, that of one
uninterrupted run in its own warehouse (run alongside).

Stages are reached through tests/chaos_hooks/sitecustomize.py (a test-only pause, on the killed
run's PYTHONPATH only) or, for dbt, from the run's own event log (its first dbt model
materialized). GA4 and the ECB rates over two days keep it to eight runs of the graph.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from pipelines.defs.run_recovery import LOG_PREFIX, PID_TAG
from pipelines.lib.partitions import WAREHOUSE_POOL
from sources.emulators.stack import build_stack
from tests.e2e import query

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).parent / "dagster")
HOOKS = Path(__file__).resolve().parents[1] / "chaos_hooks"
WINDOW = "2025-03-01...2025-03-02"
KPI_VALUES = "select * from marts.kpi_values order by all"
# Generous: these are bounds on a hang (a run stuck behind a dead run's slot), not timings.
STAGE_TIMEOUT = 300
RUN_TIMEOUT = 420

pytestmark = pytest.mark.timeout(2400)


@dataclass
class Deployment:
    """A DAGSTER_HOME, a warehouse and the environment a run of the contract gets."""

    home: Path
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["KPI_DUCKDB_PATH"])

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    DAGSTER,
                    *("asset", "materialize", "-m", "pipelines.definitions"),
                    *("--select", "*", "--partition-range", WINDOW),
                ],
                env={**self.env, **env},
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def kpi_values(self) -> list[tuple]:
        return query(self.warehouse, KPI_VALUES)


def deployment(root: Path, settings: dict[str, str]) -> Deployment:
    home = root / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    env = {
        **os.environ,
        **settings,
        "DAGSTER_HOME": str(home),
        "KPI_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "KPI_PUBLISH_DIR": str(root / "published"),
        "KPI_REPORTS_DIR": str(root / "reports"),
        "PYTHONWARNINGS": "ignore",
    }
    return Deployment(home, env, root)


@dataclass
class Victim:
    name: str
    run_id: str
    signal: int


@dataclass
class Chaos:
    baseline: list[tuple]
    chaos: Deployment
    victims: list[Victim]
    # marts.kpi_values after each run that got past dbt: name of the run -> rows
    kpi_values: dict[str, list[tuple]]


def wait_for(condition: Callable[[], object], process: subprocess.Popen, what: str) -> object:
    deadline = time.monotonic() + STAGE_TIMEOUT
    while not (found := condition()):
        assert process.poll() is None, f"the run ended (rc {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {STAGE_TIMEOUT} s"
        time.sleep(0.2)
    return found


def run_of(instance: dg.DagsterInstance, process: subprocess.Popen) -> str | None:
    """The run executed by ``process`` (its worker tag), once it has started."""
    for run in instance.get_runs(limit=20):
        if run.tags.get(PID_TAG) == str(process.pid):
            return run.run_id
    return None


def steps_in_progress(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    started, ended = set(), set()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started.add(entry.step_key)
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            ended.add(entry.step_key)
    return started - ended


def dbt_is_building(instance: dg.DagsterInstance, run_id: str) -> bool:
    """The run's dbt step has materialized a model and is still running."""
    materialized = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    return "kpi_dbt_models" in steps_in_progress(instance, run_id) and any(
        record.event_log_entry.step_key == "kpi_dbt_models" for record in materialized
    )


# The stage, the step the run must be in when it is killed, and the signal.
STAGES = [
    ("extraction", "extract_sources", signal.SIGKILL),
    ("loading", "ga4_raw", signal.SIGKILL),
    ("dbt", "kpi_dbt_models", signal.SIGKILL),
    ("dbt_sigterm", "kpi_dbt_models", signal.SIGTERM),
    ("checks", "kpi_checks", signal.SIGKILL),
    ("publishing", "published__marts", signal.SIGKILL),
]


def hooks(root: Path, stage: str) -> dict[str, str]:
    """The environment that pauses a run at ``stage`` (tests/chaos_hooks); none for dbt."""
    if stage in ("dbt", "dbt_sigterm", "final"):
        return {}
    marker = root / f"{stage}.reached"
    return {"PYTHONPATH": str(HOOKS), "KPI_CHAOS_STAGE": stage, "KPI_CHAOS_MARKER": str(marker)}


def snapshot_kpi_values(warehouse: Path, directory: Path) -> list[tuple]:
    """``marts.kpi_values`` as a crash would leave it: the file (and its WAL) copied while the
    paused run holds it, opened elsewhere."""
    directory.mkdir()
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        if path.exists():
            shutil.copy(path, directory / path.name)
    return query(directory / warehouse.name, KPI_VALUES)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory) -> Iterator[Chaos]:
    root = tmp_path_factory.mktemp("chaos")
    stack = build_stack(root / "sa.json", properties={"250000001": 1.0})
    stack.pin_business_clock(datetime(2025, 3, 6, tzinfo=UTC))
    stack.server.start()
    settings = {k: v for k, v in stack.env().items() if k.startswith(("GA4_", "GOOGLE_", "FX_"))}
    # The uninterrupted run has its own instance and warehouse: it runs alongside the chain.
    reference = deployment(root / "uninterrupted", settings)
    chaos = deployment(root / "chaos", settings)
    try:
        uninterrupted = reference.start("uninterrupted")
        victims: list[Victim] = []
        values: dict[str, list[tuple]] = {}
        with chaos.instance() as instance:
            process = chaos.start(STAGES[0][0], **hooks(root, STAGES[0][0]))
            for index, (stage, step, signum) in enumerate(STAGES):
                try:
                    run_id = wait_for(lambda p=process: run_of(instance, p), process, "run")
                    if stage == "dbt" or stage == "dbt_sigterm":
                        wait_for(lambda r=run_id: dbt_is_building(instance, r), process, "dbt")
                    else:
                        wait_for((root / f"{stage}.reached").exists, process, f"the {stage} stage")
                    assert step in steps_in_progress(instance, run_id), stage
                    if stage in ("checks", "publishing"):  # dbt finished in this run
                        values[stage] = snapshot_kpi_values(chaos.warehouse, root / stage)
                    # The next run starts now and waits on the pool behind this one; once this one
                    # is killed, it must notice, recover it and go on.
                    following = STAGES[index + 1][0] if index + 1 < len(STAGES) else "final"
                    next_process = chaos.start(following, **hooks(root, following))
                    process.send_signal(signum)
                    process.wait(timeout=RUN_TIMEOUT)
                finally:
                    process.kill()
                victims.append(Victim(stage, run_id, signum))
                process = next_process
            assert process.wait(timeout=RUN_TIMEOUT) == 0, chaos.output("final")[-3000:]
            values["final"] = chaos.kpi_values()
        assert uninterrupted.wait(timeout=RUN_TIMEOUT) == 0, reference.output("uninterrupted")
        yield Chaos(reference.kpi_values(), chaos, victims, values)
    finally:
        for process in reference.processes + chaos.processes:
            process.kill()
            process.wait()
        stack.server.stop()


def test_each_run_after_a_killed_one_recovers_it_and_gets_further(chaos: Chaos) -> None:
    names = [v.name for v in chaos.victims] + ["final"]
    for killed, following in zip(chaos.victims, names[1:], strict=True):
        output = chaos.chaos.output(following)
        if killed.signal == signal.SIGKILL:
            assert f"{LOG_PREFIX} run {killed.run_id}" in output, (killed.name, output[-3000:])


def test_no_killed_run_is_left_started_or_holding_the_pool(chaos: Chaos) -> None:
    with chaos.chaos.instance() as instance:
        for victim in chaos.victims:
            run = instance.get_run_by_id(victim.run_id)
            assert run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED), (
                victim.name,
                run.status,
            )
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert info.claimed_slots == [] and info.pending_steps == []


def test_the_sigterm_run_stops_itself_and_says_so(chaos: Chaos) -> None:
    """Dagster turns SIGTERM into an interrupt: dbt is stopped, the run fails by itself."""
    index = next(i for i, v in enumerate(chaos.victims) if v.signal == signal.SIGTERM)
    terminated, following = chaos.victims[index], chaos.victims[index + 1]
    with chaos.chaos.instance() as instance:
        (failure,) = instance.get_records_for_run(
            terminated.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
    assert "interrupted" in failure.event_log_entry.dagster_event.message
    # Nothing was left for the next run to recover.
    assert f"{LOG_PREFIX} run {terminated.run_id}" not in chaos.chaos.output(following.name)


def test_kpi_values_after_every_recovery_equal_the_uninterrupted_run(chaos: Chaos) -> None:
    assert chaos.baseline
    for name, rows in chaos.kpi_values.items():
        assert rows == chaos.baseline, name


def test_the_published_copy_is_whole_and_no_half_written_copy_is_left(chaos: Chaos) -> None:
    published = chaos.chaos.warehouse.parent / "published"
    assert query(published / "marts.duckdb", KPI_VALUES) == chaos.baseline
    leftovers = [p.name for p in published.rglob("*.tmp*")]
    assert leftovers == []
