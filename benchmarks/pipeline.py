"""The real pipeline timed by stage: every source, dbt and the checks, as ``kpi demo`` runs them.

A run is the ``kpi_daily`` job (every asset and check) executed in this process for a partition
range (one run for the whole range, as the run contract and ``kpi demo`` do), against the API
emulators running as a separate process (as in the demo, so the emulators' own work does not share
this process). The run's event log gives each step's wall time; the stages are:

- extract: the source steps' time outside the raw loader (API calls, paging, parsing to Arrow),
- load:    time inside ``pipelines.warehouse.raw_loader`` (Arrow -> raw tables, one transaction per window),
- dbt:     the dbt step minus its data tests (``dbt build``: parse, models, incremental windows),
- checks:  dbt data tests (dbt's own node times, from the invocation's ``dbt.log``) plus the Python asset-check steps,
- other:   catalog, targets, revisions, publishing the marts and the scorecard,
- orchestration: the run's wall time outside every step (Dagster's run start, step hand-offs).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.dbt import DBT_PROJECT_DIR, DbtNodeTimes, dbt_node_times
from pipelines.warehouse import raw_loader

STAGES = ("extract", "load", "dbt", "checks", "other", "orchestration")
DBT_STEP = "kpi_dbt_models"
# Step keys are op names or asset-key paths joined by "__" (e.g. "published__marts").
CHECK_STEPS = ("kpi_checks", "source_freshness_checks", "reconciles")
OTHER_STEPS = ("kpi_catalog", "kpi_targets", "kpi_revisions", "published__", "reports__")


@dataclass
class StageTimes:
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    wall: float = 0.0  # the whole run, start to finish
    steps: dict[str, float] = field(default_factory=dict)  # per step, for the report's detail

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


class LoadTimer:
    """Time spent inside the raw loader's public functions, wherever a pipeline imported them."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0
        self._patched: list[tuple[Any, str, Callable]] = []

    def _wrap(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.seconds += time.perf_counter() - started

        return timed

    def __enter__(self) -> LoadTimer:
        public = {
            name: fn
            for name, fn in vars(raw_loader).items()
            if callable(fn)
            and not name.startswith("_")
            and getattr(fn, "__module__", "") == raw_loader.__name__
        }
        for module in [m for n, m in sys.modules.items() if n.startswith("pipelines.")]:
            if module is raw_loader:
                continue
            for name, fn in public.items():
                if getattr(module, name, None) is fn:
                    self._patched.append((module, name, fn))
                    setattr(module, name, self._wrap(fn))
        return self

    def __exit__(self, *exc: object) -> None:
        for module, name, fn in self._patched:
            setattr(module, name, fn)


@contextmanager
def emulators(directory: Path) -> Iterator[dict[str, str]]:
    """The demo's emulators (``python -m sources.emulators``) and the settings pointing at them."""
    from pipelines.demo import emulators as demo_emulators

    directory.mkdir(parents=True, exist_ok=True)
    with demo_emulators(directory / "service_account.json") as settings:
        yield settings


def newest_dbt_times(target_dir: Path, since: float) -> DbtNodeTimes | None:
    """dbt's own timing of the newest dagster-dbt invocation under ``target_dir`` (its folders
    ``<op>-<hash>/``) whose ``dbt.log`` was written after ``since``."""
    logs = [p for p in target_dir.glob("*/dbt.log") if p.stat().st_mtime >= since]
    return dbt_node_times(max(logs, key=lambda p: p.stat().st_mtime).parent) if logs else None


def dbt_test_seconds(since: float) -> float:
    """Execution time of the data tests in the newest dbt invocation that started after ``since``."""
    times = newest_dbt_times(DBT_PROJECT_DIR / "target", since)
    if times is None:
        return 0.0
    return sum(seconds for node, seconds in times.nodes.items() if node.startswith("test."))


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall seconds per step, from the run's STEP_START and STEP_SUCCESS/FAILURE events."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            seconds[event.step_key] = entry.timestamp - started.get(event.step_key, entry.timestamp)
    return seconds


@contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Send the run's own output (Dagster's log lines, dbt's) to ``log``: the report stays legible."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_pipeline(settings: dict[str, str], database: Path, start: date, end: date) -> StageTimes:
    """One ``kpi_daily`` run for ``[start, end)`` (end exclusive) into ``database``."""
    os.environ.update(settings)
    os.environ["KPI_DUCKDB_PATH"] = str(database)
    os.environ["KPI_PUBLISH_DIR"] = str(database.parent / f"{database.stem}-published")
    os.environ["KPI_REPORTS_DIR"] = str(database.parent / f"{database.stem}-reports")
    os.environ.setdefault("KPI_START_DATE", "2024-01-01")
    from pipelines.definitions import defs

    job = defs.resolve_job_def("kpi_daily")
    instance = dg.DagsterInstance.ephemeral()
    began = time.time()
    with quiet(database.parent / "pipeline.log"), LoadTimer() as loads:
        t0 = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": (end - timedelta(days=1)).isoformat(),
            },
            raise_on_error=True,
        )
        wall = time.perf_counter() - t0
    steps = step_seconds(instance, result.run_id)
    tests = dbt_test_seconds(began)
    times = StageTimes(wall=wall, steps=steps)
    for step, seconds in steps.items():
        if step == DBT_STEP:
            times.seconds["dbt"] += seconds - tests
            times.seconds["checks"] += tests
        elif any(name in step for name in CHECK_STEPS):
            times.seconds["checks"] += seconds
        elif any(name in step for name in OTHER_STEPS):
            times.seconds["other"] += seconds
        else:
            times.seconds["extract"] += seconds
    times.seconds["extract"] -= loads.seconds
    times.seconds["load"] += loads.seconds
    times.seconds["orchestration"] = max(0.0, wall - sum(steps.values()))
    return times


def backfill(
    settings: dict[str, str], database: Path, start: date, end: date, chunk_days: int
) -> None:
    """Build history ``[start, end)`` in runs of ``chunk_days`` (keeps each run's memory bounded)."""
    day = start
    while day < end:
        stop = min(day + timedelta(days=chunk_days), end)
        run_pipeline(settings, database, day, stop)
        day = stop
