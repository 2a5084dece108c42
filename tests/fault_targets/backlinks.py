"""Fault target: backlinks, through its provider Ahrefs (API v3 backlinks-stats).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import backlinks
from sources.emulators.server import Fault
from tests.fault_base import (
    REPEATED_CURSOR,
    FaultTarget,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


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
TARGET = FaultTarget(
    source="ahrefs",  # the provider behind raw.backlinks__daily
    not_applicable={
        REPEATED_CURSOR: "backlinks-stats answers one summary object per request: no pagination",
    },
    path=AHREFS_STATS,
    table=backlinks.SOURCE.table("daily").table,
    load=source_load(backlinks.SOURCE),
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
