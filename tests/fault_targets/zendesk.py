"""Fault target: Zendesk.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import zendesk
from sources.emulators.server import Fault
from sources.zendesk import EXPORT_REQUESTS_PER_MINUTE
from tests.fault_base import (
    FaultTarget,
    ReplayFirstPage,
    instant_limiter,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


def _instant_and_small_pages(client: Any) -> None:
    """Every load takes the extraction's restart path (the suite reads no saved cursor: the
    export streams the whole window from ``start_time``), so each scenario meets the full
    stream, in several pages."""
    client.export_limiter = instant_limiter(EXPORT_REQUESTS_PER_MINUTE, 60.0)
    client.export_page_size = 100


def _zendesk_id_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for ticket in page.get("tickets") or []:
        ticket["id"] = f"ZD-{ticket['id']}"
    return page


def _zendesk_count_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for ticket in page.get("tickets") or []:
        if ticket.get("metric_set"):
            ticket["metric_set"]["replies"] = "two"
    return page


def _zendesk_not_the_end(page: dict[str, Any]) -> None:
    page["end_of_stream"] = False


ZENDESK_EXPORT = r"/api/v2/incremental/tickets/cursor\.json"
TARGET = FaultTarget(
    source="zendesk",
    not_applicable={
        "exhausted daily quota": "Zendesk limits requests per minute only (the 429 above): no daily quota",
        "new field": "tickets carry free text and personal data; the connector lands a reviewed set of fields, so a new one is reviewed first",
    },
    path=ZENDESK_EXPORT,
    table=zendesk.SOURCE.table("tickets").table,
    load=source_load(zendesk.SOURCE, _instant_and_small_pages),
    transient=standard_transient(
        ZENDESK_EXPORT,
        # 429 with Retry-After in seconds and a plain-text body (api-notes/zendesk.md).
        Fault(ZENDESK_EXPORT, status=429, headers={"Retry-After": "37"}, body="Too Many Requests"),
    ),
    fatal={
        **malformed_and_truncated(ZENDESK_EXPORT),
        "type change in a field": [
            Fault(ZENDESK_EXPORT, kind="transform", transform=_zendesk_id_as_text)
        ],
        "type change in a count": [
            Fault(ZENDESK_EXPORT, kind="transform", transform=_zendesk_count_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                ZENDESK_EXPORT,
                kind="transform",
                times=50,
                transform=ReplayFirstPage(_zendesk_not_the_end),
            )
        ],
    },
)
