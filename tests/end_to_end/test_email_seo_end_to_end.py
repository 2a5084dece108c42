"""End to end for email and SEO: emulators -> clients -> raw -> dbt -> marts.kpi_values, 10 days.

Expected KPI values are computed here, independently, from the synthetic company the emulators
serve (campaign totals, search rows, page-speed runs, backlink counts) and compared at day, week
and month grain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipelines.connectors import backlinks, ga4, mailchimp, pagespeed, search_console
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.framework import Source
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import dbt_resource, kpi_dbt_models
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.company import page_url
from sources.emulators.stack import (
    DEMO_PAGESPEED_PATHS,
    DEMO_TRACKED_KEYWORDS,
    EmulatorStack,
    build_stack,
)
from tests.e2e import days, materialize_window, period_start, query, run_dbt

START, END = date(2025, 3, 1), date(2025, 3, 10)  # Saturday .. Monday: 3 ISO weeks, 1 month
REPORTS_AS_OF = datetime(2025, 3, 20, 6, tzinfo=UTC)
BROKEN_URL = page_url("/no-such-page")
EMAIL_KPIS = {
    "email.open_rate": ("unique_opens", "delivered"),
    "email.ctr": ("unique_subscriber_clicks", "delivered"),
    "email.conversion_rate": ("orders", "delivered_with_ecommerce"),
    "email.unsubscribe_rate": ("unsubscribed", "delivered"),
    "email.forward_rate": ("forwards", "delivered"),
}
SOURCES = [ga4.SOURCE, mailchimp.SOURCE, search_console.SOURCE, pagespeed.SOURCE, backlinks.SOURCE]


def settings(stack: EmulatorStack) -> dict[str, str]:
    env = stack.env()
    return {
        **env,
        "GA4_PROPERTY_IDS": "250000001",
        "PAGESPEED_URLS": f"{env['PAGESPEED_URLS']},{BROKEN_URL}",
        "PAGESPEED_MAX_AGE_DAYS": "100000",  # the test's window lies in the past; measure it anyway
    }


def materialize_range(
    stack: EmulatorStack, start: date, end: date, sources: list[Source] | None = None
) -> dg.ExecuteInProcessResult:
    """The sources (all of this module's by default) and, with all of them, the dbt models."""
    chosen = sources or SOURCES
    assets = [*connector_assets(chosen)]
    if sources is None:
        assets = [kpi_catalog, *assets, kpi_dbt_models]
    resources = {
        "warehouse": WarehouseResource(),
        **connector_resources(chosen, settings(stack)),
        "dbt": dbt_resource(),
    }
    return materialize_window(assets, resources, start, end)


@pytest.fixture(scope="module")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, EmulatorStack, dg.ExecuteInProcessResult]]:
    """One materialized 10-day range shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("e2e_email_seo")
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(tmp / "warehouse.duckdb"))
    stack = build_stack(tmp / "service_account.json", properties={"250000001": 1.0})
    stack.mailchimp.now = lambda: REPORTS_AS_OF
    stack.search_console.today = lambda: date(2025, 3, 20)  # every day of the window is final
    stack.pagespeed.today = lambda: END  # PSI measures "now": the window's last day
    stack.ahrefs.today = lambda: date(2025, 3, 20)
    stack.server.start()
    try:
        result = materialize_range(stack, START, END)
        yield tmp / "warehouse.duckdb", stack, result
    finally:
        stack.server.stop()
        patch.undo()


# --------------------------------------------------------------------------------------------------
# Expected values, straight from the synthetic company
# --------------------------------------------------------------------------------------------------
def expected_email(stack: EmulatorStack) -> dict[tuple[str, str, date], float | None]:
    """Every period touched by the pulled days; a period without delivered emails is NULL."""
    sums: dict[tuple[str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in days(START, END):
        for grain in ("day", "week", "month"):
            sums[(grain, period_start(grain, day))]["delivered"] += 0
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC))
    for campaign in stack.email.campaigns_between(*window):
        totals = stack.email.totals(campaign, REPORTS_AS_OF)
        day = campaign.send_time.date()
        measures = {
            "delivered": campaign.delivered,
            "unique_opens": totals.unique_opens,
            "unique_subscriber_clicks": totals.unique_subscriber_clicks,
            "unsubscribed": totals.unsubscribed,
            "forwards": totals.forwards,
        }
        if totals.orders is not None:
            measures["orders"] = totals.orders
            measures["delivered_with_ecommerce"] = campaign.delivered
        for grain in ("day", "week", "month"):
            for name, value in measures.items():
                sums[(grain, period_start(grain, day))][name] += value
    expected: dict[tuple[str, str, date], float | None] = {}
    for (grain, start), m in sums.items():
        for kpi, (numerator, denominator) in EMAIL_KPIS.items():
            den = m.get(denominator, 0)
            expected[(kpi, grain, start)] = m.get(numerator, 0) / den if den else None
    return expected


def expected_seo(stack: EmulatorStack) -> dict[tuple[str, str, date], float]:
    tracked = {k.lower() for k in DEMO_TRACKED_KEYWORDS}
    sums: dict[tuple[str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    last_backlinks: dict[tuple[str, date], int] = {}
    for day in days(START, END):
        total = stack.seo.search_total(day)
        rows = [r for r in stack.seo.search_rows(day) if r.query.lower() in tracked]
        for grain in ("day", "week", "month"):
            m = sums[(grain, period_start(grain, day))]
            m["clicks"] += total.clicks
            m["impressions"] += total.impressions
            m["tracked_weighted"] += sum(r.position * r.impressions for r in rows)
            m["tracked_impressions"] += sum(r.impressions for r in rows)
            last_backlinks[(grain, period_start(grain, day))] = stack.seo.backlinks(day).live
    expected = {}
    for (grain, start), m in sums.items():
        expected[("seo.search_clicks", grain, start)] = m["clicks"]
        expected[("seo.search_impressions", grain, start)] = m["impressions"]
        expected[("seo.search_ctr", grain, start)] = m["clicks"] / m["impressions"]
        expected[("seo.keyword_rankings", grain, start)] = (
            m["tracked_weighted"] / m["tracked_impressions"]
        )
        expected[("seo.backlinks", grain, start)] = last_backlinks[(grain, start)]
    # PSI measured once, on the window's last day: mean mobile lab LCP of the URLs that loaded.
    lcp = [stack.seo.page_speed(p, "mobile", END).lcp_ms / 1000 for p in DEMO_PAGESPEED_PATHS]
    for grain in ("day", "week", "month"):
        expected[("seo.page_load_time", grain, period_start(grain, END))] = sum(lcp) / len(lcp)
    return expected


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------
def test_email_kpis_equal_values_computed_from_the_emulated_campaigns(warehouse) -> None:
    database, stack, _ = warehouse
    expected = expected_email(stack)
    rows = query(
        database,
        "select kpi_id, grain, period_start, value from marts.kpi_values "
        "where channel = 'email' and segment = 'all'",
    )
    actual = {(k, g, p): v for k, g, p, v in rows}
    assert set(actual) == set(expected)
    assert len(expected) == 5 * (10 + 3 + 1)
    assert sum(v is not None for v in expected.values()) >= 20
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key  # no email delivered: NULL, never 0
        else:
            assert actual[key] == pytest.approx(value, rel=1e-12), key


def test_an_email_week_is_complete_once_mailchimp_was_pulled_through_its_last_day(
    warehouse,
) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select period_start, is_period_complete, days_observed from marts.kpi_values "
        "where kpi_id = 'email.open_rate' and grain = 'week' and segment = 'all' order by 1",
    )
    assert [(str(p), c, n) for p, c, n in rows] == [
        ("2025-02-24", True, 2),  # only 03-01 and 03-02 were pulled; 03-02 is its Sunday
        ("2025-03-03", True, 7),
        ("2025-03-10", False, 1),  # the running week
    ]


def test_seo_kpis_equal_values_computed_from_the_emulated_site(warehouse) -> None:
    database, stack, _ = warehouse
    expected = expected_seo(stack)
    rows = query(
        database,
        "select kpi_id, grain, period_start, value from marts.kpi_values "
        "where channel = 'seo' and segment = 'all' and kpi_id not in "
        "('seo.organic_traffic', 'seo.bounce_rate')",
    )
    actual = {(k, g, p): v for k, g, p, v in rows}
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-12), key


def test_ga4_kpis_are_still_there_beside_the_new_sources(warehouse) -> None:
    database, _, _ = warehouse
    (count,) = query(
        database,
        "select count(*) from marts.kpi_values where kpi_id = 'digital.site_traffic' "
        "and grain = 'day' and segment = 'all'",
    )
    assert count[0] == 10


def test_each_campaign_is_one_row_dated_by_its_send_day_with_mailchimps_own_rates(
    warehouse,
) -> None:
    database, stack, _ = warehouse
    rows = query(
        database,
        "select campaign_id, send_date, open_rate, reported_open_rate, click_rate, "
        "reported_click_rate, orders from marts.fct_email_campaigns order by send_time",
    )
    window = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC))
    campaigns = stack.email.campaigns_between(*window)
    assert [(r[0], r[1]) for r in rows] == [(c.id, c.send_time.date()) for c in campaigns]
    for _, _, open_rate, reported_open, click_rate, reported_click, _ in rows:
        assert open_rate == pytest.approx(reported_open, rel=1e-12)
        assert click_rate == pytest.approx(reported_click, rel=1e-12)
    untracked = [r for r, c in zip(rows, campaigns, strict=True) if c.orders is None]
    assert untracked and all(r[6] is None for r in untracked)  # no e-commerce: NULL, not 0


def test_position_is_impression_weighted_not_a_mean_of_rows(warehouse) -> None:
    database, stack, _ = warehouse
    tracked = {k.lower() for k in DEMO_TRACKED_KEYWORDS}
    rows = [r for r in stack.seo.search_rows(date(2025, 3, 4)) if r.query.lower() in tracked]
    (value,) = query(
        database,
        "select tracked_keyword_position from marts.fct_seo_daily where date_day = '2025-03-04'",
    )
    weighted = sum(r.position * r.impressions for r in rows) / sum(r.impressions for r in rows)
    mean = sum(r.position for r in rows) / len(rows)
    assert value[0] == pytest.approx(weighted, rel=1e-12)
    assert value[0] != pytest.approx(mean, rel=1e-3)


def test_a_failing_pagespeed_url_is_recorded_failed_and_the_others_count(warehouse) -> None:
    database, _, result = warehouse
    rows = query(
        database,
        "select url, strategy, status, lcp_ms, error from raw.pagespeed__runs order by all",
    )
    failed = [r for r in rows if r[2] == "failed"]
    assert {(r[0], r[1]) for r in failed} == {(BROKEN_URL, "mobile"), (BROKEN_URL, "desktop")}
    assert all(r[3] is None and "ERRORED_DOCUMENT_REQUEST" in r[4] for r in failed)
    assert sum(r[2] == "ok" for r in rows) == 2 * len(DEMO_PAGESPEED_PATHS)
    check = next(
        c for c in result.get_asset_check_evaluations() if c.check_name == "all_urls_measured"
    )
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert BROKEN_URL in check.description and "2025-03-10" in check.description


def test_search_totals_exceed_query_rows_because_of_anonymized_queries(warehouse) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select t.date, t.impressions, sum(q.impressions) from raw.search_console__totals t "
        "join raw.search_console__queries q using (date) group by all",
    )
    assert len(rows) == 10
    assert all(total > from_rows for _, total, from_rows in rows)


def test_repulling_a_window_replaces_lifetime_totals_with_the_newer_counts(warehouse) -> None:
    database, stack, _ = warehouse
    sql = (
        "select campaign_id, send_date, unique_opens, report_as_of from raw.mailchimp__campaigns "
        "order by campaign_id"
    )
    before = query(database, sql)
    stack.mailchimp.now = lambda: REPORTS_AS_OF + timedelta(days=40)
    try:
        materialize_range(stack, date(2025, 3, 5), date(2025, 3, 10), [mailchimp.SOURCE])
    finally:
        stack.mailchimp.now = lambda: REPORTS_AS_OF
    after = query(database, sql)
    assert [r[:2] for r in after] == [r[:2] for r in before]  # same campaigns, no duplicates
    repulled = [(b, a) for b, a in zip(before, after, strict=True) if b[1] >= date(2025, 3, 5)]
    untouched = [(b, a) for b, a in zip(before, after, strict=True) if b[1] < date(2025, 3, 5)]
    assert repulled and untouched
    assert all(a[2] > b[2] and a[3] > b[3] for b, a in repulled)  # newer, larger totals
    assert all(a == b for b, a in untouched)  # sends outside the window keep their rows


def test_dbt_unit_tests_for_weighted_position_and_snapshots_pass(warehouse) -> None:
    database, _, _ = warehouse
    names = (
        "tracked_keyword_position_is_impression_weighted_and_case_insensitive",
        "without_tracked_keywords_every_query_counts",
        "keyword_position_rolls_up_impression_weighted_and_backlinks_take_the_last_day",
    )
    result = run_dbt(database, "test", "--select", *names)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\bPASS=3\b", result.stdout), result.stdout[-3000:]


def test_fresh_search_days_are_marked_provisional(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    stack = build_stack(tmp_path / "sa.json", properties={"250000001": 1.0})
    stack.search_console.today = lambda: date(2025, 3, 11)  # 03-09 onward is still incomplete
    stack.server.start()
    try:
        materialize_range(stack, date(2025, 3, 7), date(2025, 3, 10), [search_console.SOURCE])
    finally:
        stack.server.stop()
    rows = query(
        tmp_path / "w.duckdb",
        "select date, bool_and(is_provisional), bool_or(is_provisional) "
        "from raw.search_console__queries group by date order by date",
    )
    assert [(str(d), a, o) for d, a, o in rows] == [
        ("2025-03-07", False, False),
        ("2025-03-08", False, False),
        ("2025-03-09", True, True),
        ("2025-03-10", True, True),
    ]


def test_sources_without_settings_load_nothing_and_warn(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    names = (
        "MAILCHIMP_API_KEY",
        "SEARCH_CONSOLE_SITE_URLS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "PAGESPEED_API_KEY",
        "PAGESPEED_URLS",
        "AHREFS_API_TOKEN",
        "AHREFS_TARGET",
    )
    for name in names:
        monkeypatch.delenv(name, raising=False)
    unset = [mailchimp.SOURCE, search_console.SOURCE, pagespeed.SOURCE, backlinks.SOURCE]
    result = dg.materialize(
        connector_assets(unset),
        resources={"warehouse": WarehouseResource(), **connector_resources(unset)},
        partition_key="2025-03-01",
    )
    assert result.success
    configured = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "source_configured"
    ]
    assert len(configured) == 4
    assert all(not c.passed and c.severity == dg.AssetCheckSeverity.WARN for c in configured)
    described = " ".join(c.description for c in configured)
    for name in (
        "MAILCHIMP_API_KEY",
        "SEARCH_CONSOLE_SITE_URLS",
        "PAGESPEED_URLS",
        "AHREFS_TARGET",
    ):
        assert name in described
    assert not (tmp_path / "w.duckdb").exists() or not query(
        tmp_path / "w.duckdb",
        "select table_name from information_schema.tables where table_schema = 'raw'",
    )
