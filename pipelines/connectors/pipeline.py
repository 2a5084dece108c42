"""Extract a source to the landing zone, and load landed files into its raw tables.

These are the two halves every path runs: the Dagster assets (:mod:`pipelines.connectors.assets`),
``kpi replay``, ``kpi doctor`` (its ``check`` half) and the fault suite. Extraction never touches the
warehouse; loading never calls an API.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.connectors.framework import (
    Accounts,
    Batch,
    Config,
    JsonPage,
    Replace,
    Source,
    Window,
)
from pipelines.connectors.json_load import load_json_table
from pipelines.connectors.landing import Landing, LandingWriter, find_landing, landing_root
from pipelines.warehouse.raw_loader import (
    Connection,
    LoadResult,
    replace_keys,
    replace_table,
    replace_window,
)
from sources.api_versions import Level, assess

# The days a Replace.ACCOUNTS load replaces: all of them.
ALL_TIME = Window(date(1970, 1, 1), date(9999, 12, 31))


class ExtractionFailed(RuntimeError):
    """A source's extraction failed; nothing of it is loaded."""


def assert_api_version_usable(source: Source, client: Any, on: date) -> None:
    """Refuse to call an API whose configured version has sunset (the message names the fix)."""
    if source.api_version is None:
        return
    status = assess(source.api_version, client.api_version, on)
    if status.level is Level.SUNSET:
        raise ExtractionFailed(f"[{source.name}] {status.message}")


def extract(
    source: Source,
    config: Config,
    window: Window,
    run_id: str,
    *,
    today: date | None = None,
    root: Any = None,
) -> Landing:
    """Pull ``window`` with the source's client and land every page; returns the complete landing.

    On any error the pages written so far stay without a manifest (never loaded), the error is
    recorded for the load step, and the exception propagates.
    """
    writer = LandingWriter(source, window, run_id, root=root or landing_root())
    try:
        client = source.connect(config)
        if config.adjust is not None:
            client = config.adjust(client)
        assert_api_version_usable(source, client, today or date.today())
        metadata: dict[str, Any] = {}
        accounts: list[str] | None = None
        for item in source.extract(client, window, config):
            if isinstance(item, Batch | JsonPage):
                writer.write(item)
            elif isinstance(item, Accounts):
                accounts = list(item.ids)
            else:
                metadata.update(item)
        if getattr(client, "requests_made", None) is not None:
            metadata["api_requests"] = client.requests_made
        if source.api_version is not None:
            metadata["api_version"] = client.api_version
        writer.complete(source.accounts(config) if accounts is None else accounts, metadata)
    except Exception as exc:
        writer.fail(str(exc))
        raise
    landing = find_landing(source, [run_id], writer.root)
    assert landing is not None  # complete() has just written every manifest
    return landing


def _within(batches: Any, window: Window) -> Any:
    """Only the rows of ``window`` (a replay of part of a landing)."""
    for batch in batches:
        dates = batch.column("_partition_date")
        keep = pc.and_(
            pc.greater_equal(dates, pa.scalar(window.start, pa.date32())),
            pc.less(dates, pa.scalar(window.end, pa.date32())),
        )
        yield batch.filter(keep)


def load(
    con: Connection, landing: Landing, run_id: str, *, within: Window | None = None
) -> dict[str, LoadResult]:
    """Load a complete landing with each table's replace semantics.

    ``within`` limits a window-replaced table to part of the landing's window (``kpi replay`` of a
    range); key-, account- and whole-table-replaced tables are applied whole, and so is a source's
    own ``load``.
    """
    source = landing.source
    if source.load is not None:
        return source.load(con, landing, run_id)
    window = landing.window
    results: dict[str, LoadResult] = {}
    for table in source.tables:
        if table.replace in (Replace.WINDOW, Replace.ACCOUNTS):
            part = window if table.replace is Replace.WINDOW else ALL_TIME
            if within is not None and table.replace is Replace.WINDOW:
                part = Window(max(window.start, within.start), min(window.end, within.end))
                if part.start >= part.end:
                    continue
            if table.json is not None:
                results[table.name] = load_json_table(
                    con,
                    landing,
                    table,
                    start=part.start,
                    end=part.end,
                    accounts=landing.accounts,
                    run_id=run_id,
                    within=part if within is not None else None,
                )
                continue
        elif table.json is not None:
            raise ValueError(f"[{source.name}] {table.table}: JSON pages load by window or account")
        batches = landing.batches(table.name)
        if table.before_load is not None:  # before the load's transaction opens: it reads
            batches = iter([table.before_load(con, batch) for batch in batches])
        if table.replace in (Replace.WINDOW, Replace.ACCOUNTS):
            if within is not None and table.replace is Replace.WINDOW:
                batches = _within(batches, part)
            results[table.name] = replace_window(
                con,
                table.table,
                batches,
                account_ids=landing.accounts,
                start=part.start,
                end=part.end,
                run_id=run_id,
            )
        elif table.replace is Replace.KEYS:
            results[table.name] = replace_keys(
                con, table.table, batches, keys=list(table.keys), run_id=run_id
            )
        else:
            data = pa.concat_tables(list(batches), promote_options="default")
            rows = replace_table(con, table.table, data)
            results[table.name] = LoadResult(table.table, rows_inserted=rows)
    return results
