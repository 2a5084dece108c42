"""What the end-to-end modules share: days and KPI periods, one run for a window, reading the test
warehouse, dbt commands against it, and the ECB rates the emulator publishes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.defs.dbt import DBT_PROJECT_DIR, dbt_executable
from sources.emulators.ecb import is_publication_day
from sources.emulators.ecb import rate as ecb_rate

GRAINS = ("day", "week", "month")


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def period_start(grain: str, day: date) -> date:
    """First day of the day, ISO week or month that holds ``day``."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_bounds(grain: str, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the period of ``grain`` that holds ``day``."""
    start = period_start(grain, day)
    if grain == "day":
        return start, start
    if grain == "week":
        return start, start + timedelta(days=6)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, following - timedelta(days=1)


def materialize_window(
    assets: Sequence[Any], resources: dict[str, Any], start: date, end: date, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """One in-process run over ``start``..``end`` (inclusive), as a single-run backfill gets it."""
    return dg.materialize(
        assets,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
        raise_on_error=True,
        **kwargs,
    )


def query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` from the warehouse file, opened read-only."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def run_dbt(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``dbt <args>`` on the project against ``database``; output captured, never raises."""
    return subprocess.run(
        [dbt_executable(), *args, "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "KPI_DUCKDB_PATH": str(database)},
        capture_output=True,
        text=True,
        check=False,
    )


def usd_per_unit(currency: str, day: date) -> float:
    """USD per unit of ``currency`` at the last ECB rate published on or before ``day``."""
    if currency == "USD":
        return 1.0
    published = day
    while not is_publication_day(published):
        published -= timedelta(days=1)
    per_eur = 1.0 if currency == "EUR" else ecb_rate(currency, published)
    return ecb_rate("USD", published) / per_eur
