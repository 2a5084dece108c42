"""Fault target: Stripe.

Each ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import stripe
from sources.emulators.server import Fault
from tests.fault_base import (
    FaultTarget,
    ReplayFirstPage,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


def _stripe_amount_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for charge in page.get("data") or []:
        charge["amount"] = f"{charge['amount'] / 100:.2f}"  # "12.50": major units as text
    return page


def _stripe_more(page: dict[str, Any]) -> None:
    page["has_more"] = True


STRIPE_CHARGES = r"/v1/charges"
TARGET = FaultTarget(
    source="stripe",
    not_applicable={
        "exhausted daily quota": "Stripe limits requests per second only (the throttle above): no daily quota",
        "new field": "a charge carries dozens of fields, personal data among them; the connector lands a reviewed set, so a field Stripe adds is reviewed before it is landed",
    },
    path=STRIPE_CHARGES,
    table=stripe.SOURCE.table("charges").table,
    load=source_load(stripe.SOURCE),
    transient=standard_transient(
        STRIPE_CHARGES,
        Fault(  # the documented error object (api-notes/stripe.md)
            STRIPE_CHARGES,
            status=429,
            times=2,
            body={
                "error": {
                    "code": "rate_limit",
                    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                    "message": "Request rate limit exceeded. You can learn more about rate "
                    "limits here https://stripe.com/docs/rate-limits.",
                    "type": "invalid_request_error",
                }
            },
        ),
    ),
    fatal={
        **malformed_and_truncated(STRIPE_CHARGES),
        "type change in a field": [
            Fault(STRIPE_CHARGES, kind="transform", transform=_stripe_amount_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                STRIPE_CHARGES, kind="transform", times=50, transform=ReplayFirstPage(_stripe_more)
            )
        ],
    },
)
