"""Zendesk ingestion: the incremental ticket export resumed from its cursor, and CSAT ratings.

raw.zendesk__tickets               one row per ticket, its latest state (replaced by ticket id)
raw.zendesk__satisfaction_ratings  ratings created in the window's reporting days, every score
raw.zendesk__sync_days             the reporting days the account was pulled for
raw.zendesk__export_state          the export's ``after_cursor`` and the first day it covers

The export streams every ticket change since the cursor; the cursor is saved in the warehouse after
the tickets are loaded (a crash in between only re-streams a few tickets). A window that starts
before the first covered day restarts the export from that day's ``start_time``.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from pipelines.connectors.coverage import sync_days
from pipelines.connectors.ingest import (
    arrow_table,
    configured,
    configured_check_spec,
    load_metadata,
    not_configured,
    schema_check,
    schema_check_spec,
    window_label,
)
from pipelines.connectors.resources_business import ZendeskResource, reporting_zone
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import replace_keys, replace_window
from pipelines.warehouse.resource import WarehouseResource
from sources.timezones import epoch_seconds

SOURCE = "zendesk"
LOOKBACK_DAYS = 7  # CSAT answers arrive days after the survey is offered
TABLES = {
    "tickets": "raw.zendesk__tickets",
    "satisfaction_ratings": "raw.zendesk__satisfaction_ratings",
    "sync_days": "raw.zendesk__sync_days",
}
STATE_TABLE = "raw.zendesk__export_state"
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
TICKETS_SCHEMA = pa.schema(
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
RATINGS_SCHEMA = pa.schema(
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
STATE_SCHEMA = pa.schema(
    [
        ("_account_id", pa.string()),
        ("after_cursor", pa.string()),
        ("covered_from", pa.date32()),
        ("tickets_streamed", pa.int64()),
    ]
)


def read_state(con: duckdb.DuckDBPyConnection, account: str) -> tuple[str, date] | None:
    """The saved ``(after_cursor, covered_from)`` of ``account``, if an export ran before."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'zendesk__export_state'"
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute(
        f"select after_cursor, covered_from from {STATE_TABLE} where _account_id = ?", [account]
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


@dg.multi_asset(
    name="zendesk_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_zendesk",
            kinds={"python", "duckdb"},
            description=f"Zendesk Support API landed in {TABLES[name]} (see pipelines/connectors/zendesk.py).",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["tickets"]),
        schema_check_spec(SOURCE, KEYS["tickets"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("zendesk")
def zendesk_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, zendesk: ZendeskResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Resume the ticket export, load ratings of the window, save the cursor."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = zendesk.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, KEYS.values(), KEYS["tickets"], window)
        return
    tz = reporting_zone()
    account = zendesk.account()
    client = zendesk.client()
    with warehouse.connect() as con:
        state = read_state(con, account)
    if state is None or start < state[1]:
        # start_time must be at least a minute in the past
        start_time = min(epoch_seconds(start, tz), int(datetime.now(UTC).timestamp()) - 120)
        pages = client.export_tickets(tz, start_time=start_time)
        covered_from, resumed = start, "start_time"
    else:
        pages = client.export_tickets(tz, cursor=state[0])
        covered_from, resumed = state[1], "cursor"
    streamed: list[dict[str, Any]] = []
    after_cursor = state[0] if state else None
    for page in pages:
        streamed.extend(page.tickets)
        after_cursor = page.after_cursor or after_cursor
    tickets = [
        {**t, "_account_id": account, "_partition_date": t["created_day"]}
        for t in latest_per_ticket(streamed)
    ]
    ratings = [
        {**r, "_account_id": account, "_partition_date": r["rated_day"]}
        for r in client.satisfaction_ratings(epoch_seconds(start, tz), epoch_seconds(end, tz), tz)
    ]
    context.log.info(
        f"zendesk: {len(streamed)} ticket changes (from {resumed}), {len(ratings)} ratings, "
        f"{client.requests_made} requests, {client.export_limiter.waited:.0f}s waited for the export limit"
    )
    run_id = context.run.run_id
    with warehouse.connect() as con:
        results = {
            "tickets": replace_keys(
                con,
                TABLES["tickets"],
                arrow_table(tickets, TICKETS_SCHEMA),
                keys=["_account_id", "id"],
                run_id=run_id,
            ),
            "satisfaction_ratings": replace_window(
                con,
                TABLES["satisfaction_ratings"],
                arrow_table(ratings, RATINGS_SCHEMA),
                account_ids=[account],
                start=start,
                end=end,
                run_id=run_id,
            ),
            "sync_days": replace_window(
                con,
                TABLES["sync_days"],
                sync_days(account, start, end),
                account_ids=[account],
                start=start,
                end=end,
                run_id=run_id,
            ),
        }
        state_row = {
            "_account_id": account,
            "after_cursor": after_cursor,
            "covered_from": covered_from,
            "tickets_streamed": len(streamed),
        }
        replace_keys(
            con,
            STATE_TABLE,
            pa.Table.from_pylist([state_row], schema=STATE_SCHEMA),
            keys=["_account_id"],
            run_id=run_id,
        )
    for name, key in KEYS.items():
        extra: dict[str, Any] = {}
        if name == "tickets":
            extra = {
                "resumed_from": resumed,
                "ticket_changes_streamed": len(streamed),
                "covered_from": covered_from.isoformat(),
                "api_requests": client.requests_made,
            }
        yield dg.MaterializeResult(
            asset_key=key, metadata=load_metadata(results[name], window, account=account, **extra)
        )
    yield configured(KEYS["tickets"], [account])
    yield schema_check(context, KEYS["tickets"], results.values(), window)
