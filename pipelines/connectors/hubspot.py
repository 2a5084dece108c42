"""HubSpot ingestion: contacts and deals modified since the window's first day, latest state wins.

raw.hubspot__contacts   one row per contact (created time, lifecycle stage, original source)
raw.hubspot__deals      one row per deal (stage, won/closed from the pipeline, amount, currency)
raw.hubspot__sync_days  the reporting days the CRM was pulled for

A run searches every object modified from the window's start until now (``lastmodifieddate`` /
``hs_lastmodifieddate``), so every object created in the window is included with its current
state, whatever day the run happens; rows are replaced by id. Leads (contacts whose lifecycle
stage is in ``HUBSPOT_LEAD_STAGES``) and won deals are counted in dbt.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
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
from pipelines.connectors.resources_business import HubSpotResource, reporting_zone
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

SOURCE = "hubspot"
LOOKBACK_DAYS = 2  # search is eventually consistent: overlap the previous run
TABLES = {
    "contacts": "raw.hubspot__contacts",
    "deals": "raw.hubspot__deals",
    "sync_days": "raw.hubspot__sync_days",
}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
_COMMON = [
    ("archived", pa.bool_()),
    ("time_zone", pa.string()),
    ("_account_id", pa.string()),
    ("_partition_date", pa.date32()),
]
CONTACTS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("created_day", pa.date32()),
        ("last_modified_at", pa.timestamp("us")),
        ("lifecycle_stage", pa.string()),
        ("analytics_source", pa.string()),
        *_COMMON,
    ]
)
DEALS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("created_day", pa.date32()),
        ("closed_at", pa.timestamp("us")),
        ("close_day", pa.date32()),
        ("last_modified_at", pa.timestamp("us")),
        ("deal_stage", pa.string()),
        ("stage_label", pa.string()),
        ("pipeline", pa.string()),
        ("is_closed", pa.bool_()),
        ("is_won", pa.bool_()),
        ("amount", pa.decimal128(24, 6)),
        ("deal_currency_code", pa.string()),
        ("currency_is_portal_default", pa.bool_()),
        *_COMMON,
    ]
)


@dg.multi_asset(
    name="hubspot_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_hubspot",
            kinds={"python", "duckdb"},
            description=f"HubSpot CRM v3 search landed in {TABLES[name]} (see pipelines/connectors/hubspot.py).",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["contacts"]),
        schema_check_spec(SOURCE, KEYS["contacts"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("hubspot")
def hubspot_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, hubspot: HubSpotResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Upsert every contact and deal modified since the window's first day."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = hubspot.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, KEYS.values(), KEYS["contacts"], window)
        return
    tz = reporting_zone()
    client = hubspot.client()
    account = client.account_details()
    portal = str(account["portalId"])
    default_currency = str(account.get("companyCurrency") or "USD")
    stages = client.deal_stages()
    low = epoch_seconds(start, tz) * 1000
    high = int(datetime.now(UTC).timestamp() * 1000)
    contacts = client.contacts_modified(low, high, tz)
    deals = client.deals_modified(low, high, tz, stages, default_currency)
    context.log.info(
        f"hubspot: {len(contacts)} contacts, {len(deals)} deals modified since {start} "
        f"({client.requests_made} requests, {client.splits} window splits)"
    )

    def stamp(rows: list[dict]) -> list[dict]:
        return [{**r, "_account_id": portal, "_partition_date": r["created_day"]} for r in rows]

    run_id = context.run.run_id
    with warehouse.connect() as con:
        results = {
            "contacts": replace_keys(
                con,
                TABLES["contacts"],
                arrow_table(stamp(contacts), CONTACTS_SCHEMA),
                keys=["_account_id", "id"],
                run_id=run_id,
            ),
            "deals": replace_keys(
                con,
                TABLES["deals"],
                arrow_table(stamp(deals), DEALS_SCHEMA),
                keys=["_account_id", "id"],
                run_id=run_id,
            ),
            "sync_days": replace_window(
                con,
                TABLES["sync_days"],
                sync_days(portal, start, end),
                account_ids=[portal],
                start=start,
                end=end,
                run_id=run_id,
            ),
        }
    unknown_stages = sorted(
        {d["deal_stage"] for d in deals if d["is_won"] is None and d["deal_stage"]}
    )
    for name, key in KEYS.items():
        extra = (
            {"api_requests": client.requests_made, "window_splits": client.splits}
            if name == "contacts"
            else {}
        )
        if name == "deals":
            extra = {
                "default_currency": default_currency,
                "unknown_stages": ", ".join(unknown_stages) or "none",
            }
        yield dg.MaterializeResult(
            asset_key=key, metadata=load_metadata(results[name], window, portal=portal, **extra)
        )
    yield configured(KEYS["contacts"], [portal])
    yield schema_check(context, KEYS["contacts"], results.values(), window)
