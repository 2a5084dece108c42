"""The daily job and its schedule: yesterday plus each source's lookback, as one run."""

from datetime import timedelta

import dagster as dg

from pipelines.connectors.assets import LOOKBACK_TAG, PER_SOURCE
from pipelines.connectors.registry import SOURCES
from pipelines.lib.partitions import daily_partitions


def lookback_days() -> int:
    """The longest of the sources' declared lookbacks, read at tick time (some are settable,
    e.g. MAILCHIMP_LOOKBACK_DAYS, STRIPE_LOOKBACK_DAYS): the range dbt rebuilds each morning;
    each source re-pulls only its own part of it."""
    return max(s.lookback(s.config()) for s in SOURCES)


daily_job = dg.define_asset_job(
    "kpi_daily",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Every source, dbt model and check for a partition range (daily run and backfills).",
)


@dg.schedule(
    job=daily_job,
    cron_schedule="0 6 * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Each morning: yesterday and the longest source lookback before it, in one run.",
)
def kpi_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date()
    first = yesterday - timedelta(days=lookback_days() - 1)
    first = max(first, daily_partitions.start.date())
    return dg.RunRequest(
        run_key=f"daily-{yesterday.isoformat()}",
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": yesterday.isoformat(),
            # each source extracts only its own lookback of the range (dbt rebuilds all of it)
            LOOKBACK_TAG: PER_SOURCE,
        },
    )
