"""Fault target: LinkedIn (organization share and follower statistics).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import linkedin
from sources.emulators.linkedin import day_limit_fault, minute_limit_fault
from sources.emulators.server import Fault
from tests.fault_base import (
    AS_OF,
    FaultTarget,
    malformed_and_truncated,
    offset_ignored,
    source_load,
    standard_transient,
)


def _small_pages_as_of(client: Any) -> None:
    client.page_size = 2  # the window's days come on two pages
    client.today = AS_OF.date()  # the emulators answer as of AS_OF


def _linkedin_elements(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        for element in page.get("elements") or []:
            transform(element)
        return page

    return apply


def _linkedin_count_as_text(element: dict[str, Any]) -> None:
    stats = element.get("totalShareStatistics") or element.get("followerGains") or {}
    for name in ("impressionCount", "organicFollowerGain"):
        if name in stats:
            stats[name] = "1,204"


def _linkedin_rate_as_text(element: dict[str, Any]) -> None:
    if "totalShareStatistics" in element:
        element["totalShareStatistics"]["engagement"] = "2.9%"


def _linkedin_new_statistic(element: dict[str, Any]) -> None:
    if "totalShareStatistics" in element:
        element["totalShareStatistics"]["videoViewCount"] = 42


LINKEDIN_REST = r"/rest/organizationalEntity"
TARGET = FaultTarget(
    source="linkedin",
    path=LINKEDIN_REST,
    table=linkedin.SOURCE.table("share_statistics").table,
    load=source_load(linkedin.SOURCE, _small_pages_as_of),
    transient=standard_transient(
        LINKEDIN_REST,
        # The MINUTE throttle: a 429 that clears, unlike the DAY one below.
        Fault(**{**vars(minute_limit_fault(times=2)), "path": LINKEDIN_REST}),
    ),
    fatal={
        **malformed_and_truncated(LINKEDIN_REST),
        "type change in a field": [
            Fault(
                LINKEDIN_REST,
                kind="transform",
                transform=_linkedin_elements(_linkedin_count_as_text),
            )
        ],
        "type change in a rate": [
            Fault(
                LINKEDIN_REST,
                kind="transform",
                transform=_linkedin_elements(_linkedin_rate_as_text),
            )
        ],
        **offset_ignored(LINKEDIN_REST, "start"),
    },
    # The APPLICATION DAY throttle lasts until 00:00 UTC.
    quota=[Fault(**{**vars(day_limit_fault(times=10)), "path": LINKEDIN_REST})],
    new_field=_linkedin_elements(_linkedin_new_statistic),
    new_field_column="video_view_count",
    new_field_value=42,
)
