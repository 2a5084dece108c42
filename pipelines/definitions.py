"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.alert_sensor import AlertsResource, kpi_alert_sensor
from pipelines.catalog_asset import kpi_catalog
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.freshness import freshness_job, kpi_freshness_schedule, source_freshness_checks
from pipelines.ga4 import ga4_raw
from pipelines.kpi_checks import MonitoringResource, kpi_checks
from pipelines.resources import GA4Resource, WarehouseResource
from pipelines.revisions import kpi_revisions
from pipelines.schedules import daily_job, kpi_daily_schedule
from pipelines.targets_asset import kpi_targets

defs = dg.Definitions(
    assets=[kpi_catalog, kpi_targets, ga4_raw, kpi_dbt_models, kpi_revisions],
    asset_checks=[kpi_checks, source_freshness_checks],
    jobs=[daily_job, freshness_job],
    schedules=[kpi_daily_schedule, kpi_freshness_schedule],
    sensors=[kpi_alert_sensor],
    # Every step that matters queues on the single-slot warehouse pool anyway: one process per
    # run is faster than a process per step and keeps one DuckDB writer per run.
    executor=dg.in_process_executor,
    resources={
        "warehouse": WarehouseResource(),
        "ga4": GA4Resource(),
        "dbt": dbt_resource(),
        "monitoring": MonitoringResource(),
        "alerts": AlertsResource(),
    },
)
