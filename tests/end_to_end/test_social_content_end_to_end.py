"""End to end for social and content: emulators -> clients -> raw -> dbt -> marts.kpi_values.

A 10-day range is materialized in-process with every social/content source configured. Expected
KPI values are computed here, independently, from the synthetic company the emulators serve, and
compared at day, week and month grain for segment 'all' and a few breakdowns. The dbt unit tests
of the period models (reach, follower growth, distinct pieces) run with every other unit test in
tests/end_to_end/test_end_to_end.py::test_every_dbt_unit_test_runs_and_passes.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipelines.connectors import content_costs, fx, ga4, linkedin, mentions, meta_graph, wordpress
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import dbt_resource, kpi_dbt_models
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators import company as co
from sources.emulators.exports import render_export, write_costs_file
from sources.emulators.social_content import (
    DEMO_LINKEDIN_TOKEN,
    DEMO_META_TOKEN,
    DEMO_WORDPRESS_PASSWORD,
    DEMO_WORDPRESS_USER,
)
from sources.emulators.stack import EmulatorStack, build_stack
from tests.e2e import GRAINS, days, materialize_window, period_bounds, query, usd_per_unit

START, END = date(2025, 3, 1), date(2025, 3, 10)  # Saturday .. Monday: 3 ISO weeks, 1 month
TODAY = date(2025, 3, 20)  # the emulators' and clients' "today"
PROPERTIES = ("250000001", "250000002")  # USD and EUR
MENTION_DAYS = (date(2025, 2, 20), date(2025, 3, 15))
SOURCES = [
    meta_graph.SOURCE,
    linkedin.SOURCE,
    mentions.SOURCE,
    wordpress.SOURCE,
    content_costs.SOURCE,
]


def periods() -> set[tuple[str, date, date]]:
    return {(g, *period_bounds(g, d)) for g in GRAINS for d in days(START, END)}


def write_mention_files(directory: Path) -> None:
    """Two shapes, one malformed line, a copy under another name, an overlapping re-export."""
    directory.mkdir()
    first = days(MENTION_DAYS[0], date(2025, 3, 5))
    second = days(date(2025, 3, 6), MENTION_DAYS[1])
    (directory / "brandwatch_a.csv").write_text(
        render_export("brandwatch", [m for d in first for m in co.mentions_on(d)])
    )
    (directory / "talkwalker_b.ndjson").write_text(
        render_export("talkwalker", [m for d in second for m in co.mentions_on(d)], malformed=True)
    )
    shutil.copy(directory / "brandwatch_a.csv", directory / "brandwatch_a (1).csv")
    overlap = days(date(2025, 3, 9), date(2025, 3, 11))
    (directory / "talkwalker_overlap.ndjson").write_text(
        render_export("talkwalker", [m for d in overlap for m in co.mentions_on(d)])
    )


def eur_post() -> co.BlogPost:
    """A post of the window whose cost the test bills in EUR (a freelancer invoice)."""
    return next(p for p in co.blog_posts() if START <= p.published <= END)


def write_costs(path: Path) -> None:
    write_costs_file(path, TODAY)
    post = eur_post()
    text = path.read_text().replace(
        f"{post.url},{post.cost:.2f},USD", f"{post.url},{post.cost:.2f},EUR"
    )
    assert text != path.read_text()
    path.write_text(text)


def cost_currency(post: co.BlogPost) -> str:
    return "EUR" if post == eur_post() else post.currency


def in_usd(amount: float, currency: str, day: date) -> float:
    """An amount in USD at the ECB rate of ``day`` (the last published rate on a weekend)."""
    return amount * usd_per_unit(currency, day)


def resources(stack: EmulatorStack, tmp: Path) -> dict:
    base = stack.server.base_url
    return {
        "warehouse": WarehouseResource(),
        **connector_resources(
            [ga4.SOURCE, *SOURCES, fx.SOURCE],
            {  # not stack.env(): it writes the demo's mention exports and costs file over these
                "GA4_PROPERTY_IDS": ",".join(PROPERTIES),
                "GOOGLE_APPLICATION_CREDENTIALS": str(stack.service_account),
                "GA4_BASE_URL": base,
                "FX_BASE_URL": base,
                "META_PAGE_IDS": "104000000000001",
                "INSTAGRAM_ACCOUNT_IDS": "17841400000000001",
                "META_ACCESS_TOKEN": DEMO_META_TOKEN,
                "META_BASE_URL": base,
                "META_GRAPH_AS_OF": TODAY.isoformat(),
                "LINKEDIN_ORGANIZATION_IDS": "urn:li:organization:2414183",
                "LINKEDIN_ACCESS_TOKEN": DEMO_LINKEDIN_TOKEN,
                "LINKEDIN_BASE_URL": base,
                "LINKEDIN_AS_OF": TODAY.isoformat(),
                "MENTIONS_DIR": str(tmp / "mentions"),
                "WORDPRESS_BASE_URL": base,
                "WORDPRESS_USERNAME": DEMO_WORDPRESS_USER,
                "WORDPRESS_APP_PASSWORD": DEMO_WORDPRESS_PASSWORD,
                "CONTENT_COSTS_FILE": str(tmp / "content_costs.csv"),
            },
        ),
        "dbt": dbt_resource(),
    }


def materialize_range(stack: EmulatorStack, tmp: Path, start: date, end: date):
    return materialize_window(
        [
            kpi_catalog,
            *connector_assets([ga4.SOURCE, *SOURCES, fx.SOURCE]),
            kpi_dbt_models,
        ],
        resources(stack, tmp),
        start,
        end,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, EmulatorStack]]:
    tmp = tmp_path_factory.mktemp("social_e2e")
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(tmp / "warehouse.duckdb"))
    # dbt reads these (brand matching, content pages, money KPIs)
    patch.setenv("SOV_BRAND", co.SOV_BRAND)
    patch.setenv("SOV_COMPETITORS", ",".join(co.SOV_COMPETITORS))
    patch.setenv("CONTENT_PATH_PREFIXES", "/blog/")
    patch.setenv("KPI_REPORTING_CURRENCY", "USD")
    patch.setenv("KPI_TIMEZONE", "UTC")
    write_mention_files(tmp / "mentions")
    write_costs(tmp / "content_costs.csv")
    stack = build_stack(tmp / "service_account.json", properties=dict.fromkeys(PROPERTIES, 1.0))
    stack.social.set_today(TODAY)
    stack.server.start()
    try:
        result = materialize_range(stack, tmp, START, END)
        yield tmp / "warehouse.duckdb", stack, result
    finally:
        stack.server.stop()
        patch.undo()


def kpi(database: Path, kpi_id: str, segment: str = "all") -> dict[tuple[str, date], float | None]:
    rows = query(
        database,
        "select grain, period_start, value from marts.kpi_values where kpi_id = ? and segment = ?",
        [kpi_id, segment],
    )
    return {(g, p): v for g, p, v in rows}


def assert_matches(actual: dict, expected: dict, kpi_id: str) -> None:
    assert set(actual) == set(expected), kpi_id
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, (kpi_id, key)
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9), (kpi_id, key)


# --------------------------------------------------------------------------------------------------
# Independent expectations from the synthetic company
# --------------------------------------------------------------------------------------------------
def social_days(platforms: tuple[str, ...] | None = None):
    for account in co.SOCIAL_ACCOUNTS:
        if platforms is None or account.platform in platforms:
            for day in days(START, END):
                yield account, day, co.social_day(account, day)


def ratio_by_period(parts: list[tuple[date, float, float]]) -> dict[tuple[str, date], float | None]:
    """sum(numerator) / sum(denominator) per period from (day, numerator, denominator) parts."""
    sums: dict[tuple[str, date], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for day, numerator, denominator in parts:
        for grain in GRAINS:
            key = (grain, period_bounds(grain, day)[0])
            sums[key][0] += numerator
            sums[key][1] += denominator
    return {k: (n / d if d else None) for k, (n, d) in sums.items()}


def expected_mentions() -> list[co.Mention]:
    return [m for d in days(*MENTION_DAYS) for m in co.mentions_on(d)]


def content_paths_on(day: date) -> list[str]:
    return [p.path for p in co.blog_posts() if p.published <= day]


# --------------------------------------------------------------------------------------------------
# Social
# --------------------------------------------------------------------------------------------------
def test_engagement_rate_and_ctr_equal_the_companys_sums(warehouse) -> None:
    database, _, _ = warehouse
    engagement = ratio_by_period([(d, s.engagements, s.impressions) for _, d, s in social_days()])
    assert_matches(kpi(database, "social.engagement_rate"), engagement, "engagement_rate")
    ctr = ratio_by_period(
        [(d, s.link_clicks, s.impressions) for _, d, s in social_days(("instagram", "linkedin"))]
    )
    assert_matches(kpi(database, "social.ctr"), ctr, "ctr")
    linkedin = ratio_by_period(
        [(d, s.engagements, s.impressions) for _, d, s in social_days(("linkedin",))]
    )
    assert_matches(kpi(database, "social.engagement_rate", "platform=linkedin"), linkedin, "li")


def test_reach_is_daily_reach_and_the_average_daily_reach_for_weeks_and_months(warehouse) -> None:
    database, _, _ = warehouse
    daily: dict[date, float] = defaultdict(float)
    for _, day, s in social_days():
        if s.reach is not None:
            daily[day] += s.reach
    expected = {}
    for grain, start, end in periods():
        values = [v for d, v in daily.items() if start <= d <= end]
        expected[(grain, start)] = sum(values) / len(values)
    assert_matches(kpi(database, "social.reach"), expected, "social.reach")
    (week_sum,) = query(
        database,
        "select sum(value) from marts.kpi_values where kpi_id = 'social.reach' and grain = 'day' "
        "and segment = 'all' and period_start between '2025-03-03' and '2025-03-09'",
    )
    # the week is the average of its 7 daily values, not their sum
    assert kpi(database, "social.reach")[("week", date(2025, 3, 3))] == pytest.approx(
        week_sum[0] / 7
    )


def test_follower_growth_is_end_of_period_minus_end_of_previous_period(warehouse) -> None:
    database, _, _ = warehouse
    expected: dict[tuple[str, date], float | None] = {}
    partial = set()
    for grain, start, end in periods():
        if start < START:  # issue 17: unknown at the period's start is partial, not shrunk
            expected[(grain, start)] = None
            partial.add((grain, start))
            continue
        last = min(end, END)
        expected[(grain, start)] = sum(
            co.social_day(a, last).followers - co.social_day(a, start - timedelta(days=1)).followers
            for a in co.SOCIAL_ACCOUNTS
        )
    assert_matches(kpi(database, "social.follower_growth"), expected, "follower_growth")
    flagged = query(
        database,
        "select grain, period_start from marts.kpi_values where kpi_id = 'social.follower_growth' "
        "and segment = 'all' and is_partial",
    )
    assert set(flagged) == partial and partial
    # a fully observed week: exactly followers(Sunday) - followers(previous Sunday)
    linkedin = next(a for a in co.SOCIAL_ACCOUNTS if a.platform == "linkedin")
    week = kpi(database, "social.follower_growth", "platform=linkedin")[("week", date(2025, 3, 3))]
    assert week == (
        co.social_day(linkedin, date(2025, 3, 9)).followers
        - co.social_day(linkedin, date(2025, 3, 2)).followers
    )


def test_share_of_voice_counts_each_mention_once_across_copies_and_overlapping_exports(
    warehouse,
) -> None:
    database, _, _ = warehouse
    parts = [
        (m.at.date(), 1.0 if m.brand == co.SOV_BRAND else 0.0, 1.0) for m in expected_mentions()
    ]
    in_scope = {
        k: v for k, v in ratio_by_period(parts).items() if k in {(g, s) for g, s, _ in periods()}
    }
    assert_matches(kpi(database, "social.share_of_voice"), in_scope, "share_of_voice")
    twitter = [
        (m.at.date(), 1.0 if m.brand == co.SOV_BRAND else 0.0, 1.0)
        for m in expected_mentions()
        if m.source == "twitter"
    ]
    expected_twitter = {k: v for k, v in ratio_by_period(twitter).items() if k in in_scope}
    assert_matches(
        kpi(database, "social.share_of_voice", "source=twitter"), expected_twitter, "sov twitter"
    )
    (total,) = query(database, "select sum(mentions) from marts.fct_share_of_voice_daily")
    assert total[0] == len(expected_mentions())


def test_the_malformed_export_line_is_reported_with_file_and_line_and_the_rest_loads(
    warehouse,
) -> None:
    database, _, result = warehouse
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    lines = checks["mention_lines_parsed"]
    assert not lines.passed
    assert lines.severity == dg.AssetCheckSeverity.WARN
    assert "talkwalker_b.ndjson:" in lines.description
    files = dict(query(database, "select file_name, lines_rejected from raw.mentions__files"))
    # the copy under another name is skipped (whichever name sorts first is loaded)
    assert len([f for f in files if f.startswith("brandwatch_a")]) == 1
    assert files["talkwalker_b.ndjson"] == 1
    assert files["talkwalker_overlap.ndjson"] == 0


# --------------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------------
def content_day_parts():
    """Per window day: leads, engagement seconds, views, landing views/sessions, revenue in USD."""
    blog_landing = [p for p in co.LANDING_PAGES if p.startswith("/blog/")]
    company = co.Company(dict.fromkeys(PROPERTIES, 1.0))
    for day in days(START, END):
        totals = defaultdict(float)
        for prop in PROPERTIES:
            for path in content_paths_on(day):
                numbers = co.page_day(prop, day, path)
                totals["views"] += numbers["screenPageViews"]
                totals["seconds"] += numbers["userEngagementDuration"]
                totals["leads"] += numbers["leads"]
            for page in blog_landing:
                landing = company.landing_page_day(prop, day, page)
                totals["landing_views"] += landing["screenPageViews"]
                totals["landing_sessions"] += landing["sessions"]
                currency = "USD" if prop == "250000001" else "EUR"
                totals["revenue"] += in_usd(float(landing["purchaseRevenue"]), currency, day)
        yield day, totals


def test_content_kpis_equal_the_companys_page_numbers(warehouse) -> None:
    database, _, _ = warehouse
    parts = list(content_day_parts())
    leads: dict[tuple[str, date], float] = defaultdict(float)
    for day, t in parts:
        for grain in GRAINS:
            leads[(grain, period_bounds(grain, day)[0])] += t["leads"]
    assert_matches(kpi(database, "content.leads"), dict(leads), "content.leads")
    time_on_page = ratio_by_period([(d, t["seconds"], t["views"]) for d, t in parts])
    assert_matches(kpi(database, "content.time_on_page"), time_on_page, "time_on_page")
    pps = ratio_by_period([(d, t["landing_views"], t["landing_sessions"]) for d, t in parts])
    assert_matches(kpi(database, "content.pages_per_session"), pps, "pages_per_session")


def test_content_roi_converts_revenue_and_costs_of_every_currency_at_the_days_ecb_rate(
    warehouse,
) -> None:
    database, _, _ = warehouse
    revenue = {day: t["revenue"] for day, t in content_day_parts()}
    expected = {}
    for grain, start, end in periods():
        cost = sum(
            in_usd(float(p.cost), cost_currency(p), p.published)
            for p in co.blog_posts()
            if start <= p.published <= min(end, TODAY)
        )
        income = sum(v for d, v in revenue.items() if start <= d <= end)
        expected[(grain, start)] = income / cost if cost else None
    assert_matches(kpi(database, "content.content_roi"), expected, "content_roi")
    post = eur_post()
    (row,) = query(
        database,
        "select cost_currency, production_cost, production_cost_reporting from marts.dim_content "
        "where content_path = ?",
        [post.path],
    )
    assert row[0] == "EUR"
    assert row[2] == pytest.approx(in_usd(float(row[1]), "EUR", post.published), rel=1e-9)
    (unconverted,) = query(
        database,
        "select count(*) from marts.fct_content_daily where unconverted_revenue_currencies "
        "is not null",
    )
    assert unconverted == (0,)


def test_engagement_per_content_divides_by_distinct_pieces_viewed_in_the_period(warehouse) -> None:
    database, _, _ = warehouse
    by_post = {p.post_id: p.path for p in co.blog_posts()}
    links = defaultdict(int)
    for m in expected_mentions():
        if m.linked_url and START <= m.at.date() <= END:
            links[
                (m.at.date(), m.linked_url.removeprefix(co.SITE_URL.rstrip("/")).rstrip("/"))
            ] += 1
    expected = {}
    for grain, start, end in periods():
        window = [d for d in days(max(start, START), min(end, END))]
        interactions = sum(1 for d in window for c in co.comments_on(d) if c.post_id in by_post)
        interactions += sum(n for (d, _), n in links.items() if d in window)
        viewed = {
            path
            for d in window
            for prop in PROPERTIES
            for path in content_paths_on(d)
            if co.page_day(prop, d, path)["screenPageViews"] > 0
        }
        expected[(grain, start)] = interactions / len(viewed)
    assert_matches(
        kpi(database, "content.engagement_per_content"), expected, "engagement_per_content"
    )
    (row,) = query(
        database,
        "select numerator, denominator from marts.kpi_values where kpi_id = "
        "'content.engagement_per_content' and grain = 'month' and segment = 'all'",
    )
    daily_denominators = query(
        database,
        "select sum(denominator) from marts.kpi_values where kpi_id = "
        "'content.engagement_per_content' and grain = 'day' and segment = 'all'",
    )
    assert row[1] < daily_denominators[0][0]  # distinct pieces, not piece-days


def test_per_piece_segments_add_up_to_all_for_content_leads(warehouse) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select grain, period_start, sum(value) filter (where segment like 'content=%'), "
        "sum(value) filter (where segment = 'all') from marts.kpi_values "
        "where kpi_id = 'content.leads' group by all",
    )
    assert rows
    for grain, start, pieces, total in rows:
        assert pieces == pytest.approx(total), (grain, start)


def test_dim_content_joins_wordpress_costs_and_ga4_paths(warehouse) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select content_path, title, published_date, production_cost, cost_currency, "
        "in_wordpress, in_costs_file from marts.dim_content where content_path = '/blog/kpi-guide'",
    )
    post = next(p for p in co.blog_posts() if p.path == "/blog/kpi-guide")
    assert rows == [(post.path, post.title, post.published, post.cost, "USD", True, True)]
    (count,) = query(database, "select count(*) from marts.dim_content")
    assert count[0] == sum(1 for p in co.blog_posts() if p.published <= TODAY)


def test_rerunning_a_range_gives_identical_kpis_and_loads_no_file_twice(warehouse) -> None:
    database, stack, _ = warehouse
    tmp = database.parent
    kpis = "select * from marts.kpi_values order by all"
    facts = "select * from marts.fct_share_of_voice_daily order by all"
    before = query(database, kpis), query(database, facts)
    materialize_range(stack, tmp, date(2025, 3, 4), date(2025, 3, 6))
    after = query(database, kpis), query(database, facts)
    assert before == after
