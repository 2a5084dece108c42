"""The Dagster code location: graph shape, partitions, pool, schedule."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from pipelines.connectors.registry import SOURCES
from pipelines.definitions import defs
from pipelines.defs.schedules import kpi_daily_schedule
from pipelines.lib.partitions import WAREHOUSE_POOL

EXPECTED_ASSETS = {
    "raw/kpi_catalog",
    "raw/kpi_targets",
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
    "staging/stg_kpi__targets",
    "intermediate/int_web_traffic_with_leads",
    "intermediate/int_kpi_daily__web",
    "intermediate/int_kpi_daily",
    "intermediate/int_kpi_periods__unique",
    "marts/fct_web_traffic_daily",
    "marts/fct_web_landing_pages_daily",
    "marts/fct_web_users",
    "marts/kpi_values",
    "published/marts",
    "reports/scorecard",
    # email and SEO
    "raw/mailchimp__campaigns",
    "raw/mailchimp__days",
    "raw/search_console__queries",
    "raw/search_console__totals",
    "raw/search_console__tracked_keywords",
    "raw/pagespeed__runs",
    "raw/backlinks__daily",
    "staging/stg_mailchimp__campaigns",
    "staging/stg_mailchimp__days",
    "staging/stg_search_console__queries",
    "staging/stg_search_console__totals",
    "staging/stg_search_console__tracked_keywords",
    "staging/stg_pagespeed__runs",
    "staging/stg_backlinks__daily",
    "intermediate/int_seo__search_daily",
    "intermediate/int_kpi_daily__email",
    "intermediate/int_kpi_daily__seo",
    "marts/fct_email_campaigns",
    "marts/fct_seo_daily",
    "marts/fct_seo_page_speed_daily",
    # social and content (issue 6)
    "raw/ga4__pages",
    "raw/ga4__page_leads",
    "raw/meta_graph__page_insights",
    "raw/meta_graph__instagram_insights",
    "raw/linkedin__share_statistics",
    "raw/linkedin__follower_statistics",
    "raw/mentions__mentions",
    "raw/mentions__files",
    "raw/wordpress__posts",
    "raw/wordpress__comments",
    "raw/content_costs__costs",
    "staging/stg_ga4__pages",
    "staging/stg_ga4__page_leads",
    "staging/stg_meta_graph__page_insights",
    "staging/stg_meta_graph__instagram_insights",
    "staging/stg_linkedin__share_statistics",
    "staging/stg_linkedin__follower_statistics",
    "staging/stg_mentions__mentions",
    "staging/stg_wordpress__posts",
    "staging/stg_wordpress__comments",
    "staging/stg_content_costs__costs",
    "intermediate/int_mentions_classified",
    "intermediate/int_kpi_daily__social",
    "intermediate/int_kpi_daily__content",
    "intermediate/int_kpi_periods__social",
    "intermediate/int_kpi_periods__ratio",
    "marts/fct_social_daily",
    "marts/fct_share_of_voice_daily",
    "marts/dim_content",
    "marts/fct_content_daily",
    "marts/kpi_targets",
    "marts/kpi_status_daily",
    "marts/kpi_status",
    "marts/kpi_revisions",
    # sales, CRM and customer service
    "raw/stripe__charges",
    "raw/stripe__customer_first_charges",
    "raw/stripe__sync_days",
    "raw/hubspot__contacts",
    "raw/hubspot__deals",
    "raw/hubspot__sync_days",
    "raw/zendesk__tickets",
    "raw/zendesk__satisfaction_ratings",
    "raw/zendesk__sync_days",
    "raw/zendesk__export_state",  # the export cursor, landed with the tickets (a declared table)
    "landing/stripe",
    "landing/hubspot",
    "landing/zendesk",
    "staging/stg_stripe__charges",
    "staging/stg_stripe__customer_first_charges",
    "staging/stg_stripe__sync_days",
    "staging/stg_hubspot__contacts",
    "staging/stg_hubspot__deals",
    "staging/stg_hubspot__sync_days",
    "staging/stg_zendesk__tickets",
    "staging/stg_zendesk__satisfaction_ratings",
    "staging/stg_zendesk__sync_days",
    "intermediate/int_stripe_customer_first_charges",
    "intermediate/int_marketing_costs_daily",
    "intermediate/int_other_marketing_costs_daily",
    "intermediate/int_kpi_daily__sales",
    "intermediate/int_kpi_daily__crm",
    "intermediate/int_kpi_daily__customer_service",
    "intermediate/int_kpi_periods__customer_service",
    "marts/fct_sales_daily",
    "marts/fct_crm_daily",
    "marts/fct_crm_deals_won",
    "marts/fct_support_tickets",
    "marts/fct_support_daily",
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
    "intermediate/int_kpi_daily__paid_ads",
    "marts/fct_paid_ads_daily",
    "semantic/metricflow_time_spine",
    # each declared source's landing (pipelines/connectors/assets.py)
    *(f"landing/{source.name}" for source in SOURCES),
}


def test_the_asset_graph_runs_from_raw_ga4_to_kpi_values() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS
    upstream = graph.get(dg.AssetKey(["marts", "kpi_values"])).parent_keys
    assert dg.AssetKey(["intermediate", "int_kpi_daily"]) in upstream
    lineage = dg.AssetSelection.assets(dg.AssetKey(["marts", "kpi_values"])).upstream()
    assert dg.AssetKey(["raw", "ga4__traffic"]) in lineage.resolve(graph)


# Recorded once per run, whatever its window: every dbt model (an incremental one carries the
# window it rebuilt in its metadata), the published copies, the reports.
UNPARTITIONED = {"staging", "intermediate", "semantic", "published", "reports"}
# Recorded per day: which days of which source are loaded, and each day's KPI revision.
DAILY_MARTS = {"marts/kpi_revisions"}


def test_raw_data_and_revisions_are_daily_partitioned_the_dbt_models_not() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        windowed = key.path[0] in ("raw", "landing") or name in DAILY_MARTS
        if windowed:
            assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), name
        else:
            assert node.partitions_def is None, name
            assert key.path[0] in UNPARTITIONED or key.path[0] == "marts", name
        # a partition-range run of the CLI needs every selected asset single-run
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name
        if key.path[0] != "landing":  # extraction calls APIs outside the pool, by design
            assert node.pools == {WAREHOUSE_POOL}, name


def test_the_daily_job_and_the_cli_take_every_asset_in_one_partition_range_run() -> None:
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("kpi_daily")
    assert job.partitions_def is not None
    assert set(job.asset_layer.executable_asset_keys) == set(graph.get_all_asset_keys())
    assert defs.get_repository_def().get_implicit_job_def_for_assets(
        list(graph.get_all_asset_keys())
    )
    # one `dbt build` per run
    dbt_nodes = [
        node.name for node in job.graph.nodes if "dbt" in node.definition.required_resource_keys
    ]
    assert dbt_nodes == ["kpi_dbt_models"]


def test_dbt_tests_are_asset_checks() -> None:
    checks = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_combination_kpi_values_kpi_id__grain__period_start__segment" in checks
    assert {"source_configured", "not_sampled_or_thresholded", "no_fields_removed"} <= checks
    assert "ga4_revenue_reconciles_with_stripe" in checks
    assert {"assert_fx_rate_exists_for_sales", "assert_fx_rate_exists_for_won_deals"} <= checks
    assert {"costs_cover_window", "assert_fx_rate_exists_for_money"} <= checks


def test_the_daily_schedule_is_stopped_by_default_and_covers_yesterday_plus_lookback(
    monkeypatch,
) -> None:
    assert kpi_daily_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    monkeypatch.delenv("STRIPE_LOOKBACK_DAYS", raising=False)
    monkeypatch.delenv("MAILCHIMP_LOOKBACK_DAYS", raising=False)
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 10, 6))
    request = kpi_daily_schedule.evaluate_tick(context).run_requests[0]
    # Mailchimp's and Stripe's 30-day lookbacks are the longest (reports grow, refunds arrive).
    assert request.tags["dagster/asset_partition_range_start"] == "2025-02-08"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-03-09"


def test_every_catalog_kpi_has_a_target_and_a_drift_check_on_kpi_values() -> None:
    from pipelines.kpi.catalog import load_catalog

    keys = defs.resolve_asset_graph().asset_check_keys
    on_kpi_values = {k.name for k in keys if k.asset_key == dg.AssetKey(["marts", "kpi_values"])}
    for kpi in load_catalog().kpis:
        slug = kpi.id.replace(".", "__")
        assert {f"{slug}__target", f"{slug}__drift"} <= on_kpi_values, kpi.id
    fresh = {k.asset_key.to_user_string() for k in keys if k.name == "source_fresh"}
    assert "raw/ga4__traffic" in fresh


def test_freshness_job_and_alert_sensor_are_registered() -> None:
    from pipelines.defs.freshness import kpi_freshness_schedule

    assert defs.resolve_job_def("kpi_freshness") is not None
    assert kpi_freshness_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert defs.resolve_sensor_def("kpi_alert_sensor") is not None


def test_the_settable_lookbacks_are_read_when_the_schedule_ticks(monkeypatch) -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 10, 6))
    monkeypatch.setenv("MAILCHIMP_LOOKBACK_DAYS", "3")
    monkeypatch.setenv("STRIPE_LOOKBACK_DAYS", "3")
    request = kpi_daily_schedule.evaluate_tick(context).run_requests[0]
    # then the ads conversion window (28 days) is the longest
    assert request.tags["dagster/asset_partition_range_start"] == "2025-02-10"
