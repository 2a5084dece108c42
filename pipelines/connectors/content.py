"""Content inventory: WordPress posts and comments, and the editable production-cost file.

raw.wordpress__posts     every published post of the site (the whole inventory, each run)
raw.wordpress__comments  approved comments of the window, by day in KPI_TIMEZONE
raw.content__costs       CONTENT_COSTS_FILE (url, cost, currency[, published_date, title])

Views, engagement time, leads and landing sessions of content pages come from GA4
(raw.ga4__pages, raw.ga4__page_leads, raw.ga4__landing_pages); dbt joins them by URL path.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
from pipelines.connectors.social_resources import WordPressResource, kpi_timezone
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import replace_window
from pipelines.warehouse.resource import WarehouseResource
from sources.content_costs import parse_costs

LOOKBACK_DAYS = 1  # comments are dated when written; the inventory is re-read whole
TABLES = {"posts": "raw.wordpress__posts", "comments": "raw.wordpress__comments"}
KEYS = {name: dg.AssetKey(t.split(".")) for name, t in TABLES.items()}
COSTS_TABLE = "raw.content__costs"
COSTS_KEY = dg.AssetKey(["raw", "content__costs"])
CHECK_COST_LINES = "cost_lines_parsed"
ALL_TIME = (date(1970, 1, 1), date(9999, 12, 31))

_META = [("_account_id", pa.string()), ("_partition_date", pa.date32())]
POST_SCHEMA = pa.schema(
    [
        ("post_id", pa.int64()),
        ("link", pa.string()),
        ("path", pa.string()),
        ("slug", pa.string()),
        ("status", pa.string()),
        ("title", pa.string()),
        ("published_at", pa.timestamp("us")),
        ("modified_at", pa.timestamp("us")),
        *_META,
    ]
)
COMMENT_SCHEMA = pa.schema(
    [
        ("comment_id", pa.int64()),
        ("post_id", pa.int64()),
        ("status", pa.string()),
        ("commented_at", pa.timestamp("us")),
        ("comment_date", pa.date32()),
        *_META,
    ]
)
COST_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("path", pa.string()),
        ("cost", pa.decimal128(18, 2)),
        ("currency", pa.string()),
        ("published_date", pa.date32()),
        ("title", pa.string()),
        ("line", pa.int64()),
        *_META,
    ]
)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The KPI_TIMEZONE day of a naive UTC datetime."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


@dg.multi_asset(
    name="wordpress_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_content",
            kinds={"python", "duckdb"},
            description=f"WordPress REST API landed in {TABLES[name]} (see pipelines/connectors/content.py).",
            metadata={"table": TABLES[name]},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec("wordpress", KEYS["posts"]),
        schema_check_spec("wordpress", KEYS["posts"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("wordpress")
def wordpress_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, wordpress: WordPressResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Re-read the post inventory; replace the window's comments."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = wordpress.missing_settings()
    if missing:
        yield from not_configured(
            context, "wordpress", missing, KEYS.values(), KEYS["posts"], window
        )
        return
    site = wordpress.site() or ""
    client = wordpress.client()
    zone = ZoneInfo(kpi_timezone())
    posts = [
        {**p, "_account_id": site, "_partition_date": p["published_at"].date()}
        for p in client.posts()
    ]
    # A KPI_TIMEZONE day can straddle two UTC days: pull one more on each side, keep the window.
    comments = []
    for c in client.comments(start - timedelta(days=1), end):
        day = local_date(c["commented_at"], zone)
        if start <= day < end:
            comments.append({**c, "comment_date": day, "_account_id": site, "_partition_date": day})
    with warehouse.connect() as con:
        results = {
            "posts": replace_window(
                con,
                TABLES["posts"],
                arrow_table(posts, POST_SCHEMA),
                account_ids=[site],
                start=ALL_TIME[0],
                end=ALL_TIME[1],
                run_id=context.run.run_id,
            ),
            "comments": replace_window(
                con,
                TABLES["comments"],
                arrow_table(comments, COMMENT_SCHEMA),
                account_ids=[site],
                start=start,
                end=end,
                run_id=context.run.run_id,
            ),
        }
    for name, key in KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=load_metadata(
                results[name], window, site=site, api_requests=client.requests_made
            ),
        )
    yield configured(KEYS["posts"], [site])
    yield schema_check(context, KEYS["posts"], results.values(), window)


@dg.asset(
    key=COSTS_KEY,
    group_name="raw_content",
    kinds={"python", "duckdb"},
    description="Production cost per content piece from CONTENT_COSTS_FILE (default "
    "config/content_costs.csv), rewritten whole on every run.",
    check_specs=[
        configured_check_spec("content_costs", COSTS_KEY),
        dg.AssetCheckSpec(
            CHECK_COST_LINES,
            asset=COSTS_KEY,
            description="ERROR listing cost-file lines (file:line) that were left out: content ROI "
            "would overstate until they are fixed.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("content_costs")
def content_costs_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, wordpress: WordPressResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Not data of a day: the whole file replaces the table whatever the window."""
    start, end = window_dates(context)
    window = window_label(start, end)
    path = wordpress.costs_path()
    if not path.is_file():
        yield from not_configured(
            context,
            "content_costs",
            [f"CONTENT_COSTS_FILE ({path} not found)"],
            [COSTS_KEY],
            COSTS_KEY,
            window,
            (CHECK_COST_LINES,),
        )
        return
    parsed = parse_costs(path)
    today = datetime.now(UTC).date()
    rows: list[dict[str, Any]] = [
        {**row, "_account_id": "content_costs", "_partition_date": row["published_date"] or today}
        for row in parsed.rows
    ]
    with warehouse.connect() as con:
        result = replace_window(
            con,
            COSTS_TABLE,
            arrow_table(rows, COST_SCHEMA),
            account_ids=["content_costs"],
            start=ALL_TIME[0],
            end=ALL_TIME[1],
            run_id=context.run.run_id,
        )
    for message in parsed.errors:
        context.log.error(f"content_costs: {message}")
    yield dg.MaterializeResult(
        asset_key=COSTS_KEY, metadata=load_metadata(result, window, file=str(path))
    )
    yield configured(COSTS_KEY, [str(path)])
    yield dg.AssetCheckResult(
        check_name=CHECK_COST_LINES,
        asset_key=COSTS_KEY,
        passed=not parsed.errors,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(parsed.errors[:20]) or f"all {len(parsed.rows)} cost line(s) parsed",
        metadata={"rejected_lines": len(parsed.errors), "file": str(path)},
    )
