"""Dagster code for kpi-pipeline: assets, checks, resources, schedules and the demo runner."""
