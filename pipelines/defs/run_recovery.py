"""Runs whose process died (SIGKILL, the OOM killer, a reboot) are failed and free the pool.

A run that dies without Dagster noticing stays ``STARTED`` and keeps the ``duckdb_warehouse``
slot: every later run waits forever ("Step blocked by limit for pool"). Dagster's own run
monitoring cannot see it with the default run launcher (no worker health check) and the CLI has no
daemon at all, so the project does it:

* every run is tagged when it starts with the host, pid and process start time of its worker
  (the start time tells a reused pid apart);
* before its steps run, and again every few seconds while one of its steps waits on a pool, a run
  looks for ``STARTED`` runs of this host whose worker is gone, kills what they left behind (a dbt
  process still writing the file), marks them ``FAILURE`` (the run-failure sensor sees that) and
  frees their pool slots; slots still held by runs that already ended are freed too;
* under the daemon the sensor ``dead_run_recovery`` does the same every minute, for runs stuck in
  the queue that never reach their executor;
* a run waiting on a pool longer than ``KPI_POOL_WAIT_WARN_SECONDS`` (default 300) logs which run
  holds the slot and since when.

A run whose worker is alive, however long it takes, is never touched; nor is a run of another host.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.lib.settings import env, environment

HOST_TAG = "kpi/worker_host"
PID_TAG = "kpi/worker_pid"
STARTED_TAG = "kpi/worker_started"
# Inherited by every process the run starts (dbt), so a dead run's leftovers can be found.
RUN_ID_VARIABLE = "KPI_RUN_ID"
WAIT_WARN_VARIABLE = "KPI_POOL_WAIT_WARN_SECONDS"
DEFAULT_WAIT_WARN_SECONDS = 300.0
WATCH_INTERVAL_SECONDS = 5.0
LEFTOVER_GRACE_SECONDS = 10.0
LOG_PREFIX = "run recovery:"

Log = Callable[[str], Any]


@dataclass(frozen=True)
class Worker:
    """The process executing a run: host, pid, and an identity of that process's start."""

    host: str
    pid: int
    started: str

    def tags(self) -> dict[str, str]:
        return {HOST_TAG: self.host, PID_TAG: str(self.pid), STARTED_TAG: self.started}

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"

    def is_gone(self) -> bool:
        """True only when this host can tell the process no longer runs (or its pid was reused)."""
        if self.host != this_host():
            return False
        return process_started(self.pid) != self.started


def this_host() -> str:
    """The host name, plus the pid namespace when there is one (containers sharing a host name
    see different processes under the same pids)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # e.g. "pid:[4026531836]"
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()} {namespace}"


def process_started(pid: int) -> str | None:
    """An identity of the start of process ``pid`` (boot id + start tick); None if it is gone.

    A zombie counts as gone. Without ``/proc`` (not Linux) the identity is ``""`` while the pid
    exists, so a reused pid would pass for the old process there.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""
        return ""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # Fields after the command name, which is in parentheses and may itself hold spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], fields[19]
    if state in ("Z", "X"):
        return None
    boot = (proc / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    return f"{boot}/{start_ticks}"


def current_worker() -> Worker:
    pid = os.getpid()
    return Worker(this_host(), pid, process_started(pid) or "")


def worker_of(run: dg.DagsterRun) -> Worker | None:
    """The worker recorded on ``run``, or None for a run started without the tags."""
    tags = run.tags
    if not {HOST_TAG, PID_TAG, STARTED_TAG} <= tags.keys():
        return None
    return Worker(tags[HOST_TAG], int(tags[PID_TAG]), tags[STARTED_TAG])


def leftover_processes(run_id: str) -> list[int]:
    """Processes still running with ``KPI_RUN_ID=<run_id>`` in their environment (Linux)."""
    marker = f"\0{RUN_ID_VARIABLE}={run_id}\0".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            environment = b"\0" + (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or another user's
            continue
        if marker in environment and process_started(pid) is not None:
            found.append(pid)
    return found


def stop_processes(pids: list[int], grace_seconds: float = LEFTOVER_GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL whatever still runs after ``grace_seconds``."""
    started = {pid: process_started(pid) for pid in pids}
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if all(process_started(pid) != started[pid] for pid in pids):
            return
        time.sleep(0.2)
    for pid in pids:
        if process_started(pid) == started[pid]:
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


RUNNING = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
ENDED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


def recover_dead_runs(instance: dg.DagsterInstance, log: Log, *, exclude: str = "") -> list[str]:
    """Fail every running run of this host whose worker is gone, free its slots; return their ids.

    Also frees slots still held by runs that already ended (a run failed by hand, say).
    ``exclude`` is the calling run. Each recovery is logged through ``log`` with the run's id.
    """
    recovered = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=RUNNING)):
        run = record.dagster_run
        worker = worker_of(run)
        if run.run_id == exclude or worker is None or not worker.is_gone():
            continue
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status not in RUNNING:
            continue  # it ended (or another run recovered it) meanwhile
        leftovers = leftover_processes(run.run_id) if Path("/proc").is_dir() else []
        stop_processes(leftovers)
        slots = held_slots(instance, run.run_id)
        started = _when(record.start_time)
        message = (
            f"{LOG_PREFIX} run {run.run_id} ({run.job_name}, started {started}) lost its process "
            f"({worker.describe()} is gone: killed, out of memory or a reboot). Marked failed"
            + (f"; freed its pool slot(s) {', '.join(slots)}" if slots else "")
            + (f"; stopped processes it left running: {leftovers}" if leftovers else "")
            + ". Its partition window is not complete: the next run of that window rebuilds it."
        )
        instance.report_run_failed(current, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log(message)
        recovered.append(run.run_id)
    free_slots_of_ended_runs(instance, log)
    return recovered


def held_slots(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``pool/step`` of every pool slot ``run_id`` holds."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    infos = storage.get_concurrency_infos(list(storage.get_concurrency_keys()))
    return [
        f"{pool}/{slot.step_key}"
        for pool, info in infos.items()
        for slot in info.claimed_slots
        if slot.run_id == run_id
    ]


def free_slots_of_ended_runs(instance: dg.DagsterInstance, log: Log) -> list[str]:
    """Free pool slots held by runs that ended or no longer exist; return those run ids."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    infos = storage.get_concurrency_infos(list(storage.get_concurrency_keys()))
    holders = {slot.run_id for info in infos.values() for slot in info.claimed_slots}
    freed = []
    for run_id in sorted(holders):
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status not in ENDED:
            continue
        storage.free_concurrency_slots_for_run(run_id)
        status = run.status.value if run else "deleted"
        log(f"{LOG_PREFIX} freed the pool slot(s) still held by run {run_id} ({status})")
        freed.append(run_id)
    return freed


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "at an unknown time"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def wait_warn_seconds() -> float:
    """``KPI_POOL_WAIT_WARN_SECONDS`` (default 300): how long a step waits before it says why."""
    raw = env(WAIT_WARN_VARIABLE, str(DEFAULT_WAIT_WARN_SECONDS))
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"{WAIT_WARN_VARIABLE}={raw!r} is not a number of seconds; set it to e.g. 300"
        ) from None
    if value <= 0:
        raise ValueError(f"{WAIT_WARN_VARIABLE}={raw!r} must be positive; set it to e.g. 300")
    return value


class PoolWaitWatch:
    """While a run's steps wait on a pool: recover dead holders, and say who holds the slot."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, log: Log, warn_after: float
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.log = log
        self.warn_after = warn_after
        self.next_warning: float | None = None

    def poll(self, now: float) -> str | None:
        """One look at the pools at time ``now``; returns the warning logged, if any."""
        storage = self.instance.event_log_storage
        infos = storage.get_concurrency_infos(list(storage.get_concurrency_keys()))
        waiting = {
            pool: min(
                step.enqueued_timestamp.timestamp()
                for step in info.pending_steps
                if step.run_id == self.run_id and step.assigned_timestamp is None
            )
            for pool, info in infos.items()
            if any(
                step.run_id == self.run_id and step.assigned_timestamp is None
                for step in info.pending_steps
            )
        }
        if not waiting:
            self.next_warning = None
            return None
        if recover_dead_runs(self.instance, self.log, exclude=self.run_id):
            return None  # the slot was freed: the step takes it at its next check
        since = min(waiting.values())
        if self.next_warning is None:
            self.next_warning = since + self.warn_after
        if now < self.next_warning:
            return None
        self.next_warning = now + self.warn_after
        holders = "; ".join(
            self.describe_holders(pool, infos[pool].claimed_slots, infos[pool].pending_steps)
            for pool in sorted(waiting)
        )
        message = (
            f"{LOG_PREFIX} waiting {round(now - since)} s for pool "
            f"{', '.join(sorted(waiting))}: {holders}"
        )
        self.log(message)
        return message

    def describe_holders(self, pool: str, claimed: list, pending: list) -> str:
        holders = [slot for slot in claimed if slot.run_id != self.run_id]
        if not holders:
            return f"{pool}: no other run holds a slot (the pool's limit is 0?)"
        assigned = {
            (step.run_id, step.step_key): step.assigned_timestamp
            for step in pending
            if step.assigned_timestamp is not None
        }
        parts = []
        for slot in holders:
            record = next(
                iter(self.instance.get_run_records(dg.RunsFilter(run_ids=[slot.run_id]))), None
            )
            claimed_at = assigned.get((slot.run_id, slot.step_key))
            since = _when(claimed_at.timestamp()) if claimed_at else "an unknown time"
            status = record.dagster_run.status.value if record else "unknown"
            worker = worker_of(record.dagster_run) if record else None
            parts.append(
                f"{pool} is held by run {slot.run_id} (step {slot.step_key}, {status}"
                + (f", {worker.describe()}" if worker else "")
                + f") since {since}; run started {_when(record.start_time if record else None)}"
            )
        return "; ".join(parts)


class _Watcher(threading.Thread):
    def __init__(self, watch: PoolWaitWatch, interval: float) -> None:
        super().__init__(name="kpi-pool-wait-watch", daemon=True)
        self.watch = watch
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.watch.poll(time.time())
            except Exception as exc:  # a failed look must never fail the run
                self.watch.log(f"{LOG_PREFIX} could not check the pools: {exc}")


class RecoveringExecutor(dg.Executor):
    """The in-process executor, plus: tag the worker, recover dead runs, watch pool waits."""

    def __init__(self, inner: dg.Executor) -> None:
        self.inner = inner

    @property
    def retries(self) -> Any:
        return self.inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self.inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        instance: dg.DagsterInstance = plan_context.instance
        run_id: str = plan_context.run_id
        log = plan_context.log.warning
        instance.add_run_tags(run_id, current_worker().tags())
        watcher = _Watcher(
            PoolWaitWatch(instance, run_id, log, wait_warn_seconds()), WATCH_INTERVAL_SECONDS
        )
        with environment({RUN_ID_VARIABLE: run_id}):
            try:
                recover_dead_runs(instance, log, exclude=run_id)
                watcher.start()
                yield from self.inner.execute(plan_context, execution_plan)
            finally:
                watcher.stopped.set()


@dg.executor(
    name="in_process_recovering",
    config_schema=dg.in_process_executor.config_schema,
)
def recovering_in_process_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Dagster's in-process executor that first recovers dead runs and reports pool waits."""
    return RecoveringExecutor(dg.in_process_executor.executor_creation_fn(init_context))


@dg.sensor(
    name="dead_run_recovery",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every minute: fail runs whose process died and free their pool slots "
    "(runs queued behind them could never start).",
)
def dead_run_recovery(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    recovered = recover_dead_runs(context.instance, context.log.warning)
    if recovered:
        return dg.SkipReason(f"recovered dead run(s) {', '.join(recovered)}")
    return dg.SkipReason("no dead runs")
