"""WordPress: the site's post inventory and approved comments (WP REST API).

raw.wordpress__posts     every published post of the site (the whole inventory, each run)
raw.wordpress__comments  approved comments of the window, by day in KPI_TIMEZONE

Views, engagement time, leads and landing sessions of content pages come from GA4
(raw.ga4__pages, raw.ga4__page_leads, raw.ga4__landing_pages); dbt joins them by URL path. The
production cost of each piece is the ``content_costs`` source (:mod:`.content_costs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from pipelines.connectors.framework import (
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
from sources.wordpress import WordPressClient

LOADER_COLUMNS = [("_account_id", pa.string()), ("_partition_date", pa.date32())]
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
        *LOADER_COLUMNS,
    ]
)
COMMENT_SCHEMA = pa.schema(
    [
        ("comment_id", pa.int64()),
        ("post_id", pa.int64()),
        ("status", pa.string()),
        ("commented_at", pa.timestamp("us")),
        ("comment_date", pa.date32()),
        *LOADER_COLUMNS,
    ]
)


def site(config: Config) -> str:
    return config.require("WORDPRESS_BASE_URL").rstrip("/")


def connect(config: Config) -> WordPressClient:
    return WordPressClient(
        site(config),
        username=config.get("WORDPRESS_USERNAME"),
        app_password=config.get("WORDPRESS_APP_PASSWORD"),
        **config.http_options(),
    )


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The KPI_TIMEZONE day of a naive UTC datetime."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def extract(
    client: WordPressClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    account = site(config)
    zone = kpi_timezone()
    posts = [
        {**p, "_account_id": account, "_partition_date": p["published_at"].date()}
        for p in client.posts()
    ]
    yield Batch("posts", posts)
    # A KPI_TIMEZONE day can straddle two UTC days: pull one more on each side, keep the window.
    comments = []
    for c in client.comments(window.start - timedelta(days=1), window.end):
        day = local_date(c["commented_at"], zone)
        if window.start <= day < window.end:
            comments.append(
                {**c, "comment_date": day, "_account_id": account, "_partition_date": day}
            )
    yield Batch("comments", comments)
    yield {"site": account}


def check(client: WordPressClient, config: Config) -> str:
    """One page of one post: a wrong Application Password is refused (401)."""
    first = next(client.collection("posts", {"_fields": "id"}), [])
    return f"{site(config)}: REST API answers ({len(first)} post(s) on the first page)"


SOURCE = Source(
    name="wordpress",
    title="WordPress",
    description="post inventory and approved comments from the WordPress REST API",
    settings=(
        Setting(
            "WORDPRESS_BASE_URL",
            "The site, scheme://host[:port] (the client appends /wp-json/wp/v2/...)",
            required=True,
        ),
        Setting("WORDPRESS_USERNAME", "User of the Application Password (sites hiding the API)"),
        Setting(
            "WORDPRESS_APP_PASSWORD",
            "Optional Application Password (Users > Profile)",
            secret=True,
        ),
    ),
    tables=(
        RawTable(
            "posts",
            "raw.wordpress__posts",
            POST_SCHEMA,
            "every published post (the whole inventory, each run)",
            Replace.ACCOUNTS,
        ),
        RawTable(
            "comments",
            "raw.wordpress__comments",
            COMMENT_SCHEMA,
            "approved comments by day in KPI_TIMEZONE",
        ),
    ),
    # Comments are dated when written; the inventory is re-read whole.
    lookback=fixed_lookback(1),
    connect=connect,
    accounts=lambda config: [site(config)],
    extract=extract,
    check=check,
    docs="docs/sources/wordpress-and-content-costs.md",
)
