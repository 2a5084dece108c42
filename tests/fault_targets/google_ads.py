"""Fault target: Google Ads.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import google_ads
from sources.emulators import google_ads as google_ads_emulator
from sources.emulators.server import Fault
from tests.fault_base import (
    REPEATED_CURSOR,
    FaultTarget,
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
TARGET = FaultTarget(
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
