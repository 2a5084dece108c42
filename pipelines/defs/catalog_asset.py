"""The KPI catalog as a table: ``raw.kpi_catalog``, rewritten from config/kpis.yml on every run."""

import dagster as dg

from pipelines.kpi.catalog import CATALOG_PATH, load_catalog
from pipelines.lib.partitions import WAREHOUSE_POOL, daily_partitions, single_run_backfill
from pipelines.warehouse.raw_loader import replace_table
from pipelines.warehouse.resource import WarehouseResource


@dg.asset(
    key=["raw", "kpi_catalog"],
    group_name="kpi_catalog",
    kinds={"python", "duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
    description="The KPI catalog (config/kpis.yml), validated and loaded for dbt to join.",
)
def kpi_catalog(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Not data of a day: the whole catalog is rewritten whatever the partition window."""
    load_catalog.cache_clear()
    catalog = load_catalog(CATALOG_PATH)
    table = catalog.to_arrow()
    with warehouse.connect() as con:
        replace_table(con, "raw.kpi_catalog", table)
    return dg.MaterializeResult(metadata={"kpis": len(catalog.kpis)})
