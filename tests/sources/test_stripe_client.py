"""StripeClient against the emulator, and parsing real-format Stripe objects (api-notes/stripe.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sources.emulators.server import Fault
from sources.emulators.stripe import DEMO_API_KEY
from sources.http import RetryPolicy, SchemaError, SourceError
from sources.stripe import (
    API_VERSION,
    StripeClient,
    parse_charge,
    parse_charges_page,
    span_plan,
    to_major,
)

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2025, 3, 20, tzinfo=UTC)
DAY = date(2025, 3, 3)

# A charge object in the shape stripe-mock's fixtures3.json `resources.charge` has, with the values
# the api-notes' parsing check gives for row 3 of Example 2: ¥10,000 presented in jpy.
JPY_CHARGE = {
    "id": "ch_3PzVa2B7WZ01zgkW6rStUvWx",
    "object": "charge",
    "amount": 10000,
    "amount_captured": 10000,
    "amount_refunded": 0,
    "balance_transaction": "txn_3PzVa2B7WZ01zgkW5i4j3k2l",
    "captured": True,
    "created": 1725161234,
    "currency": "jpy",
    "customer": None,
    "disputed": False,
    "livemode": False,
    "paid": True,
    "refunded": False,
    "status": "succeeded",
}
# The Fivetran seed amount from the api-notes (2,040,000 usd cents = $20,400.00), refunded in part.
USD_CHARGE = {
    **JPY_CHARGE,
    "id": "ch_3PzXq1B7WZ01zgkW1xYzAbCd",
    "amount": 2040000,
    "amount_captured": 2040000,
    "amount_refunded": 5000,
    "currency": "usd",
    "created": 1725213435,
    "customer": "cus_NffrFeUfNV2Hib",
}


@pytest.fixture
def client(stack, fast_retry) -> StripeClient:
    stack.stripe.now = lambda: NOW
    return StripeClient(
        DEMO_API_KEY, base_url=stack.server.base_url, retry=fast_retry, page_limit=50
    )


def test_minor_units_are_divided_by_each_currencys_own_exponent() -> None:
    assert to_major(2040000, "usd") == Decimal("20400.00")
    assert to_major(10000, "jpy") == Decimal("10000")  # zero-decimal: not divided
    assert to_major(26642, "kwd") == Decimal("26.642")  # three decimals
    assert to_major(1500, "BHD") == Decimal("1.5")
    assert to_major(999, "krw") == Decimal("999")


def test_a_real_format_charge_parses_to_major_units_its_currency_and_its_day() -> None:
    row = parse_charge(JPY_CHARGE, ZoneInfo("Asia/Tokyo"))
    assert row["amount"] == Decimal("10000")
    assert row["currency"] == "jpy"  # kept as Stripe sends it (FX upper-cases)
    assert row["created_at"] == datetime(2024, 9, 1, 3, 27, 14)  # UTC
    assert row["created_day"] == date(2024, 9, 1)
    usd = parse_charge(USD_CHARGE, ZoneInfo("America/Los_Angeles"))
    assert (usd["amount"], usd["amount_refunded"]) == (Decimal("20400.00"), Decimal("50.00"))
    assert usd["created_day"] == date(2024, 9, 1)  # 17:57 UTC is 10:57 in Los Angeles


def test_an_amount_that_is_not_an_integer_is_rejected_naming_the_field() -> None:
    with pytest.raises(SchemaError, match="field=amount"):
        parse_charge({**USD_CHARGE, "amount": "2040000"}, UTC_ZONE)


def test_a_page_that_is_not_a_list_object_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="list object"):
        parse_charges_page({"data": []}, UTC_ZONE)
    rows, has_more = parse_charges_page(
        {"object": "list", "url": "/v1/charges", "has_more": False, "data": [JPY_CHARGE]}, UTC_ZONE
    )
    assert (len(rows), has_more) == (1, False)


def test_paging_follows_starting_after_until_has_more_is_false(client, stack) -> None:
    rows = client.charges(DAY, date(2025, 3, 4), UTC_ZONE)
    expected = stack.stripe.activity.charges_on(DAY)
    assert sorted(r["id"] for r in rows) == sorted(c.id for c in expected)
    pages = -(-len(expected) // 50)
    assert client.requests_made == pages
    assert len({r["id"] for r in rows}) == len(rows)


def test_the_created_range_is_the_reporting_days_in_kpi_timezone(client) -> None:
    oslo = ZoneInfo("Europe/Oslo")
    rows = client.charges(DAY, date(2025, 3, 4), oslo)
    assert rows
    assert {r["created_day"] for r in rows} == {DAY}
    starts = [r["created_at"] for r in rows]
    assert min(starts) >= datetime(2025, 3, 2, 23)  # Oslo midnight is 23:00 UTC in winter
    assert max(starts) < datetime(2025, 3, 3, 23)


def test_the_api_version_is_pinned_on_every_request(client, stack) -> None:
    client.charges(DAY, date(2025, 3, 4), UTC_ZONE)
    assert stack.stripe.versions_seen and set(stack.stripe.versions_seen) == {API_VERSION}


def test_a_refund_made_after_the_first_pull_shows_on_the_next_pull(client, stack) -> None:
    stack.stripe.now = lambda: datetime(2025, 3, 4, tzinfo=UTC)
    early = {r["id"]: r["amount_refunded"] for r in client.charges(DAY, date(2025, 3, 4), UTC_ZONE)}
    stack.stripe.now = lambda: NOW
    late = {r["id"]: r["amount_refunded"] for r in client.charges(DAY, date(2025, 3, 4), UTC_ZONE)}
    assert early.keys() == late.keys()
    assert sum(late.values()) > sum(early.values())


def test_a_429_rate_limit_is_retried_with_backoff(client, stack, fast_retry) -> None:
    stack.stripe.rate_limit_every = 2
    rows = client.charges(DAY, date(2025, 3, 4), UTC_ZONE)
    assert len(rows) == len(stack.stripe.activity.charges_on(DAY))
    assert fast_retry.waits  # the 429s were waited out, not fatal


def test_stripe_should_retry_false_is_not_retried(client, stack) -> None:
    stack.server.inject(
        Fault(
            path="/v1/charges",
            status=429,
            body={
                "error": {
                    "code": "lock_timeout",
                    "message": "locked",
                    "type": "invalid_request_error",
                }
            },
            headers={"Stripe-Should-Retry": "false"},
        )
    )
    with pytest.raises(SourceError, match="locked"):
        client.charges(DAY, date(2025, 3, 4), UTC_ZONE)
    assert client.requests_made == 1


def test_a_bad_key_fails_with_stripes_message_and_the_key_redacted(stack) -> None:
    secret = "sk_test_wrong_key_0123456789"
    bad = StripeClient(secret, base_url=stack.server.base_url, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(SourceError) as caught:
        bad.charges(DAY, date(2025, 3, 4), UTC_ZONE)
    assert caught.value.status == 401
    assert "Invalid API Key provided" in str(caught.value)
    assert secret not in str(caught.value)


def test_has_more_on_an_empty_page_is_an_error_not_an_endless_loop(client, stack) -> None:
    stack.server.inject(
        Fault(
            path="/v1/charges",
            kind="transform",
            transform=lambda b: {**b, "data": [], "has_more": True},
        )
    )
    with pytest.raises(SchemaError, match="has_more"):
        client.charges(DAY, date(2025, 3, 4), UTC_ZONE)


def test_an_expanded_customer_gives_its_id_and_created_time() -> None:
    expanded = {**USD_CHARGE, "customer": {"id": "cus_Nf", "object": "customer", "created": 1}}
    row = parse_charge(expanded, UTC_ZONE)
    assert row["customer"] == "cus_Nf"
    assert row["customer_created_at"] == datetime(1970, 1, 1, 0, 0, 1)
    assert "customer_created_at" not in parse_charge(USD_CHARGE, UTC_ZONE)


def test_a_returning_customers_first_charge_before_the_window_comes_from_stripe(
    client, stack
) -> None:
    """Customers created before the window get their earlier charges listed; the earliest
    succeeded one is their first charge ever (the window alone would make them new)."""
    start, end = date(2025, 3, 10), date(2025, 3, 12)
    rows = client.charges(start, end, UTC_ZONE)
    before = client.requests_made
    found = client.first_charges_before(rows, start, UTC_ZONE)
    activity = stack.stripe.activity
    older = {
        r["customer"]
        for r in rows
        if r["customer"]
        and activity.customer_created(r["customer"]) < datetime(2025, 3, 10, tzinfo=UTC)
    }
    assert older and client.requests_made - before == len(older)  # one listing per such customer
    expected = {}
    for customer in older:
        earlier = [
            c
            for c in activity.customer_charges(customer, start)
            if c.status(NOW) == "succeeded" and c.created < datetime(2025, 3, 10, tzinfo=UTC)
        ]
        if earlier:
            expected[customer] = min(earlier, key=lambda c: (c.created, c.id)).id
    assert {f["customer"]: f["charge_id"] for f in found} == expected
    assert all(f["created_day"] < start for f in found)


def test_one_listing_of_the_charges_before_the_window_finds_the_same_first_charges(
    client, stack
) -> None:
    """Listing every charge since the earliest returning customers were created finds the first
    charges one listing per customer finds. Here the estimate (one charge a day) is far below the
    real rate: that listing stops at its budget, and the customers it did not reach get their
    own listings."""
    start, end = date(2025, 3, 10), date(2025, 3, 12)
    rows = client.charges(start, end, UTC_ZONE)
    before = client.requests_made
    one_by_one = client.first_charges_before(rows, start, UTC_ZONE)
    per_customer = client.requests_made - before
    before, listings = client.requests_made, len(stack.stripe.customer_listings)
    spanned = client.first_charges_before(rows, start, UTC_ZONE, charges_per_day=1.0)
    assert spanned == one_by_one
    one_each = len(stack.stripe.customer_listings) - listings
    assert client.requests_made - before - one_each == 4  # the budget: twice the estimate
    assert 0 < one_each < per_customer


def test_a_history_too_long_for_its_customers_is_not_listed_whole() -> None:
    start = date(2025, 3, 10)
    boundary = datetime(2025, 3, 10)
    # 100 customers created over the last 1,000 days of an account with 2,000 charges a day: one
    # listing would page through 20,000 pages; a hundred listings are cheaper.
    sparse = {f"cus_{i}": boundary - timedelta(days=10 * i + 1) for i in range(100)}
    assert span_plan(sparse, start, UTC_ZONE, 2000.0) is None
    # The same customers created over the last 10 days, ten charges a day: one page.
    dense = {f"cus_{i}": boundary - timedelta(hours=2.4 * i + 1) for i in range(100)}
    since, budget = span_plan(dense, start, UTC_ZONE, 10.0)
    assert since == min(dense.values()) and budget == 2  # a page a day: one page, at most two
    assert span_plan(dense, start, UTC_ZONE, None) is None
