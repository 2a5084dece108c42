"""HubSpot: contacts and deals modified since the window's first day, latest state wins.

raw.hubspot__contacts   one row per contact (created time, lifecycle stage, original source)
raw.hubspot__deals      one row per deal (stage, won/closed from the pipeline, amount, currency)
raw.hubspot__sync_days  the reporting days the CRM was pulled for

A pull searches every object modified from the window's start until now (``lastmodifieddate`` /
``hs_lastmodifieddate``), so every object created in the window is included with its current
state, whatever day the run happens; rows are replaced by id. Leads (contacts whose lifecycle
stage is in ``HUBSPOT_LEAD_STAGES``) and won deals are counted in dbt. The portal (the rows'
``_account_id``) is known only from the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.connectors.coverage import sync_days_batch, sync_days_table
from pipelines.connectors.framework import (
    Accounts,
    Batch,
    Config,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    fixed_lookback,
)
from pipelines.lib.settings import kpi_timezone
from sources import hubspot
from sources.ratelimit import RateLimiter
from sources.timezones import epoch_seconds

LOOKBACK_DAYS = 2  # search is eventually consistent: overlap the previous run
_COMMON = [
    ("archived", pa.bool_()),
    ("time_zone", pa.string()),
    ("_account_id", pa.string()),
    ("_partition_date", pa.date32()),
]
CONTACTS = pa.schema(
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
DEALS = pa.schema(
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


def connect(config: Config) -> hubspot.HubSpotClient:
    rate = config.whole_number("HUBSPOT_SEARCH_REQUESTS_PER_SECOND", "requests per second")
    return hubspot.HubSpotClient(
        config.require("HUBSPOT_ACCESS_TOKEN"),
        base_url=config.require("HUBSPOT_BASE_URL"),
        search_limiter=RateLimiter(rate, 1.0),
        **config.http_options(),
    )


def no_accounts(config: Config) -> list[str]:
    """None from the settings: the extraction names the portal (:class:`Accounts`)."""
    return []


def extract(
    client: hubspot.HubSpotClient, window: Window, config: Config
) -> Iterator[Batch | Accounts | dict[str, Any]]:
    tz = kpi_timezone()
    account = client.account_details()
    portal = str(account["portalId"])
    default_currency = str(account.get("companyCurrency") or "USD")
    stages = client.deal_stages()
    low = epoch_seconds(window.start, tz) * 1000
    high = int(datetime.now(UTC).timestamp() * 1000)
    contacts = client.contacts_modified(low, high, tz)
    deals = client.deals_modified(low, high, tz, stages, default_currency)

    def stamp(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "_account_id": portal, "_partition_date": r["created_day"]} for r in rows]

    yield Accounts((portal,))
    yield Batch("contacts", stamp(contacts))
    yield Batch("deals", stamp(deals))
    yield sync_days_batch(portal, window)
    unknown = sorted({d["deal_stage"] for d in deals if d["is_won"] is None and d["deal_stage"]})
    yield {
        "portal": portal,
        "default_currency": default_currency,
        "unknown_stages": ", ".join(unknown) or "none",
        "window_splits": client.splits,
    }


def check(client: hubspot.HubSpotClient, config: Config) -> str:
    details = client.account_details()
    return f"portal {details['portalId']} ({details.get('companyCurrency') or 'USD'})"


SOURCE = Source(
    name="hubspot",
    title="HubSpot",
    description="contacts and deals modified since the window's first day (CRM v3 search)",
    settings=(
        Setting(
            "HUBSPOT_ACCESS_TOKEN",
            "Private-app token (crm.objects.contacts.read, crm.objects.deals.read)",
            required=True,
            secret=True,
        ),
        Setting("HUBSPOT_BASE_URL", "API host", default=hubspot.DEFAULT_BASE_URL),
        Setting(
            "HUBSPOT_SEARCH_REQUESTS_PER_SECOND",
            "Client-side limit of search requests per second (the search API has its own limit)",
            default=str(hubspot.SEARCH_REQUESTS_PER_SECOND),
        ),
    ),
    tables=(
        RawTable(
            "contacts",
            "raw.hubspot__contacts",
            CONTACTS,
            "contacts modified since the window's start, latest state by id",
            replace=Replace.KEYS,
            keys=("_account_id", "id"),
        ),
        RawTable(
            "deals",
            "raw.hubspot__deals",
            DEALS,
            "deals modified since the window's start, latest state by id",
            replace=Replace.KEYS,
            keys=("_account_id", "id"),
        ),
        sync_days_table("hubspot"),
    ),
    lookback=fixed_lookback(LOOKBACK_DAYS),
    connect=connect,
    accounts=no_accounts,
    extract=extract,
    check=check,
    personal_data=True,
    docs="docs/sources/hubspot.md",
)
