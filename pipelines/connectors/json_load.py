"""Load a table landed as the provider's JSON pages: DuckDB parses them, Python never does.

One ``read_json`` over the table's landed page files (each a JSON array of the API's row objects),
the fields typed by the table's :class:`~pipelines.connectors.framework.JsonRows` ``columns``,
every row held to its ``require`` condition, its ``select`` list over the fields and the page's
``values`` (the pages of one set of values read together, the values a one-row relation beside
them: no per-row join) yielding the raw table's columns. On DuckDB the query is staged as a view
and inserted in the load's one transaction
(:func:`pipelines.warehouse.raw_loader.replace_window_relation`); on PostgreSQL an in-memory DuckDB
runs it and the rows reach the warehouse as Arrow batches through the usual loader.

A page DuckDB rejects (malformed JSON, a missing field, text where a number belongs) fails the load
with the source, the table and the file, and the row and field the connector's own ``check``
finds in it; the transaction rolls back, so the table keeps its earlier rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.connectors.framework import JsonRows, RawTable, Source, Window
from pipelines.connectors.ingest import arrow_table
from pipelines.connectors.landing import Landing
from pipelines.warehouse.connection import PgConnection
from pipelines.warehouse.raw_loader import (
    Connection,
    LoadResult,
    replace_window,
    replace_window_relation,
)
from pipelines.warehouse.raw_writers import Relation, quote, sql_literal
from sources.http import SchemaError, SourceError

ARROW_BATCH_ROWS = 500_000


def rows_sql(
    spec: JsonRows, pages: list[tuple[Path, dict[str, Any]]], within: Window | None
) -> str:
    """The query turning the landed ``pages`` into raw rows: one ``read_json`` per set of pages
    that share their ``values`` (an account's pages), the values a one-row ``page`` beside it."""
    new = sorted(
        {f for _, entry in pages for f in entry.get("fields", ()) if f not in spec.columns}
    )
    columns = {**spec.columns, **dict.fromkeys(new, "DOUBLE")}  # a page without one: NULL
    struct = ", ".join(f"{quote(name)}: {sql_literal(dtype)}" for name, dtype in columns.items())
    select = ", ".join(
        [spec.select, *(f"r.{quote(f)} as {quote(spec.new_column(f))}" for f in new)]
    )
    failed = sql_literal(f"a row does not meet {spec.require}")
    groups: dict[str, list[Path]] = {}
    for path, entry in pages:
        groups.setdefault(json.dumps(entry.get("values", {}), sort_keys=True), []).append(path)
    parts = []
    for values, paths in groups.items():
        files = ", ".join(sql_literal(str(path)) for path in paths)
        page = ", ".join(f"{sql_literal(v)} as {quote(k)}" for k, v in json.loads(values).items())
        parts.append(
            f"select {select} from read_json([{files}], format = 'array', "
            f"columns = {{{struct}}}) r, (select {page or 'null as _none'}) page "
            f"where case when {spec.require} then true else error({failed}) end"
        )
    sql = " union all ".join(parts)
    if within is not None:
        sql = (
            f"select * from ({sql}) where _partition_date >= DATE '{within.start}' "
            f"and _partition_date < DATE '{within.end}'"
        )
    return sql


def _named(
    source: Source, table: RawTable, pages: list[tuple[Path, dict[str, Any]]], exc: Exception
) -> SourceError:
    """The load's error naming the source, the table and the first page DuckDB rejects alone,
    with the row and field when the connector's ``check`` finds them."""
    assert table.json is not None
    for path, entry in pages:
        try:
            with duckdb.connect() as probe:
                probe.execute(rows_sql(table.json, [(path, entry)], None)).fetchall()
            continue
        except duckdb.Error as rejected:
            reason = str(rejected)
        endpoint = f"landed page {path}"
        try:
            rows = json.loads(path.read_bytes())
        except ValueError as bad:
            return SchemaError(
                source.name, endpoint, f"{table.table}: page is not valid JSON ({bad})"
            )
        try:
            if table.json.check is not None:
                table.json.check(rows)
        except SourceError as found:  # the connector's own parse names the row and field
            detail = str(found).split(" | ")[0].removeprefix(f"[{source.name}] ")
            return SchemaError(
                source.name,
                endpoint,
                f"{table.table}: {detail}",
                field=found.field,
                value=found.value,
            )
        except Exception:  # a shape its parse does not expect: DuckDB's reason says it
            pass
        return SchemaError(
            source.name, endpoint, f"{table.table}: page rejected", provider_message=reason
        )
    return SchemaError(
        source.name, f"landed pages of {table.table}", "load failed", provider_message=str(exc)
    )


def _arrow_batches(sql: str) -> Iterator[pa.Table]:
    """The rows as Arrow batches, from an in-memory DuckDB (a warehouse that is not DuckDB)."""
    with duckdb.connect() as local:
        reader = local.execute(sql).to_arrow_reader(ARROW_BATCH_ROWS)
        for batch in reader:
            yield pa.Table.from_batches([batch])


def load_json_table(
    con: Connection,
    landing: Landing,
    table: RawTable,
    *,
    start: Any,
    end: Any,
    accounts: list[str],
    run_id: str,
    within: Window | None = None,
) -> LoadResult:
    """Replace ``[start, end)`` of ``accounts`` in ``table`` with the rows of its landed pages."""
    assert table.json is not None
    pages = landing.json_pages(table.name)
    if not pages:  # nothing came: clear the window, as an empty batch does
        empty = arrow_table([], table.schema)
        return replace_window(
            con, table.table, empty, account_ids=accounts, start=start, end=end, run_id=run_id
        )
    sql = rows_sql(table.json, pages, within)
    rows = sum(entry["rows"] for _, entry in pages)
    try:
        if isinstance(con, PgConnection):
            return replace_window(
                con,
                table.table,
                _arrow_batches(sql),
                account_ids=accounts,
                start=start,
                end=end,
                run_id=run_id,
            )
        return replace_window_relation(
            con,
            table.table,
            Relation(sql, rows),
            account_ids=accounts,
            start=start,
            end=end,
            run_id=run_id,
        )
    except duckdb.Error as exc:
        raise _named(landing.source, table, pages, exc) from None
