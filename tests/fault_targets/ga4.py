"""Fault target: GA4 (Data API runReport).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import ga4
from sources.emulators.server import Fault
from tests.fault_base import FaultTarget, offset_ignored, source_load, standard_transient


def _small_pages(client: Any) -> None:
    client.page_size = 7  # several pages per report, so faults land mid-stream


def _type_change(page: dict) -> dict:
    page = copy.deepcopy(page)
    if page.get("rows"):
        page["rows"][-1]["metricValues"][0]["value"] = "n/a"
    return page


def _new_metric(page: dict) -> dict:
    page = copy.deepcopy(page)
    page["metricHeaders"].append({"name": "averageSessionDuration", "type": "TYPE_SECONDS"})
    for row in page.get("rows") or []:
        row["metricValues"].append({"value": "61.5"})
    return page


def _exhausted(message: str) -> dict[str, Any]:
    return {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": message}}


RUN = r":runReport"
TARGET = FaultTarget(
    source="ga4",
    path=RUN,
    table=ga4.SOURCE.table("traffic").table,
    load=source_load(ga4.SOURCE, _small_pages),
    transient=standard_transient(
        RUN,
        Fault(
            RUN,
            status=429,
            body=_exhausted("Exhausted concurrent requests quota for a property."),
        ),
    ),
    fatal={
        "malformed JSON": [Fault(RUN, kind="malformed")],
        "truncated page": [Fault(RUN, kind="truncate")],
        "type change in a field": [Fault(RUN, kind="transform", transform=_type_change)],
        **offset_ignored(RUN, "offset"),
    },
    quota=[
        Fault(
            RUN,
            status=429,
            times=10,
            body=_exhausted("Exhausted property tokens per day for a property."),
        )
    ],
    new_field=_new_metric,
    new_field_column="average_session_duration",
    new_field_value=61.5,  # sent as the string "61.5", typed by its header as a number
)
