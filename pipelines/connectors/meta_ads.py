"""Meta Ads: campaign x day insights per ad account (Marketing API, long-lived access token).

raw.meta_ads__campaign_insights  account x campaign x day with delivery (account currency and day)
raw.meta_ads__accounts           account x day pulled: currency, time zone, name (zero-fill spine)

Windows longer than META_ASYNC_THRESHOLD_DAYS (30) go through the async report job.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import Batch, Config, RawTable, Setting, Source, Window
from pipelines.connectors.paid_ads import (
    ADS_LOOKBACK,
    MONEY,
    ads_lookback,
    describe_accounts,
    extract_accounts,
    with_loader_columns,
)
from sources import meta_ads
from sources.api_versions import META_ADS

CAMPAIGNS = with_loader_columns(
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
)
ACCOUNTS = with_loader_columns(
    [
        ("account_id", pa.string()),
        ("name", pa.string()),
        ("currency", pa.string()),
        ("timezone_name", pa.string()),
        ("date", pa.date32()),
    ]
)


def ad_accounts(config: Config) -> list[str]:
    return [meta_ads.normalize_account_id(a) for a in config.list("META_AD_ACCOUNT_IDS")]


def connect(config: Config) -> meta_ads.MetaAdsClient:
    return meta_ads.MetaAdsClient(
        config.require("META_ACCESS_TOKEN"),
        base_url=config.require("META_BASE_URL"),
        api_version=config.require("META_API_VERSION"),
        conversion_action_types=config.list("META_CONVERSION_ACTION_TYPES"),
        async_threshold_days=config.days("META_ASYNC_THRESHOLD_DAYS"),
        **config.http_options(),
    )


def extract(
    client: meta_ads.MetaAdsClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    yield from extract_accounts(
        ad_accounts(config),
        window,
        account=client.account,
        campaigns=client.insights,
        currency_field="currency",
        schemas=(CAMPAIGNS, ACCOUNTS),
    )
    yield {"throttled_answers": client.throttled}


def check(client: meta_ads.MetaAdsClient, config: Config) -> str:
    names = [client.account(a)["name"] for a in ad_accounts(config)]
    return describe_accounts(names, "ad account")


SOURCE = Source(
    name="meta_ads",
    title="Meta Ads",
    description="campaign x day insights per ad account from the Marketing API",
    settings=(
        Setting(
            "META_AD_ACCOUNT_IDS",
            "Comma-separated ad account IDs (act_ prefix optional)",
            required=True,
        ),
        Setting(
            "META_ACCESS_TOKEN",
            "System-user access token with ads_read",
            required=True,
            secret=True,
        ),
        Setting("META_BASE_URL", "Graph API host", default=meta_ads.DEFAULT_BASE_URL),
        Setting(
            "META_API_VERSION",
            "Pinned API version (see docs/api-versions.md)",
            default=meta_ads.DEFAULT_API_VERSION,
        ),
        Setting(
            "META_CONVERSION_ACTION_TYPES",
            "Comma-separated action types counted as conversions",
            default=",".join(meta_ads.DEFAULT_CONVERSION_ACTION_TYPES),
        ),
        Setting(
            "META_ASYNC_THRESHOLD_DAYS",
            "Windows longer than this use the async report job",
            default=str(meta_ads.ASYNC_THRESHOLD_DAYS),
        ),
        Setting("META_ADS_LOOKBACK_DAYS", "Days re-pulled each morning (else ADS_LOOKBACK_DAYS)"),
        ADS_LOOKBACK,
    ),
    tables=(
        RawTable(
            "campaigns",
            "raw.meta_ads__campaign_insights",
            CAMPAIGNS,
            "campaign x day insights with delivery",
        ),
        RawTable(
            "accounts",
            "raw.meta_ads__accounts",
            ACCOUNTS,
            "ad account x day pulled, with currency and time zone",
        ),
    ),
    lookback=ads_lookback("META_ADS_LOOKBACK_DAYS"),
    connect=connect,
    accounts=ad_accounts,
    extract=extract,
    check=check,
    api_version=META_ADS,
    docs="docs/sources/meta_ads.md",
)
