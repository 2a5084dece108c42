"""Dagster definitions besides the connectors: dbt assets, checks, schedules, sensors, run recovery."""
