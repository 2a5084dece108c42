"""Stripe skips the earlier-charge listing of customers the warehouse knows already
(``Source.state``): the first charges stored and the new-customer counts are those of a pull that
lists every returning customer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import stripe
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.framework import Source
from pipelines.warehouse.resource import WarehouseResource
from sources import stripe as stripe_client
from sources.emulators import stripe as stripe_emulator
from tests.e2e import query, run_dbt

NOW = datetime(2025, 3, 20, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
# A backfill, the next morning's daily window (partly synced already), the same window again.
PULLS = [
    (date(2025, 3, 1), date(2025, 3, 5)),
    (date(2025, 3, 3), date(2025, 3, 6)),
    (date(2025, 3, 3), date(2025, 3, 6)),
]
FIRST_CHARGES = (
    "select * exclude (_loaded_at, _source_run_id) "
    "from raw.stripe__customer_first_charges order by all"
)
NEW_CUSTOMERS = (
    "select date_day, account_id, currency_code, new_customers "
    "from marts.fct_sales_daily order by all"
)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_TIMEZONE", "UTC")


def pull(stack, source: Source, database: Path, first: date, last: date) -> list[str]:
    """One Stripe run over ``first..last`` into ``database``: the customers listed one by one."""
    listed = len(stack.stripe.customer_listings)
    result = dg.materialize(
        connector_assets([source]),
        resources={
            "warehouse": WarehouseResource(path=str(database)),
            **connector_resources(
                [source],
                {
                    "STRIPE_API_KEY": stripe_emulator.DEMO_API_KEY,
                    "STRIPE_BASE_URL": stack.server.base_url,
                },
            ),
        },
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    assert result.success
    return stack.stripe.customer_listings[listed:]


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def customers(stack, first: date, last: date) -> set[str]:
    """The customers with a charge in ``first..last``, from the emulated company."""
    return {
        c.customer
        for day in (first + timedelta(days=i) for i in range((last - first).days + 1))
        for c in stack.stripe.activity.charges_on(day)
        if c.customer
    }


def first_succeeded(stack, customer: str, before: date) -> datetime | None:
    """When the customer's first succeeded charge before ``before`` was created, if any."""
    charges = stack.stripe.activity.customer_charges(customer, before)
    times = [c.created for c in charges if c.status(NOW) == "succeeded" and c.created < at(before)]
    return min(times, default=None)


def unknowable(stack, pulls: list[tuple[date, date]]) -> set[str]:
    """The customers of the last pull that the pulls before it leave unknown: created before the
    first synced day, and no earlier pull stored a first charge of theirs before its window."""
    created = stack.stripe.activity.customer_created
    synced_from, (first, last) = pulls[0][0], pulls[-1]
    stored = {
        customer
        for start, end in pulls[:-1]
        for customer in customers(stack, start, end)
        if created(customer) < at(start) and first_succeeded(stack, customer, start)
    }
    return {
        customer
        for customer in customers(stack, first, last)
        if created(customer) < at(synced_from) and customer not in stored
    }


def test_known_customers_are_not_listed_and_the_new_customers_do_not_change(
    stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the listing of issue 17 (every returning customer, one listing each), over a
    backfill, the next day's window and the same window again."""
    stack.stripe.now = lambda: NOW
    baseline = dataclasses.replace(stripe.SOURCE, state=None)  # knows no one
    skipping, every = tmp_path / "skipping.duckdb", tmp_path / "every.duckdb"
    listed, requests, baseline_requests = [], [], []
    for first, last in PULLS:
        made = len(stack.server.requests)
        listed.append(pull(stack, stripe.SOURCE, skipping, first, last))
        requests.append(len(stack.server.requests) - made)
        with monkeypatch.context() as one_by_one:
            one_by_one.setattr(stripe_client, "span_plan", lambda *args, **kwargs: None)
            made = len(stack.server.requests)
            pull(stack, baseline, every, first, last)
            baseline_requests.append(len(stack.server.requests) - made)
    # The backfill lists the charges before the window once instead of each customer's.
    assert requests[0] < baseline_requests[0] / 2
    # Later pulls list only the customers nothing stored can vouch for, once each.
    for i in (1, 2):
        assert sorted(listed[i]) == sorted(unknowable(stack, PULLS[: i + 1]))
        assert requests[i] < baseline_requests[i] / 2
    # The same window again lists only customers without a succeeded charge before it: there is
    # nothing for them to find.
    assert all(first_succeeded(stack, c, PULLS[2][0]) is None for c in listed[2])
    # No stored row is lost or changed. The rows only the listing pulls have are of customers
    # created on synced days: that first charge is a stored charge, which the dbt model reads too.
    kept, listed_rows = set(query(skipping, FIRST_CHARGES)), set(query(every, FIRST_CHARGES))
    assert kept < listed_rows
    held = query(
        skipping, "select customer, id from raw.stripe__charges where status = 'succeeded'"
    )
    assert {(row[0], row[1]) for row in listed_rows - kept} <= set(held)
    for database in (skipping, every):
        built = run_dbt(database, "run", "--select", "+fct_sales_daily")
        assert built.returncode == 0, built.stdout[-3000:]
    counts = query(skipping, NEW_CUSTOMERS)
    assert sum(row[-1] for row in counts) > 0
    assert counts == query(every, NEW_CUSTOMERS)


def state(con: duckdb.DuckDBPyConnection) -> stripe.Known:
    return stripe.read_known(con, stripe.SOURCE.config({"STRIPE_API_KEY": "sk_test_x"}))


def test_the_state_of_an_empty_warehouse_knows_nothing() -> None:
    with duckdb.connect() as con:
        assert state(con) == stripe.Known({}, frozenset())


def test_rows_of_another_time_zone_are_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.stripe__customer_first_charges as select 'cus_1' as customer, "
            "timestamp '2025-01-02 03:00' as created_at, 'UTC' as time_zone, "
            "'default' as _account_id"
        )
        con.execute(
            "create table raw.stripe__charges as "
            "select 'UTC' as time_zone, 'default' as _account_id"
        )
        con.execute(
            "create table raw.stripe__sync_days as "
            "select date '2025-01-05' as _partition_date, 'default' as _account_id"
        )
        assert state(con) == stripe.Known(
            {"cus_1": datetime(2025, 1, 2, 3)}, frozenset([date(2025, 1, 5)])
        )
        monkeypatch.setenv("KPI_TIMEZONE", "Europe/Berlin")
        assert state(con) == stripe.Known({}, frozenset())


def test_a_customer_is_known_by_a_stored_first_charge_or_synced_days_since_it_was_created() -> None:
    start = date(2025, 3, 10)
    known = stripe.Known(
        {"cus_stored": datetime(2025, 2, 1), "cus_later": datetime(2025, 3, 12)},
        frozenset([date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 5)]),
    )
    assert known.covered_since(start) == date(2025, 3, 7)  # the gap on the 6th ends it
    created = {
        "cus_stored": datetime(2025, 1, 1),
        "cus_later": datetime(2025, 1, 1),  # stored from a later window: not before this one
        "cus_synced": datetime(2025, 3, 7, 0, 0),
        "cus_gap": datetime(2025, 3, 6, 23, 59),
        "cus_unknown": datetime(2025, 2, 1),
    }
    assert known.customers(created, start, UTC_ZONE) == {"cus_stored", "cus_synced"}
    assert stripe.Known({}, frozenset()).covered_since(start) == start
