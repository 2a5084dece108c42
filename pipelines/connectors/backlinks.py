"""Backlinks ingestion: the target's live backlinks and referring domains for each day.

raw.backlinks__daily   day: live / all-time backlinks and referring domains, with the provider

The provider is Ahrefs API v3 (``sources.backlinks``); another index (Moz) implements the same
``BacklinksProvider`` protocol. One request per day of the window; days after today are skipped.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
from pipelines.connectors.resources import BacklinksResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import replace_window
from pipelines.warehouse.resource import WarehouseResource

SOURCE = "backlinks"
TABLE = "raw.backlinks__daily"
KEY = dg.AssetKey(["raw", "backlinks__daily"])

SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("provider", pa.string()),
        ("target", pa.string()),
        ("live_backlinks", pa.int64()),
        ("live_referring_domains", pa.int64()),
        ("all_time_backlinks", pa.int64()),
        ("all_time_referring_domains", pa.int64()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


@dg.multi_asset(
    name="backlinks_raw",
    specs=[
        dg.AssetSpec(
            KEY,
            group_name="raw_backlinks",
            kinds={"python", "duckdb"},
            description=f"Backlink counts per day (Ahrefs API v3 backlinks-stats) landed in "
            f"{TABLE} (see pipelines/connectors/backlinks.py).",
            metadata={"table": TABLE},
        )
    ],
    check_specs=[configured_check_spec(SOURCE, KEY), schema_check_spec(SOURCE, KEY)],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("backlinks")
def backlinks_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, backlinks: BacklinksResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull the backlink counts of each day in the window and replace those days' rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = backlinks.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, [KEY], KEY, window)
        return

    target = backlinks.target_domain() or ""
    provider = backlinks.provider()
    last = min(end - timedelta(days=1), datetime.now(UTC).date())
    rows = []
    day = start
    while day <= last:
        counts = provider.counts(target, day)
        rows.append(
            {
                "date": day,
                "provider": provider.name,
                "target": target,
                **counts.as_row(),
                "_account_id": target,
                "_partition_date": day,
            }
        )
        day += timedelta(days=1)
    with warehouse.connect() as con:
        result = replace_window(
            con,
            TABLE,
            arrow_table(rows, SCHEMA),
            account_ids=[target],
            start=start,
            end=end,
            run_id=context.run.run_id,
        )
    yield dg.MaterializeResult(
        asset_key=KEY,
        metadata=load_metadata(
            result,
            window,
            provider=provider.name,
            target=target,
            api_requests=provider.requests_made,
        ),
    )
    yield configured(KEY, [target])
    yield schema_check(context, KEY, [result], window)
