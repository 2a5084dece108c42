"""What the social insights sources (Meta Graph, LinkedIn) share: lookback, stamps, "today"."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import Config, Setting, fixed_lookback

LOOKBACK = fixed_lookback(3)  # insights are restated for about 48 hours
LOADER_COLUMNS = [("_account_id", pa.string()), ("_partition_date", pa.date32())]


def as_of_setting(name: str) -> Setting:
    """The day a pull treats as today (follower totals are snapshots of today)."""
    return Setting(
        name,
        "The UTC day treated as today, YYYY-MM-DD (tests and emulators); default: today",
    )


def as_of(config: Config, name: str) -> date | None:
    raw = config.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"[{config.source.name}] {name}={raw!r} must be a YYYY-MM-DD day"
        ) from None


def stamp(rows: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
    """The rows of one account with the loader's account and day."""
    return [{**row, "_account_id": account_id, "_partition_date": row["date"]} for row in rows]
