"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.ads_resources import GoogleAdsResource, MarketingCostsResource, MetaAdsResource
from pipelines.alert_sensor import AlertsResource, kpi_alert_sensor
from pipelines.backlinks import backlinks_raw
from pipelines.catalog_asset import kpi_catalog
from pipelines.content import content_costs_raw, wordpress_raw
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.freshness import freshness_job, kpi_freshness_schedule, source_freshness_checks
from pipelines.fx import fx_rates
from pipelines.ga4 import ga4_raw
from pipelines.google_ads import google_ads_raw
from pipelines.hubspot import hubspot_raw
from pipelines.kpi_checks import MonitoringResource, kpi_checks
from pipelines.mailchimp import mailchimp_raw
from pipelines.marketing_costs import marketing_costs
from pipelines.mentions import mentions_raw
from pipelines.meta_ads import meta_ads_raw
from pipelines.pagespeed import pagespeed_raw
from pipelines.partitions import plan_runs_as_ranges
from pipelines.publish import build_publish_asset, build_scorecard_asset
from pipelines.reconciliation import ga4_revenue_reconciles_with_stripe
from pipelines.resources import (
    BacklinksResource,
    FxResource,
    GA4Resource,
    MailchimpResource,
    PageSpeedResource,
    SearchConsoleResource,
    WarehouseResource,
)
from pipelines.resources_business import HubSpotResource, StripeResource, ZendeskResource
from pipelines.revisions import kpi_revisions
from pipelines.run_alerts import kpi_run_health_sensor
from pipelines.run_recovery import dead_run_recovery, recovering_in_process_executor
from pipelines.schedules import daily_job, kpi_daily_schedule
from pipelines.search_console import search_console_raw
from pipelines.secret_files import warn_about_exposed_secret_files
from pipelines.social import linkedin_raw, meta_graph_raw
from pipelines.social_resources import (
    LinkedInResource,
    MentionsResource,
    MetaGraphResource,
    WordPressResource,
)
from pipelines.stripe import stripe_raw
from pipelines.targets_asset import kpi_targets
from pipelines.zendesk import zendesk_raw

MART_KEYS = [key for key in kpi_dbt_models.keys if key.path[0] == "marts"]

warn_about_exposed_secret_files()  # a `.env` or key file other users can read: say so at start-up
plan_runs_as_ranges()  # runs created here (the CLI's run contract) plan each asset once, not per day

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        kpi_targets,
        ga4_raw,
        fx_rates,
        mailchimp_raw,
        search_console_raw,
        pagespeed_raw,
        backlinks_raw,
        meta_graph_raw,
        linkedin_raw,
        mentions_raw,
        wordpress_raw,
        content_costs_raw,
        stripe_raw,
        hubspot_raw,
        zendesk_raw,
        google_ads_raw,
        meta_ads_raw,
        marketing_costs,
        kpi_dbt_models,
        kpi_revisions,
        build_publish_asset(MART_KEYS),
        build_scorecard_asset(MART_KEYS),
    ],
    asset_checks=[kpi_checks, source_freshness_checks, ga4_revenue_reconciles_with_stripe],
    jobs=[daily_job, freshness_job],
    schedules=[kpi_daily_schedule, kpi_freshness_schedule],
    sensors=[kpi_alert_sensor, kpi_run_health_sensor, dead_run_recovery],
    # Every step that matters queues on the single-slot warehouse pool anyway: one process per
    # run is faster than a process per step and keeps one DuckDB writer per run. Before its steps
    # (and while they wait on the pool) a run fails runs whose process died, freeing their slots.
    executor=recovering_in_process_executor,
    resources={
        "warehouse": WarehouseResource(),
        "ga4": GA4Resource(),
        "fx": FxResource(),
        "mailchimp": MailchimpResource(),
        "search_console": SearchConsoleResource(),
        "pagespeed": PageSpeedResource(),
        "backlinks": BacklinksResource(),
        "meta_graph": MetaGraphResource(),
        "linkedin": LinkedInResource(),
        "mentions": MentionsResource(),
        "wordpress": WordPressResource(),
        "stripe": StripeResource(),
        "hubspot": HubSpotResource(),
        "zendesk": ZendeskResource(),
        "google_ads": GoogleAdsResource(),
        "meta_ads": MetaAdsResource(),
        "marketing_costs_file": MarketingCostsResource(),
        "dbt": dbt_resource(),
        "monitoring": MonitoringResource(),
        "alerts": AlertsResource(),
    },
)
