"""The trivial pipeline floor of benchmarks/run.py: one Python asset, one incremental dbt model
and one dbt test, daily partitions, run through the same run-contract command as the project.

Whatever the project's run takes beyond this floor is its own work or bookkeeping.
``FLOOR_DUCKDB_PATH`` names the DuckDB file; the dbt manifest is prepared by the benchmark.
"""

import json
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from benchmarks.floor import DBT_DIR
from pipelines.lib.venv_tools import venv_tool

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
single_run = dg.BackfillPolicy.single_run()
project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


@dg.asset(key=["raw", "events"], partitions_def=daily, backfill_policy=single_run)
def raw_events(context: dg.AssetExecutionContext) -> None:
    """One row per day of the window, replaced on a re-run."""
    window = context.partition_time_window
    start, end = window.start.date(), window.end.date()
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    with duckdb.connect(os.environ["FLOOR_DUCKDB_PATH"]) as con:
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw.events (day date, visits integer)")
        con.execute("delete from raw.events where day >= ? and day < ?", [start, end])
        con.executemany("insert into raw.events values (?, ?)", [[d, d.day] for d in days])


class FloorTranslator(DagsterDbtTranslator):
    def get_partitions_def(self, dbt_resource_props: Mapping[str, Any]) -> dg.PartitionsDefinition:
        return daily


@dbt_assets(
    manifest=project.manifest_path,
    project=project,
    dagster_dbt_translator=FloorTranslator(),
    backfill_policy=single_run,
)
def floor_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    window = context.partition_time_window
    dates = {"min_date": window.start.date().isoformat(), "max_date": window.end.date().isoformat()}
    yield from dbt.cli(["build", "--vars", json.dumps(dates)], context=context).stream()


defs = dg.Definitions(
    assets=[raw_events, floor_dbt],
    resources={
        # dagster-dbt's default resource with the venv's plain `dbt`: the floor has none of the
        # project's own dbt start-up work (pipelines.defs.dbt, pipelines.lib.dbt_command)
        "dbt": DbtCliResource(
            project_dir=project, profiles_dir=str(DBT_DIR), dbt_executable=venv_tool("dbt")
        )
    },
)
