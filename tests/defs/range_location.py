"""A code location of two assets for the Dagster instance's tests (tests/defs/test_dagster_instance.py):
a daily-partitioned one and an unpartitioned one with a check, which sorts before it (Dagster
takes a run's partitions from the last asset of its plan: here the partitioned one)."""

import dagster as dg


@dg.asset(
    partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"),
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def visits_raw(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days": len(context.partition_keys)})


@dg.asset(
    deps=[visits_raw],
    check_specs=[dg.AssetCheckSpec("positive", asset="summary")],
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def summary() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])
