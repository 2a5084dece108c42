"""Extraction benchmark: the source stage serial vs parallel, and landing + load vs ``read_json``.

    .venv/bin/python -m benchmarks.extract                      # 30 days, 150 ms per request
    .venv/bin/python -m benchmarks.extract --days 90 --rows 2000000

1. The source stage: the extraction step (every source, the emulators answering each request after
   ``--latency`` seconds, like providers across the internet) with ``KPI_EXTRACT_CONCURRENCY=1``
   (one source after another) and with the default, plus each source alone.
2. Landing + load: ``--rows`` records arriving as JSON pages, parsed to Arrow, landed as Parquet
   and loaded into DuckDB by the connectors' own code, against DuckDB's ``read_json`` loading the
   same pages (as NDJSON files) into a table.

Run it on a quiet machine: every number is wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from pipelines.connectors import pipeline
from pipelines.connectors.assets import connector_assets, connector_resources, landing_key
from pipelines.connectors.framework import Batch, RawTable, Setting, Source, Window
from pipelines.connectors.ingest import arrow_table
from pipelines.connectors.landing import LandingWriter, find_landing
from pipelines.connectors.registry import SOURCES
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.stack import build_stack

RECORD = pa.schema(
    [
        ("id", pa.int64()),
        ("date", pa.date32()),
        ("campaign", pa.string()),
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),
        ("cost", pa.float64()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)
FIRST_DAY = date(2025, 1, 1)


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


def pages(rows: int, page_size: int) -> Iterator[bytes]:
    """JSON pages of ``rows`` ad records, as an API sends them."""
    for first in range(0, rows, page_size):
        records = [
            {
                "id": i,
                "date": str(FIRST_DAY + timedelta(days=i % 28)),
                "campaign": f"campaign {i % 97}",
                "impressions": i % 10_000,
                "clicks": i % 300,
                "cost": round((i % 5000) * 0.37, 2),
            }
            for i in range(first, min(first + page_size, rows))
        ]
        yield json.dumps({"rows": records}).encode()


def bench_source() -> Source:
    return Source(
        name="bench",
        title="Benchmark",
        description="synthetic ad records",
        settings=(Setting("BENCH_TOKEN", "unused", required=True),),
        tables=(RawTable("records", "raw.bench__records", RECORD, "records"),),
        lookback=lambda config: 1,
        connect=lambda config: None,
        accounts=lambda config: ["a"],
        extract=lambda client, window, config: iter(()),
        check=lambda client, config: "",
    )


def project_load(rows: int, page_size: int, tmp: Path) -> dict[str, float]:
    """Parse, land and load through the connectors' code; seconds per stage."""
    source = bench_source()
    window = Window(FIRST_DAY, FIRST_DAY + timedelta(days=28))
    writer = LandingWriter(source, window, "bench", root=tmp / "landing")
    parse = land = 0.0
    for page in pages(rows, page_size):
        t0 = time.perf_counter()
        records: list[dict[str, Any]] = json.loads(page)["rows"]
        for record in records:
            record["date"] = date.fromisoformat(record["date"])
            record["_account_id"] = "a"
            record["_partition_date"] = record["date"]
        table = arrow_table(records, RECORD)
        t1 = time.perf_counter()
        writer.write(Batch("records", table))
        land += time.perf_counter() - t1
        parse += t1 - t0
    t0 = time.perf_counter()
    writer.complete(["a"], {})
    landed = find_landing(source, ["bench"], tmp / "landing")
    with duckdb.connect(str(tmp / "project.duckdb")) as con:
        pipeline.load(con, landed, "bench")
    load = time.perf_counter() - t0
    return {"parse": parse, "land": land, "load": load}


def read_json_load(rows: int, page_size: int, tmp: Path) -> float:
    """DuckDB's own reader on the same pages (NDJSON files), into a table."""
    folder = tmp / "ndjson"
    folder.mkdir()
    for n, page in enumerate(pages(rows, page_size)):
        lines = "\n".join(json.dumps(r) for r in json.loads(page)["rows"])
        (folder / f"page-{n:05d}.json").write_text(lines)
    t0 = time.perf_counter()
    with duckdb.connect(str(tmp / "read_json.duckdb")) as con:
        con.execute(
            "create table records as select * from read_json(?, format = 'newline_delimited')",
            [str(folder / "*.json")],
        )
    return time.perf_counter() - t0


def report_landing(rows: int, page_size: int) -> None:
    print(f"\n2. Landing + load: {rows:,} records in JSON pages of {page_size:,}")
    with tempfile.TemporaryDirectory() as tmp:
        stages = project_load(rows, page_size, Path(tmp))
        reader = read_json_load(rows, page_size, Path(tmp))
    total = sum(stages.values())
    for stage, seconds in stages.items():
        print(f"   project {stage:6} {seconds:7.2f} s")
    print(f"   project total  {total:7.2f} s  ({rows / total:,.0f} rows/s)")
    print(f"   read_json      {reader:7.2f} s  ({rows / reader:,.0f} rows/s)")
    print(
        f"   project / read_json throughput: {reader / total:.2f}x "
        f"(landing + load alone: {reader / (stages['land'] + stages['load']):.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per emulator answer")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--sections", default="extract,landing")
    args = parser.parse_args()
    print(f"kpi-pipeline extraction benchmark, {date.today()}; machine: {machine()}")
    if "extract" in args.sections:
        report_extraction(args.days, args.latency)
    if "landing" in args.sections:
        report_landing(args.rows, args.page_size)
    print(f"\nload average at the end: {machine()}")


if __name__ == "__main__":
    main()
