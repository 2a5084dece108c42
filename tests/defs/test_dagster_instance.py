"""The project's Dagster instance (pipelines/lib/dagster_instance.py): its SQLite event log: what it stores equals what
Dagster's own SQLite storage stores, in batches or one event at a time; runs are planned once per
asset; the UI's run-log watcher still sees new events; other processes read what it wrote."""

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.lib.dagster_instance import (
    OPEN_RUN_DATABASES,
    KpiDagsterInstance,
    PlannedByOwnPartitionsRunDomain,
    PooledSqliteEventLogStorage,
)
from pipelines.lib.partitions import RUN_BOOKKEEPING_ENV
from tests.defs import range_location
from tests.defs.range_location import summary, visits_raw

ROOT = Path(__file__).resolve().parents[2]
LOCATION = Path(range_location.__file__)
RANGE = ("2026-01-01", "2026-01-03")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml and its bookkeeping settings."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name, value in RUN_BOOKKEEPING_ENV.items():
        monkeypatch.setenv(name, value)
    return home


def run_range(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = dg.Definitions(assets=[visits_raw, summary]).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": RANGE[0],
            "dagster/asset_partition_range_end": RANGE[1],
        },
    )


def stored(instance: dg.DagsterInstance, run_id: str) -> dict:
    """What a storage holds for a run, in Dagster's own query API."""
    storage = instance.event_log_storage
    records = storage.get_records_for_run(run_id).records
    check_key = dg.AssetCheckKey(dg.AssetKey("summary"), "positive")
    return {
        "events": [r.event_log_entry.dagster_event_type for r in records],
        "materialized": storage.get_materialized_partitions(dg.AssetKey("visits_raw")),
        "latest": {
            key.to_user_string(): (
                record.asset_entry.last_materialization.dagster_event.partition
                if record.asset_entry.last_materialization
                else None
            )
            for record in storage.get_asset_records()
            for key in [record.asset_entry.asset_key]
        },
        "checks": sorted(
            (r.status.value, r.partition)
            for r in storage.get_asset_check_execution_history(check_key, limit=100)
        ),
    }


def test_the_project_instance_uses_the_pooled_storage_in_its_home(home, tmp_path) -> None:
    """Loaded through DAGSTER_HOME or from its folder, the event logs are in the home's
    ``history/runs``, where Dagster's default storage keeps them."""
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance, KpiDagsterInstance)
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        assert Path(storage._base_dir) == home / "history" / "runs"
        assert Path(instance.run_storage._conn_string.split("///")[-1]).parent == home / "history"
    other = tmp_path / "other_home"
    other.mkdir()
    shutil.copy(home / "dagster.yaml", other / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(other)) as instance:
        assert Path(instance.event_log_storage._base_dir) == other / "history" / "runs"


def test_a_range_run_stores_what_dagsters_storage_stores(home, tmp_path) -> None:
    """The same run on the project's storage and on Dagster's plain SQLite storage: same events
    in the same order, same partitions, same latest materializations, same check rows. (Both plan
    the run as the project's instance does: how Dagster's own planning differs is the test of
    the run contract command below.)"""
    with dg.DagsterInstance.get() as instance:
        ours = stored(instance, run_range(instance).run_id)
    plain_home = tmp_path / "plain"
    plain_home.mkdir()
    with dg.instance_for_test(temp_dir=str(plain_home)) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        instance.__dict__["run_domain"] = PlannedByOwnPartitionsRunDomain(instance)
        theirs = stored(instance, run_range(instance).run_id)
    assert ours == theirs
    # the structure of a 3-day range run: each asset planned once, the daily asset recorded
    # once per day, the summary once
    assert ours["events"].count(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED) == 2
    assert ours["events"].count(dg.DagsterEventType.ASSET_MATERIALIZATION) == 4
    assert ours["materialized"] == {"2026-01-01", "2026-01-02", "2026-01-03"}


def test_a_batch_is_stored_as_its_events_one_by_one(home, tmp_path) -> None:
    """``store_event_batch`` writes what ``store_event`` writes for each event."""
    with dg.DagsterInstance.get() as instance:
        result = run_range(instance)
        entries = [
            r.event_log_entry
            for r in instance.event_log_storage.get_records_for_run(result.run_id).records
        ]
    one_by_one = PooledSqliteEventLogStorage(str(tmp_path / "single"))
    batched = PooledSqliteEventLogStorage(str(tmp_path / "batched"))
    for entry in entries:
        one_by_one.store_event(entry)
    batched.store_event_batch(entries)
    for storage in (one_by_one, batched):
        assert storage.get_materialized_partitions(dg.AssetKey("visits_raw")) == {
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
        }

    def contents(storage: PooledSqliteEventLogStorage) -> tuple:
        records = storage.get_records_for_run(result.run_id).records
        assets = sorted(
            (r.asset_entry.asset_key.to_user_string(), r.asset_entry.last_run_id)
            for r in storage.get_asset_records()
        )
        check_key = dg.AssetCheckKey(dg.AssetKey("summary"), "positive")
        checks = [
            (r.status, r.partition)
            for r in storage.get_asset_check_execution_history(check_key, limit=10)
        ]
        return [r.event_log_entry for r in records], assets, checks

    assert contents(one_by_one) == contents(batched)
    assert contents(batched)[0] == entries


def test_the_run_log_watcher_sees_events_written_to_the_write_ahead_log(home) -> None:
    """The UI follows a run through ``watch``: the run's database file changes only at
    checkpoints, so the watcher must be woken by its ``-wal`` file."""
    with dg.DagsterInstance.get() as instance:
        result = run_range(instance)
        storage = instance.event_log_storage
        seen = threading.Event()
        cursor = str(storage.get_records_for_run(result.run_id).cursor)
        storage.watch(result.run_id, cursor, lambda entry, _cursor: seen.set())
        try:
            instance.report_engine_event("still here", instance.get_run_by_id(result.run_id))
            assert seen.wait(timeout=20)
        finally:
            storage.end_watch(result.run_id, next(iter(storage._watchers[result.run_id])))


def test_another_process_reads_what_was_written_while_connections_stay_open(home) -> None:
    with dg.DagsterInstance.get() as instance:
        run_id = run_range(instance).run_id
        count = len(instance.event_log_storage.get_records_for_run(run_id).records)
        code = (
            "import dagster as dg\n"
            "with dg.DagsterInstance.get() as i:\n"
            f"    print(len(i.event_log_storage.get_records_for_run({run_id!r}).records))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert int(out.strip().splitlines()[-1]) == count


def test_open_run_databases_are_bounded(tmp_path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    for n in range(OPEN_RUN_DATABASES + 4):
        storage.store_event(
            dg.EventLogEntry(
                error_info=None,
                level=20,
                user_message="hello",
                run_id=f"run-{n}",
                timestamp=1.0,
            )
        )
    assert len(storage._engines) == OPEN_RUN_DATABASES + 1  # the runs kept, and the index
    assert [
        r.event_log_entry.user_message for r in storage.get_records_for_run("run-0").records
    ] == ["hello"]
    storage.dispose()


def materialize_range(home: Path) -> dict:
    """The run contract command (``dagster asset materialize --partition-range``) on the
    instance at ``home``; what it stored for the run."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            *("asset", "materialize", "-f", str(LOCATION), "--select", "*"),
            *("--partition-range", f"{RANGE[0]}...{RANGE[1]}"),
        ],
        env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        check=True,
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(run.run_id).records
        planned = {
            r.event_log_entry.dagster_event.asset_key.to_user_string(): (
                r.event_log_entry.dagster_event.event_specific_data.partitions_subset
            )
            for r in records
            if r.event_log_entry.dagster_event_type
            == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        }
        check_key = dg.AssetCheckKey(dg.AssetKey("summary"), "positive")
        checks = sorted(
            (r.status.value, r.partition)
            for r in instance.event_log_storage.get_asset_check_execution_history(check_key, 100)
        )
    return {"planned": planned, "checks": checks}


def test_an_unpartitioned_check_of_a_range_run_is_planned_once(home, tmp_path) -> None:
    """Through the run contract command, Dagster gives an unpartitioned asset and its check the
    days of the run: on its own storage, the check's three planned rows stay "planned" beside
    the row its evaluation writes. The project's instance plans them once, and the evaluation
    completes that row; the partitioned asset keeps its days."""
    plain_home = tmp_path / "plain"
    plain_home.mkdir()
    (plain_home / "dagster.yaml").write_text("")
    theirs = materialize_range(plain_home)
    assert theirs["checks"] == [
        ("PLANNED", "2026-01-01"),
        ("PLANNED", "2026-01-02"),
        ("PLANNED", "2026-01-03"),
        ("SUCCEEDED", None),
    ]
    ours = materialize_range(home)
    assert ours["checks"] == [("SUCCEEDED", None)]
    assert ours["planned"]["summary"] is None
    assert ours["planned"]["visits_raw"].get_partition_keys() == list(
        theirs["planned"]["visits_raw"].get_partition_keys()
    )
    assert len(ours["planned"]["visits_raw"].get_partition_keys()) == 3


def test_a_present_table_is_looked_up_once(tmp_path, monkeypatch) -> None:
    """Dagster asks whether the check table exists before every check evaluation."""
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    asked: list[str] = []
    looked_up = SqliteEventLogStorage.has_table

    def counted(self, name: str) -> bool:
        asked.append(name)
        return looked_up(self, name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counted)
    assert all(storage.has_table("asset_check_executions") for _ in range(3))
    assert not storage.has_table("no_such_table")
    assert not storage.has_table("no_such_table")
    assert asked == ["asset_check_executions", "no_such_table", "no_such_table"]
    storage.dispose()
