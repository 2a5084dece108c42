"""Ingestion throughput: Search Console pages -> raw table, one method per fresh process.

    python -m benchmarks.ingest --method pages --rows 2000000 --out /tmp/bench   # generate once
    python -m benchmarks.ingest --method project --rows 2000000 --out /tmp/bench

``pages`` writes ``--rows`` rows of generated ``searchAnalytics/query`` response pages (the real
API's shape: ``{"rows": [{"keys": [date, query, page], "clicks": .., ...}]}``, 25,000 rows a page,
one request per day) and the same rows as NDJSON, into ``--out``; it is not timed. Then each
method loads them in its own process and prints one JSON line: rows, seconds, peak RSS.

- ``project``: the path the Search Console assets run: ``pipeline.extract`` of the real source
  (its ``extract``, ``SearchConsoleClient.site_pages`` paging and reading each page's outline,
  the landing writer and manifests) with the HTTP call replaced by reading the page file, then
  ``pipeline.load`` into DuckDB (one ``read_json_objects`` over the landed pages, one transaction).
- ``read_json``: DuckDB's own ``read_json`` on the same rows as NDJSON, into a table.
- ``read_json_pages``: DuckDB's own ``read_json`` on the same page files as the API sends them,
  their rows unnested into the same columns (date, query, page from ``keys``), into a table.
- ``dlt``: a dlt pipeline into DuckDB from the same page bytes: a resource that decodes each page
  and yields the same rows (the same columns as the raw table), ``write_disposition="replace"``;
  the first ``--rows`` rows of the pages (dlt is run on fewer: compared by rows per second).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import time
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any

SITE = "https://www.example.com/"
START = date(2025, 1, 1)
PAGE_ROWS = 25_000  # searchAnalytics' maximum rowLimit
ROWS_PER_DAY = 100_000  # 4 pages a day
TOTALS = "totals.json"


def days(rows: int) -> int:
    return -(-rows // ROWS_PER_DAY)


def day_rows(rows: int, day: int) -> int:
    return min(ROWS_PER_DAY, rows - day * ROWS_PER_DAY)


def row(i: int, day: date) -> dict[str, Any]:
    """The i-th row of a day: a query x page, counts as the API sends them (doubles)."""
    impressions = 1 + (i * 7919) % 900
    clicks = (i * 104729) % 50 if impressions > 50 else 0
    return {
        "keys": [
            day.isoformat(),
            f"query {i % 50_000} widgets",
            f"https://www.example.com/p/{i % 3000}/",
        ],
        "clicks": float(clicks),
        "impressions": float(impressions),
        "ctr": clicks / impressions,
        "position": 1 + (i % 400) / 7,
    }


def page_path(out: Path, day: int, start_row: int) -> Path:
    return out / "pages" / f"{day:03d}-{start_row // PAGE_ROWS:03d}.json"


def generate(rows: int, out: Path) -> None:
    """The API's pages (compact: the client asks for ``prettyPrint=false``) and the same rows as
    NDJSON."""
    (out / "pages").mkdir(parents=True, exist_ok=True)
    totals = []
    with (out / "rows.ndjson").open("w") as ndjson:
        for d in range(days(rows)):
            day = START + timedelta(days=d)
            count = day_rows(rows, d)
            for start_row in range(0, count, PAGE_ROWS):
                page = [row(i, day) for i in range(start_row, min(count, start_row + PAGE_ROWS))]
                body = {"rows": page, "responseAggregationType": "byPage"}
                page_path(out, d, start_row).write_text(json.dumps(body))
                for r in page:
                    flat = dict(zip(("date", "query", "page"), r["keys"], strict=True))
                    ndjson.write(
                        json.dumps({**flat, **{k: v for k, v in r.items() if k != "keys"}})
                    )
                    ndjson.write("\n")
            totals.append(
                {
                    "keys": [day.isoformat()],
                    "clicks": 1.0,
                    "impressions": 9.0,
                    "ctr": 0.1,
                    "position": 3.0,
                }
            )
    (out / TOTALS).write_text(json.dumps({"rows": totals, "responseAggregationType": "byProperty"}))


def run_project(rows: int, out: Path) -> tuple[float, float]:
    """The Search Console source's extract, landing and load; the HTTP call reads a page file.
    Seconds for the whole path and for the load alone."""
    import duckdb

    from pipelines.connectors import pipeline, search_console
    from pipelines.connectors.framework import Window
    from sources.search_console import SearchConsoleClient

    class FileClient(SearchConsoleClient):
        """The real client's paging and page handling; each POST answered from a page file."""

        def __init__(self) -> None:
            self.page_size = PAGE_ROWS

        def _post(self, site_url: str, body: dict[str, Any]) -> Any:
            if body["dimensions"] == ["date"]:
                return SimpleNamespace(content=(out / TOTALS).read_bytes())
            day = (date.fromisoformat(body["startDate"]) - START).days
            path = page_path(out, day, body["startRow"])
            empty = b'{"responseAggregationType": "byPage"}'
            return SimpleNamespace(content=path.read_bytes() if path.exists() else empty)

    source = dataclasses.replace(search_console.SOURCE, connect=lambda config: FileClient())
    config = source.config(
        {"SEARCH_CONSOLE_SITE_URLS": SITE, "GOOGLE_APPLICATION_CREDENTIALS": "-"}
    )
    window = Window(START, START + timedelta(days=days(rows)))
    t0 = time.perf_counter()
    landed = pipeline.extract(source, config, window, "bench", root=out / "landing")
    t1 = time.perf_counter()
    with duckdb.connect(str(out / "project.duckdb")) as con:
        results = pipeline.load(con, landed, "bench")
    t2 = time.perf_counter()
    assert results["queries"].rows_inserted == rows, results
    return t2 - t0, t2 - t1


def run_read_json(rows: int, out: Path) -> float:
    import duckdb

    with duckdb.connect(str(out / "read_json.duckdb")) as con:
        t0 = time.perf_counter()
        con.execute(
            "create table records as select * from read_json(?, format = 'newline_delimited')",
            [str(out / "rows.ndjson")],
        ).fetchall()
        seconds = time.perf_counter() - t0
        assert con.execute("select count(*) from records").fetchone() == (rows,)
    return seconds


def run_read_json_pages(rows: int, out: Path) -> float:
    import duckdb

    with duckdb.connect(str(out / "read_json.duckdb")) as con:
        t0 = time.perf_counter()
        con.execute(
            "create table records as select r.keys[1] as date, r.keys[2] as query, "
            "r.keys[3] as page, r.clicks, r.impressions, r.ctr, r.position "
            "from (select unnest(rows) as r from read_json(?, format = 'auto'))",
            [str(out / "pages" / "*.json")],
        ).fetchall()
        seconds = time.perf_counter() - t0
        assert con.execute("select count(*) from records").fetchone() == (rows,)
    return seconds


def run_dlt(rows: int, out: Path) -> float:
    """dlt fed the same page bytes; the resource yields the raw table's rows."""
    import dlt

    def search_rows() -> Iterator[dict[str, Any]]:
        for path in sorted((out / "pages").glob("*.json")):
            for r in json.loads(path.read_bytes()).get("rows") or []:
                day = date.fromisoformat(r["keys"][0])
                yield {
                    "date": day,
                    "query": r["keys"][1],
                    "page": r["keys"][2],
                    "clicks": round(r["clicks"]),
                    "impressions": round(r["impressions"]),
                    "ctr": r["ctr"],
                    "position": r["position"],
                    "is_provisional": False,
                    "time_zone": "America/Los_Angeles",
                    "search_type": "web",
                    "_account_id": SITE,
                    "_partition_date": day,
                }

    pipeline = dlt.pipeline(
        pipeline_name="bench",
        pipelines_dir=str(out / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(str(out / "dlt.duckdb")),
        dataset_name="raw",
    )
    t0 = time.perf_counter()
    pipeline.run(
        islice(search_rows(), rows),
        table_name="search_console__queries",
        write_disposition="replace",
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--method",
        choices=["pages", "project", "read_json", "read_json_pages", "dlt"],
        required=True,
    )
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.method == "pages":
        generate(args.rows, args.out)
        return
    for old in [*args.out.glob("*.duckdb*"), args.out / "landing", args.out / "dlt_pipelines"]:
        shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)  # each run starts fresh
    extra = {}
    if args.method == "project":
        seconds, extra["load_seconds"] = run_project(args.rows, args.out)
    else:
        run = {
            "read_json": run_read_json,
            "read_json_pages": run_read_json_pages,
            "dlt": run_dlt,
        }[args.method]
        seconds = run(args.rows, args.out)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "method": args.method,
        "rows": args.rows,
        "seconds": seconds,
        "peak_rss_mib": peak_mib,
    }
    print(json.dumps({**result, **extra}))


if __name__ == "__main__":
    main()
