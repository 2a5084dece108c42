"""Google Ads: campaign x day per customer (searchStream, OAuth refresh token, developer token).

raw.google_ads__campaign_stats  customer x campaign x day the API returned (account currency, day)
raw.google_ads__accounts        customer x day pulled: currency, time zone, name (zero-fill spine)
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
from sources import google_ads
from sources.api_versions import GOOGLE_ADS

CAMPAIGNS = with_loader_columns(
    [
        ("customer_id", pa.string()),
        ("currency_code", pa.string()),
        ("time_zone", pa.string()),
        ("campaign_id", pa.string()),
        ("campaign_name", pa.string()),
        ("campaign_status", pa.string()),
        ("date", pa.date32()),
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),
        ("cost_micros", pa.int64()),
        ("cost", MONEY),
        ("conversions", pa.float64()),
        ("conversions_value", MONEY),
    ]
)
ACCOUNTS = with_loader_columns(
    [
        ("customer_id", pa.string()),
        ("descriptive_name", pa.string()),
        ("currency_code", pa.string()),
        ("time_zone", pa.string()),
        ("date", pa.date32()),
    ]
)


def customers(config: Config) -> list[str]:
    return [google_ads.normalize_customer_id(c) for c in config.list("GOOGLE_ADS_CUSTOMER_IDS")]


def connect(config: Config) -> google_ads.GoogleAdsClient:
    return google_ads.GoogleAdsClient(
        developer_token=config.require("GOOGLE_ADS_DEVELOPER_TOKEN"),
        client_id=config.require("GOOGLE_ADS_CLIENT_ID"),
        client_secret=config.require("GOOGLE_ADS_CLIENT_SECRET"),
        refresh_token=config.require("GOOGLE_ADS_REFRESH_TOKEN"),
        login_customer_id=config.get("GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
        base_url=config.require("GOOGLE_ADS_BASE_URL"),
        token_url=config.require("GOOGLE_OAUTH_TOKEN_URL"),
        api_version=config.require("GOOGLE_ADS_API_VERSION"),
        **config.http_options(),
    )


def extract(
    client: google_ads.GoogleAdsClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    return extract_accounts(
        customers(config),
        window,
        account=client.customer,
        campaigns=client.campaign_days,
        currency_field="currency_code",
        schemas=(CAMPAIGNS, ACCOUNTS),
        accounts_label="customers",
    )


def check(client: google_ads.GoogleAdsClient, config: Config) -> str:
    names = [client.customer(c)["descriptive_name"] for c in customers(config)]
    return describe_accounts(names, "customer")


SOURCE = Source(
    name="google_ads",
    title="Google Ads",
    description="campaign x day per customer from googleAds:searchStream",
    settings=(
        Setting(
            "GOOGLE_ADS_CUSTOMER_IDS", "Comma-separated customer IDs (123-456-7890)", required=True
        ),
        Setting(
            "GOOGLE_ADS_DEVELOPER_TOKEN",
            "The API Center developer token",
            required=True,
            secret=True,
        ),
        Setting("GOOGLE_ADS_CLIENT_ID", "OAuth client ID", required=True),
        Setting("GOOGLE_ADS_CLIENT_SECRET", "OAuth client secret", required=True, secret=True),
        Setting(
            "GOOGLE_ADS_REFRESH_TOKEN",
            "OAuth refresh token with the adwords scope",
            required=True,
            secret=True,
        ),
        Setting(
            "GOOGLE_ADS_LOGIN_CUSTOMER_ID", "Manager account the customers are reached through"
        ),
        Setting("GOOGLE_ADS_BASE_URL", "API host", default=google_ads.DEFAULT_BASE_URL),
        Setting(
            "GOOGLE_OAUTH_TOKEN_URL", "OAuth token endpoint", default=google_ads.DEFAULT_TOKEN_URL
        ),
        Setting(
            "GOOGLE_ADS_API_VERSION",
            "Pinned API version (see docs/api-versions.md)",
            default=google_ads.DEFAULT_API_VERSION,
        ),
        Setting("GOOGLE_ADS_LOOKBACK_DAYS", "Days re-pulled each morning (else ADS_LOOKBACK_DAYS)"),
        ADS_LOOKBACK,
    ),
    tables=(
        RawTable(
            "campaigns",
            "raw.google_ads__campaign_stats",
            CAMPAIGNS,
            "campaign x day as searchStream returned it",
        ),
        RawTable(
            "accounts",
            "raw.google_ads__accounts",
            ACCOUNTS,
            "customer x day pulled, with currency and time zone",
        ),
    ),
    lookback=ads_lookback("GOOGLE_ADS_LOOKBACK_DAYS"),
    connect=connect,
    accounts=customers,
    extract=extract,
    check=check,
    api_version=GOOGLE_ADS,
    docs="docs/sources/paid-ads.md",
)
