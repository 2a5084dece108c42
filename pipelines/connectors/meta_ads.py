"""Meta Ads ingestion: campaign x day insights per ad account over the partition window.

raw.meta_ads__campaign_insights  account x campaign x day with delivery (account currency and day)
raw.meta_ads__accounts           account x day pulled: currency, time zone, name (zero-fill spine)

Windows longer than META_ASYNC_THRESHOLD_DAYS (30) go through the async report job.
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import pyarrow as pa

from pipelines.connectors.ads_resources import MetaAdsResource, ads_lookback_days
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
from sources.api_versions import META_ADS

SOURCE = "meta_ads"
# Meta re-attributes conversions for up to 28 days: re-pull them.
LOOKBACK_DAYS = ads_lookback_days("META_ADS")
TABLES = {"campaigns": "raw.meta_ads__campaign_insights", "accounts": "raw.meta_ads__accounts"}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
SCHEMAS = {
    "campaigns": pa.schema(
        [
            ("account_id", pa.string()),
            ("account_currency", pa.string()),
            ("campaign_id", pa.string()),
            ("campaign_name", pa.string()),
            ("date", pa.date32()),
            ("impressions", pa.int64()),
            ("clicks", pa.int64()),
            ("inline_link_clicks", pa.int64()),
            ("spend", MONEY),
            ("conversions", pa.float64()),
            ("conversion_value", MONEY),
            ("conversion_action_types", pa.string()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_id", pa.string()),
            ("name", pa.string()),
            ("currency", pa.string()),
            ("timezone_name", pa.string()),
            ("date", pa.date32()),
        ]
    ),
}


@dg.multi_asset(
    name="meta_ads_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_meta_ads",
            kinds={"python", "duckdb"},
            description=f"Meta Ads insights (campaign x day) landed in {TABLES[name]}.",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["campaigns"]),
        schema_check_spec(SOURCE, KEYS["campaigns"]),
        api_version_check_spec(META_ADS, KEYS["campaigns"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("meta_ads")
def meta_ads_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, meta_ads: MetaAdsResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull campaign x day insights for every ad account and replace the window's rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = meta_ads.missing_settings()
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
    accounts = meta_ads.accounts()
    client = meta_ads.client()
    yield check_api_version(context, META_ADS, client.api_version, KEYS["campaigns"])
    last = end - timedelta(days=1)
    pull = AdsPull()
    for account in accounts:
        info = client.account(account)
        pull.add_account(account, info, start, last)
        pull.add_campaigns(account, client.insights(account, start, last))
        pull.currencies[account] = info["currency"]
    context.log.info(
        f"meta_ads: {client.requests_made} API requests for {len(accounts)} accounts, "
        f"{client.throttled} throttled answers backed off"
    )
    yield from load_and_report(
        context,
        warehouse=warehouse,
        pull=pull,
        accounts=accounts,
        start=start,
        end=end,
        window=window,
        tables=TABLES,
        schemas=SCHEMAS,
        keys=KEYS,
        check_asset=KEYS["campaigns"],
        extra=lambda name: {
            "accounts": ", ".join(accounts),
            "currencies": ", ".join(f"{a}={v}" for a, v in pull.currencies.items()),
            "conversion_action_types": ", ".join(meta_ads.conversion_types()),
            "api_requests": client.requests_made,
            "throttled_answers": client.throttled,
        },
    )
