"""Dagster code for kpi-pipeline: assets, checks, resources, schedules and the demo runner."""

from pipelines.lib.serializers import compile_serializers_on_first_use

compile_serializers_on_first_use()  # before anything imports dbt-core (decision 71)
