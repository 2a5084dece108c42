"""One daily partitioning for every asset, and the single-run backfill policy."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from pipelines.lib.settings import start_date

daily_partitions = dg.DailyPartitionsDefinition(start_date=start_date().isoformat())

# A backfill of any range is one run: each asset gets the whole window at once.
single_run_backfill = dg.BackfillPolicy.single_run()

# Everything that touches the DuckDB file shares this pool; dagster.yaml limits it to 1, so
# parallel runs queue for the single-writer file instead of failing on its lock.
WAREHOUSE_POOL = "duckdb_warehouse"


def window_dates(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The run's partition window as dates: ``start`` inclusive, ``end`` exclusive."""
    window = context.partition_time_window
    return _as_date(window.start), _as_date(window.end)


def _as_date(moment: datetime) -> date:
    return moment.date()


def dbt_window_vars(start: date, end: date) -> dict[str, str]:
    """The ``--vars`` the dbt models read: inclusive ISO dates."""
    return {"min_date": start.isoformat(), "max_date": (end - timedelta(days=1)).isoformat()}
