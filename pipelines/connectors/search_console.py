"""Search Console: search analytics of each site, per day.

raw.search_console__queries           day x query x page: clicks, impressions, ctr, position
raw.search_console__totals            day: the property's totals (anonymized queries included)
raw.search_console__tracked_keywords  SEO_TRACKED_KEYWORDS, rewritten on every run

Days are Search Console's own (Pacific Time). Rows on or after ``first_incomplete_date`` are
``is_provisional``; the daily run re-pulls the last 4 days so they settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

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
from sources.search_console import DEFAULT_BASE_URL, TIME_ZONE, SearchConsoleClient

LOOKBACK_DAYS = 4  # data lags 2-3 days and fresh days change: re-pull 4

_METRICS = [
    ("clicks", pa.int64()),
    ("impressions", pa.int64()),
    ("ctr", pa.float64()),
    ("position", pa.float64()),
    ("is_provisional", pa.bool_()),
    ("time_zone", pa.string()),
    ("search_type", pa.string()),
    ("_account_id", pa.string()),
    ("_partition_date", pa.date32()),
]
QUERIES = pa.schema(
    [("date", pa.date32()), ("query", pa.string()), ("page", pa.string()), *_METRICS]
)
TOTALS = pa.schema([("date", pa.date32()), *_METRICS])
KEYWORDS = pa.schema([("keyword", pa.string()), ("keyword_normalized", pa.string())])


def _stamp(
    rows: list[dict[str, Any]], site: str, first_incomplete: date | None
) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "is_provisional": first_incomplete is not None and row["date"] >= first_incomplete,
            "time_zone": TIME_ZONE,
            "search_type": "web",
            "_account_id": site,
            "_partition_date": row["date"],
        }
        for row in rows
    ]


def keyword_table(keywords: list[str]) -> pa.Table:
    """The tracked keywords; dbt matches them to queries exactly, ignoring case."""
    return pa.table(
        {
            "keyword": pa.array(keywords, pa.string()),
            "keyword_normalized": pa.array([k.strip().lower() for k in keywords], pa.string()),
        },
        schema=KEYWORDS,
    )


def sites(config: Config) -> list[str]:
    return config.list("SEARCH_CONSOLE_SITE_URLS")


def connect(config: Config) -> SearchConsoleClient:
    return SearchConsoleClient(
        config.require("GOOGLE_APPLICATION_CREDENTIALS"),
        base_url=config.require("SEARCH_CONSOLE_BASE_URL"),
        **config.http_options(),
    )


def extract(
    client: SearchConsoleClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    """Each site's query rows and daily totals for the window; the tracked keywords."""
    provisional_from: list[str] = []
    for site in sites(config):
        data = client.site_data(site, window.start, window.last)
        yield Batch("queries", _stamp(data.query_rows, site, data.first_incomplete_date))
        yield Batch("totals", _stamp(data.totals, site, data.first_incomplete_date))
        if data.first_incomplete_date:
            provisional_from.append(f"{site}: {data.first_incomplete_date}")
    keywords = config.list("SEO_TRACKED_KEYWORDS")
    yield Batch("tracked_keywords", keyword_table(keywords))
    yield {
        "sites": ", ".join(sites(config)),
        "provisional_from": "; ".join(provisional_from) or "none",
        "keywords": len(keywords),
    }


def check(client: SearchConsoleClient, config: Config) -> str:
    """One single-row query per site (yesterday's totals)."""
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    body = {"startDate": yesterday, "endDate": yesterday, "dimensions": ["date"], "rowLimit": 1}
    for site in sites(config):
        client.query(site, body)
    return f"{len(sites(config))} site(s) answered"


SOURCE = Source(
    name="search_console",
    title="Search Console",
    description="searchAnalytics/query per site and day",
    settings=(
        Setting(
            "SEARCH_CONSOLE_SITE_URLS",
            "Comma-separated properties (https://www.example.com/ or sc-domain:example.com)",
            required=True,
        ),
        Setting(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "Path to the service-account JSON key added as a user of the properties",
            required=True,
            secret=True,  # its file's private key: the secrets scan looks for it
        ),
        Setting("SEARCH_CONSOLE_BASE_URL", "Search Console API host", default=DEFAULT_BASE_URL),
        Setting(
            "SEO_TRACKED_KEYWORDS",
            "Comma-separated keywords tracked for SEO KPIs (none: all queries)",
        ),
    ),
    tables=(
        RawTable(
            "queries",
            "raw.search_console__queries",
            QUERIES,
            "day x query x page: clicks, impressions, ctr, position",
        ),
        RawTable(
            "totals",
            "raw.search_console__totals",
            TOTALS,
            "day: the property's totals (anonymized queries included)",
        ),
        RawTable(
            "tracked_keywords",
            "raw.search_console__tracked_keywords",
            KEYWORDS,
            "SEO_TRACKED_KEYWORDS, rewritten on every run",
            Replace.TABLE,
        ),
    ),
    lookback=fixed_lookback(LOOKBACK_DAYS),
    connect=connect,
    accounts=sites,
    extract=extract,
    check=check,
    docs="docs/sources/search_console.md",
)
