"""The warehouse side of a raw load: one writer per target behind the same small interface.

``pipelines.warehouse.raw_loader`` decides *what* to replace (window or keys, schema drift rules, one
transaction); a writer knows *how* on its warehouse. Both stage an Arrow batch as the relation
``_kpi_batch`` so the loader's delete and insert statements are the same text on either target:

- DuckDB registers the Arrow table (a zero-copy scan), or stages a :class:`Relation` (SQL, e.g. over
  landed JSON pages) as a view.
- PostgreSQL copies the batch into a temporary table with ``COPY ... FROM STDIN`` (CSV written by
  Arrow in bulk, never row by row) and maps Arrow types to PostgreSQL types.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.warehouse.connection import PgConnection, is_postgres
from sources.http import SchemaError

BATCH = "_kpi_batch"
NULL_TYPE = "NULL"  # a column whose every value is null: it says nothing about the field's type


@dataclass(frozen=True)
class Relation:
    """Rows that a SQL query over a DuckDB warehouse connection yields (e.g. landed JSON pages
    read by ``read_json``): staged as a view and inserted without passing through Python.
    ``num_rows`` is the count the extraction recorded (an empty relation clears its window)."""

    sql: str
    num_rows: int


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(value: object) -> str:
    """A value as a SQL literal, for a :class:`Relation` (a view takes no parameters)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class RawWriter(Protocol):
    """What the loader needs from a warehouse."""

    def run(self, sql: str, params: Sequence[object] = ()) -> list[tuple]: ...
    def count(self, sql: str, params: Sequence[object] = ()) -> int: ...
    def table_exists(self, schema: str, name: str) -> bool: ...
    def columns(self, relation: str) -> dict[str, str]: ...
    def stage(self, batch: pa.Table | Relation) -> None: ...
    def unstage(self) -> None: ...
    def create_from_batch(self, table: str) -> None: ...
    def add_column(self, table: str, column: str, dtype: str) -> None: ...
    def bad_value(self, column: str, target: str) -> tuple[bool, object]: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class _SqlWriter:
    """What both writers do the same way: plain SQL through ``run`` and the connection's
    transaction calls (``PgConnection`` mirrors DuckDB's)."""

    con: Any

    def run(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        raise NotImplementedError

    def table_exists(self, schema: str, name: str) -> bool:
        sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
        return bool(self.run(sql, [schema, name])[0][0])

    def add_column(self, table: str, column: str, dtype: str) -> None:
        self.run(f"alter table {table} add column {quote(column)} {dtype}")

    def begin(self) -> None:
        self.con.begin()

    def commit(self) -> None:
        self.con.commit()

    def rollback(self) -> None:
        self.con.rollback()


class DuckDbWriter(_SqlWriter):
    """DuckDB: the batch is scanned in place through ``register``."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._view = False

    def run(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Execute and drain the result (DuckDB wants every result consumed before the next)."""
        return self.con.execute(sql, list(params)).fetchall()

    def count(self, sql: str, params: Sequence[object] = ()) -> int:
        return self.run(sql, params)[0][0]

    def columns(self, relation: str) -> dict[str, str]:
        return {row[0]: row[1] for row in self.run(f"DESCRIBE {relation}")}

    def stage(self, batch: pa.Table | Relation) -> None:
        """An Arrow table is scanned in place; a :class:`Relation` becomes a view (never fetched)."""
        if isinstance(batch, Relation):
            self.run(f"create or replace temp view {BATCH} as {batch.sql}")
            self._view = True
        else:
            self.con.register(BATCH, batch)

    def unstage(self) -> None:
        if self._view:
            self._view = False
            # After a failed statement the transaction is aborted; its rollback drops the view.
            with contextlib.suppress(duckdb.TransactionException):
                self.run(f"drop view if exists {BATCH}")
        else:
            self.con.unregister(BATCH)

    def create_from_batch(self, table: str) -> None:
        self.run(f"create table {table} as select * from {BATCH} limit 0")

    def bad_value(self, column: str, target: str) -> tuple[bool, object]:
        rows = self.run(
            f"select {quote(column)} from {BATCH} where {quote(column)} is not null "
            f"and try_cast({quote(column)} as {target}) is null limit 1"
        )
        return (True, rows[0][0]) if rows else (False, None)


def postgres_type(dtype: pa.DataType) -> str:
    """The PostgreSQL column type of an Arrow type (money's decimal128(38, 9) -> numeric(38,9))."""
    t = pa.types
    if t.is_null(dtype) or t.is_string(dtype) or t.is_large_string(dtype):
        return "text"
    if t.is_boolean(dtype):
        return "boolean"
    if t.is_int8(dtype) or t.is_int16(dtype) or t.is_uint8(dtype):
        return "smallint"
    if t.is_int32(dtype) or t.is_uint16(dtype):
        return "integer"
    if t.is_int64(dtype) or t.is_uint32(dtype):
        return "bigint"
    if t.is_uint64(dtype):
        return "numeric(20,0)"
    if t.is_float16(dtype) or t.is_float32(dtype):
        return "real"
    if t.is_float64(dtype):
        return "double precision"
    if t.is_decimal(dtype):
        return f"numeric({dtype.precision},{dtype.scale})"
    if t.is_date(dtype):
        return "date"
    if t.is_timestamp(dtype):
        return "timestamp with time zone" if dtype.tz else "timestamp without time zone"
    if t.is_time(dtype):
        return "time without time zone"
    if t.is_nested(dtype):
        return "jsonb"
    raise TypeError(f"no PostgreSQL type for the Arrow type {dtype}")


def _csv_ready(batch: pa.Table) -> pa.Table:
    """Nested values as JSON text; null-typed columns as empty text (Arrow writes both then)."""
    for index, column in enumerate(batch.schema):
        if pa.types.is_nested(column.type):
            values = [
                None if v is None else json.dumps(v, default=str)
                for v in batch.column(index).to_pylist()
            ]
            batch = batch.set_column(index, column.name, pa.array(values, pa.string()))
        elif pa.types.is_null(column.type):
            batch = batch.set_column(index, column.name, batch.column(index).cast(pa.string()))
    return batch


class PostgresWriter(_SqlWriter):
    """PostgreSQL: the batch is copied (``COPY FROM STDIN``, CSV) into a temporary table."""

    def __init__(self, con: PgConnection) -> None:
        self.con = con
        self._null_columns: set[str] = set()

    def run(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return self.con.execute(sql, list(params) or None).fetchall()

    def count(self, sql: str, params: Sequence[object] = ()) -> int:
        return self.con.execute(sql, list(params) or None).rowcount

    def columns(self, relation: str) -> dict[str, str]:
        rows = self.run(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = cast(? as regclass) and attnum > 0 and not attisdropped order by attnum",
            [relation],
        )
        if relation == BATCH:
            return {n: NULL_TYPE if n in self._null_columns else d for n, d in rows}
        return dict(rows)

    def stage(self, batch: pa.Table | Relation) -> None:
        if isinstance(batch, Relation):
            raise TypeError("PostgreSQL stages Arrow batches; a Relation is DuckDB SQL")
        self._null_columns = {f.name for f in batch.schema if pa.types.is_null(f.type)}
        columns = ", ".join(f"{quote(f.name)} {postgres_type(f.type)}" for f in batch.schema)
        self.run(f"create temporary table {BATCH} ({columns})")
        if batch.num_rows == 0:
            return
        buffer = io.BytesIO()
        pacsv.write_csv(
            _csv_ready(batch),
            buffer,
            pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        names = ", ".join(quote(name) for name in batch.column_names)
        with (
            self.con.cursor() as cursor,
            cursor.copy(f"copy {BATCH} ({names}) from stdin with (format csv)") as copy,
        ):
            view = buffer.getbuffer()
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])

    def unstage(self) -> None:
        import psycopg

        # When the load failed, its rollback drops the temporary table too.
        with contextlib.suppress(psycopg.errors.InFailedSqlTransaction):
            self.run(f"drop table if exists {BATCH}")

    def create_from_batch(self, table: str) -> None:
        columns = self.columns(BATCH)
        ddl = ", ".join(
            f"{quote(name)} {'text' if dtype == NULL_TYPE else dtype}"
            for name, dtype in columns.items()
        )
        self.run(f"create table {table} ({ddl})")

    def bad_value(self, column: str, target: str) -> tuple[bool, object]:
        """Cast the whole column in a savepoint; the first value that fails, if any."""
        import psycopg

        self.run("savepoint _kpi_cast")
        try:
            self.run(f"select count(cast({quote(column)} as {target})) from {BATCH}")
        except psycopg.DataError as exc:
            self.run("rollback to savepoint _kpi_cast")
            return True, str(exc).strip().splitlines()[0]
        self.run("release savepoint _kpi_cast")
        return False, None


def writer_for(con: Any) -> RawWriter:
    """The writer of the connection's warehouse."""
    return PostgresWriter(con) if is_postgres(con) else DuckDbWriter(con)


def check_castable(writer: RawWriter, table: str, column: str, dtype: str, target: str) -> None:
    bad, value = writer.bad_value(column, target)
    if bad:
        source = table.split(".")[1].split("__")[0]
        raise SchemaError(
            source,
            table,
            f"field changed type from {target} to {dtype}; nothing was loaded",
            field=column,
            value=value,
            fix="check the provider's changelog; migrate the raw column if the change is intended",
        )
