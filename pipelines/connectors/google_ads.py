"""Google Ads ingestion: campaign x day per customer over the partition window.

raw.google_ads__campaign_stats  customer x campaign x day the API returned (account currency, day)
raw.google_ads__accounts        customer x day pulled: currency, time zone, name (zero-fill spine)
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from pipelines.connectors.ads_resources import GoogleAdsResource, ads_lookback_days
from pipelines.connectors.api_version_check import (
    CHECK_API_VERSION,
    api_version_check_spec,
    check_api_version,
)
from pipelines.connectors.ingest import (
    CHECK_SCHEMA,
    configured_check_spec,
    not_configured,
    schema_check_spec,
    window_label,
)
from pipelines.connectors.paid_ads import MONEY, AdsPull, load_and_report
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.resource import WarehouseResource
from sources.api_versions import GOOGLE_ADS

SOURCE = "google_ads"
# Conversions are attributed back to the click day for up to the conversion window: re-pull it.
LOOKBACK_DAYS = ads_lookback_days("GOOGLE_ADS")
TABLES = {"campaigns": "raw.google_ads__campaign_stats", "accounts": "raw.google_ads__accounts"}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
SCHEMAS = {
    "campaigns": pa.schema(
        [
            ("customer_id", pa.string()),
            ("currency_code", pa.string()),
            ("time_zone", pa.string()),
            ("campaign_id", pa.string()),
            ("campaign_name", pa.string()),
            ("campaign_status", pa.string()),
            ("date", pa.date32()),
            ("impressions", pa.int64()),
            ("clicks", pa.int64()),
            ("cost_micros", pa.int64()),
            ("cost", MONEY),
            ("conversions", pa.float64()),
            ("conversions_value", MONEY),
        ]
    ),
    "accounts": pa.schema(
        [
            ("customer_id", pa.string()),
            ("descriptive_name", pa.string()),
            ("currency_code", pa.string()),
            ("time_zone", pa.string()),
            ("date", pa.date32()),
        ]
    ),
}


@dg.multi_asset(
    name="google_ads_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_google_ads",
            kinds={"python", "duckdb"},
            description=f"Google Ads searchStream (campaign x day) landed in {TABLES[name]}.",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["campaigns"]),
        schema_check_spec(SOURCE, KEYS["campaigns"]),
        api_version_check_spec(GOOGLE_ADS, KEYS["campaigns"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("google_ads")
def google_ads_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, google_ads: GoogleAdsResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull campaign x day for every customer and replace the window's rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = google_ads.missing_settings()
    if missing:
        yield from not_configured(
            context,
            SOURCE,
            missing,
            KEYS.values(),
            KEYS["campaigns"],
            window,
            other_checks=(CHECK_SCHEMA, CHECK_API_VERSION),
        )
        return
    customers = google_ads.customers()
    client = google_ads.client()
    yield check_api_version(context, GOOGLE_ADS, client.api_version, KEYS["campaigns"])
    last = end - timedelta(days=1)
    pull = AdsPull()
    for customer in customers:
        info = client.customer(customer)
        pull.add_account(customer, info, start, last)
        pull.add_campaigns(customer, client.campaign_days(customer, start, last))
        pull.currencies[customer] = info["currency_code"]
    context.log.info(
        f"google_ads: {client.requests_made} API requests for {len(customers)} customers"
    )
    yield from load_and_report(
        context,
        warehouse=warehouse,
        pull=pull,
        accounts=customers,
        start=start,
        end=end,
        window=window,
        tables=TABLES,
        schemas=SCHEMAS,
        keys=KEYS,
        check_asset=KEYS["campaigns"],
        extra=lambda name: {
            "customers": ", ".join(customers),
            "currencies": ", ".join(f"{c}={v}" for c, v in pull.currencies.items()),
            "api_requests": client.requests_made,
        },
    )
