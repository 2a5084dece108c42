"""Backlinks: the target's live backlinks and referring domains for each day.

raw.backlinks__daily   day: live / all-time backlinks and referring domains, with the provider

The provider is Ahrefs API v3 (``sources.backlinks``); another index (Moz) implements the same
``BacklinksProvider`` protocol. One request per day of the window; days after today are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import (
    Batch,
    Config,
    RawTable,
    Setting,
    Source,
    Window,
    fixed_lookback,
)
from sources.backlinks import AHREFS_DEFAULT_BASE_URL, AhrefsProvider, BacklinksProvider

SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("provider", pa.string()),
        ("target", pa.string()),
        ("live_backlinks", pa.int64()),
        ("live_referring_domains", pa.int64()),
        ("all_time_backlinks", pa.int64()),
        ("all_time_referring_domains", pa.int64()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def targets(config: Config) -> list[str]:
    return [config.require("AHREFS_TARGET")]


def connect(config: Config) -> BacklinksProvider:
    return AhrefsProvider(
        config.require("AHREFS_API_TOKEN"),
        base_url=config.require("AHREFS_BASE_URL"),
        **config.http_options(),
    )


def extract(
    provider: BacklinksProvider, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    """The counts of each day of the window up to today, one request (and batch) per day."""
    target = config.require("AHREFS_TARGET")
    last = min(window.last, datetime.now(UTC).date())
    day = window.start
    while day <= last:
        counts = provider.counts(target, day)
        row = {"date": day, "provider": provider.name, "target": target, **counts.as_row()}
        yield Batch("daily", [{**row, "_account_id": target, "_partition_date": day}])
        day += timedelta(days=1)
    yield {"provider": provider.name, "target": target}


def check(provider: BacklinksProvider, config: Config) -> str:
    """Yesterday's counts of the target."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    counts = provider.counts(config.require("AHREFS_TARGET"), yesterday)
    return f"{provider.name}: {counts.live_backlinks} live backlinks"


SOURCE = Source(
    name="backlinks",
    title="Backlinks (Ahrefs)",
    description="Ahrefs API v3 backlinks-stats of the target, per day",
    settings=(
        Setting("AHREFS_API_TOKEN", "Ahrefs API v3 token", required=True, secret=True),
        Setting("AHREFS_TARGET", "The domain whose backlinks are counted", required=True),
        Setting("AHREFS_BASE_URL", "Ahrefs API host", default=AHREFS_DEFAULT_BASE_URL),
    ),
    tables=(
        RawTable(
            "daily",
            "raw.backlinks__daily",
            SCHEMA,
            "day: live and all-time backlinks and referring domains",
        ),
    ),
    lookback=fixed_lookback(1),  # a day's counts are final once the day is over
    connect=connect,
    accounts=targets,
    extract=extract,
    check=check,
    docs="docs/sources/backlinks.md",
)
