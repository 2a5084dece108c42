"""The pipeline's own stages timed on the emulator: a backfill split by stage, and the daily run's
cost with a long versus a short history.

Stages are called the way the Dagster assets call them (client -> raw_loader -> dbt run -> dbt
test), so each one is timed on its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.catalog import load_catalog
from pipelines.dbt import DBT_PROJECT_DIR, dbt_executable
from pipelines.fx import TABLE as FX_TABLE
from pipelines.fx import currencies_in_warehouse
from pipelines.ga4 import TABLES, extract
from pipelines.ingest import arrow_table
from pipelines.partitions import dbt_window_vars
from pipelines.raw_loader import replace_keys, replace_window
from sources.ecb import EcbClient
from sources.emulators.stack import EmulatorStack
from sources.ga4 import GA4Client


@dataclass
class StageTimes:
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def _dbt(command: str, database: Path, start: date, end: date) -> None:
    subprocess.run(
        [
            dbt_executable(),
            command,
            "--profiles-dir",
            ".",
            "--quiet",
            "--exclude",
            "resource_type:unit_test",
            "--vars",
            json.dumps(dbt_window_vars(start, end)),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "KPI_DUCKDB_PATH": str(database)},
        check=True,
    )


def run_window(stack: EmulatorStack, database: Path, start: date, end: date) -> StageTimes:
    """One run for ``[start, end)``: extract, load, dbt models, dbt tests/checks."""
    times = StageTimes()
    properties = stack.company.property_ids
    client = GA4Client(str(stack.service_account), base_url=stack.server.base_url)
    t0 = time.perf_counter()
    pulled = extract(client, properties, start, end - timedelta(days=1), "generate_lead")
    fx_client = EcbClient(stack.server.base_url)
    times.add("extract", t0)
    with duckdb.connect(str(database)) as con:
        t0 = time.perf_counter()
        for name in ("traffic", "leads", "landing_pages"):
            replace_window(
                con,
                TABLES[name],
                arrow_table(pulled.rows[name]),
                account_ids=properties,
                start=start,
                end=end,
                run_id="bench",
            )
        replace_keys(
            con,
            TABLES["users"],
            arrow_table(pulled.rows["users"]),
            keys=["_account_id", "grain", "period_start"],
            run_id="bench",
        )
        con.register("_catalog", load_catalog().to_arrow())
        con.execute("create or replace table raw.kpi_catalog as select * from _catalog").fetchall()
        currencies = currencies_in_warehouse(con, "USD")
        times.add("load", t0)
    t0 = time.perf_counter()
    rates = fx_client.rates(currencies, start - timedelta(days=7), end - timedelta(days=1))
    times.add("extract", t0)
    with duckdb.connect(str(database)) as con:
        t0 = time.perf_counter()
        data = [{**r, "_account_id": "ECB", "_partition_date": r["rate_date"]} for r in rates]
        replace_keys(
            con, FX_TABLE, arrow_table(data), keys=["currency", "rate_date"], run_id="bench"
        )
        times.add("load", t0)
    t0 = time.perf_counter()
    _dbt("run", database, start, end)
    times.add("dbt", t0)
    t0 = time.perf_counter()
    _dbt("test", database, start, end)
    times.add("checks", t0)
    return times


def backfill(stack: EmulatorStack, database: Path, start: date, end: date, chunk_days: int) -> None:
    """Build history in chunks (as a scheduled backfill would)."""
    day = start
    while day < end:
        stop = min(day + timedelta(days=chunk_days), end)
        run_window(stack, database, day, stop)
        day = stop
