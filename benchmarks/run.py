"""Benchmark report: ingestion throughput, incremental cost, end-to-end backfill.

    .venv/bin/python -m benchmarks.run                 # full report (about 10 minutes)
    .venv/bin/python -m benchmarks.run --quick         # smaller sizes, a smoke run

Run it on a quiet machine: every number is wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from benchmarks.pipeline import backfill, run_window
from sources.emulators.stack import build_stack


def ingest(method: str, rows: int, out: Path) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.ingest",
            "--method",
            method,
            "--rows",
            str(rows),
            "--out",
            str(out / method),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument(
        "--dlt-rows",
        type=int,
        default=200_000,
        help="dlt is measured on fewer rows (it is slow); compared by rows/s",
    )
    args = parser.parse_args()
    rows = 200_000 if args.quick else args.rows
    dlt_rows = 20_000 if args.quick else args.dlt_rows
    history_long, history_short = (120, 30) if args.quick else (730, 30)

    print(
        f"kpi-pipeline benchmark  {date.today()}  {platform.node()}  "
        f"{platform.processor() or platform.machine()}  python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print("\n1. Ingestion: GA4-shaped JSON pages -> raw table (same records)")
        results = [
            ingest("project", rows, out),
            ingest("read_json", rows, out),
            ingest("dlt", dlt_rows, out),
        ]
        rate = {r["method"]: r["rows"] / r["seconds"] for r in results}
        print(f"   {'method':12} {'rows':>10} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}")
        for r in results:
            print(
                f"   {r['method']:12} {r['rows']:>10,} {r['seconds']:>9.2f} "
                f"{rate[r['method']]:>12,.0f} {r['peak_rss_mib']:>13,.0f}"
            )
        print(f"   project / read_json = {rate['project'] / rate['read_json']:.2f}x (goal >= 0.3x)")
        print(f"   project / dlt       = {rate['project'] / rate['dlt']:.1f}x (goal >= 50x)")

        print("\n2. Incremental cost: the daily run (3 days: yesterday + lookback)")
        end = date.today() - timedelta(days=1)
        daily = {}
        for label, days in (("long", history_long), ("short", history_short)):
            stack = build_stack(out / f"sa-{label}.json")
            stack.server.start()
            try:
                database = out / f"{label}.duckdb"
                backfill(
                    stack,
                    database,
                    end - timedelta(days=days),
                    end - timedelta(days=2),
                    chunk_days=120,
                )
                daily[label] = run_window(
                    stack, database, end - timedelta(days=2), end + timedelta(days=1)
                )
            finally:
                stack.server.stop()
            print(
                f"   history {days:>4} days: daily run {daily[label].total:6.2f} s  "
                + "  ".join(f"{k} {v:.2f}" for k, v in daily[label].seconds.items())
            )
        ratio = daily["long"].total / daily["short"].total
        print(f"   ratio long/short = {ratio:.2f} (goal <= 1.5)")

        print("\n3. End to end: the demo's 90-day backfill in one run")
        stack = build_stack(out / "sa-e2e.json")
        stack.server.start()
        try:
            times = run_window(
                stack, out / "e2e.duckdb", end - timedelta(days=89), end + timedelta(days=1)
            )
        finally:
            stack.server.stop()
        for stage, seconds in times.seconds.items():
            print(f"   {stage:8} {seconds:7.2f} s")
        print(f"   {'total':8} {times.total:7.2f} s")


if __name__ == "__main__":
    main()
