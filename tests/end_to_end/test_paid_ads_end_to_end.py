"""End to end for paid ads: emulators -> Google Ads / Meta clients -> raw -> dbt -> kpi_values.

A week across a month end (2025-02-26..2025-03-04) is materialized in-process with GA4, both ads
platforms, the marketing-costs file and FX. Expected KPI values are computed here, independently,
from the synthetic company (``AdsProgram``, ``Company``), the ECB emulator's rate function and the
costs written by the test, then compared at day, week and month for every segment.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import fx, ga4, google_ads, marketing_costs, meta_ads
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import dbt_resource, kpi_dbt_models
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.company import AD_CAMPAIGNS, CHANNEL_GROUPS
from sources.emulators.stack import DEMO_PROPERTIES, EmulatorStack, build_stack
from tests.e2e import days, materialize_window, period_start, query, run_dbt, usd_per_unit

START, END = date(2025, 2, 26), date(2025, 3, 4)  # Wednesday .. Tuesday: 2 weeks, 2 months
COSTS_CSV = """month,category,amount,currency,until,note
# a comment line
2025-02,tools,1400.00,USD,2025-03,subscriptions
2025-03,agency,3100.00,EUR,,retainer
2025-02,content,9300,NOK,,
"""
COSTS = [  # (month, amount, currency) as written above
    (date(2025, 2, 1), 1400.0, "USD"),
    (date(2025, 3, 1), 1400.0, "USD"),
    (date(2025, 3, 1), 3100.0, "EUR"),
    (date(2025, 2, 1), 9300.0, "NOK"),
]
PROPERTY_CURRENCY = {"250000001": "USD", "250000002": "EUR"}
ADS = [google_ads.SOURCE, meta_ads.SOURCE]
SOURCES = [ga4.SOURCE, *ADS, marketing_costs.SOURCE, fx.SOURCE]
ASSETS = [kpi_catalog, *connector_assets(SOURCES), kpi_dbt_models]


def materialize(
    stack: EmulatorStack,
    costs_file: Path,
    start: date,
    end: date,
    selection: dg.AssetSelection | None = None,
):
    settings = {
        **stack.env(),
        "GA4_PROPERTY_IDS": ",".join(DEMO_PROPERTIES),
        "MARKETING_COSTS_PATH": str(costs_file),
    }
    return materialize_window(
        ASSETS,
        {
            "warehouse": WarehouseResource(),
            **connector_resources(SOURCES, settings),
            "dbt": dbt_resource(),
        },
        start,
        end,
        selection=selection,
    )


@pytest.fixture(scope="module")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, EmulatorStack, Path]]:
    tmp = tmp_path_factory.mktemp("paid_ads_e2e")
    database = tmp / "warehouse.duckdb"
    costs_file = tmp / "marketing_costs.csv"
    costs_file.write_text(COSTS_CSV)
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(database))
    patch.setenv("KPI_REPORTING_CURRENCY", "USD")
    stack = build_stack(tmp / "service_account.json")
    stack.server.start()
    try:
        materialize(stack, costs_file, START, END)
        yield database, stack, costs_file
    finally:
        stack.server.stop()
        patch.undo()


# --------------------------------------------------------------------------------------------------
# Independent expectations
# --------------------------------------------------------------------------------------------------
def days_in_month(month: date) -> int:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - month).days


def expected_kpis(stack: EmulatorStack) -> dict[tuple[str, str, str, date], float | None]:
    ads = stack.ads
    currency = {a.account_id: a.currency for a in ads.accounts.values()}
    sums: dict[tuple[str, str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in days(START, END):
        for campaign in AD_CAMPAIGNS:
            ad = ads.campaign_day(campaign, day)
            rate = usd_per_unit(currency[campaign.account_id], day)
            measures = {
                "impressions": ad.impressions,
                "clicks": ad.clicks,
                "spend": float(ad.spend) * rate,
                "conversions": float(ad.conversions),
                "value": float(ad.conversion_value) * rate,
            }
            segments = (
                "all",
                f"platform={campaign.platform}",
                f"campaign={campaign.platform}:{campaign.campaign_id}",
            )
            for grain in ("day", "week", "month"):
                for segment in segments:
                    for name, value in measures.items():
                        sums[(segment, grain, period_start(grain, day))][name] += value
        web_leads = web_revenue = 0.0
        for property_id in DEMO_PROPERTIES:
            for channel in CHANNEL_GROUPS:
                cd = stack.company.channel_day(property_id, day, channel)
                web_leads += cd.leads
                if channel != "Direct":
                    web_revenue += float(cd.purchase_revenue) * usd_per_unit(
                        PROPERTY_CURRENCY[property_id], day
                    )
        other = sum(
            amount / days_in_month(month) * usd_per_unit(cur, day)
            for month, amount, cur in COSTS
            if month == day.replace(day=1)
        )
        for grain in ("day", "week", "month"):
            totals = sums[("digital", grain, period_start(grain, day))]
            totals["leads"] += web_leads
            totals["revenue"] += web_revenue
            totals["other"] += other

    def ratio(num: float, den: float) -> float | None:
        return None if den == 0 else num / den

    result: dict[tuple[str, str, str, date], float | None] = {}
    for (segment, grain, start), m in sums.items():
        if segment == "digital":
            ad_spend = sums[("all", grain, start)]["spend"]
            result[("digital.cost_per_lead", "all", grain, start)] = ratio(ad_spend, m["leads"])
            result[("digital.roi", "all", grain, start)] = ratio(
                m["revenue"], ad_spend + m["other"]
            )
            continue
        key = (segment, grain, start)
        result[("paid_ads.ctr", *key)] = ratio(m["clicks"], m["impressions"])
        result[("paid_ads.cpc", *key)] = ratio(m["spend"], m["clicks"])
        result[("paid_ads.conversion_rate", *key)] = ratio(m["conversions"], m["clicks"])
        result[("paid_ads.impressions", *key)] = m["impressions"]
        result[("paid_ads.roas", *key)] = ratio(m["value"], m["spend"])
    return result


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------
def test_paid_ads_and_digital_kpis_equal_values_computed_from_the_emulated_company(
    warehouse,
) -> None:
    database, stack, _ = warehouse
    expected = expected_kpis(stack)
    rows = query(
        database,
        "select kpi_id, segment, grain, period_start, value from marts.kpi_values "
        "where kpi_id like 'paid_ads.%' or kpi_id in ('digital.cost_per_lead', 'digital.roi')",
    )
    actual = {(k, s, g, p): v for k, s, g, p, v in rows}
    assert set(actual) == set(expected)
    assert len({k[1] for k in actual}) == 1 + 2 + len(AD_CAMPAIGNS)  # all, platforms, campaigns
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9), key


def test_campaign_days_the_api_omits_are_zero_rows_in_the_fact(warehouse) -> None:
    database, stack, _ = warehouse
    rows = query(
        database,
        "select count(*), count(*) filter (where is_zero_filled) from marts.fct_paid_ads_daily",
    )
    omitted = sum(
        1 for c in AD_CAMPAIGNS for d in days(START, END) if stack.ads.campaign_day(c, d).is_empty
    )
    assert omitted > 0  # the DE campaign does not run on weekends
    assert rows == [(len(AD_CAMPAIGNS) * len(days(START, END)), omitted)]
    zero = query(
        database,
        "select impressions, clicks, spend, conversions, conversion_value, spend_reporting, "
        "currency, time_zone from marts.fct_paid_ads_daily where is_zero_filled limit 1",
    )
    assert zero == [(0, 0, 0, 0, 0, 0, "EUR", "Europe/Berlin")]


def test_spend_in_another_currency_is_converted_with_that_days_rate_and_kept_original(
    warehouse,
) -> None:
    database, stack, _ = warehouse
    rows = query(
        database,
        "select date_day, campaign_id, spend, conversion_value, spend_reporting, "
        "conversion_value_reporting, reporting_currency from marts.fct_paid_ads_daily "
        "where account_id = '801234567890123'",
    )
    (campaign,) = stack.ads.campaigns_of("801234567890123")
    assert len(rows) == len(days(START, END))
    for day, _, spend, value, spend_usd, value_usd, reporting in rows:
        ad = stack.ads.campaign_day(campaign, day)
        assert spend == ad.spend  # the original NOK amount, exact
        assert value == ad.conversion_value
        assert spend_usd == pytest.approx(float(ad.spend) * usd_per_unit("NOK", day), rel=1e-9)
        assert value_usd == pytest.approx(
            float(ad.conversion_value) * usd_per_unit("NOK", day), rel=1e-9
        )
        assert reporting == "USD"
        assert spend_usd < float(spend) / 5  # roughly 10 NOK per USD, not a silent 1.0


def test_account_currency_and_time_zone_are_stored_per_account(warehouse) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select distinct platform, account_id, currency, time_zone from marts.fct_paid_ads_daily "
        "order by all",
    )
    assert rows == [
        ("google_ads", "4815162342", "USD", "America/New_York"),
        ("google_ads", "7020304050", "EUR", "Europe/Berlin"),
        ("meta_ads", "798085168510957", "USD", "America/Los_Angeles"),
        ("meta_ads", "801234567890123", "NOK", "Europe/Oslo"),
    ]


def test_other_marketing_costs_are_spread_evenly_over_their_month(warehouse) -> None:
    database, _, _ = warehouse
    rows = query(
        database,
        "select month_start, category, count(*), sum(amount) from "
        "intermediate.int_other_marketing_costs_daily group by all order by all",
    )
    assert rows == [
        (date(2025, 2, 1), "content", 28, pytest.approx(9300.0)),
        (date(2025, 2, 1), "tools", 28, pytest.approx(1400.0)),
        (date(2025, 3, 1), "agency", 31, pytest.approx(3100.0)),
        (date(2025, 3, 1), "tools", 31, pytest.approx(1400.0)),
    ]


def test_rerunning_a_range_gives_identical_tables(warehouse) -> None:
    database, stack, costs_file = warehouse
    tables = [
        "select * exclude (_loaded_at, _source_run_id) from raw.meta_ads__campaign_insights order by all",
        "select * exclude (_loaded_at, _source_run_id) from raw.google_ads__campaign_stats order by all",
        "select * from marts.fct_paid_ads_daily order by all",
    ]
    kpis = "select * from marts.kpi_values order by kpi_id, grain, period_start, segment"
    before = [query(database, sql) for sql in tables], query(database, kpis)
    # The ads sources and their dbt chain to kpi_values (GA4 and FX re-runs: tests/test_end_to_end).
    ads = dg.AssetSelection.assets(
        *(t.asset_key for source in ADS for t in source.tables),
        *(dg.AssetKey(["landing", source.name]) for source in ADS),
        *(
            dg.AssetKey(key.split("/"))
            for key in (
                "staging/stg_google_ads__campaign_stats",
                "staging/stg_google_ads__accounts",
                "staging/stg_meta_ads__campaign_insights",
                "staging/stg_meta_ads__accounts",
                "intermediate/int_paid_ads__campaign_days",
                "intermediate/int_paid_ads__account_days",
                "marts/fct_paid_ads_daily",
                "intermediate/int_kpi_daily__paid_ads",
                "intermediate/int_kpi_daily",
                "marts/kpi_values",
            )
        ),
    )
    materialize(stack, costs_file, date(2025, 3, 1), date(2025, 3, 2), selection=ads)
    after = [query(database, sql) for sql in tables], query(database, kpis)
    assert after[0] == before[0]
    # Week and month values sum daily doubles, whose last bit depends on the rows' order.
    assert len(after[1]) == len(before[1])
    for old, new in zip(before[1], after[1], strict=True):
        assert new[:6] == old[:6]
        for a, b in zip(new[6:9], old[6:9], strict=True):
            assert a == b if b is None else a == pytest.approx(b, rel=1e-12), old
        assert new[9:] == old[9:]


def test_a_missing_rate_for_an_ads_currency_fails_the_check_naming_currency_and_day(
    warehouse, tmp_path
) -> None:
    database, _, _ = warehouse
    copy = tmp_path / "copy.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from raw.fx__ecb_rates where currency = 'NOK'")
    result = run_dbt(
        copy,
        "build",
        "--select",
        "int_fx_rates_daily",
        "fct_paid_ads_daily",
        "assert_fx_rate_exists_for_money",
        "--vars",
        '{"min_date": "2025-03-03", "max_date": "2025-03-04"}',
        "--store-failures",
    )
    assert result.returncode != 0
    assert "assert_fx_rate_exists_for_money" in result.stdout
    problems = {
        row[0]
        for row in query(
            copy, "select problem from dbt_test__audit.assert_fx_rate_exists_for_money"
        )
    }
    assert (
        "missing FX rate NOK -> USD on 2025-03-03 (fct_paid_ads_daily meta_ads account 801234567890123)"
        in problems
    )
    (nulls,) = query(
        copy,
        "select count(*) from marts.fct_paid_ads_daily where currency = 'NOK' "
        "and date_day >= '2025-03-03' and spend_reporting is null",
    )
    assert nulls[0] == 2  # no silent 1.0
