"""Bulk, idempotent loads of Arrow tables into ``raw.<source>__<entity>`` tables.

One transaction per load: delete exactly the rows being replaced, insert the new batch in bulk
(never row by row: DuckDB scans the Arrow table, PostgreSQL receives it by ``COPY``; see
``pipelines.warehouse.raw_writers``), commit. A crash before the commit leaves the previous rows.
New fields become new columns; fields that disappeared are NULL and reported back as warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.warehouse.connection import PgConnection
from pipelines.warehouse.raw_writers import (
    BATCH,
    NULL_TYPE,
    RawWriter,
    Relation,
    check_castable,
    quote,
    sql_literal,
    writer_for,
)
from sources import progress

# A DuckDB connection, or PostgreSQL's behind the same API (pipelines.warehouse.connection).
Connection = duckdb.DuckDBPyConnection | PgConnection

META_COLUMNS = ("_account_id", "_partition_date", "_loaded_at", "_source_run_id")


@dataclass
class LoadResult:
    table: str
    rows_deleted: int = 0
    rows_inserted: int = 0
    added_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    # What a source's own load step reports beyond the counts (files skipped, lines rejected).
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return [
            f"{self.table}: field {name!r} is no longer returned by the API; loaded as NULL"
            for name in self.missing_columns
        ]


def with_load_metadata(data: pa.Table, run_id: str) -> pa.Table:
    """Append ``_loaded_at`` and ``_source_run_id`` columns."""
    now = pa.scalar(datetime.now(UTC).replace(tzinfo=None), pa.timestamp("us"))
    data = data.append_column("_loaded_at", pa.repeat(now, data.num_rows))
    return data.append_column("_source_run_id", pa.repeat(pa.scalar(run_id), data.num_rows))


Batches = pa.Table | Iterable[pa.Table]


def _iter_batches(data: Batches) -> Iterator[pa.Table]:
    """One table, or pages streamed one at a time (never all held in memory)."""
    if isinstance(data, pa.Table):
        yield data
    else:
        yield from data


def _align(
    writer: RawWriter, table: str, has_rows: bool, result: LoadResult
) -> list[tuple[str, str]]:
    """Add new fields as columns, check changed types; return ``(column, select expression)``."""
    existing = writer.columns(table)
    incoming = writer.columns(BATCH)
    casts = []
    for column, dtype in incoming.items():
        if column not in existing:
            if dtype != NULL_TYPE:
                writer.add_column(table, column, dtype)
                result.added_columns.append(column)
                casts.append((column, quote(column)))
            continue
        target = existing[column]
        if dtype not in (target, NULL_TYPE):
            check_castable(writer, table, column, dtype, target)
        casts.append((column, f"cast({quote(column)} as {target})"))
    if has_rows:  # an empty batch says nothing about which fields the API returns
        gone = [c for c in existing if c not in incoming and c not in META_COLUMNS]
        result.missing_columns.extend(c for c in gone if c not in result.missing_columns)
    return casts


def _insert(writer: RawWriter, table: str, columns: list[tuple[str, str]]) -> list[tuple]:
    """Insert the staged batch, by column name (the batch's order need not be the table's)."""
    names = ", ".join(quote(name) for name, _ in columns)
    select_list = ", ".join(expression for _, expression in columns)
    return writer.run(f"insert into {table} ({names}) select {select_list} from {BATCH}")


def _load(
    con: Connection,
    table: str,
    batches: Iterable[pa.Table | Relation],
    delete_where: str,
    params: Sequence[object],
    *,
    delete_per_batch: bool,
) -> LoadResult:
    """Delete and insert in one transaction: everything or, on any failure, nothing."""
    writer = writer_for(con)
    schema, name = table.split(".")
    result = LoadResult(table)
    writer.run(f"create schema if not exists {quote(schema)}")
    exists = writer.table_exists(schema, name)
    deleted = False
    writer.begin()
    try:
        for batch in batches:
            if not exists and batch.num_rows == 0:
                continue
            writer.stage(batch)
            try:
                if not exists:
                    writer.create_from_batch(table)
                    exists = True
                columns = _align(writer, table, batch.num_rows > 0, result)
                if delete_per_batch or not deleted:
                    result.rows_deleted += writer.count(
                        f"delete from {table} where {delete_where}", params
                    )
                    deleted = True
                inserted = _insert(writer, table, columns)
                # A Relation's rows are counted by DuckDB's insert (it answers with the count).
                result.rows_inserted += (
                    inserted[0][0] if isinstance(batch, Relation) else batch.num_rows
                )
            finally:
                writer.unstage()
        if exists and not deleted and not delete_per_batch:  # nothing came: clear the window
            result.rows_deleted += writer.count(f"delete from {table} where {delete_where}", params)
        writer.commit()
    except BaseException:
        writer.rollback()
        raise
    return result


def replace_window(
    con: Connection,
    table: str,
    data: Batches,
    *,
    account_ids: Sequence[str],
    start: date,
    end: date,
    run_id: str,
) -> LoadResult:
    """Replace the rows of ``account_ids`` whose ``_partition_date`` is in ``[start, end)``.

    ``data`` is one Arrow table or an iterable of them (pages, loaded as they arrive). Each must
    carry ``_account_id`` and ``_partition_date``, and every row must fall in the window.
    """

    def checked(batch: pa.Table) -> pa.Table:
        progress.current().maybe_write(f"loading {table}")
        for column in ("_account_id", "_partition_date"):
            if column not in batch.column_names:
                raise ValueError(f"{table}: batch lacks the {column} column")
        if batch.num_rows:
            dates = batch.column("_partition_date")
            if dates.null_count:
                raise ValueError(f"{table}: {dates.null_count} row(s) have no _partition_date")
            low, high = pc.min(dates).as_py(), pc.max(dates).as_py()
            if low < start or high >= end:
                raise ValueError(f"{table}: rows dated {low}..{high} fall outside {start}..{end}")
            # A row of another account would be inserted but never replaced: reruns would
            # duplicate it.
            others = set(pc.unique(batch.column("_account_id")).to_pylist()) - set(account_ids)
            if others:
                raise ValueError(
                    f"{table}: rows for accounts {sorted(others, key=str)} not in this load"
                )
        return with_load_metadata(batch, run_id)

    if not account_ids:
        return LoadResult(table)
    placeholders = ", ".join("?" for _ in account_ids)
    return _load(
        con,
        table,
        (checked(batch) for batch in _iter_batches(data)),
        f"_account_id in ({placeholders}) and _partition_date >= ? and _partition_date < ?",
        [*account_ids, start, end],
        delete_per_batch=False,
    )


def replace_window_relation(
    con: duckdb.DuckDBPyConnection,
    table: str,
    relation: Relation,
    *,
    account_ids: Sequence[str],
    start: date,
    end: date,
    run_id: str,
) -> LoadResult:
    """:func:`replace_window` for rows a SQL query yields inside DuckDB (landed JSON pages): the
    same transaction and schema handling; a row outside the window or of another account fails
    the load (DuckDB's ``error()``), as it does for an Arrow batch."""
    if not account_ids:
        return LoadResult(table)
    accounts = ", ".join(sql_literal(a) for a in account_ids)
    now = datetime.now(UTC).replace(tzinfo=None)
    outside = (
        f"_partition_date is null or _partition_date < DATE {sql_literal(start)} "
        f"or _partition_date >= DATE {sql_literal(end)} or _account_id not in ({accounts})"
    )
    message = (
        f"{table}: a row has no _partition_date, falls outside {start}..{end} or belongs to an "
        "account not in this load"
    )
    staged = Relation(
        f"select *, TIMESTAMP {sql_literal(now)} as _loaded_at, "
        f"{sql_literal(run_id)} as _source_run_id from ({relation.sql}) "
        f"where case when {outside} then error({sql_literal(message)}) else true end",
        relation.num_rows,
    )
    placeholders = ", ".join("?" for _ in account_ids)
    try:
        return _load(
            con,
            table,
            [staged],
            f"_account_id in ({placeholders}) and _partition_date >= ? and _partition_date < ?",
            [*account_ids, start, end],
            delete_per_batch=False,
        )
    except duckdb.Error as exc:
        if message in str(exc):  # as replace_window says it of an Arrow batch
            raise ValueError(message) from None
        raise


def replace_keys(
    con: Connection,
    table: str,
    data: Batches,
    *,
    keys: Sequence[str],
    run_id: str,
) -> LoadResult:
    """Replace the rows whose ``keys`` match a row of ``data`` (for period-level snapshots)."""
    matches = " and ".join(f"b.{quote(k)} is not distinct from {table}.{quote(k)}" for k in keys)
    return _load(
        con,
        table,
        (with_load_metadata(batch, run_id) for batch in _iter_batches(data)),
        f"exists (select 1 from {BATCH} b where {matches})",
        [],
        delete_per_batch=True,
    )


def replace_table(con: Connection, table: str, data: pa.Table) -> int:
    """Rewrite a whole table from one Arrow table (catalog, targets, config files) atomically."""
    schema = table.split(".")[0]
    if not isinstance(con, PgConnection):
        con.execute(f"create schema if not exists {quote(schema)}").fetchall()
        con.register(BATCH, data)
        try:
            con.execute(f"create or replace table {table} as select * from {BATCH}").fetchall()
        finally:
            con.unregister(BATCH)
        return data.num_rows
    # PostgreSQL: dbt's staging views depend on the table, so it is emptied and refilled (new
    # columns added) in one transaction instead of dropped.
    _load(con, table, [data], "true", [], delete_per_batch=False)
    return data.num_rows
