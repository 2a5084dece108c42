"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.registry import SOURCES
from pipelines.defs.alert_sensor import AlertsResource, kpi_alert_sensor
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import dbt_resource, kpi_dbt_models
from pipelines.defs.freshness import freshness_job, kpi_freshness_schedule, source_freshness_checks
from pipelines.defs.kpi_checks import MonitoringResource, kpi_checks
from pipelines.defs.reconciliation import ga4_revenue_reconciles_with_stripe
from pipelines.defs.revisions import kpi_revisions
from pipelines.defs.run_alerts import kpi_run_health_sensor
from pipelines.defs.run_recovery import dead_run_recovery, recovering_in_process_executor
from pipelines.defs.schedules import daily_job, kpi_daily_schedule
from pipelines.defs.targets_asset import kpi_targets
from pipelines.lib.partitions import set_run_bookkeeping_env
from pipelines.lib.secret_files import warn_about_exposed_secret_files
from pipelines.publish import build_publish_asset, build_scorecard_asset
from pipelines.warehouse.resource import WarehouseResource

MART_KEYS = [key for key in kpi_dbt_models.keys if key.path[0] == "marts"]

warn_about_exposed_secret_files()  # a `.env` or key file other users can read: say so at start-up
set_run_bookkeeping_env()  # runs created here (the CLI's run contract) plan each asset once

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        kpi_targets,
        *connector_assets(SOURCES),
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
        **connector_resources(SOURCES),
        "dbt": dbt_resource(),
        "monitoring": MonitoringResource(),
        "alerts": AlertsResource(),
    },
)
