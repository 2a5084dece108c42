"""Fault target: Meta Ads.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from pipelines.connectors import meta_ads
from sources.emulators import meta_ads as meta_ads_emulator
from sources.emulators.server import Fault
from tests.fault_base import (
    FaultTarget,
    ReplayFirstPage,
    malformed_and_truncated,
    source_load,
    standard_transient,
)

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


TARGET = FaultTarget(
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
