"""Social insights ingestion: Meta Graph (Facebook Pages, Instagram) and LinkedIn organizations.

raw.meta_graph__page_insights          page x day: page_media_view, page_total_media_view_unique,
                                        page_post_engagements, page_follows (+ page_follows_gain)
raw.meta_graph__instagram_insights     account x UTC day: views, reach, total_interactions,
                                        website_clicks, follower_count (+ followers_end_of_day)
raw.linkedin__share_statistics         organization x UTC day: share statistics (organic)
raw.linkedin__follower_statistics      organization x UTC day: follower gains, end-of-day followers
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.connectors.api_version_check import (
    CHECK_API_VERSION,
    api_version_check_spec,
    check_api_version,
)
from pipelines.connectors.ingest import (
    CHECK_SCHEMA,
    arrow_table,
    configured,
    configured_check_spec,
    load_metadata,
    not_configured,
    schema_check,
    schema_check_spec,
    window_label,
)
from pipelines.connectors.social_resources import LinkedInResource, MetaGraphResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import LoadResult, replace_window
from pipelines.warehouse.resource import WarehouseResource
from sources.api_versions import LINKEDIN, META_GRAPH

LOOKBACK_DAYS = 3  # insights are restated for about 48 hours
META_TABLES = {
    "page_insights": "raw.meta_graph__page_insights",
    "instagram_insights": "raw.meta_graph__instagram_insights",
}
LINKEDIN_TABLES = {
    "share_statistics": "raw.linkedin__share_statistics",
    "follower_statistics": "raw.linkedin__follower_statistics",
}
META_KEYS = {name: dg.AssetKey(t.split(".")) for name, t in META_TABLES.items()}
LINKEDIN_KEYS = {name: dg.AssetKey(t.split(".")) for name, t in LINKEDIN_TABLES.items()}

_META = [("_account_id", pa.string()), ("_partition_date", pa.date32())]
SCHEMAS = {
    "page_insights": pa.schema(
        [
            ("date", pa.date32()),
            ("page_media_view", pa.int64()),
            ("page_total_media_view_unique", pa.int64()),
            ("page_post_engagements", pa.int64()),
            ("page_follows", pa.int64()),
            ("page_follows_gain", pa.int64()),
            *_META,
        ]
    ),
    "instagram_insights": pa.schema(
        [
            ("date", pa.date32()),
            ("views", pa.int64()),
            ("reach", pa.int64()),
            ("total_interactions", pa.int64()),
            ("website_clicks", pa.int64()),
            ("follower_count", pa.int64()),
            ("followers_end_of_day", pa.int64()),
            *_META,
        ]
    ),
    "share_statistics": pa.schema(
        [
            ("organization_urn", pa.string()),
            ("date", pa.date32()),
            ("impression_count", pa.int64()),
            ("unique_impressions_count", pa.int64()),
            ("click_count", pa.int64()),
            ("like_count", pa.int64()),
            ("comment_count", pa.int64()),
            ("share_count", pa.int64()),
            ("engagement", pa.float64()),
            *_META,
        ]
    ),
    "follower_statistics": pa.schema(
        [
            ("organization_urn", pa.string()),
            ("date", pa.date32()),
            ("organic_follower_gain", pa.int64()),
            ("paid_follower_gain", pa.int64()),
            ("followers_end_of_day", pa.int64()),
            ("network_size", pa.int64()),
            *_META,
        ]
    ),
}


def stamp(rows: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
    return [{**row, "_account_id": account_id, "_partition_date": row["date"]} for row in rows]


def _specs(keys: dict[str, dg.AssetKey], tables: dict[str, str], group: str) -> list:
    return [
        dg.AssetSpec(
            key,
            group_name=group,
            kinds={"python", "duckdb"},
            description=f"Landed in {tables[name]} (see pipelines/connectors/social.py).",
            metadata={"table": tables[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in keys.items()
    ]


def _load(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    tables: dict[str, str],
    rows: dict[str, list[dict[str, Any]]],
    accounts: dict[str, list[str]],
    start: date,
    end: date,
) -> dict[str, LoadResult]:
    with warehouse.connect() as con:
        return {
            name: replace_window(
                con,
                table,
                arrow_table(rows[name], SCHEMAS[name]),
                account_ids=accounts[name],
                start=start,
                end=end,
                run_id=context.run.run_id,
            )
            for name, table in tables.items()
        }


@dg.multi_asset(
    name="meta_graph_raw",
    specs=_specs(META_KEYS, META_TABLES, "raw_social"),
    check_specs=[
        configured_check_spec("meta_graph", META_KEYS["page_insights"]),
        schema_check_spec("meta_graph", META_KEYS["page_insights"]),
        api_version_check_spec(META_GRAPH, META_KEYS["page_insights"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("meta_graph")
def meta_graph_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, meta_graph: MetaGraphResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Facebook Page and Instagram insights of the window, replacing their raw rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = meta_graph.missing_settings()
    if missing:
        yield from not_configured(
            context,
            "meta_graph",
            missing,
            META_KEYS.values(),
            META_KEYS["page_insights"],
            window,
            other_checks=(CHECK_SCHEMA, CHECK_API_VERSION),
        )
        return
    client = meta_graph.client()
    yield check_api_version(context, META_GRAPH, client.version, META_KEYS["page_insights"])
    last = end - timedelta(days=1)
    accounts = {
        "page_insights": meta_graph.pages(),
        "instagram_insights": meta_graph.instagram_accounts(),
    }
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in META_TABLES}
    for page_id in accounts["page_insights"]:
        rows["page_insights"] += stamp(client.page_days(page_id, start, last), page_id)
    for account_id in accounts["instagram_insights"]:
        rows["instagram_insights"] += stamp(
            client.instagram_days(account_id, start, last), account_id
        )
    context.log.info(f"meta_graph: {client.requests_made} API requests")
    results = _load(context, warehouse, META_TABLES, rows, accounts, start, end)
    for name, key in META_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=load_metadata(
                results[name],
                window,
                accounts=", ".join(accounts[name]) or "none configured",
                api_requests=client.requests_made,
            ),
        )
    yield configured(
        META_KEYS["page_insights"], accounts["page_insights"] + accounts["instagram_insights"]
    )
    yield schema_check(context, META_KEYS["page_insights"], results.values(), window)


@dg.multi_asset(
    name="linkedin_raw",
    specs=_specs(LINKEDIN_KEYS, LINKEDIN_TABLES, "raw_social"),
    check_specs=[
        configured_check_spec("linkedin", LINKEDIN_KEYS["share_statistics"]),
        schema_check_spec("linkedin", LINKEDIN_KEYS["share_statistics"]),
        api_version_check_spec(LINKEDIN, LINKEDIN_KEYS["share_statistics"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("linkedin")
def linkedin_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, linkedin: LinkedInResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """LinkedIn organization share and follower statistics of the window."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = linkedin.missing_settings()
    if missing:
        yield from not_configured(
            context,
            "linkedin",
            missing,
            LINKEDIN_KEYS.values(),
            LINKEDIN_KEYS["share_statistics"],
            window,
            other_checks=(CHECK_SCHEMA, CHECK_API_VERSION),
        )
        return
    client = linkedin.client()
    yield check_api_version(context, LINKEDIN, client.version, LINKEDIN_KEYS["share_statistics"])
    last = end - timedelta(days=1)
    organizations = linkedin.organizations()
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in LINKEDIN_TABLES}
    for org in organizations:
        rows["share_statistics"] += stamp(client.share_statistics(org, start, last), org)
        rows["follower_statistics"] += stamp(client.follower_statistics(org, start, last), org)
    context.log.info(f"linkedin: {client.requests_made} API requests")
    accounts = dict.fromkeys(LINKEDIN_TABLES, organizations)
    results = _load(context, warehouse, LINKEDIN_TABLES, rows, accounts, start, end)
    for name, key in LINKEDIN_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=load_metadata(
                results[name],
                window,
                organizations=", ".join(organizations),
                api_requests=client.requests_made,
            ),
        )
    yield configured(LINKEDIN_KEYS["share_statistics"], organizations)
    yield schema_check(context, LINKEDIN_KEYS["share_statistics"], results.values(), window)
