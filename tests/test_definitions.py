"""The Dagster code location: graph shape, partitions, pool, schedule."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from pipelines.definitions import defs
from pipelines.partitions import WAREHOUSE_POOL
from pipelines.schedules import kpi_daily_schedule

EXPECTED_ASSETS = {
    "raw/kpi_catalog",
    "raw/ga4__traffic",
    "raw/ga4__leads",
    "raw/ga4__landing_pages",
    "raw/ga4__users",
    "raw/fx__ecb_rates",
    "staging/stg_fx__ecb_rates",
    "intermediate/int_fx_rates_daily",
    "staging/stg_ga4__traffic",
    "staging/stg_ga4__leads",
    "staging/stg_ga4__landing_pages",
    "staging/stg_ga4__users",
    "staging/stg_kpi__catalog",
    "intermediate/int_web_traffic_with_leads",
    "intermediate/int_kpi_daily__web",
    "intermediate/int_kpi_daily",
    "intermediate/int_kpi_periods__unique",
    "marts/fct_web_traffic_daily",
    "marts/fct_web_landing_pages_daily",
    "marts/fct_web_users",
    "marts/kpi_values",
    # paid ads (issue 3)
    "raw/google_ads__campaign_stats",
    "raw/google_ads__accounts",
    "raw/meta_ads__campaign_insights",
    "raw/meta_ads__accounts",
    "raw/marketing_costs__monthly",
    "staging/stg_google_ads__campaign_stats",
    "staging/stg_google_ads__accounts",
    "staging/stg_meta_ads__campaign_insights",
    "staging/stg_meta_ads__accounts",
    "staging/stg_marketing_costs__monthly",
    "intermediate/int_paid_ads__campaign_days",
    "intermediate/int_paid_ads__account_days",
    "intermediate/int_marketing_costs_daily",
    "intermediate/int_kpi_daily__paid_ads",
    "marts/fct_paid_ads_daily",
}


def test_the_asset_graph_runs_from_raw_ga4_to_kpi_values() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS
    upstream = graph.get(dg.AssetKey(["marts", "kpi_values"])).parent_keys
    assert dg.AssetKey(["intermediate", "int_kpi_daily"]) in upstream
    lineage = dg.AssetSelection.assets(dg.AssetKey(["marts", "kpi_values"])).upstream()
    assert dg.AssetKey(["raw", "ga4__traffic"]) in lineage.resolve(graph)


def test_every_asset_is_daily_partitioned_with_single_run_backfills_in_the_warehouse_pool() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        assert node.pools == {WAREHOUSE_POOL}, key


def test_dbt_tests_are_asset_checks() -> None:
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_combination_kpi_values_kpi_id__grain__period_start__segment" in checks
    assert {"source_configured", "not_sampled_or_thresholded", "no_fields_removed"} <= checks
    assert {"costs_cover_window", "assert_fx_rate_exists_for_money"} <= checks


def test_the_daily_schedule_is_stopped_by_default_and_covers_yesterday_plus_lookback() -> None:
    assert kpi_daily_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 10, 6))
    request = kpi_daily_schedule.evaluate_tick(context).run_requests[0]
    # The ads conversion window (28 days) is the longest lookback.
    assert request.tags["dagster/asset_partition_range_start"] == "2025-02-10"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-03-09"
