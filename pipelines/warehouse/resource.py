"""The warehouse as a Dagster resource, opened only while a step uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib.settings import PROJECT_ROOT, duckdb_path
from pipelines.warehouse.connection import connect_postgres, warehouse_target


def connect_waiting(
    database: Path, *, read_only: bool = False, wait_seconds: float = 60.0
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file, retrying while another process still holds its lock."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(database), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse, opened only while it is used: the DuckDB file (``KPI_DUCKDB_PATH``), or
    PostgreSQL when ``KPI_WAREHOUSE=postgres`` (libpq's ``PG*`` variables)."""

    path: str | None = None
    # ``duckdb`` or ``postgres``; unset: ``KPI_WAREHOUSE`` (a ``path`` means the DuckDB file).
    target_name: str | None = None
    # The pool hands the file over between steps, but a process that just finished (dbt's, or
    # another run's step) can hold DuckDB's lock for a moment after its step ended: wait, briefly.
    lock_wait_seconds: float = 60.0

    def database(self) -> Path:
        if self.path:
            p = Path(self.path)
            return p if p.is_absolute() else PROJECT_ROOT / p
        return duckdb_path()

    def target(self) -> str:
        if self.target_name:
            return self.target_name
        return "duckdb" if self.path else warehouse_target()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with DuckDB's ``execute(...).fetchall()`` API on either target."""
        if self.target() == "postgres":
            with connect_postgres(read_only=read_only) as pg:
                yield pg  # type: ignore[misc]
            return
        database = self.database()
        database.parent.mkdir(parents=True, exist_ok=True)
        con = connect_waiting(database, read_only=read_only, wait_seconds=self.lock_wait_seconds)
        try:
            yield con
        finally:
            con.close()
