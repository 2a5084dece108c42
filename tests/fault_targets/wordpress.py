"""Fault target: WordPress (post inventory and comments).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import wordpress
from sources.emulators.server import Fault
from tests.fault_base import (
    FaultTarget,
    malformed_and_truncated,
    offset_ignored,
    source_load,
    standard_transient,
)


def _small_pages(client: Any) -> None:
    client.per_page = 10  # the inventory comes on several pages


def _wordpress_id_as_text(items: Any) -> Any:
    items = copy.deepcopy(items)
    if isinstance(items, list) and items:
        items[0]["id"] = f"post-{items[0]['id']}"
    return items


WP_API = r"/wp-json/wp/v2/"
TARGET = FaultTarget(
    source="wordpress",
    not_applicable={
        "exhausted daily quota": "a WordPress site has no API quota to exhaust",
        "new field": "the client asks for the fields it lands (_fields=), so WordPress never sends one it did not ask for",
    },
    path=WP_API,
    table=wordpress.SOURCE.table("posts").table,
    load=source_load(wordpress.SOURCE, _small_pages),
    transient=standard_transient(
        WP_API,
        # WordPress has no API throttle of its own; while it updates it answers every request
        # with its maintenance page: 503, Retry-After: 600, HTML (wp_maintenance()).
        Fault(
            WP_API,
            status=503,
            headers={"Retry-After": "600"},
            body="<!DOCTYPE html><html><body><p>Briefly unavailable for scheduled maintenance. "
            "Check back in a minute.</p></body></html>",
        ),
    ),
    fatal={
        **malformed_and_truncated(WP_API),
        "type change in a field": [
            Fault(WP_API, kind="transform", transform=_wordpress_id_as_text)
        ],
        **offset_ignored(WP_API, "page"),
    },
)
