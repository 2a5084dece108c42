"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog_asset import kpi_catalog
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.fx import fx_rates
from pipelines.ga4 import ga4_raw
from pipelines.hubspot import hubspot_raw
from pipelines.reconciliation import ga4_revenue_reconciles_with_stripe
from pipelines.resources import FxResource, GA4Resource, WarehouseResource
from pipelines.resources_business import HubSpotResource, StripeResource, ZendeskResource
from pipelines.schedules import daily_job, kpi_daily_schedule
from pipelines.stripe import stripe_raw
from pipelines.zendesk import zendesk_raw

defs = dg.Definitions(
    assets=[kpi_catalog, ga4_raw, stripe_raw, hubspot_raw, zendesk_raw, fx_rates, kpi_dbt_models],
    asset_checks=[ga4_revenue_reconciles_with_stripe],
    jobs=[daily_job],
    schedules=[kpi_daily_schedule],
    # Every step that matters queues on the single-slot warehouse pool anyway: one process per
    # run is faster than a process per step and keeps one DuckDB writer per run.
    executor=dg.in_process_executor,
    resources={
        "warehouse": WarehouseResource(),
        "ga4": GA4Resource(),
        "fx": FxResource(),
        "stripe": StripeResource(),
        "hubspot": HubSpotResource(),
        "zendesk": ZendeskResource(),
        "dbt": dbt_resource(),
    },
)
