"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog_asset import kpi_catalog
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.fx import fx_rates
from pipelines.ga4 import ga4_raw
from pipelines.publish import build_publish_asset, build_scorecard_asset
from pipelines.resources import FxResource, GA4Resource, WarehouseResource
from pipelines.schedules import daily_job, kpi_daily_schedule

MART_KEYS = [key for key in kpi_dbt_models.keys if key.path[0] == "marts"]

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        ga4_raw,
        fx_rates,
        kpi_dbt_models,
        build_publish_asset(MART_KEYS),
        build_scorecard_asset(MART_KEYS),
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
        "dbt": dbt_resource(),
    },
)
