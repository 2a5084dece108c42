"""The daily job and its schedule: yesterday plus each source's lookback, as one run."""

from datetime import timedelta

import dagster as dg

from pipelines import fx, ga4, google_ads, meta_ads
from pipelines.partitions import daily_partitions

# The longest lookback of any source: the whole range is re-pulled and rebuilt each morning.
LOOKBACK_DAYS = max(
    [ga4.LOOKBACK_DAYS, fx.LOOKBACK_DAYS, google_ads.LOOKBACK_DAYS, meta_ads.LOOKBACK_DAYS]
)

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
    description=f"Each morning: yesterday and the {LOOKBACK_DAYS - 1} days before it, in one run.",
)
def kpi_daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    yesterday = (context.scheduled_execution_time - timedelta(days=1)).date()
    first = yesterday - timedelta(days=LOOKBACK_DAYS - 1)
    first = max(first, daily_partitions.start.date())
    return dg.RunRequest(
        run_key=f"daily-{yesterday.isoformat()}",
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": yesterday.isoformat(),
        },
    )
