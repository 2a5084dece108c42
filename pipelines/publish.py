"""Publish the marts for BI tools and analysts, so nobody has to open the pipeline's file.

After the dbt models of a run succeed, every table in the ``marts`` schema is copied to
``data/marts.duckdb`` (a separate file, replaced atomically; tables in its default schema, so
``select * from kpi_values`` and ``marts.kpi_values`` both work there) and to
``data/marts/<table>.parquet``.
Readers of those never block the pipeline, and the pipeline never blocks them.
"""

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib.partitions import WAREHOUSE_POOL, single_run_backfill
from pipelines.lib.settings import PROJECT_ROOT, env
from pipelines.scorecard import write_scorecard, write_scorecard_from
from pipelines.warehouse.resource import WarehouseResource

KEY = dg.AssetKey(["published", "marts"])


def publish_dir() -> Path:
    """``KPI_PUBLISH_DIR`` (default ``data/``, relative to the project root)."""
    path = Path(env("KPI_PUBLISH_DIR", "data"))
    return path if path.is_absolute() else PROJECT_ROOT / path


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish(con: duckdb.DuckDBPyConnection, target_dir: Path) -> dict[str, int]:
    """Copy every ``marts`` table to ``marts.duckdb`` and Parquet files, each swapped in atomically.

    Returns the row count per table.
    """
    tables = [
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    ]
    parquet_dir = target_dir / "marts"
    parquet_dir.mkdir(parents=True, exist_ok=True)
    database = target_dir / "marts.duckdb"
    # What a publisher killed mid-copy left (the pool lets one publisher run at a time).
    for leftover in [*target_dir.glob(".marts.duckdb.*.tmp*"), *parquet_dir.glob(".*.parquet.tmp")]:
        leftover.unlink(missing_ok=True)
    staging = target_dir / f".marts.duckdb.{os.getpid()}.tmp"
    counts: dict[str, int] = {}
    con.execute(f"attach '{staging}' as published").fetchall()
    try:
        for table in tables:
            source = f"marts.{_quote(table)}"
            con.execute(f"create table published.main.{_quote(table)} as select * from {source}")
            counts[table] = con.execute(f"select count(*) from {source}").fetchone()[0]
            tmp_parquet = parquet_dir / f".{table}.parquet.tmp"
            con.execute(f"copy {source} to '{tmp_parquet}' (format parquet)").fetchall()
            os.replace(tmp_parquet, parquet_dir / f"{table}.parquet")
    finally:
        con.execute("detach published").fetchall()
    os.replace(staging, database)
    for stale in parquet_dir.glob("*.parquet"):
        if stale.stem not in counts:
            stale.unlink()
    return counts


def build_publish_asset(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publishing asset, downstream of every dbt mart so it runs after they succeed."""

    @dg.asset(
        key=KEY,
        group_name="published",
        kinds={"duckdb", "parquet"},
        deps=list(mart_keys),
        # The whole file set is rewritten by any run: not data of a day, so unpartitioned (one
        # event per run). The backfill policy lets a partition-range run (the CLI's) select it.
        backfill_policy=single_run_backfill,
        pool=WAREHOUSE_POOL,
        description="Read-only copy of the marts (data/marts.duckdb) and Parquet files "
        "(data/marts/<table>.parquet) for BI tools; replaced atomically after each run.",
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        target = publish_dir()
        if warehouse.target() == "postgres":
            # PostgreSQL serves concurrent readers itself: BI tools connect to it (read-only role
            # on the marts schema), no file copy is needed (decision in docs/decisions.md).
            context.log.info(
                "published/marts: skipped on the PostgreSQL warehouse; BI tools read the marts "
                "schema there directly"
            )
            return dg.MaterializeResult(metadata={"skipped": "warehouse is PostgreSQL"})
        with warehouse.connect() as con:
            counts = publish(con, target)
        context.log.info(f"published {len(counts)} marts to {target}")
        return dg.MaterializeResult(
            metadata={
                "database": str(target / "marts.duckdb"),
                "parquet_dir": str(target / "marts"),
                **{f"rows[{t}]": n for t, n in counts.items()},
            }
        )

    return published_marts


SCORECARD_KEY = dg.AssetKey(["reports", "scorecard"])


def build_scorecard_asset(mart_keys: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The HTML dashboard, rendered after the marts of the run (data/reports/scorecard.html)."""

    @dg.asset(
        key=SCORECARD_KEY,
        group_name="published",
        kinds={"html"},
        deps=list(mart_keys),
        # unpartitioned and single-run, as published/marts above
        backfill_policy=single_run_backfill,
        pool=WAREHOUSE_POOL,
        description="Self-contained interactive KPI dashboard (data/reports/scorecard.html, plus "
        "a copy per run date; docs/dashboard.md).",
    )
    def scorecard(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        if warehouse.target() == "postgres":
            with warehouse.connect(read_only=True) as con:
                path = write_scorecard_from(con, reports_dir(), datetime.now(UTC))
        else:
            path = write_scorecard(warehouse.database(), reports_dir(), datetime.now(UTC))
        context.log.info(f"scorecard written to {path}")
        return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})

    return scorecard


def reports_dir() -> Path:
    """``KPI_REPORTS_DIR`` (default ``data/reports``, relative to the project root)."""
    path = Path(env("KPI_REPORTS_DIR", "data/reports"))
    return path if path.is_absolute() else PROJECT_ROOT / path
