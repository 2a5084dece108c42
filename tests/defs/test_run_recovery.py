"""Dead runs give their pool slots back; live ones are never touched; waits say who holds the pool.

The instance is a real one (the project's dagster.yaml in a temporary DAGSTER_HOME); a run "whose
process died" is a run tagged with the identity of a process the test started and killed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef

from pipelines.definitions import defs
from pipelines.defs.run_recovery import (
    LOG_PREFIX,
    RUN_ID_VARIABLE,
    PoolWaitWatch,
    Worker,
    current_worker,
    dead_run_recovery,
    process_started,
    recover_dead_runs,
    recovering_in_process_executor,
    this_host,
    wait_warn_seconds,
)
from pipelines.lib.partitions import WAREHOUSE_POOL

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).parent / "dagster")


def instance_at(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    with instance_at(home) as instance:
        yield instance


def dead_worker(**env: str) -> Worker:
    """The identity of a process that ran on this host and was killed."""
    process = subprocess.Popen(["sleep", "60"], env={**os.environ, **env})
    worker = Worker(this_host(), process.pid, process_started(process.pid) or "")
    process.kill()
    process.wait()
    return worker


def started_run(instance: dg.DagsterInstance, worker: Worker | None, step: str = "") -> str:
    """A STARTED run recorded on ``worker``, holding the pool's slot with ``step`` if given."""
    run = instance.add_run(
        dg.DagsterRun(
            job_name="__ASSET_JOB",
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags=worker.tags() if worker else {},
        )
    )
    if step:
        hold_slot(instance, run.run_id, step)
    return run.run_id


def hold_slot(instance: dg.DagsterInstance, run_id: str, step: str) -> None:
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    claim = storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, step)
    assert claim.is_claimed, claim


def holders(instance: dg.DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return {slot.run_id for slot in info.claimed_slots}


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    (event,) = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return event.event_log_entry.dagster_event.message


def test_a_run_whose_process_died_is_failed_and_its_slot_freed(instance) -> None:
    dead = started_run(instance, dead_worker(), step="kpi_dbt_models")
    assert holders(instance) == {dead}
    logged: list[str] = []
    assert recover_dead_runs(instance, logged.append) == [dead]
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    assert holders(instance) == set()
    (line,) = logged
    assert line.startswith(LOG_PREFIX) and dead in line
    assert f"{WAREHOUSE_POOL}/kpi_dbt_models" in line
    # The failure event (what a run-failure sensor reads) carries the same explanation.
    assert failure_message(instance, dead) == line
    # Once recovered it is left alone.
    assert recover_dead_runs(instance, logged.append) == []


def test_a_live_run_another_hosts_run_and_an_untagged_run_are_never_touched(instance) -> None:
    live = started_run(instance, current_worker(), step="ga4_raw")
    elsewhere = Worker("another-host", 1, "boot/1")
    remote = started_run(instance, elsewhere)
    untagged = started_run(instance, None)
    assert recover_dead_runs(instance, lambda _: None) == []
    for run_id in (live, remote, untagged):
        assert status(instance, run_id) == dg.DagsterRunStatus.STARTED
    assert holders(instance) == {live}


def test_a_reused_pid_does_not_pass_for_the_dead_runs_process(instance) -> None:
    # This test's own pid, with another start: the run's process died and its pid was reused.
    me = current_worker()
    reused = started_run(instance, Worker(me.host, me.pid, me.started + "0"), step="published")
    assert recover_dead_runs(instance, lambda _: None) == [reused]
    assert holders(instance) == set()


def test_processes_a_dead_run_left_running_are_stopped(instance) -> None:
    """dbt, started by a run that was then killed, keeps the DuckDB file locked until stopped."""
    run_id = str(uuid.uuid4())
    leftover = subprocess.Popen(["sleep", "300"], env={**os.environ, RUN_ID_VARIABLE: run_id})
    unrelated = subprocess.Popen(["sleep", "300"], env={**os.environ, RUN_ID_VARIABLE: "other"})
    try:
        instance.add_run(
            dg.DagsterRun(
                job_name="__ASSET_JOB",
                run_id=run_id,
                status=dg.DagsterRunStatus.STARTED,
                tags=dead_worker().tags(),
            )
        )
        logged: list[str] = []
        assert recover_dead_runs(instance, logged.append) == [run_id]
        assert leftover.wait(timeout=30) == -15  # SIGTERM
        assert unrelated.poll() is None
        assert str(leftover.pid) in logged[0]
    finally:
        for process in (leftover, unrelated):
            process.kill()
            process.wait()


def test_slots_still_held_by_ended_runs_are_freed(instance) -> None:
    """A run failed by hand (UI, or a recovery cut short) does not keep its slot either."""
    ended = started_run(instance, current_worker(), step="kpi_checks")
    instance.report_run_failed(instance.get_run_by_id(ended), "failed by hand")
    assert holders(instance) == {ended}
    logged: list[str] = []
    recover_dead_runs(instance, logged.append)
    assert holders(instance) == set()
    assert ended in logged[0] and "FAILURE" in logged[0]


def test_the_daemon_sensor_recovers_dead_runs(instance) -> None:
    dead = started_run(instance, dead_worker(), step="kpi_dbt_models")
    result = dead_run_recovery(dg.build_sensor_context(instance=instance))
    assert dead in result.skip_message
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    assert holders(instance) == set()
    assert defs.resolve_sensor_def("dead_run_recovery").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )


def test_a_waiting_run_says_which_run_holds_the_pool_and_since_when(instance) -> None:
    holder = started_run(instance, current_worker(), step="kpi_dbt_models")
    waiter = started_run(instance, current_worker())
    storage = instance.event_log_storage
    claim = storage.claim_concurrency_slot(WAREHOUSE_POOL, waiter, "published__marts")
    assert not claim.is_claimed
    enqueued = claim.enqueued_timestamp.replace(tzinfo=UTC).timestamp()
    logged: list[str] = []
    watch = PoolWaitWatch(instance, waiter, logged.append, warn_after=300)
    assert watch.poll(enqueued + 299) is None
    warning = watch.poll(enqueued + 300)
    assert warning == logged[0]
    assert "waiting 300 s for pool duckdb_warehouse" in warning
    assert f"held by run {holder} (step kpi_dbt_models, STARTED, pid {os.getpid()}" in warning
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"since {today}" in warning
    # Said again after another warn period, not at every poll.
    assert watch.poll(enqueued + 301) is None
    assert watch.poll(enqueued + 600) is not None
    assert status(instance, holder) == dg.DagsterRunStatus.STARTED


def test_a_waiting_run_recovers_a_holder_that_died_meanwhile(instance) -> None:
    holder = started_run(instance, dead_worker(), step="kpi_dbt_models")
    waiter = started_run(instance, current_worker())
    claim = instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, waiter, "step")
    assert not claim.is_claimed
    logged: list[str] = []
    watch = PoolWaitWatch(instance, waiter, logged.append, warn_after=300)
    assert watch.poll(time.time()) is None
    assert status(instance, holder) == dg.DagsterRunStatus.FAILURE
    assert holder in logged[0]
    claim = instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, waiter, "step")
    assert claim.is_claimed


def test_the_wait_warning_setting_is_checked(monkeypatch) -> None:
    monkeypatch.setenv("KPI_POOL_WAIT_WARN_SECONDS", "90")
    assert wait_warn_seconds() == 90
    monkeypatch.setenv("KPI_POOL_WAIT_WARN_SECONDS", "soon")
    with pytest.raises(ValueError, match="KPI_POOL_WAIT_WARN_SECONDS='soon'"):
        wait_warn_seconds()


def test_every_job_of_the_code_location_runs_on_the_recovering_executor() -> None:
    jobs = [defs.resolve_job_def("kpi_daily"), defs.resolve_job_def("kpi_freshness")]
    for job in [*jobs, defs.resolve_implicit_global_asset_job_def()]:
        assert job.executor_def is recovering_in_process_executor, job.name


def materialize(home: Path, cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``dagster asset materialize`` of the one-asset location in ``cwd``."""
    return subprocess.Popen(
        [DAGSTER, "asset", "materialize", "-m", "tests.run_recovery_defs", "--select", "*"],
        cwd=cwd,
        env={
            **os.environ,
            "DAGSTER_HOME": str(home),
            "PYTHONPATH": str(ROOT),
            "PYTHONWARNINGS": "ignore",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_cli_run_recovers_a_dead_holder_before_it_waits(home, instance, tmp_path) -> None:
    """The run contract's situation: a SIGKILLed run holds the slot and no daemon runs."""
    dead = started_run(instance, dead_worker(), step="kpi_dbt_models")
    run = materialize(home, tmp_path)
    output = run.communicate(timeout=300)[0]
    assert run.returncode == 0, output[-3000:]
    assert f"{LOG_PREFIX} run {dead}" in output
    assert "blocked by limit" not in output  # recovered before its step asked for the slot
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    (new,) = [r for r in instance.get_runs() if r.run_id != dead and r.job_name == "__ASSET_JOB"]
    assert new.status == dg.DagsterRunStatus.SUCCESS
    assert new.tags["kpi/worker_pid"] == str(run.pid)


def test_the_cli_run_says_who_holds_the_pool_while_it_waits(home, instance, tmp_path) -> None:
    holder = started_run(instance, current_worker(), step="kpi_dbt_models")
    run = materialize(home, tmp_path, KPI_POOL_WAIT_WARN_SECONDS="1")
    try:
        deadline = time.monotonic() + 240
        while not any(
            f"held by run {holder}" in (entry.user_message or "")
            for r in instance.get_runs()
            if r.run_id != holder
            for entry in instance.all_logs(r.run_id)
        ):
            assert run.poll() is None, run.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "no wait warning in the run's log"
            time.sleep(0.5)
        # The live holder is waited for, never failed; when it lets go, the run goes on.
        assert status(instance, holder) == dg.DagsterRunStatus.STARTED
        instance.event_log_storage.free_concurrency_slots_for_run(holder)
        output = run.communicate(timeout=120)[0]
    finally:
        run.kill()
    assert run.returncode == 0, output[-3000:]
    assert f"held by run {holder}" in output


def test_the_daemon_recovers_a_dead_run_by_itself(home, instance, tmp_path) -> None:
    """Under the daemon nothing may wait for a next run: the sensor (on by default) recovers."""
    dead = started_run(instance, dead_worker(), step="kpi_dbt_models")
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [f"{DAGSTER}-daemon", "run", "-m", "tests.run_recovery_defs"],
            cwd=tmp_path,
            env={
                **os.environ,
                "DAGSTER_HOME": str(home),
                "PYTHONPATH": str(ROOT),
                "PYTHONWARNINGS": "ignore",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240
        while status(instance, dead) != dg.DagsterRunStatus.FAILURE:
            assert daemon.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    assert holders(instance) == set()
    assert failure_message(instance, dead).startswith(f"{LOG_PREFIX} run {dead}")


def test_processes_started_in_different_directories_share_one_instance(home, tmp_path) -> None:
    """dagster.yaml's storage is anchored to DAGSTER_HOME, not to the working directory."""
    script = (
        "import sys, dagster as dg\n"
        "with dg.DagsterInstance.get() as instance:\n"
        "    storage = instance.event_log_storage\n"
        "    if sys.argv[1] == 'set':\n"
        "        storage.set_concurrency_slots('probe', 3)\n"
        "    print(storage.get_concurrency_info('probe').slot_count)\n"
    )
    counts = []
    for name, action in (("a", "set"), ("b", "get")):
        cwd = tmp_path / name
        cwd.mkdir()
        done = subprocess.run(
            [sys.executable, "-c", script, action],
            cwd=cwd,
            env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"},
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(done.stdout.split()[-1])
        assert list(cwd.iterdir()) == []  # nothing of the instance lands in the working dir
    assert counts == ["3", "3"]
    assert (home / "history").is_dir()


def relative_base_dirs(config: object) -> list[str]:
    """Every ``base_dir`` given as a relative path anywhere in an instance config."""
    if isinstance(config, dict):
        found = [
            value
            for key, value in config.items()
            if key == "base_dir" and isinstance(value, str) and not Path(value).is_absolute()
        ]
        return found + [d for value in config.values() for d in relative_base_dirs(value)]
    return []


@pytest.mark.parametrize("profile", ["dagster.yaml", "deploy/dagster.production.yaml"])
def test_both_instance_profiles_monitor_runs_and_anchor_their_paths(profile: str) -> None:
    config = yaml.safe_load((ROOT / profile).read_text())
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] and monitoring["free_slots_after_run_end_seconds"] > 0
    assert relative_base_dirs(config) == []
