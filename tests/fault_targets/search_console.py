"""Fault target: Search Console (searchAnalytics/query).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import search_console
from sources.emulators.search_console import google_error
from sources.emulators.server import Fault
from tests.fault_base import (
    FaultTarget,
    malformed_and_truncated,
    offset_ignored,
    source_load,
    standard_transient,
)


def _small_pages(client: Any) -> None:
    client.page_size = 10  # several pages per day, so faults land mid-stream


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
TARGET = FaultTarget(
    source="search_console",
    path=SC_QUERY,
    table=search_console.SOURCE.table("queries").table,
    load=source_load(search_console.SOURCE, _small_pages),
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
