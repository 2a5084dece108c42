"""Fault targets: Meta Graph (Facebook Page and Instagram insights), LinkedIn, WordPress.

Each ``load`` pulls the suite's window with the real client and loads it the way the source's
asset in pipelines/ does.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from pipelines.connectors import content as content_pipeline
from pipelines.connectors import social as social_pipeline
from pipelines.connectors.ingest import arrow_table
from pipelines.warehouse.raw_loader import replace_window
from sources.emulators.company import SOCIAL_ACCOUNTS
from sources.emulators.linkedin import day_limit_fault, minute_limit_fault
from sources.emulators.meta_graph import throttle_fault
from sources.emulators.server import Fault
from sources.emulators.social_content import (
    DEMO_LINKEDIN_TOKEN,
    DEMO_META_TOKEN,
    DEMO_WORDPRESS_PASSWORD,
    DEMO_WORDPRESS_USER,
)
from sources.emulators.stack import EmulatorStack
from sources.http import RetryPolicy
from sources.linkedin import LinkedInClient
from sources.meta_graph import MetaGraphClient
from sources.wordpress import WordPressClient
from tests.fault_base import (
    AS_OF,
    END,
    REPEATED_CURSOR,
    START,
    FaultTarget,
    malformed_and_truncated,
    offset_ignored,
    short_timeout,
    standard_transient,
)

Con = duckdb.DuckDBPyConnection


def _accounts(platform: str) -> list[str]:
    return [a.account_id for a in SOCIAL_ACCOUNTS if a.platform == platform]


def _load_tables(
    con: Con,
    tables: dict[str, str],
    rows: dict[str, list[dict[str, Any]]],
    accounts: dict[str, list[str]],
) -> int:
    """pipelines.connectors.social._load without the Dagster context."""
    return sum(
        replace_window(
            con,
            table,
            arrow_table(rows[name], social_pipeline.SCHEMAS[name]),
            account_ids=accounts[name],
            start=START,
            end=END,
            run_id="faults",
        ).rows_inserted
        for name, table in tables.items()
    )


# --- Meta Graph -----------------------------------------------------------------------------------
def _meta_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = MetaGraphClient(
        DEMO_META_TOKEN, base_url=stack.server.base_url, retry=retry, today=AS_OF.date()
    )
    short_timeout(client, timeout)
    last = END - timedelta(days=1)
    accounts = {
        "page_insights": _accounts("facebook"),
        "instagram_insights": _accounts("instagram"),
    }
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in social_pipeline.META_TABLES}
    for page_id in accounts["page_insights"]:
        rows["page_insights"] += social_pipeline.stamp(
            client.page_days(page_id, START, last), page_id
        )
    for account_id in accounts["instagram_insights"]:
        rows["instagram_insights"] += social_pipeline.stamp(
            client.instagram_days(account_id, START, last), account_id
        )
    return _load_tables(con, social_pipeline.META_TABLES, rows, accounts)


def _meta_data(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        transform(page.get("data") or [])
        return page

    return apply


def _meta_value_as_text(data: list[dict[str, Any]]) -> None:
    for item in data:
        for point in item.get("values") or []:
            point["value"] = "1.2K"
        if isinstance(item.get("total_value"), dict):
            item["total_value"]["value"] = "1.2K"


def _meta_new_metric(data: list[dict[str, Any]]) -> None:
    if data and "values" in data[0]:  # a Page time series
        points = [{**p, "value": 5} for p in data[0]["values"]]
        data.append({"name": "page_video_views", "period": "day", "values": points})
    elif data and "total_value" in data[0]:  # Instagram totals
        data.append({"name": "profile_links_taps", "period": "day", "total_value": {"value": 3}})


META_INSIGHTS = r"/insights"
META_GRAPH = FaultTarget(
    source="meta_graph",
    not_applicable={
        REPEATED_CURSOR: "insights paging.next points at the next time range forever; the client asks for exactly the days it needs and never follows it",
    },
    path=META_INSIGHTS,
    table=social_pipeline.META_TABLES["page_insights"],
    load=_meta_load,
    transient={
        **standard_transient(
            META_INSIGHTS,
            # HTTP 400 code 17 with usage headers: Meta throttles with 400, not 429.
            throttle_fault(code=17, minutes=1, path=META_INSIGHTS),
        ),
        "provider throttle shape (BUC 80001, no wait given)": [
            throttle_fault(code=80001, minutes=0, times=2, path=META_INSIGHTS)
        ],
    },
    fatal={
        **malformed_and_truncated(META_INSIGHTS),
        "type change in a field": [
            Fault(META_INSIGHTS, kind="transform", transform=_meta_data(_meta_value_as_text))
        ],
    },
    # Throttled for longer than the retry budget (estimated_time_to_regain_access, minutes):
    # waiting it out would hold the run for an hour.
    quota=[throttle_fault(code=80001, minutes=60, times=10, path=META_INSIGHTS)],
    new_field=_meta_data(_meta_new_metric),
    new_field_column="page_video_views",
    new_field_value=5,
)


# --- LinkedIn -------------------------------------------------------------------------------------
def _linkedin_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = LinkedInClient(
        DEMO_LINKEDIN_TOKEN,
        base_url=stack.server.base_url,
        retry=retry,
        page_size=2,  # the window's days come on two pages
        today=AS_OF.date(),
    )
    short_timeout(client, timeout)
    last = END - timedelta(days=1)
    organizations = _accounts("linkedin")
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in social_pipeline.LINKEDIN_TABLES}
    for org in organizations:
        rows["share_statistics"] += social_pipeline.stamp(
            client.share_statistics(org, START, last), org
        )
        rows["follower_statistics"] += social_pipeline.stamp(
            client.follower_statistics(org, START, last), org
        )
    accounts = dict.fromkeys(social_pipeline.LINKEDIN_TABLES, organizations)
    return _load_tables(con, social_pipeline.LINKEDIN_TABLES, rows, accounts)


def _linkedin_elements(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        for element in page.get("elements") or []:
            transform(element)
        return page

    return apply


def _linkedin_count_as_text(element: dict[str, Any]) -> None:
    stats = element.get("totalShareStatistics") or element.get("followerGains") or {}
    for name in ("impressionCount", "organicFollowerGain"):
        if name in stats:
            stats[name] = "1,204"


def _linkedin_rate_as_text(element: dict[str, Any]) -> None:
    if "totalShareStatistics" in element:
        element["totalShareStatistics"]["engagement"] = "2.9%"


def _linkedin_new_statistic(element: dict[str, Any]) -> None:
    if "totalShareStatistics" in element:
        element["totalShareStatistics"]["videoViewCount"] = 42


LINKEDIN_REST = r"/rest/organizationalEntity"
LINKEDIN = FaultTarget(
    source="linkedin",
    path=LINKEDIN_REST,
    table=social_pipeline.LINKEDIN_TABLES["share_statistics"],
    load=_linkedin_load,
    transient=standard_transient(
        LINKEDIN_REST,
        # The MINUTE throttle: a 429 that clears, unlike the DAY one below.
        Fault(**{**vars(minute_limit_fault(times=2)), "path": LINKEDIN_REST}),
    ),
    fatal={
        **malformed_and_truncated(LINKEDIN_REST),
        "type change in a field": [
            Fault(
                LINKEDIN_REST,
                kind="transform",
                transform=_linkedin_elements(_linkedin_count_as_text),
            )
        ],
        "type change in a rate": [
            Fault(
                LINKEDIN_REST,
                kind="transform",
                transform=_linkedin_elements(_linkedin_rate_as_text),
            )
        ],
        **offset_ignored(LINKEDIN_REST, "start"),
    },
    # The APPLICATION DAY throttle lasts until 00:00 UTC.
    quota=[Fault(**{**vars(day_limit_fault(times=10)), "path": LINKEDIN_REST})],
    new_field=_linkedin_elements(_linkedin_new_statistic),
    new_field_column="video_view_count",
    new_field_value=42,
)


# --- WordPress ------------------------------------------------------------------------------------
def _wordpress_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    site = stack.server.base_url
    client = WordPressClient(
        site,
        username=DEMO_WORDPRESS_USER,
        app_password=DEMO_WORDPRESS_PASSWORD,
        retry=retry,
        per_page=10,  # the inventory comes on several pages
    )
    short_timeout(client, timeout)
    zone = ZoneInfo("UTC")
    posts = [
        {**p, "_account_id": site, "_partition_date": p["published_at"].date()}
        for p in client.posts()
    ]
    comments = []
    for c in client.comments(START - timedelta(days=1), END):
        day = content_pipeline.local_date(c["commented_at"], zone)
        if START <= day < END:
            comments.append({**c, "comment_date": day, "_account_id": site, "_partition_date": day})
    windows = {
        "posts": (posts, content_pipeline.POST_SCHEMA, *content_pipeline.ALL_TIME),
        "comments": (comments, content_pipeline.COMMENT_SCHEMA, START, END),
    }
    return sum(
        replace_window(
            con,
            content_pipeline.TABLES[name],
            arrow_table(data, schema),
            account_ids=[site],
            start=start,
            end=end,
            run_id="faults",
        ).rows_inserted
        for name, (data, schema, start, end) in windows.items()
    )


def _wordpress_id_as_text(items: Any) -> Any:
    items = copy.deepcopy(items)
    if isinstance(items, list) and items:
        items[0]["id"] = f"post-{items[0]['id']}"
    return items


WP_API = r"/wp-json/wp/v2/"
WORDPRESS = FaultTarget(
    source="wordpress",
    not_applicable={
        "exhausted daily quota": "a WordPress site has no API quota to exhaust",
        "new field": "the client asks for the fields it lands (_fields=), so WordPress never sends one it did not ask for",
    },
    path=WP_API,
    table=content_pipeline.TABLES["posts"],
    load=_wordpress_load,
    transient=standard_transient(
        WP_API,
        # WordPress has no API throttle of its own; while it updates it answers every request
        # with its maintenance page: 503, Retry-After: 600, HTML (wp_maintenance()).
        Fault(
            WP_API,
            status=503,
            headers={"Retry-After": "600"},
            body="<!DOCTYPE html><html><body><p>Briefly unavailable for scheduled maintenance. "
            "Check back in a minute.</p></body></html>",
        ),
    ),
    fatal={
        **malformed_and_truncated(WP_API),
        "type change in a field": [
            Fault(WP_API, kind="transform", transform=_wordpress_id_as_text)
        ],
        **offset_ignored(WP_API, "page"),
    },
)

TARGETS = [META_GRAPH, LINKEDIN, WORDPRESS]
