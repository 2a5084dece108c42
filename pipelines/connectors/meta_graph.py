"""Meta Graph: Facebook Page and Instagram account insights (Graph API, system-user token).

raw.meta_graph__page_insights          page x day: page_media_view, page_total_media_view_unique,
                                        page_post_engagements, page_follows (+ page_follows_gain)
raw.meta_graph__instagram_insights     account x UTC day: views, reach, total_interactions,
                                        website_clicks, follower_count (+ followers_end_of_day)
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
from sources import meta_graph
from sources.api_versions import META_GRAPH

AS_OF = "META_GRAPH_AS_OF"
PAGES = pa.schema(
    [
        ("date", pa.date32()),
        ("page_media_view", pa.int64()),
        ("page_total_media_view_unique", pa.int64()),
        ("page_post_engagements", pa.int64()),
        ("page_follows", pa.int64()),
        ("page_follows_gain", pa.int64()),
        *LOADER_COLUMNS,
    ]
)
INSTAGRAM = pa.schema(
    [
        ("date", pa.date32()),
        ("views", pa.int64()),
        ("reach", pa.int64()),
        ("total_interactions", pa.int64()),
        ("website_clicks", pa.int64()),
        ("follower_count", pa.int64()),
        ("followers_end_of_day", pa.int64()),
        *LOADER_COLUMNS,
    ]
)


def pages(config: Config) -> list[str]:
    return config.list("META_PAGE_IDS")


def instagram_accounts(config: Config) -> list[str]:
    return config.list("INSTAGRAM_ACCOUNT_IDS")


def accounts(config: Config) -> list[str]:
    return pages(config) + instagram_accounts(config)


def missing(config: Config) -> list[str]:
    """Pages, Instagram accounts or both: one of the two lists is needed."""
    return [] if accounts(config) else ["META_PAGE_IDS or INSTAGRAM_ACCOUNT_IDS"]


def connect(config: Config) -> meta_graph.MetaGraphClient:
    return meta_graph.MetaGraphClient(
        config.require("META_ACCESS_TOKEN"),
        base_url=config.require("META_BASE_URL"),
        version=config.require("META_GRAPH_VERSION"),
        today=as_of(config, AS_OF),
        **config.http_options(),
    )


def extract(
    client: meta_graph.MetaGraphClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    for page_id in pages(config):
        yield Batch(
            "page_insights", stamp(client.page_days(page_id, window.start, window.last), page_id)
        )
    for account_id in instagram_accounts(config):
        rows = client.instagram_days(account_id, window.start, window.last)
        yield Batch("instagram_insights", stamp(rows, account_id))
    yield {
        "pages": ", ".join(pages(config)) or "none configured",
        "instagram_accounts": ", ".join(instagram_accounts(config)) or "none configured",
    }


def check(client: meta_graph.MetaGraphClient, config: Config) -> str:
    """A Page token for the first Page, else the first Instagram account's followers."""
    for page_id in pages(config):
        client.page_token(page_id)
        return f"Page {page_id}: the token can read its insights"
    account_id = instagram_accounts(config)[0]
    return f"Instagram {account_id}: {client.instagram_followers_now(account_id)} followers"


SOURCE = Source(
    name="meta_graph",
    title="Meta Graph",
    description="Facebook Page and Instagram account insights by day from the Graph API",
    settings=(
        Setting("META_PAGE_IDS", "Comma-separated Facebook Page IDs"),
        Setting(
            "INSTAGRAM_ACCOUNT_IDS", "Comma-separated Instagram business account IDs (17841...)"
        ),
        Setting(
            "META_ACCESS_TOKEN",
            "System-user token with read_insights, pages_read_engagement, instagram_basic, "
            "instagram_manage_insights (Page insights use the Page token it fetches)",
            required=True,
            secret=True,
        ),
        Setting("META_BASE_URL", "Graph API host", default=meta_graph.DEFAULT_BASE_URL),
        Setting(
            "META_GRAPH_VERSION",
            "Pinned Graph API version (see docs/api-versions.md)",
            default=meta_graph.DEFAULT_VERSION,
        ),
        as_of_setting(AS_OF),
    ),
    tables=(
        RawTable("page_insights", "raw.meta_graph__page_insights", PAGES, "Page x day insights"),
        RawTable(
            "instagram_insights",
            "raw.meta_graph__instagram_insights",
            INSTAGRAM,
            "Instagram account x UTC day insights with end-of-day followers",
        ),
    ),
    lookback=LOOKBACK,
    connect=connect,
    accounts=accounts,
    extract=extract,
    check=check,
    api_version=META_GRAPH,
    missing=missing,
    docs="docs/sources/meta_graph.md",
)
