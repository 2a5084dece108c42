"""Search Console: search analytics of each site, per day.

raw.search_console__queries           day x query x page: clicks, impressions, ctr, position
raw.search_console__totals            day: the property's totals (anonymized queries included)
raw.search_console__tracked_keywords  SEO_TRACKED_KEYWORDS, rewritten on every run

Days are Search Console's own (Pacific Time). Rows on or after ``first_incomplete_date`` are
``is_provisional``; the daily run re-pulls the last 4 days so they settle.

Query rows are the volume (day x query x page, up to 25,000 a page): both search analytics tables
land the rows of the API's pages as received (never parsed in Python) and DuckDB turns them into
raw rows at load time (:data:`QUERY_ROWS`, :data:`TOTAL_ROWS`); ``sources.search_console.parse_rows``
is the same parsing in Python, run on a page DuckDB rejects to name the row and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import (
    Batch,
    Config,
    JsonPage,
    JsonRows,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    fixed_lookback,
)
from sources.http import snake_case
from sources.search_console import (
    DEFAULT_BASE_URL,
    QUERY_DIMENSIONS,
    TIME_ZONE,
    SearchConsoleClient,
    parse_rows,
)

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


def _rows(dimensions: tuple[str, ...]) -> JsonRows:
    """A searchAnalytics page's rows as ``parse_rows`` types them: keys named by ``dimensions``
    (``date`` a DATE), clicks and impressions rounded to integers, then the stamped columns."""
    keys = [
        f"keys[{n}]::date as date" if name == "date" else f"keys[{n}] as {name}"
        for n, name in enumerate(dimensions, start=1)
    ]
    day = f"keys[{dimensions.index('date') + 1}]::date"
    metrics = ("clicks", "impressions", "ctr", "position")
    return JsonRows(
        columns={"keys": "VARCHAR[]", **dict.fromkeys(metrics, "DOUBLE")},
        require=" and ".join(
            [f"len(keys) = {len(dimensions)}", *(f'"{m}" is not null' for m in metrics)]
        ),
        select=", ".join(
            [
                *keys,
                "round(clicks)::bigint as clicks",
                "round(impressions)::bigint as impressions",
                "ctr",
                '"position"',
                f"coalesce({day} >= page.first_incomplete_date::date, false) as is_provisional",
                f"'{TIME_ZONE}' as time_zone",
                "'web' as search_type",
                "page._account_id as _account_id",
                f"{day} as _partition_date",
            ]
        ),
        new_column=snake_case,
        check=lambda rows: parse_rows({"rows": rows}, dimensions),
    )


QUERY_ROWS = _rows(QUERY_DIMENSIONS)
TOTAL_ROWS = _rows(("date",))


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
        incomplete: date | None = None
        for kind, page in client.site_pages(site, window.start, window.last):
            incomplete = page.first_incomplete_date or incomplete
            yield JsonPage(
                kind,
                page.rows_json,
                page.rows,
                {
                    "_account_id": site,
                    "first_incomplete_date": page.first_incomplete_date,
                },
                page.new_fields,
            )
        if incomplete:
            provisional_from.append(f"{site}: {incomplete}")
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
            json=QUERY_ROWS,
        ),
        RawTable(
            "totals",
            "raw.search_console__totals",
            TOTALS,
            "day: the property's totals (anonymized queries included)",
            json=TOTAL_ROWS,
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
