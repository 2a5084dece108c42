"""Fault target: HubSpot.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import hubspot
from sources.emulators.server import Fault
from sources.hubspot import SEARCH_REQUESTS_PER_SECOND
from tests.fault_base import (
    FaultTarget,
    ReplayFirstPage,
    instant_limiter,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


def _instant_and_small_pages(client: Any) -> None:
    client.limiter = instant_limiter(SEARCH_REQUESTS_PER_SECOND, 1.0)
    client.page_limit = 10  # several search pages per object type


def _hubspot_amount_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for obj in page.get("results") or []:
        properties = obj.get("properties") or {}
        for name in ("amount", "createdate"):
            if name in properties:
                properties[name] = "n/a"
    return page


def _hubspot_next(page: dict[str, Any]) -> None:
    after = ((page.get("paging") or {}).get("next") or {}).get("after") or "1"
    page["paging"] = {"next": {"after": after}}


HUBSPOT_SEARCH = r"/crm/v3/objects/\w+/search"
HUBSPOT_429 = {
    "status": "error",
    "errorType": "RATE_LIMIT",
    "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
    "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd",
}
TARGET = FaultTarget(
    source="hubspot",
    not_applicable={
        "new field": "search returns only the properties asked for by name (HubSpot drops unknown ones), so a property HubSpot adds never arrives unasked",
    },
    path=HUBSPOT_SEARCH,
    table=hubspot.SOURCE.table("contacts").table,
    load=source_load(hubspot.SOURCE, _instant_and_small_pages),
    transient={
        **standard_transient(
            HUBSPOT_SEARCH,
            Fault(
                HUBSPOT_SEARCH,
                status=429,
                body={
                    **HUBSPOT_429,
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
            ),
        ),
        "provider throttle shape (search SECONDLY)": [
            Fault(
                HUBSPOT_SEARCH,
                status=429,
                times=2,
                body={
                    **HUBSPOT_429,
                    "message": "You have reached your secondly limit.",
                    "policyName": "SECONDLY",
                },
            )
        ],
    },
    fatal={
        **malformed_and_truncated(HUBSPOT_SEARCH),
        "type change in a field": [
            Fault(HUBSPOT_SEARCH, kind="transform", transform=_hubspot_amount_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                HUBSPOT_SEARCH, kind="transform", times=50, transform=ReplayFirstPage(_hubspot_next)
            )
        ],
    },
    quota=[  # the DAILY limit lasts until the portal's midnight
        Fault(
            HUBSPOT_SEARCH,
            status=429,
            times=10,
            body={
                **HUBSPOT_429,
                "message": "You have reached your daily limit.",
                "policyName": "DAILY",
            },
        )
    ],
)
