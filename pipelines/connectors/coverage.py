"""Which days a source was pulled for: ``raw.<source>__sync_days``.

A day with no charges, no new contacts or no tickets is a real zero only if the source was asked
about that day; a day it was never asked about is unknown. Every pull writes one row per day of its
window, and the KPI components of the source are built on those days only (missing stays
distinct from zero, and a ratio never divides by another source's numbers for days this source
did not cover).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from pipelines.connectors.framework import Batch, RawTable, Window

SYNC_DAYS_SCHEMA = pa.schema(
    [
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
        ("synced_at", pa.timestamp("us")),
    ]
)


def sync_days_table(source: str) -> RawTable:
    """``raw.<source>__sync_days``, replaced by window like the rows it vouches for."""
    return RawTable(
        "sync_days",
        f"raw.{source}__sync_days",
        SYNC_DAYS_SCHEMA,
        "the reporting days the source was pulled for (a day without rows is a real zero)",
    )


def sync_days_batch(account: str, window: Window) -> Batch:
    """The ``sync_days`` batch of a pull of ``window`` for ``account``."""
    return Batch("sync_days", sync_days(account, window.start, window.end))


def sync_days(account: str, start: date, end: date) -> pa.Table:
    """One row per day in ``[start, end)`` for ``account``."""
    now = datetime.now(UTC).replace(tzinfo=None)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    return pa.Table.from_pylist(
        [{"_account_id": account, "_partition_date": d, "synced_at": now} for d in days],
        schema=SYNC_DAYS_SCHEMA,
    )
