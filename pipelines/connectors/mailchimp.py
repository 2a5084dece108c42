"""Mailchimp: campaign reports of the campaigns sent in the window.

raw.mailchimp__campaigns   one row per campaign, dated by its send day (KPI_TIMEZONE), with the
                           lifetime-cumulative counts as of the pull (``report_as_of``)
raw.mailchimp__days        one row per day the account was pulled for (a day without a send is
                           known to have none: its email rates are NULL, and periods complete)

Reports keep growing after the send, so the daily run re-pulls the last
``MAILCHIMP_LOOKBACK_DAYS`` (default 30) days of sends; each pull replaces the rows of the send days
it covers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import (
    Accounts,
    Batch,
    Config,
    RawTable,
    Setting,
    Source,
    Window,
    lookback_setting,
)
from sources.mailchimp import MailchimpClient

LOOKBACK_DAYS = 30  # Mailchimp totals keep growing for weeks after a send
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


def connect(config: Config) -> MailchimpClient:
    return MailchimpClient(
        config.require("MAILCHIMP_API_KEY"),
        base_url=config.get("MAILCHIMP_BASE_URL"),
        **config.http_options(),
    )


def extract(
    client: MailchimpClient, window: Window, config: Config
) -> Iterator[Batch | Accounts | dict[str, Any]]:
    """The reports of campaigns sent in the window, and a row per day pulled."""
    account = client.account()
    time_zone = config.require("KPI_TIMEZONE")
    pulled_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            **row,
            "time_zone": time_zone,
            "report_as_of": pulled_at,
            "_account_id": account.account_id,
            "_partition_date": row["send_date"],
        }
        for row in client.campaign_rows(window.start, window.end, time_zone)
    ]
    sent = Counter(row["send_date"] for row in rows)
    days = [
        {
            "date": day,
            "campaigns_sent": sent[day],
            "time_zone": time_zone,
            "_account_id": account.account_id,
            "_partition_date": day,
        }
        for day in window.days()
    ]
    yield Batch("campaigns", rows)
    yield Batch("days", days)
    yield Accounts((account.account_id,))
    yield {"account": account.account_id, "campaigns": len(rows)}


def check(client: MailchimpClient, config: Config) -> str:
    account = client.account()
    return f"account {account.account_name or account.account_id}"


SOURCE = Source(
    name="mailchimp",
    title="Mailchimp",
    description="Mailchimp /3.0/reports, one row per campaign sent",
    settings=(
        Setting(
            "MAILCHIMP_API_KEY",
            "Marketing API key (its -usN suffix picks the data center)",
            required=True,
            secret=True,
        ),
        Setting("MAILCHIMP_BASE_URL", "API host (default: the key's data center)"),
        Setting("KPI_TIMEZONE", "Time zone send days are bucketed in", default="UTC"),
        Setting(
            "MAILCHIMP_LOOKBACK_DAYS",
            "Days of sends re-pulled each morning (reports keep growing)",
            default=str(LOOKBACK_DAYS),
        ),
    ),
    tables=(
        RawTable(
            "campaigns",
            "raw.mailchimp__campaigns",
            SCHEMA,
            "one row per campaign, dated by its send day",
        ),
        RawTable("days", "raw.mailchimp__days", DAYS_SCHEMA, "the days the account was pulled for"),
    ),
    lookback=lookback_setting("MAILCHIMP_LOOKBACK_DAYS"),
    connect=connect,
    accounts=lambda config: [],  # only the API knows the account: extract yields Accounts
    extract=extract,
    check=check,
    docs="docs/sources/mailchimp.md",
)
