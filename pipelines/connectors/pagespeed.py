"""PageSpeed Insights: each tracked URL, mobile and desktop, measured once per run.

raw.pagespeed__runs   url x strategy x day: performance score, lab LCP/FCP/CLS/TBT, CrUX field
                      values, status ``ok`` or ``failed`` (with the error); replaced by key

PSI measures a page *now*; the past cannot be re-measured. So a run measures only when its window
ends recently (``PAGESPEED_MAX_AGE_DAYS``, default 2, before today UTC) and dates the measurement
on the window's last day; older windows land nothing and keep the rows they have. A URL that
fails on a rerun keeps the day's earlier successful measurement (a fault never erases data): the
load consults the table (:func:`keep_earlier_measurements`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.connectors.framework import (
    Batch,
    Config,
    LoadOutcome,
    RawTable,
    Replace,
    Setting,
    Source,
    SourceCheck,
    Window,
    fixed_lookback,
)
from pipelines.connectors.ingest import arrow_table
from pipelines.warehouse.connection import MISSING_RELATION
from pipelines.warehouse.raw_loader import Connection
from sources.pagespeed import DEFAULT_BASE_URL, PageSpeedClient

TABLE = "raw.pagespeed__runs"
CHECK_MEASURED = "all_urls_measured"
FAILED_RUNS = "failed_runs"  # metadata: "<url> (<strategy>): <error>" of each failed run

SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("strategy", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("performance_score", pa.float64()),
        ("lcp_ms", pa.float64()),
        ("fcp_ms", pa.float64()),
        ("tbt_ms", pa.float64()),
        ("cls", pa.float64()),
        ("field_lcp_ms", pa.float64()),
        ("field_fcp_ms", pa.float64()),
        ("field_inp_ms", pa.float64()),
        ("field_cls", pa.float64()),
        ("field_category", pa.string()),
        ("field_origin_fallback", pa.bool_()),
        ("lighthouse_version", pa.string()),
        ("analysis_utc_timestamp", pa.timestamp("us")),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def _measured(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["url"], row["strategy"], row["_partition_date"]


def keep_earlier_measurements(con: Connection, batch: pa.Table) -> pa.Table:
    """``batch`` with each failed URL x strategy x day replaced by that day's earlier ``ok`` row.

    A rerun of a day that meets a fault must not erase the measurement a previous run took."""
    rows = batch.to_pylist()
    failed = {_measured(r) for r in rows if r["status"] != "ok"}
    if not failed:
        return batch
    days = sorted({day for _, _, day in failed})
    try:
        result = con.execute(
            f"select * from {TABLE} where status = 'ok' and _partition_date in "
            f"({', '.join('?' for _ in days)})",
            days,
        )
    except MISSING_RELATION:  # no table yet: nothing measured before
        return batch
    names = [d[0] for d in result.description]
    load_columns = ("_loaded_at", "_source_run_id")
    earlier = [
        {k: v for k, v in zip(names, values, strict=True) if k not in load_columns}
        for values in result.fetchall()
    ]
    kept = {_measured(r): r for r in earlier}
    return arrow_table(
        [kept.get(_measured(r), r) if _measured(r) in failed else r for r in rows], SCHEMA
    )


def urls(config: Config) -> list[str]:
    return config.list("PAGESPEED_URLS")


def connect(config: Config) -> PageSpeedClient:
    return PageSpeedClient(
        config.require("PAGESPEED_API_KEY"),
        base_url=config.require("PAGESPEED_BASE_URL"),
        **config.http_options(),
    )


def extract(
    client: PageSpeedClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    """Every URL x strategy measured once, dated the window's last day (if it is recent)."""
    day = window.last
    max_age = config.days("PAGESPEED_MAX_AGE_DAYS")
    if (datetime.now(UTC).date() - day).days > max_age:
        yield {
            "measured_day": "",
            "skipped": f"PSI measures pages now and {day} is more than {max_age} days ago "
            "(PAGESPEED_MAX_AGE_DAYS). Existing rows are kept.",
        }
        return
    measurements = client.measure(urls(config))
    yield Batch(
        "runs",
        [
            {
                **m.row,
                "url": m.url,
                "strategy": m.strategy,
                "_account_id": m.url,
                "_partition_date": day,
            }
            for m in measurements
        ],
    )
    failed = [f"{m.url} ({m.strategy}): {m.row['error']}" for m in measurements if not m.ok]
    yield {
        "measured_day": str(day),
        "urls": len(urls(config)),
        "runs": len(measurements),
        "failed": len(failed),
        FAILED_RUNS: failed,
    }


def judge_measured(outcome: LoadOutcome) -> dg.AssetCheckResult:
    """WARN naming each URL x strategy that could not be measured."""
    meta = outcome.metadata
    day = meta.get("measured_day")
    if not day:
        return dg.AssetCheckResult(
            check_name=CHECK_MEASURED,
            asset_key=SOURCE.check_asset,
            passed=True,
            description=f"pagespeed {outcome.window.label}: not measured; {meta.get('skipped')}",
        )
    failed = meta.get(FAILED_RUNS) or []
    return dg.AssetCheckResult(
        check_name=CHECK_MEASURED,
        asset_key=SOURCE.check_asset,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"pagespeed {day}: {len(failed)} of {meta['runs']} runs failed: "
            + "; ".join(failed)[:1500]
            if failed
            else f"pagespeed {day}: all {meta['runs']} runs measured"
        ),
        metadata={"day": day, "failed": len(failed)},
    )


def check(client: PageSpeedClient, config: Config) -> str:
    """One mobile run of the first URL (PSI has no cheaper authenticated call)."""
    first = urls(config)[0]
    score = client.run(first, "mobile").get("performance_score")
    return f"{first}: performance {score}"


SOURCE = Source(
    name="pagespeed",
    title="PageSpeed Insights",
    description="PageSpeed Insights v5 runPagespeed per URL and strategy",
    settings=(
        Setting("PAGESPEED_API_KEY", "PageSpeed Insights API key", required=True, secret=True),
        Setting("PAGESPEED_URLS", "Comma-separated URLs measured each day", required=True),
        Setting("PAGESPEED_BASE_URL", "PageSpeed Insights API host", default=DEFAULT_BASE_URL),
        Setting(
            "PAGESPEED_MAX_AGE_DAYS",
            "A run measures only when its window ends at most this many days before today",
            default="2",
        ),
    ),
    tables=(
        RawTable(
            "runs",
            TABLE,
            SCHEMA,
            "url x strategy x day: performance score, lab and field metrics, status",
            Replace.KEYS,
            keys=("_account_id", "strategy", "_partition_date"),
            before_load=keep_earlier_measurements,
        ),
    ),
    lookback=fixed_lookback(1),  # only the window's last day is measured
    connect=connect,
    accounts=urls,
    extract=extract,
    check=check,
    checks=(
        SourceCheck(
            CHECK_MEASURED,
            "WARN when a URL could not be measured (recorded as failed for the day).",
            judge_measured,
        ),
    ),
    docs="docs/sources/pagespeed.md",
)
