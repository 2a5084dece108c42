"""Search Console ingestion: search analytics of each site for the partition window.

raw.search_console__queries           day x query x page: clicks, impressions, ctr, position
raw.search_console__totals            day: the property's totals (anonymized queries included)
raw.search_console__tracked_keywords  SEO_TRACKED_KEYWORDS, rewritten on every run

Days are Search Console's own (Pacific Time). Rows on or after ``first_incomplete_date`` are
``is_provisional``; the daily schedule re-pulls the last 4 days (at least) so they settle.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

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
from pipelines.connectors.resources import SearchConsoleResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import LoadResult, replace_table, replace_window
from pipelines.warehouse.resource import WarehouseResource
from sources.search_console import TIME_ZONE

SOURCE = "search_console"
LOOKBACK_DAYS = 4  # data lags 2-3 days and fresh days change: re-pull 4
TABLES = {
    "queries": "raw.search_console__queries",
    "totals": "raw.search_console__totals",
    "tracked_keywords": "raw.search_console__tracked_keywords",
}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}

_METRICS = [
    ("clicks", pa.int64()),
    ("impressions", pa.int64()),
    ("ctr", pa.float64()),
    ("position", pa.float64()),
    ("is_provisional", pa.bool_()),
    ("time_zone", pa.string()),
    ("search_type", pa.string()),
    ("_account_id", pa.string()),
    ("_partition_date", pa.date32()),
]
SCHEMAS = {
    "queries": pa.schema(
        [("date", pa.date32()), ("query", pa.string()), ("page", pa.string()), *_METRICS]
    ),
    "totals": pa.schema([("date", pa.date32()), *_METRICS]),
}


def _stamp(
    rows: list[dict[str, Any]], site: str, first_incomplete: date | None
) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "is_provisional": first_incomplete is not None and row["date"] >= first_incomplete,
            "time_zone": TIME_ZONE,
            "search_type": "web",
            "_account_id": site,
            "_partition_date": row["date"],
        }
        for row in rows
    ]


def keyword_table(keywords: list[str]) -> pa.Table:
    """The tracked keywords; dbt matches them to queries exactly, ignoring case."""
    return pa.table(
        {
            "keyword": pa.array(keywords, pa.string()),
            "keyword_normalized": pa.array([k.strip().lower() for k in keywords], pa.string()),
        }
    )


@dg.multi_asset(
    name="search_console_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_search_console",
            kinds={"python", "duckdb"},
            description=f"Search Console searchAnalytics/query landed in {TABLES[name]} "
            "(see pipelines/connectors/search_console.py).",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["queries"]),
        schema_check_spec(SOURCE, KEYS["queries"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("search_console")
def search_console_raw(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    search_console: SearchConsoleResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull each site's query rows and daily totals for the window and replace their rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = search_console.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, KEYS.values(), KEYS["queries"], window)
        return

    sites = search_console.sites()
    keywords = search_console.keywords()
    client = search_console.client()
    rows: dict[str, list[dict[str, Any]]] = {"queries": [], "totals": []}
    provisional_from: list[str] = []
    for site in sites:
        data = client.site_data(site, start, end - timedelta(days=1))
        rows["queries"].extend(_stamp(data.query_rows, site, data.first_incomplete_date))
        rows["totals"].extend(_stamp(data.totals, site, data.first_incomplete_date))
        if data.first_incomplete_date:
            provisional_from.append(f"{site}: {data.first_incomplete_date}")
    context.log.info(f"search_console: {client.requests_made} API requests for {len(sites)} sites")

    results: dict[str, LoadResult] = {}
    with warehouse.connect() as con:
        for name in ("queries", "totals"):
            results[name] = replace_window(
                con,
                TABLES[name],
                arrow_table(rows[name], SCHEMAS[name]),
                account_ids=sites,
                start=start,
                end=end,
                run_id=context.run.run_id,
            )
        replace_table(con, TABLES["tracked_keywords"], keyword_table(keywords))

    for name in ("queries", "totals"):
        yield dg.MaterializeResult(
            asset_key=KEYS[name],
            metadata=load_metadata(
                results[name],
                window,
                sites=", ".join(sites),
                api_requests=client.requests_made,
                provisional_from="; ".join(provisional_from) or "none",
            ),
        )
    yield dg.MaterializeResult(
        asset_key=KEYS["tracked_keywords"],
        metadata={
            "status": "loaded",
            "keywords": len(keywords),
            "matching": "exact, ignoring case" if keywords else "none set: all queries",
        },
    )
    yield configured(KEYS["queries"], sites)
    yield schema_check(context, KEYS["queries"], results.values(), window)
