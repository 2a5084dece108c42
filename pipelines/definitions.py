"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.ads_resources import GoogleAdsResource, MarketingCostsResource, MetaAdsResource
from pipelines.catalog_asset import kpi_catalog
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.fx import fx_rates
from pipelines.ga4 import ga4_raw
from pipelines.google_ads import google_ads_raw
from pipelines.marketing_costs import marketing_costs
from pipelines.meta_ads import meta_ads_raw
from pipelines.resources import FxResource, GA4Resource, WarehouseResource
from pipelines.schedules import daily_job, kpi_daily_schedule

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        ga4_raw,
        google_ads_raw,
        meta_ads_raw,
        marketing_costs,
        fx_rates,
        kpi_dbt_models,
    ],
    jobs=[daily_job],
    schedules=[kpi_daily_schedule],
    # Every step that matters queues on the single-slot warehouse pool anyway: one process per
    # run is faster than a process per step and keeps one DuckDB writer per run.
    executor=dg.in_process_executor,
    resources={
        "warehouse": WarehouseResource(),
        "ga4": GA4Resource(),
        "fx": FxResource(),
        "google_ads": GoogleAdsResource(),
        "meta_ads": MetaAdsResource(),
        "marketing_costs_file": MarketingCostsResource(),
        "dbt": dbt_resource(),
    },
)
