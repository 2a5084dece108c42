"""PageSpeed Insights ingestion: each tracked URL, mobile and desktop, measured once per run.

raw.pagespeed__runs   url x strategy x day: performance score, lab LCP/FCP/CLS/TBT, CrUX field
                      values, status ``ok`` or ``failed`` (with the error)

PSI measures a page *now*; the past cannot be re-measured. So a run measures only when its window
ends recently (``PAGESPEED_MAX_AGE_DAYS``, default 2, before today UTC) and dates the measurement
on the window's last day; older windows load nothing and keep the rows they have. A URL that
fails on a rerun keeps the day's earlier successful measurement (a fault never erases data).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import duckdb
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
from pipelines.connectors.resources import PageSpeedResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.connection import MISSING_RELATION
from pipelines.warehouse.raw_loader import replace_window
from pipelines.warehouse.resource import WarehouseResource

SOURCE = "pagespeed"
TABLE = "raw.pagespeed__runs"
KEY = dg.AssetKey(["raw", "pagespeed__runs"])
CHECK_MEASURED = "all_urls_measured"

SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("strategy", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("performance_score", pa.float64()),
        ("lcp_ms", pa.float64()),
        ("fcp_ms", pa.float64()),
        ("tbt_ms", pa.float64()),
        ("cls", pa.float64()),
        ("field_lcp_ms", pa.float64()),
        ("field_fcp_ms", pa.float64()),
        ("field_inp_ms", pa.float64()),
        ("field_cls", pa.float64()),
        ("field_category", pa.string()),
        ("field_origin_fallback", pa.bool_()),
        ("lighthouse_version", pa.string()),
        ("analysis_utc_timestamp", pa.timestamp("us")),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def keep_earlier_measurements(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """``rows`` with each failed URL x strategy replaced by the day's earlier ``ok`` row, if any.

    A rerun of a day that meets a fault must not erase the measurement a previous run took."""
    failed = {(r["url"], r["strategy"]) for r in rows if r["status"] != "ok"}
    if not failed:
        return rows
    try:
        result = con.execute(
            f"select * from {TABLE} where _partition_date = ? and status = 'ok'", [day]
        )
    except MISSING_RELATION:  # no table yet: nothing measured before
        return rows
    names = [d[0] for d in result.description]
    load_columns = ("_loaded_at", "_source_run_id")
    earlier = [
        {k: v for k, v in zip(names, values, strict=True) if k not in load_columns}
        for values in result.fetchall()
    ]
    kept = {(r["url"], r["strategy"]): r for r in earlier if (r["url"], r["strategy"]) in failed}
    return [kept.get((r["url"], r["strategy"]), r) for r in rows]


@dg.multi_asset(
    name="pagespeed_raw",
    specs=[
        dg.AssetSpec(
            KEY,
            group_name="raw_pagespeed",
            kinds={"python", "duckdb"},
            description=f"PageSpeed Insights v5 runPagespeed per URL and strategy, landed in "
            f"{TABLE} (see pipelines/connectors/pagespeed.py).",
            metadata={"table": TABLE},
        )
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEY),
        dg.AssetCheckSpec(
            CHECK_MEASURED,
            asset=KEY,
            description="WARN when a URL could not be measured (recorded as failed for the day).",
        ),
        schema_check_spec(SOURCE, KEY),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("pagespeed")
def pagespeed_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pagespeed: PageSpeedResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Measure every URL x strategy once and store it as the window's last day."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = pagespeed.missing_settings()
    if missing:
        yield from not_configured(
            context,
            SOURCE,
            missing,
            [KEY],
            KEY,
            window,
            other_checks=(CHECK_MEASURED, "no_fields_removed"),
        )
        return

    urls = pagespeed.url_list()
    day = end - timedelta(days=1)
    today = datetime.now(UTC).date()
    if (today - day).days > pagespeed.max_age():
        message = (
            f"pagespeed {window}: not measured; PSI measures pages now and {day} is more than "
            f"{pagespeed.max_age()} days ago (PAGESPEED_MAX_AGE_DAYS). Existing rows are kept."
        )
        context.log.info(message)
        yield dg.MaterializeResult(asset_key=KEY, metadata={"status": "skipped", "window": window})
        yield configured(KEY, urls)
        yield dg.AssetCheckResult(
            check_name=CHECK_MEASURED, asset_key=KEY, passed=True, description=message
        )
        yield dg.AssetCheckResult(
            check_name="no_fields_removed", asset_key=KEY, passed=True, metadata={"window": window}
        )
        return

    client = pagespeed.client()
    measurements = client.measure(urls)
    rows = [
        {
            **m.row,
            "url": m.url,
            "strategy": m.strategy,
            "_account_id": m.url,
            "_partition_date": day,
        }
        for m in measurements
    ]
    failed = [f"{m.url} ({m.strategy}): {m.row['error']}" for m in measurements if not m.ok]
    for line in failed:
        context.log.warning(f"pagespeed {day}: failed {line}")
    with warehouse.connect() as con:
        result = replace_window(
            con,
            TABLE,
            arrow_table(keep_earlier_measurements(con, rows, day), SCHEMA),
            account_ids=urls,
            start=day,
            end=end,
            run_id=context.run.run_id,
        )
    yield dg.MaterializeResult(
        asset_key=KEY,
        metadata=load_metadata(
            result,
            window,
            measured_day=str(day),
            urls=len(urls),
            failed=len(failed),
            api_requests=client.requests_made,
        ),
    )
    yield configured(KEY, urls)
    yield dg.AssetCheckResult(
        check_name=CHECK_MEASURED,
        asset_key=KEY,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"pagespeed {day}: {len(failed)} of {len(measurements)} runs failed: "
            + "; ".join(failed)[:1500]
            if failed
            else f"pagespeed {day}: all {len(measurements)} runs measured"
        ),
        metadata={"day": str(day), "failed": len(failed)},
    )
    yield schema_check(context, KEY, [result], window)
