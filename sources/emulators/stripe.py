"""Stripe emulator: ``GET /v1/charges`` with list envelope, ``starting_after`` paging, newest first.

Like Stripe: ``customer=<id>`` lists that customer's charges (any time, within the ``created``
bounds), ``expand[]=data.customer`` replaces the customer id by the customer object (its
``created``: when the customer's first charge made it), ``expand[]=data.refunds`` adds refunds.

Checks the secret key (Bearer or Basic), validates ``Stripe-Version`` and ``limit``, answers
Stripe error objects (``{"error": {"type", "code", "message", "param"}}``) and, when asked, a 429
``rate_limit`` after ``rate_limit_every`` requests. Charges come from the demo company as of
``now``: a charge created last week may have been refunded since.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sources.emulators.company import BusinessActivity, Charge
from sources.emulators.server import EmulatorServer, Request, Response

CHARGES = r"/v1/charges"
DEMO_API_KEY = "sk_test_demo_51Pz0KpiPipelineEmulator"
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")


def stripe_error(
    status: int, message: str, *, type_: str = "invalid_request_error", **extra: Any
) -> Response:
    return Response(status, {"error": {"message": message, "type": type_, **extra}})


def customer_json(customer: str, created: datetime | None) -> dict[str, Any]:
    """A Stripe customer object (the fields the pipeline reads, and a few more)."""
    return {
        "id": customer,
        "object": "customer",
        "created": int(created.timestamp()) if created else None,
        "email": None,
        "livemode": False,
        "metadata": {},
    }


def charge_json(charge: Charge, now: datetime, expand_refunds: bool) -> dict[str, Any]:
    status = charge.status(now)
    refunded = charge.amount_refunded(now)
    body: dict[str, Any] = {
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount if status == "succeeded" else 0,
        "amount_refunded": refunded,
        "balance_transaction": f"txn_{charge.id[3:]}" if status == "succeeded" else None,
        "captured": status != "failed",
        "created": int(charge.created.timestamp()),
        "currency": charge.currency,
        "customer": charge.customer,
        "description": f"Order {charge.id[-6:].upper()}",
        "disputed": charge.disputed_at is not None and now >= charge.disputed_at,
        "failure_code": "card_declined" if status == "failed" else None,
        "failure_message": "Your card was declined." if status == "failed" else None,
        "livemode": False,
        "metadata": {},
        "paid": status == "succeeded",
        "payment_intent": f"pi_{charge.id[3:]}",
        "refunded": refunded == charge.amount and refunded > 0,
        "status": status,
    }
    if expand_refunds:
        data = []
        if refunded:
            data.append(
                {
                    "id": f"re_{charge.id[3:]}",
                    "object": "refund",
                    "amount": refunded,
                    "charge": charge.id,
                    "created": int(charge.refunded_at.timestamp()),  # type: ignore[union-attr]
                    "currency": charge.currency,
                    "status": "succeeded",
                }
            )
        body["refunds"] = {
            "object": "list",
            "data": data,
            "has_more": False,
            "total_count": len(data),
            "url": f"/v1/charges/{charge.id}/refunds",
        }
    return body


@dataclass
class StripeEmulator:
    activity: BusinessActivity
    api_keys: set[str] = field(default_factory=lambda: {DEMO_API_KEY})
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    rate_limit_every: int | None = None  # every Nth request answers 429 rate_limit
    versions_seen: list[str] = field(default_factory=list)
    customer_listings: list[str] = field(default_factory=list)  # customer= of each such request
    _requests: int = 0

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", CHARGES, self.list_charges)

    def _authenticate(self, request: Request) -> Response | None:
        header = request.header("authorization") or ""
        key = None
        if header.startswith("Bearer "):
            key = header[7:]
        elif header.startswith("Basic "):
            key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        if not key:
            return stripe_error(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if key not in self.api_keys:
            return stripe_error(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        return None

    def list_charges(self, request: Request) -> Response:
        if denied := self._authenticate(request):
            return denied
        version = request.header("stripe-version")
        if version is not None:
            if not _VERSION.match(version):
                return stripe_error(400, f"Invalid Stripe API version: {version}")
            self.versions_seen.append(version)
        self._requests += 1
        if self.rate_limit_every and self._requests % self.rate_limit_every == 0:
            return stripe_error(
                429,
                "Request rate limit exceeded. You can learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                code="rate_limit",
                doc_url="https://stripe.com/docs/error-codes/rate-limit",
            )
        try:
            limit = int(request.arg("limit", "10") or 10)
        except ValueError:
            return stripe_error(400, "Invalid integer: limit", param="limit")
        if not 1 <= limit <= 100:
            return stripe_error(
                400,
                "This value must be less than or equal to 100.",
                param="limit",
                code="parameter_invalid_integer",
            )
        now = self.now()
        customer = request.arg("customer")
        bounds = self._bounds(request, now, unbounded_below=customer is not None)
        if isinstance(bounds, Response):
            return bounds
        low, high = bounds
        if customer is not None:
            self.customer_listings.append(customer)
            charges = sorted(
                (
                    c
                    for c in self.activity.customer_charges(customer, now.date())
                    if low <= c.created.timestamp() < high and c.created <= now
                ),
                key=lambda c: (c.created, c.id),
                reverse=True,
            )
        else:
            charges = self._charges(low, high, now)
        start = 0
        if cursor := request.arg("starting_after"):
            ids = [c.id for c in charges]
            if cursor not in ids:
                return stripe_error(
                    400,
                    f"No such charge: '{cursor}'",
                    code="resource_missing",
                    param="starting_after",
                )
            start = ids.index(cursor) + 1
        page = charges[start : start + limit]
        expand = request.query.get("expand[]", [])
        data = [charge_json(c, now, "data.refunds" in expand) for c in page]
        if "data.customer" in expand:
            for body, charge in zip(data, page, strict=True):
                if charge.customer:
                    created = self.activity.customer_created(charge.customer)
                    body["customer"] = customer_json(charge.customer, created)
        return Response(
            body={
                "object": "list",
                "url": "/v1/charges",
                "has_more": start + limit < len(charges),
                "data": data,
            }
        )

    @staticmethod
    def _bounds(
        request: Request, now: datetime, unbounded_below: bool = False
    ) -> tuple[int, int] | Response:
        """``[low, high)`` epoch seconds from the ``created`` filters. Without a lower bound the
        emulator lists the last 30 days (a customer's charges: all of them)."""
        default_low = 0 if unbounded_below else int((now - timedelta(days=30)).timestamp())
        try:
            low = int(request.arg("created[gte]") or default_low)
            if request.arg("created[gt]"):
                low = int(request.arg("created[gt]") or 0) + 1
            high = int(request.arg("created[lt]") or int(now.timestamp()) + 1)
            if request.arg("created[lte]"):
                high = int(request.arg("created[lte]") or 0) + 1
        except ValueError:
            return stripe_error(400, "Invalid timestamp: created", param="created")
        return low, min(high, int(now.timestamp()) + 1)

    def _charges(self, low: int, high: int, now: datetime) -> list[Charge]:
        """Charges created in ``[low, high)`` epoch seconds, newest first (as Stripe lists)."""
        if high <= low:
            return []
        first = datetime.fromtimestamp(low, UTC).date()
        last = datetime.fromtimestamp(high - 1, UTC).date()
        found = []
        day: date = first
        while day <= last:
            found += [
                c
                for c in self.activity.charges_on(day)
                if low <= c.created.timestamp() < high and c.created <= now
            ]
            day += timedelta(days=1)
        return sorted(found, key=lambda c: (c.created, c.id), reverse=True)
