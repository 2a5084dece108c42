"""LinkedIn: organization share and follower statistics (Community Management API).

raw.linkedin__share_statistics         organization x UTC day: share statistics (organic)
raw.linkedin__follower_statistics      organization x UTC day: follower gains, end-of-day followers
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import Batch, Config, RawTable, Setting, Source, Window
from pipelines.connectors.social_insights import (
    LOADER_COLUMNS,
    LOOKBACK,
    as_of,
    as_of_setting,
    stamp,
)
from sources import linkedin
from sources.api_versions import LINKEDIN

AS_OF = "LINKEDIN_AS_OF"
URN_PREFIX = "urn:li:organization:"
SHARES = pa.schema(
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
        *LOADER_COLUMNS,
    ]
)
FOLLOWERS = pa.schema(
    [
        ("organization_urn", pa.string()),
        ("date", pa.date32()),
        ("organic_follower_gain", pa.int64()),
        ("paid_follower_gain", pa.int64()),
        ("followers_end_of_day", pa.int64()),
        ("network_size", pa.int64()),
        *LOADER_COLUMNS,
    ]
)


def organizations(config: Config) -> list[str]:
    """Organization IDs (a ``urn:li:organization:`` prefix is dropped)."""
    ids = [item.removeprefix(URN_PREFIX) for item in config.list("LINKEDIN_ORGANIZATION_IDS")]
    return [i for i in ids if i]


def connect(config: Config) -> linkedin.LinkedInClient:
    return linkedin.LinkedInClient(
        config.require("LINKEDIN_ACCESS_TOKEN"),
        base_url=config.require("LINKEDIN_BASE_URL"),
        version=config.require("LINKEDIN_API_VERSION"),
        today=as_of(config, AS_OF),
        **config.http_options(),
    )


def extract(
    client: linkedin.LinkedInClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    for org in organizations(config):
        shares = client.share_statistics(org, window.start, window.last)
        yield Batch("share_statistics", stamp(shares, org))
        followers = client.follower_statistics(org, window.start, window.last)
        yield Batch("follower_statistics", stamp(followers, org))
    yield {"organizations": ", ".join(organizations(config))}


def check(client: linkedin.LinkedInClient, config: Config) -> str:
    org = organizations(config)[0]
    return f"organization {org}: {client.network_size(org)} followers"


SOURCE = Source(
    name="linkedin",
    title="LinkedIn",
    description="organization share and follower statistics by day from the LinkedIn REST API",
    settings=(
        Setting(
            "LINKEDIN_ORGANIZATION_IDS",
            "Comma-separated organization IDs (urn:li:organization: prefix optional)",
            required=True,
        ),
        Setting(
            "LINKEDIN_ACCESS_TOKEN",
            "3-legged token of a Page administrator with rw_organization_admin (or r_organization_admin)",
            required=True,
            secret=True,
        ),
        Setting("LINKEDIN_BASE_URL", "API host", default=linkedin.DEFAULT_BASE_URL),
        Setting(
            "LINKEDIN_API_VERSION",
            "LinkedIn-Version header, YYYYMM (sunset after about a year; docs/api-versions.md)",
            default=linkedin.DEFAULT_VERSION,
        ),
        as_of_setting(AS_OF),
    ),
    tables=(
        RawTable(
            "share_statistics",
            "raw.linkedin__share_statistics",
            SHARES,
            "organization x UTC day share statistics (organic)",
        ),
        RawTable(
            "follower_statistics",
            "raw.linkedin__follower_statistics",
            FOLLOWERS,
            "organization x UTC day follower gains and end-of-day followers",
        ),
    ),
    lookback=LOOKBACK,
    connect=connect,
    accounts=organizations,
    extract=extract,
    check=check,
    api_version=LINKEDIN,
    docs="docs/sources/linkedin.md",
)
