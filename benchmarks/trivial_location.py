"""A trivial Dagster code location (one daily-partitioned asset that does nothing): the start-up
yardstick of benchmarks/run.py, started through the same run-contract command as the project."""

import dagster as dg


@dg.asset(
    partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01"),
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def one_asset() -> None:
    """Nothing to do: what is timed is Dagster's own start-up and planning."""


defs = dg.Definitions(assets=[one_asset])
