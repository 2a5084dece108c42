"""Fault targets: Mailchimp, Search Console, PageSpeed Insights, Ahrefs (backlinks).

Each ``load`` pulls the suite's window with the real client and loads it the way the source's
asset in pipelines/ does.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from pipelines.connectors import backlinks as backlinks_pipeline
from pipelines.connectors import mailchimp as mailchimp_pipeline
from pipelines.connectors import pagespeed as pagespeed_pipeline
from pipelines.connectors import search_console as sc_pipeline
from pipelines.connectors.ingest import arrow_table
from pipelines.warehouse.raw_loader import replace_window
from sources.backlinks import AhrefsProvider
from sources.emulators import ahrefs as ahrefs_emulator
from sources.emulators import mailchimp as mailchimp_emulator
from sources.emulators import pagespeed as pagespeed_emulator
from sources.emulators.company import SITE_DOMAIN, SITE_URL, page_url
from sources.emulators.search_console import google_error
from sources.emulators.server import Fault
from sources.emulators.stack import DEMO_TRACKED_KEYWORDS, EmulatorStack
from sources.http import RetryPolicy
from sources.mailchimp import MailchimpClient
from sources.pagespeed import PageSpeedClient
from sources.search_console import SearchConsoleClient
from tests.fault_base import (
    END,
    REPEATED_CURSOR,
    START,
    FaultTarget,
    Loaded,
    malformed_and_truncated,
    offset_ignored,
    short_timeout,
    standard_transient,
)

Con = duckdb.DuckDBPyConnection


# --- Mailchimp ------------------------------------------------------------------------------------
def _mailchimp_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = MailchimpClient(
        mailchimp_emulator.DEMO_API_KEY,
        base_url=stack.server.base_url,
        retry=retry,
        page_size=1,  # the window's two campaigns come on two pages
    )
    short_timeout(client, timeout)
    account = client.account()
    time_zone = "UTC"
    pulled_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            **row,
            "time_zone": time_zone,
            "report_as_of": pulled_at,
            "_account_id": account.account_id,
            "_partition_date": row["send_date"],
        }
        for row in client.campaign_rows(START, END, time_zone)
    ]
    sent = Counter(row["send_date"] for row in rows)
    days = [
        {
            "date": day,
            "campaigns_sent": sent[day],
            "time_zone": time_zone,
            "_account_id": account.account_id,
            "_partition_date": day,
        }
        for day in (START + timedelta(days=i) for i in range((END - START).days))
    ]
    loaded = 0
    for table, data, schema in (
        (mailchimp_pipeline.TABLE, rows, mailchimp_pipeline.SCHEMA),
        (mailchimp_pipeline.DAYS_TABLE, days, mailchimp_pipeline.DAYS_SCHEMA),
    ):
        loaded += replace_window(
            con,
            table,
            arrow_table(data, schema),
            account_ids=[account.account_id],
            start=START,
            end=END,
            run_id="faults",
        ).rows_inserted
    return loaded


def _mailchimp_report(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        for report in page.get("reports") or []:
            transform(report)
        return page

    return apply


def _mailchimp_count_as_text(report: dict[str, Any]) -> None:
    report["emails_sent"] = f"{report['emails_sent']:,}"  # "1,204": a formatted string


def _mailchimp_rate_as_text(report: dict[str, Any]) -> None:
    report["opens"]["open_rate"] = "4.8%"


def _mailchimp_new_count(report: dict[str, Any]) -> None:
    report["opens"]["machine_opens"] = 17


MAILCHIMP_REPORTS = r"/3\.0/reports"
MAILCHIMP = FaultTarget(
    source="mailchimp",
    not_applicable={
        "exhausted daily quota": "Mailchimp has no daily quota, only 10 simultaneous connections (the throttle above)",
    },
    path=MAILCHIMP_REPORTS,
    table=mailchimp_pipeline.TABLE,
    load=_mailchimp_load,
    transient=standard_transient(
        MAILCHIMP_REPORTS,
        Fault(  # problem+json, no Retry-After (api-notes/mailchimp.md)
            MAILCHIMP_REPORTS,
            status=429,
            body={
                "type": "https://mailchimp.com/developer/marketing/docs/errors/",
                "title": "TooManyRequests",
                "status": 429,
                "detail": "You have exceeded the limit of 10 simultaneous connections.",
                "instance": "3b4dcb40",
            },
        ),
    ),
    fatal={
        **malformed_and_truncated(MAILCHIMP_REPORTS),
        "type change in a field": [
            Fault(
                MAILCHIMP_REPORTS,
                kind="transform",
                transform=_mailchimp_report(_mailchimp_count_as_text),
            )
        ],
        "type change in a rate": [
            Fault(
                MAILCHIMP_REPORTS,
                kind="transform",
                transform=_mailchimp_report(_mailchimp_rate_as_text),
            )
        ],
        **offset_ignored(MAILCHIMP_REPORTS, "offset"),
    },
    quota=None,
    new_field=_mailchimp_report(_mailchimp_new_count),
    new_field_column="opens_machine_opens",
    new_field_value=17,
    volatile=("report_as_of",),  # the moment of the pull: reports are lifetime-cumulative
)


# --- Search Console -------------------------------------------------------------------------------
def _search_console_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = SearchConsoleClient(
        str(stack.service_account), base_url=stack.server.base_url, retry=retry, page_size=10
    )
    short_timeout(client, timeout)
    sites = [SITE_URL]
    rows: dict[str, list[dict[str, Any]]] = {"queries": [], "totals": []}
    for site in sites:
        data = client.site_data(site, START, END - timedelta(days=1))
        rows["queries"].extend(
            sc_pipeline._stamp(data.query_rows, site, data.first_incomplete_date)
        )
        rows["totals"].extend(sc_pipeline._stamp(data.totals, site, data.first_incomplete_date))
    loaded = 0
    for name in ("queries", "totals"):
        loaded += replace_window(
            con,
            sc_pipeline.TABLES[name],
            arrow_table(rows[name], sc_pipeline.SCHEMAS[name]),
            account_ids=sites,
            start=START,
            end=END,
            run_id="faults",
        ).rows_inserted
    con.execute("create schema if not exists raw").fetchall()
    con.register("_keywords", sc_pipeline.keyword_table(list(DEMO_TRACKED_KEYWORDS)))
    con.execute(
        f"create or replace table {sc_pipeline.TABLES['tracked_keywords']} "
        "as select * from _keywords"
    ).fetchall()
    con.unregister("_keywords")
    return loaded


def _sc_rows(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        for row in page.get("rows") or []:
            transform(row)
        return page

    return apply


def _sc_clicks_as_text(row: dict[str, Any]) -> None:
    row["clicks"] = "109 clicks"


def _sc_new_metric(row: dict[str, Any]) -> None:
    row["aiOverviewImpressions"] = 4.0


SC_QUERY = r"/searchAnalytics/query"
SEARCH_CONSOLE = FaultTarget(
    source="search_console",
    path=SC_QUERY,
    table=sc_pipeline.TABLES["queries"],
    load=_search_console_load,
    transient=standard_transient(
        SC_QUERY,
        Fault(  # the real 429 body (api-notes/search_console.md): retried with backoff
            SC_QUERY,
            status=429,
            body={
                "error": {
                    "errors": [
                        {
                            "domain": "usageLimits",
                            "reason": "rateLimitExceeded",
                            "message": "Rate Limit Exceeded",
                        }
                    ],
                    "code": 429,
                    "message": "Rate Limit Exceeded",
                }
            },
            times=2,
        ),
    ),
    fatal={
        **malformed_and_truncated(SC_QUERY),
        "type change in a field": [
            Fault(SC_QUERY, kind="transform", transform=_sc_rows(_sc_clicks_as_text))
        ],
        **offset_ignored(SC_QUERY, "startRow"),
    },
    quota=[  # the load quota, sent as 403 (not an auth failure): wait for it, don't retry
        Fault(
            SC_QUERY,
            status=403,
            times=10,
            body=google_error(
                403, "quotaExceeded", "Search Analytics load quota exceeded.", "PERMISSION_DENIED"
            ).body,
        )
    ],
    new_field=_sc_rows(_sc_new_metric),
    new_field_column="ai_overview_impressions",
    new_field_value=4.0,
)


# --- PageSpeed Insights ---------------------------------------------------------------------------
PSI_URLS = [page_url("/"), page_url("/pricing")]


def _pagespeed_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> Loaded:
    # The asset measures only windows ending within PAGESPEED_MAX_AGE_DAYS of the real today; the
    # suite's fixed window stands for "yesterday", so that check is left out here.
    client = PageSpeedClient(
        pagespeed_emulator.DEMO_API_KEY, base_url=stack.server.base_url, retry=retry
    )
    short_timeout(client, timeout)
    day = END - timedelta(days=1)
    measurements = client.measure(PSI_URLS)
    rows = [
        {
            **m.row,
            "url": m.url,
            "strategy": m.strategy,
            "_account_id": m.url,
            "_partition_date": day,
        }
        for m in measurements
    ]
    rows = pagespeed_pipeline.keep_earlier_measurements(con, rows, day)
    result = replace_window(
        con,
        pagespeed_pipeline.TABLE,
        arrow_table(rows, pagespeed_pipeline.SCHEMA),
        account_ids=PSI_URLS,
        start=day,
        end=END,
        run_id="faults",
    )
    failures = [str(m.row["error"]) for m in measurements if not m.ok]
    return Loaded(result.rows_inserted, failures)


def _psi_lcp_as_text(payload: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["lighthouseResult"]["audits"]["largest-contentful-paint"]["numericValue"] = "2.1 s"
    return payload


def _psi_score_as_text(payload: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["lighthouseResult"]["categories"]["performance"]["score"] = "90"
    return payload


PSI_RUN = r"/pagespeedonline/v5/runPagespeed"
PAGESPEED = FaultTarget(
    source="pagespeed",
    not_applicable={
        REPEATED_CURSOR: "one URL per call, answered by one whole report: no pagination",
        "new field": "a response is a whole Lighthouse report whose audits change with every release; the connector reads named audits, so a new audit is not a new column of a row",
    },
    path=PSI_RUN,
    table=pagespeed_pipeline.TABLE,
    load=_pagespeed_load,
    transient=standard_transient(
        PSI_RUN,
        Fault(  # per-origin throttling: a 500 (api-notes/pagespeed.md), retried
            PSI_RUN,
            status=500,
            body={
                "error": {
                    "code": 500,
                    "message": "Unable to process request. Please wait a while and try again.",
                    "errors": [
                        {
                            "message": "Unable to process request. Please wait a while and try "
                            "again.",
                            "domain": "global",
                            "reason": "backendError",
                        }
                    ],
                    "status": "INTERNAL",
                }
            },
            times=2,
        ),
    ),
    fatal={
        **malformed_and_truncated(PSI_RUN),
        "type change in a field": [Fault(PSI_RUN, kind="transform", transform=_psi_lcp_as_text)],
        "type change in a score": [Fault(PSI_RUN, kind="transform", transform=_psi_score_as_text)],
    },
    quota=[
        Fault(
            PSI_RUN,
            times=10,
            status=429,
            body={
                "error": {
                    "code": 429,
                    "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                    "day' of service 'pagespeedonline.googleapis.com' for consumer "
                    "'project_number:123456789012'.",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
        )
    ],
    isolates_failures=True,
)


# --- Backlinks (Ahrefs) ---------------------------------------------------------------------------
def _ahrefs_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    provider = AhrefsProvider(
        ahrefs_emulator.DEMO_TOKEN, base_url=stack.server.base_url, retry=retry
    )
    short_timeout(provider, timeout)
    target = SITE_DOMAIN
    last = min(END - timedelta(days=1), datetime.now(UTC).date())
    rows = []
    day = START
    while day <= last:
        counts = provider.counts(target, day)
        rows.append(
            {
                "date": day,
                "provider": provider.name,
                "target": target,
                **counts.as_row(),
                "_account_id": target,
                "_partition_date": day,
            }
        )
        day += timedelta(days=1)
    return replace_window(
        con,
        backlinks_pipeline.TABLE,
        arrow_table(rows, backlinks_pipeline.SCHEMA),
        account_ids=[target],
        start=START,
        end=END,
        run_id="faults",
    ).rows_inserted


def _ahrefs_metrics(transform: Any) -> Any:
    def apply(body: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(body)
        transform(body["metrics"])
        return body

    return apply


def _ahrefs_live_as_text(metrics: dict[str, Any]) -> None:
    metrics["live"] = "23.2K"


def _ahrefs_new_metric(metrics: dict[str, Any]) -> None:
    metrics["live_refdomains_dofollow"] = 812


AHREFS_STATS = r"/v3/site-explorer/backlinks-stats"
AHREFS = FaultTarget(
    source="ahrefs",  # the provider behind raw.backlinks__daily
    not_applicable={
        REPEATED_CURSOR: "backlinks-stats answers one summary object per request: no pagination",
    },
    path=AHREFS_STATS,
    table=backlinks_pipeline.TABLE,
    load=_ahrefs_load,
    transient=standard_transient(
        AHREFS_STATS,
        # Ahrefs API v3 allows 60 requests a minute; over it: 429 with an {"error"} body.
        Fault(AHREFS_STATS, status=429, body={"error": "Too many requests"}, times=2),
    ),
    fatal={
        **malformed_and_truncated(AHREFS_STATS),
        "type change in a field": [
            Fault(AHREFS_STATS, kind="transform", transform=_ahrefs_metrics(_ahrefs_live_as_text))
        ],
    },
    quota=[  # API units spent for the subscription period: 403
        Fault(
            AHREFS_STATS,
            status=403,
            times=10,
            body={"error": "API units limit reached for this subscription period"},
        )
    ],
    new_field=_ahrefs_metrics(_ahrefs_new_metric),
    new_field_column="live_refdomains_dofollow",
    new_field_value=812,
)

TARGETS = [MAILCHIMP, SEARCH_CONSOLE, PAGESPEED, AHREFS]
