"""GA4 ingestion: one multi-asset that pulls the reports of a partition window into raw tables.

raw.ga4__traffic        day x channel group: sessions, engagement, key events, revenue, new users
raw.ga4__leads          day x channel group: count of the lead event
raw.ga4__landing_pages  day x landing page: the content KPIs' input
raw.ga4__users          totalUsers for each day, ISO week and month touching the window
raw.ga4__pages          day x page path: views and engagement time (content KPIs)
raw.ga4__page_leads     day x page path: count of the lead event (content.leads)
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from pipelines.connectors.ingest import (
    arrow_table,
    configured,
    configured_check_spec,
    load_metadata,
    not_configured,
    schema_check,
    schema_check_spec,
    window_label,
)
from pipelines.connectors.resources import GA4Resource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import LoadResult, replace_keys, replace_window
from pipelines.warehouse.resource import WarehouseResource
from sources.ga4 import GA4Client, Report, ReportMetadata

SOURCE = "ga4"
LOOKBACK_DAYS = 3  # GA4 restates the last 24-48h: a daily run re-pulls 3 days
TABLES = {
    "traffic": "raw.ga4__traffic",
    "leads": "raw.ga4__leads",
    "landing_pages": "raw.ga4__landing_pages",
    "users": "raw.ga4__users",
    "pages": "raw.ga4__pages",
    "page_leads": "raw.ga4__page_leads",
}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
CHECK_QUALITY = "not_sampled_or_thresholded"


def _with_report_columns(
    rows: list[dict[str, Any]], property_id: str, metadata: ReportMetadata, date_column: str
) -> list[dict[str, Any]]:
    """Stamp each row with its property, partition date and the report's metadata flags."""
    return [
        {
            **row,
            "currency_code": metadata.currency_code,
            "time_zone": metadata.time_zone,
            "data_loss_from_other_row": metadata.data_loss_from_other_row,
            "subject_to_thresholding": metadata.subject_to_thresholding,
            "sampled": metadata.sampled,
            "_account_id": property_id,
            "_partition_date": row[date_column],
        }
        for row in rows
    ]


class Extract:
    """Everything pulled for one window, ready to load."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.flags: list[str] = []
        self.quota: dict[str, Any] = {}
        self.currencies: dict[str, str | None] = {}

    def add(self, name: str, property_id: str, report: Report, date_column: str = "date") -> None:
        meta = report.metadata
        self.rows[name].extend(_with_report_columns(report.rows, property_id, meta, date_column))
        flagged = [
            label
            for label, on in (
                ("(other) row", meta.data_loss_from_other_row),
                ("thresholded", meta.subject_to_thresholding),
                ("sampled", meta.sampled),
            )
            if on
        ]
        if flagged and report.rows:
            self.flags.append(f"property {property_id} {name}: {', '.join(flagged)}")
        if meta.property_quota:
            self.quota[property_id] = meta.property_quota
        self.currencies[property_id] = meta.currency_code


def extract(
    client: GA4Client, properties: list[str], start: date, end: date, lead_event: str
) -> Extract:
    """Pull every report for ``start..end`` (inclusive) from every property."""
    result = Extract()
    for property_id in properties:
        result.add("traffic", property_id, client.traffic(property_id, start, end))
        result.add("leads", property_id, client.leads(property_id, start, end, lead_event))
        result.add("landing_pages", property_id, client.landing_pages(property_id, start, end))
        result.add("pages", property_id, client.pages(property_id, start, end))
        result.add(
            "page_leads", property_id, client.page_leads(property_id, start, end, lead_event)
        )
        for grain, period_start, period_end, report in client.users(property_id, start, end):
            rows = [
                {"grain": grain, "period_start": period_start, "period_end": period_end, **row}
                for row in report.rows
            ]
            result.add("users", property_id, Report(rows, report.metadata), "period_start")
    return result


def _quota_metadata(quota: dict[str, Any]) -> dict[str, Any]:
    return {
        f"quota_tokens_per_day_remaining[{pid}]": (q.get("tokensPerDay") or {}).get("remaining")
        for pid, q in quota.items()
    }


@dg.multi_asset(
    name="ga4_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_ga4",
            kinds={"python", "duckdb"},
            description=f"GA4 Data API report landed in {TABLES[name]} (see pipelines/connectors/ga4.py).",
            metadata={"table": TABLES[name], "lookback_days": LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["traffic"]),
        dg.AssetCheckSpec(
            CHECK_QUALITY,
            asset=KEYS["traffic"],
            description="WARN when a GA4 report in the window was sampled, thresholded or had an "
            "(other) row: its numbers are estimates.",
        ),
        schema_check_spec(SOURCE, KEYS["traffic"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("ga4")
def ga4_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, ga4: GA4Resource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull the GA4 reports of the partition window and replace their rows in the raw tables."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = ga4.missing_settings()
    if missing:
        yield from not_configured(
            context,
            SOURCE,
            missing,
            KEYS.values(),
            KEYS["traffic"],
            window,
            other_checks=(CHECK_QUALITY, "no_fields_removed"),
        )
        return

    properties = ga4.properties()
    client = ga4.client()
    pulled = extract(client, properties, start, end - timedelta(days=1), ga4.event_name())
    context.log.info(f"ga4: {client.requests_made} API requests for {len(properties)} properties")

    results: dict[str, LoadResult] = {}
    with warehouse.connect() as con:
        for name in ("traffic", "leads", "landing_pages", "pages", "page_leads"):
            results[name] = replace_window(
                con,
                TABLES[name],
                arrow_table(pulled.rows[name]),
                account_ids=properties,
                start=start,
                end=end,
                run_id=context.run.run_id,
            )
        results["users"] = replace_keys(
            con,
            TABLES["users"],
            arrow_table(pulled.rows["users"]),
            keys=["_account_id", "grain", "period_start"],
            run_id=context.run.run_id,
        )

    for name, key in KEYS.items():
        extra = _quota_metadata(pulled.quota) if name == "traffic" else {}
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=load_metadata(
                results[name],
                window,
                properties=", ".join(properties),
                api_requests=client.requests_made,
                **extra,
            ),
        )
    yield configured(KEYS["traffic"], properties)
    yield dg.AssetCheckResult(
        check_name=CHECK_QUALITY,
        asset_key=KEYS["traffic"],
        passed=not pulled.flags,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"ga4 {window}: estimates in " + "; ".join(pulled.flags)
            if pulled.flags
            else f"ga4 {window}: no sampling, thresholding or (other) rows"
        ),
        metadata={"window": window, "flagged_reports": len(pulled.flags)},
    )
    yield schema_check(context, KEYS["traffic"], results.values(), window)
