"""The Dagster code location: ``dagster asset materialize -m pipelines.definitions ...``."""

from __future__ import annotations

import dagster as dg

from pipelines.backlinks import backlinks_raw
from pipelines.catalog_asset import kpi_catalog
from pipelines.dbt import dbt_resource, kpi_dbt_models
from pipelines.ga4 import ga4_raw
from pipelines.mailchimp import mailchimp_raw
from pipelines.pagespeed import pagespeed_raw
from pipelines.resources import (
    BacklinksResource,
    GA4Resource,
    MailchimpResource,
    PageSpeedResource,
    SearchConsoleResource,
    WarehouseResource,
)
from pipelines.schedules import daily_job, kpi_daily_schedule
from pipelines.search_console import search_console_raw

defs = dg.Definitions(
    assets=[
        kpi_catalog,
        ga4_raw,
        mailchimp_raw,
        search_console_raw,
        pagespeed_raw,
        backlinks_raw,
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
        "mailchimp": MailchimpResource(),
        "search_console": SearchConsoleResource(),
        "pagespeed": PageSpeedResource(),
        "backlinks": BacklinksResource(),
        "dbt": dbt_resource(),
    },
)
