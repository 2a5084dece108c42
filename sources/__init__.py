"""API clients for every provider kpi-pipeline reads, plus local emulators of those APIs.

Nothing in this package imports Dagster: clients take plain settings and return rows, so they can be
used and tested on their own.
"""
