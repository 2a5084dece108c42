"""Bulk, idempotent loads of Arrow tables into ``raw.<source>__<entity>`` tables.

One transaction per load: delete exactly the rows being replaced, insert the new batch through
DuckDB's Arrow scan (never row by row), commit. A crash before the commit leaves the previous rows.
New fields become new columns; fields that disappeared are NULL and reported back as warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from sources.http import SchemaError

META_COLUMNS = ("_account_id", "_partition_date", "_loaded_at", "_source_run_id")


@dataclass
class LoadResult:
    table: str
    rows_deleted: int = 0
    rows_inserted: int = 0
    added_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return [
            f"{self.table}: field {name!r} is no longer returned by the API; loaded as NULL"
            for name in self.missing_columns
        ]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    """Execute and drain the result (DuckDB wants every result consumed before the next call)."""
    return con.execute(sql, list(params)).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {row[0]: row[1] for row in _run(con, f"DESCRIBE {relation}")}


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return bool(_run(con, sql, [schema, name])[0][0])


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


def _align(con: duckdb.DuckDBPyConnection, table: str, has_rows: bool, result: LoadResult) -> str:
    """Add new fields as columns, check changed types, and return the insert's select list."""
    existing = _columns(con, table)
    incoming = _columns(con, "_kpi_batch")
    casts = []
    for column, dtype in incoming.items():
        if column not in existing:
            if dtype != "NULL":
                _run(con, f"alter table {table} add column {_quote(column)} {dtype}")
                result.added_columns.append(column)
                casts.append(_quote(column))
            continue
        target = existing[column]
        if dtype not in (target, "NULL"):
            _check_castable(con, table, column, dtype, target)
        casts.append(f"cast({_quote(column)} as {target}) as {_quote(column)}")
    if has_rows:  # an empty batch says nothing about which fields the API returns
        gone = [c for c in existing if c not in incoming and c not in META_COLUMNS]
        result.missing_columns.extend(c for c in gone if c not in result.missing_columns)
    return ", ".join(casts)


def _load(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batches: Iterable[pa.Table],
    delete_where: str,
    params: Sequence[object],
    *,
    delete_per_batch: bool,
) -> LoadResult:
    """Delete and insert in one transaction: everything or, on any failure, nothing."""
    schema, name = table.split(".")
    result = LoadResult(table)
    _run(con, f"create schema if not exists {_quote(schema)}")
    exists = _table_exists(con, schema, name)
    deleted = False
    con.begin()
    try:
        for batch in batches:
            if not exists and batch.num_rows == 0:
                continue
            con.register("_kpi_batch", batch)
            try:
                if not exists:
                    _run(con, f"create table {table} as select * from _kpi_batch limit 0")
                    exists = True
                select_list = _align(con, table, batch.num_rows > 0, result)
                if delete_per_batch or not deleted:
                    sql = f"delete from {table} where {delete_where}"
                    result.rows_deleted += _run(con, sql, params)[0][0]
                    deleted = True
                _run(con, f"insert into {table} by name select {select_list} from _kpi_batch")
                result.rows_inserted += batch.num_rows
            finally:
                con.unregister("_kpi_batch")
        if exists and not deleted and not delete_per_batch:  # nothing came: clear the window
            result.rows_deleted += _run(con, f"delete from {table} where {delete_where}", params)[
                0
            ][0]
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def _check_castable(
    con: duckdb.DuckDBPyConnection, table: str, column: str, dtype: str, target: str
) -> None:
    bad = _run(
        con,
        f"select {_quote(column)} from _kpi_batch where {_quote(column)} is not null "
        f"and try_cast({_quote(column)} as {target}) is null limit 1",
    )
    if bad:
        source = table.split(".")[1].split("__")[0]
        raise SchemaError(
            source,
            table,
            f"field changed type from {target} to {dtype}; nothing was loaded",
            field=column,
            value=bad[0][0],
            fix="check the provider's changelog; migrate the raw column if the change is intended",
        )


def replace_window(
    con: duckdb.DuckDBPyConnection,
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


def replace_keys(
    con: duckdb.DuckDBPyConnection,
    table: str,
    data: Batches,
    *,
    keys: Sequence[str],
    run_id: str,
) -> LoadResult:
    """Replace the rows whose ``keys`` match a row of ``data`` (for period-level snapshots)."""
    matches = " and ".join(f"b.{_quote(k)} is not distinct from {table}.{_quote(k)}" for k in keys)
    return _load(
        con,
        table,
        (with_load_metadata(batch, run_id) for batch in _iter_batches(data)),
        f"exists (select 1 from _kpi_batch b where {matches})",
        [],
        delete_per_batch=True,
    )
