"""Zendesk: the incremental ticket export resumed from its cursor, and CSAT ratings.

raw.zendesk__tickets               one row per ticket, its latest state (replaced by ticket id)
raw.zendesk__satisfaction_ratings  ratings created in the window's reporting days, every score
raw.zendesk__sync_days             the reporting days the account was pulled for
raw.zendesk__export_state          the export's ``after_cursor`` and the first day it covers

The export streams every ticket change since the cursor. The cursor is landed with the tickets and
loaded after them, so it is saved only once they are (a crash in between re-streams a few
tickets); the next extraction reads it from the warehouse (``Source.state``). A window that starts
before the first covered day restarts the export from that day's ``start_time``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from pipelines.connectors.coverage import sync_days_batch, sync_days_table
from pipelines.connectors.framework import (
    Batch,
    Config,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    fixed_lookback,
)
from pipelines.lib.settings import kpi_timezone
from pipelines.warehouse.connection import existing_tables
from sources import zendesk
from sources.ratelimit import RateLimiter
from sources.timezones import epoch_seconds

LOOKBACK_DAYS = 7  # CSAT answers arrive days after the survey is offered
STATE_TABLE = "raw.zendesk__export_state"
TICKETS = pa.schema(
    [
        ("id", pa.int64()),
        ("created_at", pa.timestamp("us")),
        ("created_day", pa.date32()),
        ("updated_at", pa.timestamp("us")),
        ("status", pa.string()),
        ("priority", pa.string()),
        ("ticket_type", pa.string()),
        ("via_channel", pa.string()),
        ("reply_minutes_calendar", pa.int64()),
        ("reply_minutes_business", pa.int64()),
        ("first_resolution_minutes_calendar", pa.int64()),
        ("full_resolution_minutes_calendar", pa.int64()),
        ("replies", pa.int64()),
        ("reopens", pa.int64()),
        ("solved_at", pa.timestamp("us")),
        ("has_metrics", pa.bool_()),
        ("satisfaction_score", pa.string()),
        ("time_zone", pa.string()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)
RATINGS = pa.schema(
    [
        ("id", pa.int64()),
        ("ticket_id", pa.int64()),
        ("score", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("rated_day", pa.date32()),
        ("updated_at", pa.timestamp("us")),
        ("reason", pa.string()),
        ("has_comment", pa.bool_()),
        ("time_zone", pa.string()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)
STATE = pa.schema(
    [
        ("_account_id", pa.string()),
        ("after_cursor", pa.string()),
        ("covered_from", pa.date32()),
        ("tickets_streamed", pa.int64()),
    ]
)


def subdomain(config: Config) -> list[str]:
    return [config.require("ZENDESK_SUBDOMAIN")]


def connect(config: Config) -> zendesk.ZendeskClient:
    per_minute = config.whole_number("ZENDESK_EXPORT_REQUESTS_PER_MINUTE", "requests per minute")
    return zendesk.ZendeskClient(
        config.require("ZENDESK_SUBDOMAIN"),
        config.require("ZENDESK_EMAIL"),
        config.require("ZENDESK_API_TOKEN"),
        base_url=config.get("ZENDESK_BASE_URL"),
        export_limiter=RateLimiter(per_minute, 60.0),
        **config.http_options(),
    )


def read_state(con: Any, config: Config) -> tuple[str, date] | None:
    """The saved ``(after_cursor, covered_from)`` of the account, if an export ran before."""
    if not existing_tables(con, "raw", ["zendesk__export_state"]):
        return None
    row = con.execute(
        f"select after_cursor, covered_from from {STATE_TABLE} where _account_id = ?",
        subdomain(config),
    ).fetchone()
    return (row[0], row[1]) if row and row[0] else None


def latest_per_ticket(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ticket streamed twice in one run (it changed while paging) keeps its latest state."""
    latest: dict[int, dict[str, Any]] = {}
    for ticket in tickets:
        seen = latest.get(ticket["id"])
        if seen is None or (ticket["updated_at"] or datetime.min) >= (
            seen["updated_at"] or datetime.min
        ):
            latest[ticket["id"]] = ticket
    return list(latest.values())


def extract(
    client: zendesk.ZendeskClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    """Resume the ticket export (or restart it at the window), ratings of the window, the cursor."""
    tz = kpi_timezone()
    (account,) = subdomain(config)
    state: tuple[str, date] | None = config.state
    if state is None or window.start < state[1]:
        # start_time must be at least a minute in the past
        start_time = min(epoch_seconds(window.start, tz), int(datetime.now(UTC).timestamp()) - 120)
        pages = client.export_tickets(tz, start_time=start_time)
        covered_from, resumed = window.start, "start_time"
    else:
        pages = client.export_tickets(tz, cursor=state[0])
        covered_from, resumed = state[1], "cursor"
    streamed: list[dict[str, Any]] = []
    after_cursor = state[0] if state else None
    for page in pages:
        streamed.extend(page.tickets)
        after_cursor = page.after_cursor or after_cursor
    yield Batch(
        "tickets",
        [
            {**t, "_account_id": account, "_partition_date": t["created_day"]}
            for t in latest_per_ticket(streamed)
        ],
    )
    ratings = client.satisfaction_ratings(
        epoch_seconds(window.start, tz), epoch_seconds(window.end, tz), tz
    )
    yield Batch(
        "satisfaction_ratings",
        [{**r, "_account_id": account, "_partition_date": r["rated_day"]} for r in ratings],
    )
    yield sync_days_batch(account, window)
    yield Batch(
        "export_state",
        [
            {
                "_account_id": account,
                "after_cursor": after_cursor,
                "covered_from": covered_from,
                "tickets_streamed": len(streamed),
            }
        ],
    )
    yield {
        "account": account,
        "resumed_from": resumed,
        "ticket_changes_streamed": len(streamed),
        "covered_from": covered_from.isoformat(),
        "export_limit_waited_seconds": round(client.export_limiter.waited),
    }


def check(client: zendesk.ZendeskClient, config: Config) -> str:
    """One page of ratings of the last minute: the token is valid (and may read them)."""
    now = int(datetime.now(UTC).timestamp())
    client.satisfaction_ratings(now - 60, now, kpi_timezone())
    return f"account {client.subdomain}"


SOURCE = Source(
    name="zendesk",
    title="Zendesk",
    description="the incremental ticket export resumed from its cursor, and CSAT ratings",
    settings=(
        Setting("ZENDESK_SUBDOMAIN", "The account: https://{subdomain}.zendesk.com", required=True),
        Setting("ZENDESK_EMAIL", "An admin's e-mail (the export needs an admin)", required=True),
        Setting("ZENDESK_API_TOKEN", "API token of that admin", required=True, secret=True),
        Setting("ZENDESK_BASE_URL", "API host; blank: https://{subdomain}.zendesk.com"),
        Setting(
            "ZENDESK_EXPORT_REQUESTS_PER_MINUTE",
            "Client-side limit of ticket-export requests per minute (Zendesk allows 10)",
            default=str(zendesk.EXPORT_REQUESTS_PER_MINUTE),
        ),
    ),
    tables=(
        RawTable(
            "tickets",
            "raw.zendesk__tickets",
            TICKETS,
            "tickets streamed by the incremental export, latest state by id",
            replace=Replace.KEYS,
            keys=("_account_id", "id"),
        ),
        RawTable(
            "satisfaction_ratings",
            "raw.zendesk__satisfaction_ratings",
            RATINGS,
            "CSAT ratings created in the window's reporting days, every score",
        ),
        sync_days_table("zendesk"),
        # Last: loaded after the tickets it covers.
        RawTable(
            "export_state",
            STATE_TABLE,
            STATE,
            "the export's after_cursor and the first day it covers (where the next pull resumes)",
            replace=Replace.KEYS,
            keys=("_account_id",),
        ),
    ),
    lookback=fixed_lookback(LOOKBACK_DAYS),
    connect=connect,
    accounts=subdomain,
    extract=extract,
    check=check,
    personal_data=True,
    docs="docs/sources/zendesk.md",
    state=read_state,
)
