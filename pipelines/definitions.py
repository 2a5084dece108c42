"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.catalog_asset import kpi_catalog
from pipelines.content import content_costs_raw, wordpress_raw
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.ga4 import ga4_raw
from pipelines.mentions import mentions_raw
from pipelines.resources import GA4Resource, WarehouseResource
from pipelines.schedules import daily_job, kpi_daily_schedule
from pipelines.social import linkedin_raw, meta_graph_raw
from pipelines.social_resources import (
    LinkedInResource,
    MentionsResource,
    MetaGraphResource,
    WordPressResource,
)

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        ga4_raw,
        meta_graph_raw,
        linkedin_raw,
        mentions_raw,
        wordpress_raw,
        content_costs_raw,
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
        "meta_graph": MetaGraphResource(),
        "linkedin": LinkedInResource(),
        "mentions": MentionsResource(),
        "wordpress": WordPressResource(),
        "dbt": dbt_resource(),
    },
)
