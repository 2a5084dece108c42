"""GA4: the Data API reports of each property, per day.

raw.ga4__traffic        day x channel group: sessions, engagement, key events, revenue, new users
raw.ga4__leads          day x channel group: count of the lead event
raw.ga4__landing_pages  day x landing page: the content KPIs' input
raw.ga4__users          totalUsers for each day, ISO week and month touching the window (by key)
raw.ga4__pages          day x page path: views and engagement time (content KPIs)
raw.ga4__page_leads     day x page path: count of the lead event (content.leads)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

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
from sources.ga4 import DEFAULT_BASE_URL, GA4Client, Report
from sources.http import RetryPolicy

LOOKBACK_DAYS = 3  # GA4 restates the last 24-48h: a daily run re-pulls 3 days
MAX_RETRY_SECONDS = 300.0  # total back-off budget per request before giving up
CHECK_QUALITY = "not_sampled_or_thresholded"


def properties(config: Config) -> list[str]:
    return [p.removeprefix("properties/") for p in config.list("GA4_PROPERTY_IDS")]


def connect(config: Config) -> GA4Client:
    options = {"retry": RetryPolicy(max_total_wait=MAX_RETRY_SECONDS)} | config.http_options()
    return GA4Client(
        config.require("GOOGLE_APPLICATION_CREDENTIALS"),
        base_url=config.require("GA4_BASE_URL"),
        **options,
    )


def _rows(
    report: Report, property_id: str, date_column: str = "date", **extra: Any
) -> list[dict[str, Any]]:
    """The report's rows stamped with its property, partition date and metadata flags."""
    meta = report.metadata
    return [
        {
            **full,
            "currency_code": meta.currency_code,
            "time_zone": meta.time_zone,
            "data_loss_from_other_row": meta.data_loss_from_other_row,
            "subject_to_thresholding": meta.subject_to_thresholding,
            "sampled": meta.sampled,
            "_account_id": property_id,
            "_partition_date": full[date_column],
        }
        for full in ({**extra, **row} for row in report.rows)
    ]


def _estimates(report: Report) -> list[str]:
    """Why a report's numbers are estimates (empty when they are exact, or it has no rows)."""
    meta = report.metadata
    flags = [
        label
        for label, on in (
            ("(other) row", meta.data_loss_from_other_row),
            ("thresholded", meta.subject_to_thresholding),
            ("sampled", meta.sampled),
        )
        if on
    ]
    return flags if report.rows else []


def extract(client: GA4Client, window: Window, config: Config) -> Iterator[Batch | dict[str, Any]]:
    """Every report of every property for the window, one batch per report."""
    start, end = window.start, window.last
    lead_event = config.require("GA4_LEAD_EVENT")
    flagged: list[str] = []
    quota: dict[str, Any] = {}
    for property_id in properties(config):
        reports = {
            "traffic": client.traffic(property_id, start, end),
            "leads": client.leads(property_id, start, end, lead_event),
            "landing_pages": client.landing_pages(property_id, start, end),
            "pages": client.pages(property_id, start, end),
            "page_leads": client.page_leads(property_id, start, end, lead_event),
        }
        for name, report in reports.items():
            yield Batch(name, _rows(report, property_id))
        for grain, period_start, period_end, report in client.users(property_id, start, end):
            period = {"grain": grain, "period_start": period_start, "period_end": period_end}
            reports[f"users ({grain} {period_start})"] = report
            yield Batch("users", _rows(report, property_id, "period_start", **period))
        for name, report in reports.items():
            flags = _estimates(report)
            if flags:
                flagged.append(f"property {property_id} {name}: {', '.join(flags)}")
            if report.metadata.property_quota:
                quota[property_id] = report.metadata.property_quota
    yield {
        "properties": ", ".join(properties(config)),
        "estimates": "; ".join(flagged),
        "flagged_reports": len(flagged),
        **{
            f"quota_tokens_per_day_remaining[{pid}]": (q.get("tokensPerDay") or {}).get("remaining")
            for pid, q in quota.items()
        },
    }


def judge_quality(outcome: LoadOutcome) -> dg.AssetCheckResult:
    """WARN when a report of the window was sampled, thresholded or had an (other) row."""
    window = outcome.window.label
    estimates = outcome.metadata.get("estimates") or ""
    return dg.AssetCheckResult(
        check_name=CHECK_QUALITY,
        asset_key=SOURCE.check_asset,
        passed=not estimates,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"ga4 {window}: estimates in {estimates}"
            if estimates
            else f"ga4 {window}: no sampling, thresholding or (other) rows"
        ),
        metadata={"window": window, "flagged_reports": outcome.metadata.get("flagged_reports", 0)},
    )


def check(client: GA4Client, config: Config) -> str:
    """One single-row report (yesterday's users) per property."""
    yesterday = date.today() - timedelta(days=1)
    body = {
        "date_ranges": [{"start_date": yesterday.isoformat(), "end_date": yesterday.isoformat()}],
        "metrics": [{"name": "totalUsers"}],
    }
    found = [client.run_report(p, body) for p in properties(config)]
    return f"{len(found)} propert{'y' if len(found) == 1 else 'ies'} answered"


SOURCE = Source(
    name="ga4",
    title="GA4",
    description="GA4 Data API reports per property and day",
    settings=(
        Setting("GA4_PROPERTY_IDS", "Comma-separated GA4 property IDs (123456789)", required=True),
        Setting(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "Path to the service-account JSON key with read access to the properties",
            required=True,
            secret=True,  # its file's private key: the secrets scan looks for it
        ),
        Setting("GA4_BASE_URL", "Data API host", default=DEFAULT_BASE_URL),
        Setting("GA4_LEAD_EVENT", "The event counted as a lead", default="generate_lead"),
    ),
    tables=(
        RawTable(
            "traffic",
            "raw.ga4__traffic",
            None,
            "day x channel group: sessions, engagement, revenue",
        ),
        RawTable("leads", "raw.ga4__leads", None, "day x channel group: count of the lead event"),
        RawTable(
            "landing_pages", "raw.ga4__landing_pages", None, "day x landing page (content KPIs)"
        ),
        RawTable(
            "users",
            "raw.ga4__users",
            None,
            "totalUsers for each day, ISO week and month touching the window",
            Replace.KEYS,
            keys=("_account_id", "grain", "period_start"),
        ),
        RawTable("pages", "raw.ga4__pages", None, "day x page path: views and engagement time"),
        RawTable(
            "page_leads", "raw.ga4__page_leads", None, "day x page path: count of the lead event"
        ),
    ),
    lookback=fixed_lookback(LOOKBACK_DAYS),
    connect=connect,
    accounts=properties,
    extract=extract,
    check=check,
    checks=(
        SourceCheck(
            CHECK_QUALITY,
            "WARN when a GA4 report in the window was sampled, thresholded or had an (other) "
            "row: its numbers are estimates.",
            judge_quality,
        ),
    ),
    docs="docs/sources/ga4.md",
)
