"""Dagster definitions (pipelines/defs): the graph, dbt, the run contract, recovery."""
