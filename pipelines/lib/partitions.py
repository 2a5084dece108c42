"""The daily partitioning, the single-run backfill policy and a run's window."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from datetime import date, datetime, timedelta

import dagster as dg

from pipelines.lib.settings import start_date

daily_partitions = dg.DailyPartitionsDefinition(start_date=start_date().isoformat())

# A backfill of any range is one run: each asset gets the whole window at once.
single_run_backfill = dg.BackfillPolicy.single_run()

# Dagster's switches for a run's bookkeeping, read when events are written (docs/performance.md):
# - one ASSET_MATERIALIZATION_PLANNED event per asset carrying the run's partition range, instead
#   of one per asset per day. The price, stated by Dagster: when such a run fails, its days are
#   not marked failed in the UI (the run is, and the run-health alerts fire). The project's SQLite
#   event log (pipelines/lib/dagster_instance.py) plans this way whatever the environment; the
#   variable is for PostgreSQL;
# - events Dagster sends as one batch (a run's plan, a step's materializations of every day of a
#   range) are written as one, instead of one write per event.
# Decision 65 in docs/decisions.md.
PLANNED_RANGES_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"
RUN_BOOKKEEPING_ENV = {PLANNED_RANGES_ENV: "true", EVENT_BATCH_ENV: "1000"}


def set_run_bookkeeping_env(environ: MutableMapping[str, str] = os.environ) -> None:
    """Turn the switches on in ``environ`` (this process's by default), unless set explicitly."""
    for name, value in RUN_BOOKKEEPING_ENV.items():
        environ.setdefault(name, value)


# Everything that touches the DuckDB file shares this pool; dagster.yaml limits it to 1, so
# parallel runs queue for the single-writer file instead of failing on its lock.
WAREHOUSE_POOL = "duckdb_warehouse"


def window_dates(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The run's partition window as dates: ``start`` inclusive, ``end`` exclusive."""
    window = context.partition_time_window
    return _as_date(window.start), _as_date(window.end)


BACKFILL_TAG = "dagster/backfill"  # the id of the backfill that launched a run


def run_window(context: dg.OpExecutionContext) -> tuple[date, date] | None:
    """The run's partition window as dates: ``start`` inclusive, ``end`` exclusive; None for an
    unpartitioned run. Steps that mix partitioned and unpartitioned assets (the dbt build, the
    checks) read it here, not from the context.

    A range run (the run contract, the schedule) or a one-partition run has the window in its
    tags. A backfill launched from the UI (Materialize, a partition range) runs its partitioned
    assets with those tags and the unpartitioned ones (every dbt model, the checks) in runs of
    their own without them: those get the backfill's days, the window the user asked for
    (decision 72)."""
    window = tags_window(context.run.tags)
    backfill_id = context.run.tags.get(BACKFILL_TAG)
    if window is not None or backfill_id is None:
        return window
    backfill = context.instance.get_backfill(backfill_id)
    if backfill is None or not backfill.is_asset_backfill:
        return None
    graph = context.job_def.asset_layer.asset_graph
    target = backfill.get_asset_backfill_data(graph).target_subset
    days = {
        date.fromisoformat(key)
        for subset in target.partitions_subsets_by_asset_key.values()
        for key in subset.get_partition_keys()
    }
    return (min(days), max(days) + timedelta(days=1)) if days else None


def tags_window(tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The window of a run's partition tags (a range or one partition), as ``run_window``."""
    first = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    last = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not (first and last):
        return None
    return date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)


def _as_date(moment: datetime) -> date:
    return moment.date()


# The window the dbt models read (dbt_project/macros/partition_window.sql): environment variables,
# not --vars, so that a new window re-parses only the files that read them.
DBT_WINDOW_ENV = ("KPI_WINDOW_MIN_DATE", "KPI_WINDOW_MAX_DATE")


def dbt_window_env(start: date, end: date) -> dict[str, str]:
    """The window's first and last day (inclusive ISO dates) as the dbt models read them."""
    first, last = DBT_WINDOW_ENV
    return {first: start.isoformat(), last: (end - timedelta(days=1)).isoformat()}
