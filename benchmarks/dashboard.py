"""Benchmark report: the KPI dashboard's file size and load time in headless Chromium.

    .venv/bin/python -m benchmarks.dashboard                          # builds 2 years of demo history
    .venv/bin/python -m benchmarks.dashboard --warehouse data/warehouse.duckdb   # an existing one
    .venv/bin/python -m benchmarks.dashboard --keep /tmp/history      # keep the built warehouse

Without ``--warehouse`` the demo pipeline itself (emulators, every source, dbt) builds
``--days`` of history (730: about 40 minutes on the 2-core machine) in runs of ``--chunk-days``.
Then: the time to render ``scorecard.html`` from the warehouse, its size (raw and gzipped, what an
e-mail attachment costs), and in the system Chromium (Playwright, ``/usr/bin/chromium``): the time
from navigation to the page being ready (``body[data-ready]``), and to re-render after a control
changes (grain to quarter, period to last complete quarter). Median of ``--repeat`` loads.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def build_history(out: Path, days: int, chunk_days: int) -> Path:
    """``days`` of demo history ending yesterday, built by the real pipeline."""
    from benchmarks.pipeline import backfill, emulators

    database = out / "history.duckdb"
    end = date.today()
    with emulators(out / "emulators") as settings:
        backfill(settings, database, end - timedelta(days=days), end, chunk_days)
    return database


def measure_browser(page_path: Path, repeat: int) -> dict[str, float]:
    """Median load-to-ready and control-change times (ms) in headless Chromium."""
    from playwright.sync_api import sync_playwright

    loads, changes = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t0 = time.perf_counter()
            page.goto(page_path.as_uri())
            page.wait_for_selector("body[data-ready='1']")
            loads.append((time.perf_counter() - t0) * 1000)
            page.evaluate("document.body.dataset.ready = ''")
            t0 = time.perf_counter()
            page.select_option("#grain", "quarter")
            page.wait_for_selector("body[data-ready='1']")
            page.evaluate("document.body.dataset.ready = ''")
            page.select_option("#period", "last_quarter")
            page.wait_for_selector("body[data-ready='1']")
            changes.append((time.perf_counter() - t0) * 1000 / 2)
            page.close()
        browser.close()
    return {"load_ms": statistics.median(loads), "change_ms": statistics.median(changes)}


def report(database: Path, out: Path, repeat: int) -> None:
    import duckdb

    from pipelines.scorecard import write_scorecard

    with duckdb.connect(str(database), read_only=True) as con:
        first, last, rows = con.execute(
            "select min(period_start), max(period_start), count(*) from marts.kpi_values "
            "where grain = 'day'"
        ).fetchone()
    t0 = time.perf_counter()
    page = write_scorecard(database, out / "reports", datetime.now(UTC))
    rendered = time.perf_counter() - t0
    raw = page.read_bytes()
    timings = measure_browser(page, repeat)
    print(f"   history: {first} .. {last} ({(last - first).days + 1} days, {rows:,} day rows)")
    print(f"   render from the warehouse: {rendered:.2f} s")
    print(
        f"   scorecard.html: {len(raw) / 1e6:.2f} MB, gzipped {len(gzip.compress(raw)) / 1e6:.2f} MB"
    )
    print(
        f"   headless Chromium, median of {repeat}: ready {timings['load_ms']:.0f} ms after "
        f"navigation; a control change re-renders in {timings['change_ms']:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, help="measure this DuckDB file (no build)")
    parser.add_argument("--days", type=int, default=730, help="history to build")
    parser.add_argument("--chunk-days", type=int, default=183, help="history is built in runs")
    parser.add_argument("--repeat", type=int, default=5, help="browser loads (median kept)")
    parser.add_argument("--keep", type=Path, help="build into this directory and keep it")
    args = parser.parse_args()
    print(
        f"kpi-pipeline dashboard benchmark  {datetime.now():%Y-%m-%d %H:%M}  {platform.node()}  "
        f"{os.cpu_count()} cores  load average {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        database = args.warehouse
        if database is None:
            t0 = time.perf_counter()
            database = build_history(out, args.days, args.chunk_days)
            print(f"   built {args.days} days of demo history in {time.perf_counter() - t0:.0f} s")
        report(database, out, args.repeat)
    print(f"finished {datetime.now():%H:%M}, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
