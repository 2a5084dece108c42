"""KPI targets as a table: ``raw.kpi_targets``, validated from config/targets.yml on every run."""

import dagster as dg

from pipelines.kpi.catalog import load_catalog
from pipelines.kpi.targets import load_targets, targets_path, targets_to_arrow
from pipelines.lib.partitions import WAREHOUSE_POOL, daily_partitions, single_run_backfill
from pipelines.warehouse.raw_loader import replace_table
from pipelines.warehouse.resource import WarehouseResource


@dg.asset(
    key=["raw", "kpi_targets"],
    group_name="kpi_catalog",
    kinds={"python", "duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
    description="KPI targets (config/targets.yml or KPI_TARGETS_PATH), validated and loaded for "
    "dbt (marts.kpi_targets, marts.kpi_status). An invalid file fails the run naming the line.",
)
def kpi_targets(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Not data of a day: the whole file is rewritten whatever the partition window."""
    load_catalog.cache_clear()
    path = targets_path()
    targets = load_targets(load_catalog(), path)
    table = targets_to_arrow(targets)
    with warehouse.connect() as con:
        replace_table(con, "raw.kpi_targets", table)
    context.log.info(f"{len(targets)} targets loaded from {path}")
    return dg.MaterializeResult(
        metadata={
            "targets": len(targets),
            "kpis_with_targets": len({t.kpi_id for t in targets}),
            "file": str(path.name),
        }
    )
