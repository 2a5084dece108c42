"""The warehouse target: DuckDB (the default, one file) or PostgreSQL.

``KPI_WAREHOUSE`` picks it (``duckdb`` | ``postgres``). PostgreSQL is reached with libpq's own
variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, ``PGSSLMODE``...),
which dbt's profile reads too; the password is registered for redaction and never logged.

On PostgreSQL the pipeline talks to a :class:`PgConnection`: the part of DuckDB's connection API
the assets use (``execute(sql, params).fetchall()/fetchone()``, ``description``, ``begin``,
``commit``, ``rollback``), so one SQL text with DuckDB's ``?`` / ``$name`` parameters serves both
targets. It runs in autocommit mode like DuckDB: statements outside ``begin()`` commit at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.lib.settings import env
from sources.http import register_secret

if TYPE_CHECKING:
    import psycopg

TARGETS = ("duckdb", "postgres")


class MissingRelationError(Exception):
    """A table or view the query names does not exist (PostgreSQL's ``undefined_table``)."""


class MissingColumnError(Exception):
    """A column the query names does not exist (PostgreSQL's ``undefined_column``)."""


# What callers catch for "not built yet" / "no such column", on either target.
MISSING_RELATION: tuple[type[Exception], ...] = (duckdb.CatalogException, MissingRelationError)
MISSING_COLUMN: tuple[type[Exception], ...] = (duckdb.BinderException, MissingColumnError)


def warehouse_target() -> str:
    """``KPI_WAREHOUSE`` (default ``duckdb``)."""
    value = (env("KPI_WAREHOUSE", "duckdb") or "duckdb").lower()
    if value not in TARGETS:
        raise ValueError(
            f"KPI_WAREHOUSE={value!r} is not a warehouse target; set it to one of {', '.join(TARGETS)}"
        )
    return value


def is_postgres(con: object) -> bool:
    return isinstance(con, PgConnection)


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?|\$[A-Za-z_]\w*|%")


def to_pyformat(sql: str) -> str:
    """DuckDB parameters to psycopg's: ``?`` -> ``%s``, ``$name`` -> ``%(name)s``, ``%`` -> ``%%``.

    Quoted strings, quoted identifiers and comments are left as they are (but their ``%`` doubled,
    as psycopg reads every ``%`` of a statement that has parameters)."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token.startswith("$"):
            return f"%({token[1:]})s"
        return token.replace("%", "%%")

    return _TOKENS.sub(swap, sql)


def existing_tables(con: Any, schema: str, names: Iterable[str]) -> set[str]:
    """Which of the tables ``names`` exist in ``schema`` (a state read before a first load finds
    none); DuckDB or PostgreSQL."""
    names = list(names)
    if not names:
        return set()
    marks = ", ".join("?" for _ in names)
    rows = con.execute(
        "select table_name from information_schema.tables "
        f"where table_schema = ? and table_name in ({marks})",
        [schema, *names],
    ).fetchall()
    return {name for (name,) in rows}


class PgConnection:
    """psycopg 3 behind the subset of ``duckdb.DuckDBPyConnection`` the pipeline uses."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection
        self._cursor = connection.cursor()

    def execute(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> PgConnection:
        import psycopg

        if params is not None and len(params) == 0:
            params = None
        query = to_pyformat(sql) if params is not None else sql
        try:
            self._cursor.execute(query, params)
        except psycopg.errors.UndefinedTable as exc:
            raise MissingRelationError(str(exc).strip()) from exc
        except psycopg.errors.UndefinedColumn as exc:
            raise MissingColumnError(str(exc).strip()) from exc
        return self

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description else None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def cursor(self) -> psycopg.Cursor:
        return self.connection.cursor()

    def begin(self) -> None:
        self._cursor.execute("begin")

    def commit(self) -> None:
        self._cursor.execute("commit")

    def rollback(self) -> None:
        self._cursor.execute("rollback")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_postgres(read_only: bool = False) -> PgConnection:
    """A connection from the libpq environment (``PGHOST``... or ``PGSERVICE``)."""
    import psycopg

    register_secret(os.environ.get("PGPASSWORD") or None)
    try:
        connection = psycopg.connect("", autocommit=True, application_name="kpi-pipeline")
    except psycopg.OperationalError as exc:
        where = f"{env('PGHOST', 'localhost')}:{env('PGPORT', '5432')}/{env('PGDATABASE', '')}"
        raise RuntimeError(
            f"warehouse postgres: cannot connect to {where}: {str(exc).strip()}. Fix: set PGHOST, "
            "PGPORT, PGUSER, PGPASSWORD and PGDATABASE (or KPI_WAREHOUSE=duckdb)"
        ) from None
    if read_only:
        connection.execute("set default_transaction_read_only = on")
    return PgConnection(connection)
