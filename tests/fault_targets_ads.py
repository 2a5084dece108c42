"""Fault targets: Google Ads, Meta Ads.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from pipelines.connectors import google_ads, meta_ads
from sources.emulators import google_ads as google_ads_emulator
from sources.emulators import meta_ads as meta_ads_emulator
from sources.emulators.server import Fault
from tests.fault_base import (
    REPEATED_CURSOR,
    FaultTarget,
    ReplayFirstPage,
    malformed_and_truncated,
    source_load,
    standard_transient,
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
    table=google_ads.SOURCE.table("campaigns").table,
    load=source_load(google_ads.SOURCE),
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


def _small_pages(client: Any) -> None:
    client.page_limit = 5  # several insights pages per account, so faults land mid-stream


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
    table=meta_ads.SOURCE.table("campaigns").table,
    load=source_load(meta_ads.SOURCE, _small_pages),
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
