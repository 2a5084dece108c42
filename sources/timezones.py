"""Instants and reporting days: providers send UTC instants, KPIs count days in ``KPI_TIMEZONE``.

Stripe sends epoch seconds, Zendesk and HubSpot ISO-8601 UTC strings (HubSpot with
milliseconds). Rows keep the UTC instant (as a naive UTC timestamp, DuckDB's TIMESTAMP) and the
day it falls on in the reporting time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sources.http import SchemaError


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` or an error that says which setting to fix."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchemaError(
            "settings",
            "KPI_TIMEZONE",
            "not an IANA time zone",
            field="KPI_TIMEZONE",
            value=name,
            fix="use a name like UTC, Europe/Oslo or America/New_York",
        ) from None


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The aware instant at which ``day`` starts in ``tz`` (handles DST days of 23/25 hours)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def epoch_seconds(day: date, tz: ZoneInfo) -> int:
    """Unix seconds of the start of ``day`` in ``tz``."""
    return int(day_start(day, tz).timestamp())


def from_epoch(seconds: int) -> datetime:
    """An aware UTC instant from Unix seconds."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def parse_iso(text: str | None) -> datetime | None:
    """An aware UTC instant from ``2024-09-01T22:41:07.000Z`` style strings; ``None``/"" -> None."""
    if text in (None, ""):
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar day of an aware instant in ``tz``."""
    return instant.astimezone(tz).date()


def naive_utc(instant: datetime | None) -> datetime | None:
    """An aware instant as naive UTC (what a DuckDB TIMESTAMP column holds)."""
    return instant.astimezone(UTC).replace(tzinfo=None) if instant else None
