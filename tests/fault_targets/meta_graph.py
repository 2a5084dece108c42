"""Fault target: Meta Graph (Facebook Page and Instagram insights).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import meta_graph
from sources.emulators.meta_graph import throttle_fault
from sources.emulators.server import Fault
from tests.fault_base import (
    AS_OF,
    REPEATED_CURSOR,
    FaultTarget,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


def _as_of(client: Any) -> None:
    client.today = AS_OF.date()  # the emulators answer as of AS_OF (follower totals of "today")


def _meta_data(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        transform(page.get("data") or [])
        return page

    return apply


def _meta_value_as_text(data: list[dict[str, Any]]) -> None:
    for item in data:
        for point in item.get("values") or []:
            point["value"] = "1.2K"
        if isinstance(item.get("total_value"), dict):
            item["total_value"]["value"] = "1.2K"


def _meta_new_metric(data: list[dict[str, Any]]) -> None:
    if data and "values" in data[0]:  # a Page time series
        points = [{**p, "value": 5} for p in data[0]["values"]]
        data.append({"name": "page_video_views", "period": "day", "values": points})
    elif data and "total_value" in data[0]:  # Instagram totals
        data.append({"name": "profile_links_taps", "period": "day", "total_value": {"value": 3}})


META_INSIGHTS = r"/insights"
TARGET = FaultTarget(
    source="meta_graph",
    not_applicable={
        REPEATED_CURSOR: "insights paging.next points at the next time range forever; the client asks for exactly the days it needs and never follows it",
    },
    path=META_INSIGHTS,
    table=meta_graph.SOURCE.table("page_insights").table,
    load=source_load(meta_graph.SOURCE, _as_of),
    transient={
        **standard_transient(
            META_INSIGHTS,
            # HTTP 400 code 17 with usage headers: Meta throttles with 400, not 429.
            throttle_fault(code=17, minutes=1, path=META_INSIGHTS),
        ),
        "provider throttle shape (BUC 80001, no wait given)": [
            throttle_fault(code=80001, minutes=0, times=2, path=META_INSIGHTS)
        ],
    },
    fatal={
        **malformed_and_truncated(META_INSIGHTS),
        "type change in a field": [
            Fault(META_INSIGHTS, kind="transform", transform=_meta_data(_meta_value_as_text))
        ],
    },
    # Throttled for longer than the retry budget (estimated_time_to_regain_access, minutes):
    # waiting it out would hold the run for an hour.
    quota=[throttle_fault(code=80001, minutes=60, times=10, path=META_INSIGHTS)],
    new_field=_meta_data(_meta_new_metric),
    new_field_column="page_video_views",
    new_field_value=5,
)
