"""Runs through the run contract: ``dagster asset materialize -m <module> --select '*'
--partition-range <first>...<last>`` in its own process on a fresh Dagster instance, timed from
the moment the process is started, and read back from that instance's event log."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

from benchmarks.floor import DBT_DIR
from benchmarks.pipeline import newest_dbt_times, step_seconds
from pipelines.lib.partitions import RUN_BOOKKEEPING_ENV
from pipelines.lib.settings import PROJECT_ROOT
from pipelines.lib.venv_tools import venv_tool

RUN_START = "RUN_START"


@dataclass
class ContractRun:
    """One run-contract process: seconds from process start, and the run's bookkeeping."""

    startup: float  # process start -> RUN_START
    wall: float = 0.0  # process start -> process exit (0 when stopped at RUN_START)
    steps: dict[str, float] = field(default_factory=dict)
    materializations: int = 0  # ASSET_MATERIALIZATION events the run wrote
    planned: int = 0  # ASSET_MATERIALIZATION_PLANNED events written before RUN_START
    planned_checks: int = 0  # rows of planned check executions (one per check, or per day)
    materializations_by_asset: dict[str, int] = field(default_factory=dict)


def fresh_home(directory: Path, env: dict[str, str]) -> Path:
    """A new DAGSTER_HOME with the project's dagster.yaml, its storage created (not timed)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dagster.yaml", directory / "dagster.yaml")
    subprocess.run(
        [venv_tool("dagster"), "instance", "migrate"],
        cwd=directory,
        env={**env, "DAGSTER_HOME": str(directory)},
        capture_output=True,
        check=True,
    )
    return directory


def run_contract(
    module: str,
    first: date,
    last: date,
    env: dict[str, str],
    home: Path,
    log: Path,
    *,
    stop_at_start: bool = False,
) -> ContractRun:
    """Run ``module``'s assets for ``first``..``last`` (inclusive) on the instance at ``home``
    (its newest run is the one read back). ``stop_at_start`` kills the process at RUN_START:
    start-up alone, without doing the work."""
    command = [
        venv_tool("dagster"),
        *("asset", "materialize", "-m", module, "--select", "*"),
        *("--partition-range", f"{first.isoformat()}...{last.isoformat()}"),
    ]
    run_env = {**env, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"}
    started = time.time()
    seen_start = 0.0  # when RUN_START was printed (if the process is killed before storing it)
    with (
        log.open("a") as out,
        subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=run_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if stop_at_start and f" - {RUN_START} - " in line:
                seen_start = time.time()
                process.kill()
                break
        process.wait()
    ended = time.time()
    if not stop_at_start and process.returncode:
        raise RuntimeError(
            f"{module} {first}..{last} failed (exit {process.returncode}); see {log}"
        )
    return read_run(home, started, 0.0 if stop_at_start else ended - started, seen_start)


def read_run(home: Path, started: float, wall: float, seen_start: float = 0.0) -> ContractRun:
    """The newest run of the instance at ``home``: start-up, steps and events."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs(limit=1)
        entries = instance.all_logs(run.run_id)
        run_start = next(
            (
                e.timestamp
                for e in entries
                if e.dagster_event and e.dagster_event.event_type == dg.DagsterEventType.RUN_START
            ),
            seen_start,
        )
        result = ContractRun(
            startup=run_start - started, wall=wall, steps=step_seconds(instance, run.run_id)
        )
        for entry in entries:
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                result.materializations += 1
                key = event.asset_key.to_user_string() if event.asset_key else "?"
                result.materializations_by_asset[key] = (
                    result.materializations_by_asset.get(key, 0) + 1
                )
            elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
                result.planned += 1
        with instance.event_log_storage.index_connection() as conn:  # ty: ignore[unresolved-attribute]
            result.planned_checks = conn.execute(
                sa.select(sa.func.count()).where(AssetCheckExecutionsTable.c.run_id == run.run_id)
            ).scalar_one()
    return result


def dbt_node_seconds(target_dir: Path, since: float) -> tuple[float, float]:
    """dbt's own node time (sum of every node's execution time: models, tests) and dbt's
    elapsed time, of the newest dagster-dbt invocation under ``target_dir`` after ``since``;
    zeros when there is none."""
    times = newest_dbt_times(target_dir, since)
    return (times.total, times.elapsed) if times else (0.0, 0.0)


def floor_env(directory: Path) -> dict[str, str]:
    """Settings of the trivial pipeline floor (benchmarks/floor), its dbt manifest prepared."""
    env = {
        **os.environ,
        "FLOOR_DUCKDB_PATH": str(directory / "floor.duckdb"),
        **RUN_BOOKKEEPING_ENV,  # as the project runs
    }
    subprocess.run(
        [venv_tool("dbt"), "parse", "--quiet", "--project-dir", str(DBT_DIR)],
        cwd=DBT_DIR,
        env={**env, "DBT_PROFILES_DIR": str(DBT_DIR)},
        capture_output=True,
        check=True,
    )
    return env
