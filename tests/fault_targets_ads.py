"""Fault targets: Google Ads, Meta Ads.

Each ``load`` pulls the suite's window with the real client and loads it the way the source's
asset in pipelines/ does (both tables of :func:`pipelines.connectors.paid_ads.load_and_report`).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import timedelta
from typing import Any

import duckdb

from pipelines.connectors import google_ads as google_ads_pipeline
from pipelines.connectors import meta_ads as meta_ads_pipeline
from pipelines.connectors.paid_ads import AdsPull, _table
from pipelines.warehouse.raw_loader import replace_window
from sources.emulators import google_ads as google_ads_emulator
from sources.emulators import meta_ads as meta_ads_emulator
from sources.emulators.google_auth import TOKEN_PATH
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack
from sources.google_ads import GoogleAdsClient
from sources.http import RetryPolicy
from sources.meta_ads import MetaAdsClient
from tests.fault_base import (
    END,
    REPEATED_CURSOR,
    START,
    FaultTarget,
    ReplayFirstPage,
    malformed_and_truncated,
    short_timeout,
    standard_transient,
)

Con = duckdb.DuckDBPyConnection
LAST = END - timedelta(days=1)  # the clients take inclusive ranges


def _load_pull(
    con: Con,
    pull: AdsPull,
    accounts: list[str],
    tables: dict[str, str],
    schemas: dict[str, Any],
) -> int:
    """Replace the window's rows of both tables, as ``load_and_report`` does."""
    rows = {"campaigns": pull.campaigns, "accounts": pull.accounts}
    return sum(
        replace_window(
            con,
            table,
            _table(rows[name], schemas[name]),
            account_ids=accounts,
            start=START,
            end=END,
            run_id="faults",
        ).rows_inserted
        for name, table in tables.items()
    )


# --- Google Ads -----------------------------------------------------------------------------------
GOOGLE_CUSTOMERS = ["4815162342", "7020304050"]  # the stack's GOOGLE_ADS_CUSTOMER_IDS


def _google_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    base = stack.server.base_url
    client = GoogleAdsClient(
        developer_token=google_ads_emulator.DEMO_DEVELOPER_TOKEN,
        client_id=google_ads_emulator.DEMO_CLIENT_ID,
        client_secret=google_ads_emulator.DEMO_CLIENT_SECRET,
        refresh_token=google_ads_emulator.DEMO_REFRESH_TOKEN,
        login_customer_id=google_ads_emulator.DEMO_MANAGER_ID,
        base_url=base,
        token_url=base + TOKEN_PATH,
        retry=retry,
    )
    short_timeout(client, timeout)
    pull = AdsPull()
    for customer in GOOGLE_CUSTOMERS:
        info = client.customer(customer)
        pull.add_account(customer, info, START, LAST)
        pull.add_campaigns(customer, client.campaign_days(customer, START, LAST))
    return _load_pull(
        con, pull, GOOGLE_CUSTOMERS, google_ads_pipeline.TABLES, google_ads_pipeline.SCHEMAS
    )


def _google_impressions_as_text(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = copy.deepcopy(body)
    for batch in body:
        for row in batch.get("results") or []:
            if "metrics" in row:
                row["metrics"]["impressions"] = "n/a"
    return body


GOOGLE_STREAM = r"/customers/\d+/googleAds:searchStream"
GOOGLE_ADS = FaultTarget(
    source="google_ads",
    not_applicable={
        REPEATED_CURSOR: "searchStream has no pagination: one response streams every batch",
        "new field": "searchStream returns only the fields the GAQL query selects, so a metric Google adds never arrives unasked",
    },
    path=GOOGLE_STREAM,
    table=google_ads_pipeline.TABLES["campaigns"],
    load=_google_load,
    transient={
        **standard_transient(
            GOOGLE_STREAM,
            # A short-term limit: 429 RESOURCE_EXHAUSTED, quotaError RESOURCE_TEMPORARILY_EXHAUSTED,
            # the wait in the body's quotaErrorDetails.retryDelay (api-notes/google_ads.md).
            Fault(
                GOOGLE_STREAM,
                status=429,
                times=2,
                body=google_ads_emulator.quota_error(3, daily=False),
            ),
        ),
    },
    fatal={
        **malformed_and_truncated(GOOGLE_STREAM),  # a stream cut off: the array never closes
        "type change in a field": [
            # Every answer: the first is the customer query, which selects no metrics.
            Fault(GOOGLE_STREAM, kind="transform", times=10, transform=_google_impressions_as_text)
        ],
    },
    # The daily developer-token bucket (quotaError RESOURCE_EXHAUSTED, retryDelay ~11 h).
    quota=[
        Fault(
            GOOGLE_STREAM,
            status=429,
            times=10,
            body=google_ads_emulator.quota_error(40591, daily=True),
        )
    ],
)


# --- Meta Ads -------------------------------------------------------------------------------------
META_ACCOUNTS = ["798085168510957", "801234567890123"]  # the stack's META_AD_ACCOUNT_IDS
META_INSIGHTS = r"/act_\d+/insights$"


def _meta_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = MetaAdsClient(
        meta_ads_emulator.DEMO_ACCESS_TOKEN,
        base_url=stack.server.base_url,
        retry=retry,
        page_limit=5,  # several insights pages per account, so faults land mid-stream
    )
    short_timeout(client, timeout)
    pull = AdsPull()
    for account in META_ACCOUNTS:
        info = client.account(account)
        pull.add_account(account, info, START, LAST)
        pull.add_campaigns(account, client.insights(account, START, LAST))
    return _load_pull(con, pull, META_ACCOUNTS, meta_ads_pipeline.TABLES, meta_ads_pipeline.SCHEMAS)


def _meta_impressions_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for row in page.get("data") or []:
        row["impressions"] = "n/a"
    return page


def _meta_next(page: dict[str, Any]) -> None:
    paging = page.setdefault("paging", {})
    paging.setdefault("next", "http://127.0.0.1/v27.0/act_0/insights?after=MQZDZD")


def _meta_throttle(code: int, minutes: int, times: int) -> Fault:
    """HTTP 400 with the throttle code and an X-Business-Use-Case-Usage header (the emulator's)."""
    fault = meta_ads_emulator.throttle_fault(
        minutes, code=code, account_id=META_ACCOUNTS[0], times=times
    )
    return dataclasses.replace(fault, path=META_INSIGHTS)


META_ADS = FaultTarget(
    source="meta_ads",
    not_applicable={
        "new field": "insights return only the fields= asked for, so a metric Meta adds never arrives unasked",
    },
    path=META_INSIGHTS,
    table=meta_ads_pipeline.TABLES["campaigns"],
    load=_meta_load,
    transient={
        # Meta throttles with HTTP 400, not 429; the wait is estimated_time_to_regain_access
        # (minutes) in X-Business-Use-Case-Usage (api-notes/meta_ads.md).
        **standard_transient(META_INSIGHTS, _meta_throttle(17, minutes=1, times=1)),
        "provider throttle shape (BUC 80000)": [_meta_throttle(80000, minutes=1, times=2)],
    },
    fatal={
        **malformed_and_truncated(META_INSIGHTS),
        "type change in a field": [
            Fault(META_INSIGHTS, kind="transform", transform=_meta_impressions_as_text)
        ],
        "repeated pagination cursor": [
            Fault(META_INSIGHTS, kind="transform", times=50, transform=ReplayFirstPage(_meta_next))
        ],
    },
    # Throttled for longer than the retry budget (an hour to regain access): waiting it out would
    # hold the run, so it fails fast like a spent quota.
    quota=[_meta_throttle(80000, minutes=60, times=10)],
)

TARGETS = [GOOGLE_ADS, META_ADS]
