"""Ingestion throughput on the same generated records, one method per fresh process.

    python -m benchmarks.ingest --method project --rows 2000000 --out /tmp/bench

Methods: ``project`` (GA4-shaped JSON pages -> report_page_to_arrow -> raw_loader, pages streamed),
``read_json`` (DuckDB's own reader on the same records as NDJSON), ``dlt`` (a dlt pipeline into
DuckDB from the same records as dicts). Prints one JSON line: rows, seconds, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

CHANNELS = ["Organic Search", "Direct", "Paid Search", "Paid Social", "Email", "Referral"]
START = date(2024, 1, 1)


def record(i: int) -> dict[str, object]:
    """The i-th synthetic GA4 row (date x channel x landing page), values as the API types them."""
    day = START + timedelta(days=(i // 5000) % 730)
    return {
        "date": day.strftime("%Y%m%d"),
        "channel": CHANNELS[i % len(CHANNELS)],
        "landing_page": f"/blog/post-{i % 5000}",
        "sessions": 50 + i % 997,
        "engaged_sessions": 20 + i % 431,
        "screen_page_views": 90 + i % 1999,
        "user_engagement_duration": round(1000 + (i % 7919) * 1.37, 2),
        "key_events": float(i % 13),
        "purchase_revenue": f"{(i % 503) * 3.25:.2f}",
    }


METRICS = [
    ("sessions", "TYPE_INTEGER"),
    ("engagedSessions", "TYPE_INTEGER"),
    ("screenPageViews", "TYPE_INTEGER"),
    ("userEngagementDuration", "TYPE_SECONDS"),
    ("keyEvents", "TYPE_FLOAT"),
    ("purchaseRevenue", "TYPE_CURRENCY"),
]
METRIC_FIELDS = [
    "sessions",
    "engaged_sessions",
    "screen_page_views",
    "user_engagement_duration",
    "key_events",
    "purchase_revenue",
]


def ga4_page(first: int, count: int, total: int) -> bytes:
    """A runReport response page exactly as the API sends it: every metric value a string."""
    rows = []
    for i in range(first, first + count):
        r = record(i)
        rows.append(
            {
                "dimensionValues": [
                    {"value": r["date"]},
                    {"value": r["channel"]},
                    {"value": r["landing_page"]},
                ],
                "metricValues": [{"value": str(r[f])} for f in METRIC_FIELDS],
            }
        )
    page = {
        "dimensionHeaders": [
            {"name": "date"},
            {"name": "sessionDefaultChannelGroup"},
            {"name": "landingPage"},
        ],
        "metricHeaders": [{"name": n, "type": t} for n, t in METRICS],
        "rows": rows,
        "rowCount": total,
        "metadata": {"currencyCode": "USD", "timeZone": "Europe/Oslo"},
    }
    return json.dumps(page).encode()


def run_project(rows: int, page_size: int, out: Path) -> float:
    """Parse each page into Arrow and stream it into one load; page generation is not counted."""
    import duckdb
    import pyarrow as pa

    from pipelines.warehouse.raw_loader import replace_window
    from sources.ga4 import report_page_to_arrow

    generating = 0.0

    def pages() -> Iterator[pa.Table]:
        nonlocal generating
        for first in range(0, rows, page_size):
            t0 = time.perf_counter()
            body = ga4_page(first, min(page_size, rows - first), rows)  # stands in for the network
            generating += time.perf_counter() - t0
            table, _ = report_page_to_arrow(body)
            del body
            account = pa.array(["250000001"] * table.num_rows, pa.string())
            yield table.append_column("_account_id", account).append_column(
                "_partition_date", table.column("date")
            )

    con = duckdb.connect(str(out / "project.duckdb"))
    t0 = time.perf_counter()
    result = replace_window(
        con,
        "raw.ga4__landing_pages",
        pages(),
        account_ids=["250000001"],
        start=START,
        end=START + timedelta(days=731),
        run_id="bench",
    )
    wall = time.perf_counter() - t0
    con.close()
    assert result.rows_inserted == rows
    return wall - generating


def run_read_json(rows: int, out: Path) -> float:
    import duckdb

    path = out / "records.ndjson"
    with path.open("w") as fh:
        for i in range(rows):
            fh.write(json.dumps(record(i)) + "\n")
    con = duckdb.connect(str(out / "read_json.duckdb"))
    t0 = time.perf_counter()
    con.execute(
        "create table records as select * from read_json(?, format = 'newline_delimited')",
        [str(path)],
    ).fetchall()
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def run_dlt(rows: int, out: Path) -> float:
    import dlt

    def records() -> Iterator[dict[str, object]]:
        for i in range(rows):
            yield record(i)

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(out / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(str(out / "dlt.duckdb")),
        dataset_name="raw",
    )
    t0 = time.perf_counter()
    pipeline.run(records(), table_name="ga4__landing_pages", write_disposition="replace")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", choices=["project", "read_json", "dlt"], required=True)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--page-size", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.method == "project":
        seconds = run_project(args.rows, args.page_size, args.out)
    elif args.method == "read_json":
        seconds = run_read_json(args.rows, args.out)
    else:
        seconds = run_dlt(args.rows, args.out)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"method": args.method, "rows": args.rows, "seconds": seconds, "peak_rss_mib": peak_mib}
        )
    )


if __name__ == "__main__":
    main()
