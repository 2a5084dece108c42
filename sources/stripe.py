"""Stripe ``GET /v1/charges`` client: cursor paging, minor units, epoch seconds, pinned version.

Amounts are integers in the currency's smallest unit and are divided by that currency's real
exponent (JPY has none, KWD three), never by a fixed 100. Currencies are lower-case ISO codes and
are stored as sent. ``created`` is Unix seconds (UTC) and is bucketed into the reporting day
(``KPI_TIMEZONE``). Lists run newest first; ``starting_after = data[-1].id`` while ``has_more``.
Charges change after creation (refunds, disputes, pending -> succeeded), so a window is re-pulled
whole and replaces its rows.

New customers count from a customer's first succeeded charge *ever*, not the first one in the
loaded history: charges are listed with their customer expanded (``expand[]=data.customer``, for
its ``created``), and for every customer created before the window the client lists that
customer's earlier charges (``GET /v1/charges?customer=...&created[lt]=<window start>``) and keeps
the earliest succeeded one (``first_charges_before``), except the customers the caller says it
knows already (the connector's warehouse state). When many of them were created shortly before
the window, one listing of every charge since the earliest of those
(``created[gte]&created[lt]=<window start>``) replaces their listings if it takes fewer requests
(:func:`span_plan`: estimated from the window's own rate, capped, never the whole history).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from sources.http import (
    RETRYABLE_STATUSES,
    HttpClient,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    paginate_cursor,
    parse_retry_after,
    register_secret,
)
from sources.timezones import epoch_seconds, from_epoch, local_day, naive_utc

SOURCE = "stripe"
DEFAULT_BASE_URL = "https://api.stripe.com"
API_VERSION = "2024-06-20"
PAGE_LIMIT = 100
CHARGES = "/v1/charges"

# Stripe's currency exponents (https://docs.stripe.com/currencies): zero-decimal currencies are
# sent in major units, three-decimal ones in thousandths; every other currency in hundredths.
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
AMOUNT_SCALE = Decimal("0.001")  # raw tables hold every currency at 3 decimals


def exponent(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit as Stripe uses it."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: Any, currency: str, *, field: str = "amount") -> Decimal:
    """Integer minor units -> Decimal major units (1000 jpy -> 1000, 26642 kwd -> 26.642)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise SchemaError(
            SOURCE,
            CHARGES,
            "amount is not an integer of minor units",
            field=field,
            value=amount,
            fix="Stripe sends integer minor units; check the pinned Stripe-Version",
        )
    return (Decimal(amount) / (Decimal(10) ** exponent(currency))).quantize(AMOUNT_SCALE)


def _customer(charge: dict[str, Any]) -> tuple[str | None, Any]:
    """The charge's customer id and, when the customer is expanded, its ``created``."""
    customer = charge.get("customer")
    if isinstance(customer, dict):
        return (str(customer["id"]) if customer.get("id") else None), customer.get("created")
    return (str(customer) if customer else None), None


def parse_charge(charge: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """One charge object -> one raw row (major units, UTC instant, reporting day). An expanded
    customer adds ``customer_created_at`` (UTC)."""
    try:
        currency = str(charge["currency"])
        created = from_epoch(charge["created"])
        charge_id = str(charge["id"])
        status = str(charge["status"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise SchemaError(
            SOURCE,
            CHARGES,
            f"charge lacks a usable {exc}",
            field="id/currency/created/status",
            value={k: charge.get(k) for k in ("id", "currency", "created", "status")},
        ) from None
    customer, customer_created = _customer(charge)
    refunds = charge.get("refunds")
    refund_count = len(refunds.get("data") or []) if isinstance(refunds, dict) else None
    return {
        "id": charge_id,
        "created_at": naive_utc(created),
        "created_day": local_day(created, tz),
        "time_zone": tz.key,
        "status": status,
        "currency": currency,
        "amount": to_major(charge.get("amount"), currency),
        "amount_captured": to_major(
            charge.get("amount_captured", 0), currency, field="amount_captured"
        ),
        "amount_refunded": to_major(
            charge.get("amount_refunded", 0), currency, field="amount_refunded"
        ),
        "amount_minor": charge.get("amount"),
        "amount_refunded_minor": charge.get("amount_refunded", 0),
        "captured": bool(charge.get("captured")),
        "paid": bool(charge.get("paid")),
        "refunded": bool(charge.get("refunded")),
        "disputed": bool(charge.get("disputed")),
        "refund_count": refund_count,
        "customer": customer,
        "failure_code": charge.get("failure_code") or None,
        "livemode": bool(charge.get("livemode")),
        **(
            {"customer_created_at": naive_utc(from_epoch(customer_created))}
            if customer_created is not None
            else {}
        ),
    }


def earliest_succeeded(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first succeeded charge among ``rows`` (by created time, then id), or None."""
    succeeded = [r for r in rows if r["status"] == "succeeded"]
    return min(succeeded, key=lambda r: (r["created_at"], r["id"])) if succeeded else None


def parse_charges_page(page: Any, tz: ZoneInfo) -> tuple[list[dict[str, Any]], bool]:
    """A list page -> (rows, has_more). The page must be Stripe's list envelope."""
    if not isinstance(page, dict) or page.get("object") != "list" or "data" not in page:
        raise SchemaError(
            SOURCE,
            CHARGES,
            "response is not a Stripe list object",
            field="object",
            value=page if not isinstance(page, dict) else page.get("object"),
        )
    if not isinstance(page.get("has_more"), bool):
        raise SchemaError(
            SOURCE, CHARGES, "has_more missing", field="has_more", value=page.get("has_more")
        )
    return [parse_charge(c, tz) for c in page["data"]], page["has_more"]


def window_start_utc(start: date, tz: ZoneInfo) -> datetime:
    """The first instant of the reporting day ``start``, as naive UTC (like the rows' times)."""
    return naive_utc(from_epoch(epoch_seconds(start, tz)))


def customers_created_before(
    rows: list[dict[str, Any]], start: date, tz: ZoneInfo
) -> dict[str, datetime]:
    """The customers of ``rows`` created before the reporting day ``start``, with the time each
    was created (naive UTC); only these can have a charge before the window."""
    boundary = window_start_utc(start, tz)
    return {
        r["customer"]: r["customer_created_at"]
        for r in rows
        if r["customer"]
        and r.get("customer_created_at") is not None
        and r["customer_created_at"] < boundary
    }


def span_plan(
    created: dict[str, datetime],
    start: date,
    tz: ZoneInfo,
    charges_per_day: float | None,
    page_limit: int = PAGE_LIMIT,
) -> tuple[datetime, int] | None:
    """Whether one listing of every charge created shortly before the window costs fewer requests
    than one listing per customer: ``(since, budget)`` or None.

    ``created`` are the customers to resolve (id -> created, naive UTC). Listing every charge since
    the ``n``-th most recently created customer resolves ``n`` customers for an estimated
    ``charges_per_day`` x days / ``page_limit`` pages; the plan takes the ``n`` that saves the most
    requests while the estimate is at most half of ``n``, and stops paging at twice the estimate
    (a history denser than the window), falling back to per-customer listings. So it never costs
    more than twice the per-customer listings and never pages through an old account's history.
    """
    if not charges_per_day or not created:
        return None
    boundary = window_start_utc(start, tz)
    best: tuple[int, datetime, int] | None = None
    for n, at in enumerate(sorted(created.values(), reverse=True), start=1):
        days = (boundary - at).total_seconds() / 86400
        pages = max(1, math.ceil(charges_per_day * days / page_limit))
        if 2 * pages <= n and (best is None or n - pages > best[0]):
            best = (n - pages, at, pages)
    return None if best is None else (best[1], 2 * best[2])


class StripeClient(HttpClient):
    """Read-only Stripe client authenticated with a secret or restricted key."""

    source = SOURCE

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = API_VERSION,
        account: str | None = None,
        retry: RetryPolicy | None = None,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        register_secret(api_key)
        headers = {"Authorization": f"Bearer {api_key}", "Stripe-Version": api_version}
        if account:
            headers["Stripe-Account"] = account
        super().__init__(base_url, headers=headers, retry=retry)
        self.page_limit = page_limit

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """429 ``rate_limit``/``lock_timeout`` and 5xx are retried unless Stripe says not to."""
        hint = parse_retry_after(response.headers.get("Retry-After"))
        if response.headers.get("Stripe-Should-Retry", "").lower() == "false":
            return RetryDecision(retry=False)
        if response.headers.get("Stripe-Should-Retry", "").lower() == "true":
            return RetryDecision(retry=True, wait_hint=hint)
        return RetryDecision(retry=response.status_code in RETRYABLE_STATUSES, wait_hint=hint)

    def charge_pages(self, start: date, end: date, tz: ZoneInfo) -> Iterator[list[dict[str, Any]]]:
        """Charges created in the reporting days ``start..end`` (``end`` exclusive), page by page.

        The upper bound is fixed with ``created[lt]`` so charges created while paging do not
        shift the cursor.
        """
        return self._pages(
            {
                "created[gte]": epoch_seconds(start, tz),
                "created[lt]": epoch_seconds(end, tz),
                "limit": self.page_limit,
                "expand[]": ["data.refunds", "data.customer"],
            },
            tz,
        )

    def _pages(self, params: dict[str, Any], tz: ZoneInfo) -> Iterator[list[dict[str, Any]]]:
        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            query = {**params, **({"starting_after": cursor} if cursor else {})}
            page = self.get_json(CHARGES, params=query)
            rows, has_more = parse_charges_page(page, tz)
            if has_more and not rows:
                raise SchemaError(
                    SOURCE,
                    CHARGES,
                    "has_more is true on an empty page",
                    field="has_more",
                    value=True,
                )
            return rows, (rows[-1]["id"] if has_more else None)

        yield from paginate_cursor(fetch, source=SOURCE, endpoint=f"GET {CHARGES}")

    def charges(self, start: date, end: date, tz: ZoneInfo) -> list[dict[str, Any]]:
        return [row for page in self.charge_pages(start, end, tz) for row in page]

    def first_charges_before(
        self,
        rows: list[dict[str, Any]],
        start: date,
        tz: ZoneInfo,
        *,
        known: Container[str] = frozenset(),
        charges_per_day: float | None = None,
    ) -> list[dict[str, Any]]:
        """For each customer of ``rows`` (charges of a window starting on ``start``) created
        before the window and not in ``known`` (customers whose earlier charges the caller has
        already), its first succeeded charge before the window, if it had one: one row per such
        customer (``customer``, ``charge_id``, ``created_at``, ``created_day``, ``currency``).

        With ``charges_per_day`` (the window's rate, to estimate the cost), the customers created
        shortly before the window are resolved by one listing of every charge since the earliest
        of them (:func:`span_plan`) when that takes fewer requests; the others get one listing
        each. Customers created in or after the window have every charge in or after it."""
        created = {
            customer: at
            for customer, at in customers_created_before(rows, start, tz).items()
            if customer not in known
        }
        firsts: dict[str, dict[str, Any]] = {}
        resolved: set[str] = set()
        plan = span_plan(created, start, tz, charges_per_day, self.page_limit)
        if plan is not None:
            since, budget = plan
            resolved, firsts = self._firsts_since(created, since, start, tz, budget)
        for customer in sorted(set(created) - resolved):
            params = {
                "customer": customer,
                "created[lt]": epoch_seconds(start, tz),
                "limit": self.page_limit,
            }
            earlier = [row for page in self._pages(params, tz) for row in page]
            if first := earliest_succeeded(earlier):
                firsts[customer] = first
        return [
            {
                "customer": customer,
                "charge_id": first["id"],
                "created_at": first["created_at"],
                "created_day": first["created_day"],
                "time_zone": first["time_zone"],
                "currency": first["currency"],
            }
            for customer, first in sorted(firsts.items())
        ]

    def _firsts_since(
        self,
        created: dict[str, datetime],
        since: datetime,
        start: date,
        tz: ZoneInfo,
        budget: int,
    ) -> tuple[set[str], dict[str, dict[str, Any]]]:
        """List every charge created from ``since`` (naive UTC) to the window, at most ``budget``
        pages: the customers of ``created`` this resolves (created after the oldest charge the
        pages reached, all of them when the listing ended) and their first succeeded charges."""
        params = {
            "created[gte]": int(since.replace(tzinfo=UTC).timestamp()),
            "created[lt]": epoch_seconds(start, tz),
            "limit": self.page_limit,
        }
        firsts: dict[str, dict[str, Any]] = {}
        reached: datetime | None = None
        pages = self._pages(params, tz)
        for n, page in enumerate(pages, start=1):
            for row in page:
                customer = row["customer"]
                if customer in created and row["status"] == "succeeded":
                    seen = firsts.get(customer)
                    if seen is None or (row["created_at"], row["id"]) < (
                        seen["created_at"],
                        seen["id"],
                    ):
                        firsts[customer] = row
            if page:
                reached = page[-1]["created_at"]  # newest first: every later charge is listed
            if n >= budget:
                break
        else:
            reached = None  # the listing ended: every charge since ``since`` was seen
        resolved = {
            customer
            for customer, at in created.items()
            if at >= since and (reached is None or at > reached)
        }
        return resolved, {c: firsts[c] for c in resolved if c in firsts}
