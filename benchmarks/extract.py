"""Extraction benchmark: the source stage, serial vs parallel.

    .venv/bin/python -m benchmarks.extract                      # 30 days, 150 ms per request
    .venv/bin/python -m benchmarks.extract --days 90

The extraction step (every source, the emulators answering each request after ``--latency``
seconds, like providers across the internet) with ``KPI_EXTRACT_CONCURRENCY=1`` (one source after
another) and with the default, plus each source alone. Landing + load throughput (a source's pages
through its extract, the landing zone and the load, against DuckDB's ``read_json`` and dlt) is
``benchmarks.run --sections ingest`` (``benchmarks/ingest.py``).

Run it on a quiet machine: every number is wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from pipelines.connectors.assets import connector_assets, connector_resources, landing_key
from pipelines.connectors.framework import Source
from pipelines.connectors.registry import SOURCES
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.stack import build_stack


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} cores, load average {load} (1/5/15 min)"


def extraction(days: int, latency: float, concurrency: int | None, only: list[Source]) -> dict:
    """One extraction step over ``days`` for ``only``; wall seconds and per-source seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = build_stack(Path(tmp) / "service_account.json")
        stack.server.latency = latency
        stack.server.start()
        os.environ["KPI_LANDING_PATH"] = str(Path(tmp) / "landing")
        if concurrency is None:
            os.environ.pop("KPI_EXTRACT_CONCURRENCY", None)
        else:
            os.environ["KPI_EXTRACT_CONCURRENCY"] = str(concurrency)
        last = date.today() - timedelta(days=2)
        try:
            started = time.perf_counter()
            result = dg.materialize(
                connector_assets(SOURCES),
                resources={
                    "warehouse": WarehouseResource(path=str(Path(tmp) / "w.duckdb")),
                    **connector_resources(SOURCES, stack.env()),
                },
                selection=[landing_key(s) for s in only],
                tags={
                    "dagster/asset_partition_range_start": (
                        last - timedelta(days=days - 1)
                    ).isoformat(),
                    "dagster/asset_partition_range_end": last.isoformat(),
                },
            )
            wall = time.perf_counter() - started
        finally:
            stack.server.stop()
        seconds = {
            e.asset_key.path[-1]: e.materialization.metadata["seconds"].value
            for e in result.get_asset_materialization_events()
            if "seconds" in e.materialization.metadata
        }
        return {"wall": wall, "sources": seconds, "requests": len(stack.server.requests)}


def report_extraction(days: int, latency: float) -> None:
    print(f"\n1. Source stage: {days} days, every source, {latency * 1000:.0f} ms per request")
    serial = extraction(days, latency, 1, list(SOURCES))
    parallel = extraction(days, latency, None, list(SOURCES))
    alone = {s.name: extraction(days, latency, None, [s])["wall"] for s in SOURCES}
    slowest = max(alone, key=alone.get)
    print(f"   requests: {serial['requests']:,}")
    print(f"   {'source':16} {'in the serial run':>18} {'alone (step wall)':>18}")
    for name in alone:
        print(f"   {name:16} {serial['sources'].get(name, 0):16.1f} s {alone[name]:16.1f} s")
    print(f"   serial   (KPI_EXTRACT_CONCURRENCY=1): {serial['wall']:7.1f} s")
    print(f"   parallel (default):                  {parallel['wall']:7.1f} s")
    print(
        f"   speed-up: {serial['wall'] / parallel['wall']:.1f}x; parallel / slowest source alone "
        f"({slowest}, {alone[slowest]:.1f} s): {parallel['wall'] / alone[slowest]:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per emulator answer")
    args = parser.parse_args()
    print(f"kpi-pipeline extraction benchmark, {date.today()}; machine: {machine()}")
    report_extraction(args.days, args.latency)
    print(f"\nload average at the end: {machine()}")


if __name__ == "__main__":
    main()
