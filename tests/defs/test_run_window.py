"""The window a run's steps build and check (``pipelines.lib.partitions.run_window``): a range
run's tags, or, in the run a UI backfill launches for its unpartitioned assets (the dbt models,
the checks), the backfill's days."""

from datetime import date

import dagster as dg

from pipelines.lib.partitions import BACKFILL_TAG, run_window
from tests.dagster_ui import add_ui_backfill

DAYS = ["2026-03-01", "2026-03-02", "2026-03-03"]
windows: list[tuple[date, date] | None] = []


@dg.asset(
    partitions_def=dg.DailyPartitionsDefinition(start_date="2026-01-01"),
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def visits_raw() -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.asset(deps=[visits_raw])
def summary(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    windows.append(run_window(context.op_execution_context))
    return dg.MaterializeResult()


def window_of_a_summary_run(instance: dg.DagsterInstance, tags: dict[str, str]):
    windows.clear()
    dg.materialize([visits_raw, summary], selection=[summary], instance=instance, tags=tags)
    (window,) = windows
    return window


def test_the_unpartitioned_run_of_a_ui_backfill_builds_the_backfills_days() -> None:
    graph = dg.Definitions(assets=[visits_raw, summary]).resolve_asset_graph()
    with dg.instance_for_test() as instance:
        add_ui_backfill(instance, graph, [visits_raw.key, summary.key], DAYS, "uibackfill")

        in_backfill = window_of_a_summary_run(instance, {BACKFILL_TAG: "uibackfill"})
        assert in_backfill == (date(2026, 3, 1), date(2026, 3, 4))

        range_tags = {
            "dagster/asset_partition_range_start": "2026-02-01",
            "dagster/asset_partition_range_end": "2026-02-28",
        }
        assert window_of_a_summary_run(instance, range_tags) == (
            date(2026, 2, 1),
            date(2026, 3, 1),
        )
        assert window_of_a_summary_run(instance, {}) is None
        assert window_of_a_summary_run(instance, {BACKFILL_TAG: "no-such-backfill"}) is None
