"""The Dagster instance of ``dagster.yaml``: Dagster's SQLite storage, its event log pooled.

``instance_class: KpiDagsterInstance`` makes ``PooledSqliteStorage`` the default storage of every
instance loaded from a home with that file (the CLI, the webserver, the daemon, run workers): runs
and schedules as Dagster stores them, and ``PooledSqliteEventLogStorage`` for events.

Dagster's own ``SqliteEventLogStorage`` builds a new SQLAlchemy engine and opens a new connection
for every write, and each write commits on its own. The databases are in WAL mode, so closing the
last connection checkpoints the log into the database and syncs it to disk: about 7 ms per
materialization event on this project's machines (4 transactions each), which made run start-up
and the dbt step mostly bookkeeping (docs/performance.md). This storage keeps everything else of
Dagster's (schema, file layout under ``$DAGSTER_HOME/history/runs``, migrations, queries) and
changes how it writes:

- one engine per database file, kept (SQLAlchemy caches compiled statements per engine) with one
  pooled connection, so the write-ahead log stays open between writes instead of being
  checkpointed and synced after each one;
- ``synchronous=NORMAL``, SQLite's recommended setting in WAL mode: a commit no longer waits for
  the disk. The database stays consistent through a crash of the process or the machine; a power
  loss may drop the last events written before it;
- a watched run (the UI following a run's log) is notified when its write-ahead log changes,
  since the database file itself changes only at checkpoints;
- whether a table exists (asked before every check evaluation and materialization) is looked up
  once per table, not with a new engine each time;
- a batch of events (a run's plan, a step's materializations of every day of a range; Dagster
  sends batches when ``DAGSTER_EVENT_BATCH_SIZE`` is set) is written in one transaction per
  database instead of one per event;
- a partitioned check planned for every day of a run is serialized once and inserted with one
  prepared statement, not serialized and compiled into one VALUES row per day.

The instance also plans runs as their assets are partitioned: Dagster gives an asset or check
that has no partitions the days of a partitioned run, so each unpartitioned check of a 90-day run
left 90 rows "planned" beside the one its evaluation wrote (``PlannedByOwnPartitionsRunDomain``).

Decision 65 in docs/decisions.md.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import yaml
from dagster import DagsterInstance
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
    AssetCheckEvaluationPlanned,
    DagsterEventType,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef, _event_logs_directory
from dagster._core.instance.runs.run_domain import RunDomain
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData, serialize_value
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from watchdog.observers import Observer

# Run databases kept open besides the index: a run writes to its own, the UI reads a few.
OPEN_RUN_DATABASES = 8


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` writing through kept engines and pooled WAL connections."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The kept engine of one database file; the least recently used run's is closed."""
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            pool_size=1,
            max_overflow=4,  # Dagster nests a connection or two (migrations, reflection)
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        self._engines[shard] = engine
        runs = [name for name in self._engines if name != "index"]
        for name in runs[: max(0, len(runs) - OPEN_RUN_DATABASES)]:
            self._engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before every check evaluation and materialization (a new engine each
        time); a table, once there, stays (migrations only add them)."""
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def delete_events(self, run_id: str) -> None:
        super().delete_events(run_id)
        with self._db_lock:
            if engine := self._engines.pop(run_id, None):
                engine.dispose()

    def wipe(self) -> None:
        self._dispose_engines()
        self._tables_present.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        """As Dagster watches a run's log, with the watcher that also sees its ``-wal`` file."""
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _WalWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (
            watchdog,
            self._obs.schedule(watchdog, self._base_dir, recursive=True),
        )

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """What ``store_event`` writes for each event, in one transaction per database, each
        event serialized once and every row inserted with the same compiled statement."""
        rows = [self._event_to_row(entry) for entry in events]
        by_run: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry, row in zip(events, rows, strict=True):
            by_run[entry.run_id].append(row)
        for run_id, run_rows in by_run.items():
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.insert(), run_rows)
        checks: list[tuple[EventLogEntry, int]] = []
        with self.index_transaction() as conn:
            for entry, row in zip(events, rows, strict=True):
                kind = entry.dagster_event_type if entry.is_dagster_event else None
                if not (
                    kind in ASSET_EVENTS
                    or kind in ASSET_CHECK_EVENTS
                    or kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS
                ):
                    continue
                inserted = conn.execute(SqlEventLogStorageTable.insert(), row)
                event_id = inserted.inserted_primary_key[0]
                if kind in ASSET_EVENTS:
                    if event_id is None:
                        raise DagsterInvariantViolationError(
                            "Cannot store asset event tags for null event id."
                        )
                    self._store_asset_event_tags(conn, [entry], [event_id])
                    self._store_asset_event(conn, entry, event_id)
                elif kind == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
                    self._insert_check_planned(conn, entry, event_id, row["event"])
                elif kind in ASSET_CHECK_EVENTS:
                    checks.append((entry, event_id))
        for entry, event_id in checks:  # evaluations: each opens its own index connection
            self.store_asset_check_event(entry, event_id)

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        """A run over many days plans each asset once, with its range (decision in
        docs/decisions.md), whichever process creates the run."""
        return True

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        with self.index_connection() as conn:
            self._insert_check_planned(conn, event, event_id)

    def _insert_check_planned(
        self,
        conn: Connection,
        event: EventLogEntry,
        event_id: int | None,
        serialized: str | None = None,
    ) -> None:
        """As Dagster stores a planned check (a row per partition planned, one if none),
        serializing the event once (or reusing ``serialized``) and inserting the rows with one
        prepared statement."""
        planned: AssetCheckEvaluationPlanned = event.get_dagster_event().event_specific_data  # type: ignore[assignment]
        keys = (
            planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        )
        common = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialized or serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        conn.execute(
            AssetCheckExecutionsTable.insert(), [{**common, "partition": key} for key in keys]
        )


class _WalWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's run-log watcher, also woken by the run database's write-ahead log."""

    def __init__(self, storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: Any):
        super().__init__(storage, run_id, callback, cursor)
        self._paths = {self._log_path, f"{self._log_path}-wal"}
        self._patterns = list(self._paths)

    def on_modified(self, event: Any) -> None:
        if event.src_path in self._paths:
            self._process_log()


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage under an instance's home, with ``PooledSqliteEventLogStorage``
    for its event logs (same folder: ``history/runs``)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @property
    def event_storage_data(self) -> ConfigurableClassData:
        return ConfigurableClassData(
            __name__,
            PooledSqliteEventLogStorage.__name__,
            yaml.dump({"base_dir": _event_logs_directory(self.base_dir)}),
        )


class _RunByOwnPartitions:
    """A run as ``RunDomain._log_asset_planned_events`` reads it, except that an asset or check
    without partitions is given none: Dagster's ``DagsterRun`` returns the run's stored subset
    (every day of the range) whatever the partitions definition it is asked about."""

    def __init__(self, run: DagsterRun):
        self._run = run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._run, name)

    def get_resolved_partitions_subset_for_events(self, partitions_def: Any) -> Any:
        if partitions_def is None:
            return None
        return self._run.get_resolved_partitions_subset_for_events(partitions_def)


class PlannedByOwnPartitionsRunDomain(RunDomain):
    """Dagster's run domain, planning an unpartitioned asset or check of a partitioned run once
    (one planned check row, which its evaluation then completes), not once per day of the run."""

    def _log_asset_planned_events(
        self, dagster_run: DagsterRun, execution_plan_snapshot: Any, asset_graph: Any
    ) -> None:
        super()._log_asset_planned_events(
            _RunByOwnPartitions(dagster_run),  # type: ignore[arg-type]
            execution_plan_snapshot,
            asset_graph,
        )


class KpiDagsterInstance(DagsterInstance):
    """A Dagster instance whose default storage (no ``storage`` in ``dagster.yaml``) is
    ``PooledSqliteStorage`` in the instance's home; a configured storage (PostgreSQL) is used
    as configured. Runs are planned by ``PlannedByOwnPartitionsRunDomain``, whatever the
    storage."""

    @cached_property
    def run_domain(self) -> RunDomain:
        return PlannedByOwnPartitionsRunDomain(self)

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> dict[str, ConfigurableClassData | None]:
        return {
            **InstanceRef.config_defaults(base_dir),
            "storage": ConfigurableClassData(
                __name__, PooledSqliteStorage.__name__, yaml.dump({"base_dir": base_dir})
            ),
        }
