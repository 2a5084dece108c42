"""Mailchimp ingestion: campaign reports of the campaigns sent in the partition window.

raw.mailchimp__campaigns   one row per campaign, dated by its send day (KPI_TIMEZONE), with the
                           lifetime-cumulative counts as of the pull (``report_as_of``)
raw.mailchimp__days        one row per day the account was pulled for (a day without a send is
                           known to have none: its email rates are NULL, and periods complete)

Reports keep growing after the send, so the daily schedule re-pulls the last
``MAILCHIMP_LOOKBACK_DAYS`` (default 30) days of sends; each pull replaces the rows of the send days
it covers.
"""

from collections import Counter
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
from pipelines.connectors.resources import MailchimpResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.lib.settings import env
from pipelines.warehouse.raw_loader import replace_window
from pipelines.warehouse.resource import WarehouseResource

SOURCE = "mailchimp"
LOOKBACK_DAYS = 30  # Mailchimp totals keep growing for weeks after a send
TABLE = "raw.mailchimp__campaigns"
KEY = dg.AssetKey(["raw", "mailchimp__campaigns"])
DAYS_TABLE = "raw.mailchimp__days"
DAYS_KEY = dg.AssetKey(["raw", "mailchimp__days"])
DAYS_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("campaigns_sent", pa.int64()),
        ("time_zone", pa.string()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)

SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("campaign_title", pa.string()),
        ("campaign_type", pa.string()),
        ("list_id", pa.string()),
        ("send_time", pa.timestamp("us")),
        ("send_date", pa.date32()),
        ("time_zone", pa.string()),
        ("emails_sent", pa.int64()),
        ("hard_bounces", pa.int64()),
        ("soft_bounces", pa.int64()),
        ("syntax_errors", pa.int64()),
        ("bounces", pa.int64()),
        ("delivered", pa.int64()),
        ("opens_total", pa.int64()),
        ("unique_opens", pa.int64()),
        ("proxy_excluded_unique_opens", pa.int64()),
        ("clicks_total", pa.int64()),
        ("unique_clicks", pa.int64()),
        ("unique_subscriber_clicks", pa.int64()),
        ("unsubscribed", pa.int64()),
        ("abuse_reports", pa.int64()),
        ("forwards", pa.int64()),
        ("forwards_opens", pa.int64()),
        ("orders", pa.int64()),
        ("revenue", pa.decimal128(18, 2)),
        ("currency_code", pa.string()),
        ("reported_open_rate", pa.float64()),
        ("reported_click_rate", pa.float64()),
        ("report_as_of", pa.timestamp("us")),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def lookback_days() -> int:
    """``MAILCHIMP_LOOKBACK_DAYS`` (default 30): how many days of sends each daily run re-pulls."""
    return int(env("MAILCHIMP_LOOKBACK_DAYS", str(LOOKBACK_DAYS)) or LOOKBACK_DAYS)


@dg.multi_asset(
    name="mailchimp_raw",
    specs=[
        dg.AssetSpec(
            KEY,
            group_name="raw_mailchimp",
            kinds={"python", "duckdb"},
            description=f"Mailchimp /3.0/reports, one row per campaign, landed in {TABLE} "
            "(see pipelines/connectors/mailchimp.py).",
            metadata={"table": TABLE, "lookback_days": LOOKBACK_DAYS},
        ),
        dg.AssetSpec(
            DAYS_KEY,
            group_name="raw_mailchimp",
            kinds={"python", "duckdb"},
            description=f"The days each Mailchimp account was pulled for, in {DAYS_TABLE}.",
            metadata={"table": DAYS_TABLE},
        ),
    ],
    check_specs=[configured_check_spec(SOURCE, KEY), schema_check_spec(SOURCE, KEY)],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("mailchimp")
def mailchimp_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mailchimp: MailchimpResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull the reports of campaigns sent in the window and replace those send days' rows."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = mailchimp.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, [KEY, DAYS_KEY], KEY, window)
        return

    client = mailchimp.client()
    account = client.account()
    time_zone = mailchimp.reporting_time_zone()
    pulled_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            **row,
            "time_zone": time_zone,
            "report_as_of": pulled_at,
            "_account_id": account.account_id,
            "_partition_date": row["send_date"],
        }
        for row in client.campaign_rows(start, end, time_zone)
    ]
    context.log.info(f"mailchimp: {len(rows)} campaigns in {client.requests_made} requests")
    sent = Counter(row["send_date"] for row in rows)
    days = [
        {
            "date": day,
            "campaigns_sent": sent[day],
            "time_zone": time_zone,
            "_account_id": account.account_id,
            "_partition_date": day,
        }
        for day in (start + timedelta(days=i) for i in range((end - start).days))
    ]
    with warehouse.connect() as con:
        result = replace_window(
            con,
            TABLE,
            arrow_table(rows, SCHEMA),
            account_ids=[account.account_id],
            start=start,
            end=end,
            run_id=context.run.run_id,
        )
        days_result = replace_window(
            con,
            DAYS_TABLE,
            arrow_table(days, DAYS_SCHEMA),
            account_ids=[account.account_id],
            start=start,
            end=end,
            run_id=context.run.run_id,
        )
    yield dg.MaterializeResult(
        asset_key=KEY,
        metadata=load_metadata(
            result,
            window,
            account=account.account_id,
            campaigns=len(rows),
            api_requests=client.requests_made,
        ),
    )
    yield dg.MaterializeResult(asset_key=DAYS_KEY, metadata=load_metadata(days_result, window))
    yield configured(KEY, [account.account_id])
    yield schema_check(context, KEY, [result, days_result], window)
