"""Stripe: charges created in the window's reporting days, with their refunds as of now.

raw.stripe__charges    one row per charge: major-unit amounts, lower-case currency, reporting day
raw.stripe__sync_days  the reporting days whose charges were pulled (zero revenue is a real zero)
raw.stripe__customer_first_charges  per customer created before a pulled window: its first
                       succeeded charge before that window (replaced per customer), so a
                       returning customer never counts as new (sales.new_customers)

Charges change after creation (refunds, disputes, pending bank debits), so the daily run re-pulls
the last ``STRIPE_LOOKBACK_DAYS`` (default 30) days; a window replaces its rows whole (by the
created day), so a re-pull picks up every refund.

A customer's earlier charges are listed only when the warehouse does not know them already
(``Source.state``, read before extracting): not for a customer whose first charge is stored and
predates the window (a later listing would find the same charge, and its row stays: rows are
replaced per customer only when a batch has one), nor for a customer created on or after the
first of the synced days that run without a gap up to the window (every earlier charge of theirs
is in ``raw.stripe__charges``, which ``int_stripe_customer_first_charges`` reads too). Both trust
what the days were pulled with, as the revenue KPIs do. A change of ``KPI_TIMEZONE`` turns both
off until the stored rows are in the new zone (the reporting days differ).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from pipelines.connectors.coverage import sync_days_batch, sync_days_table
from pipelines.connectors.framework import (
    Batch,
    Config,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    lookback_setting,
)
from pipelines.lib.settings import kpi_timezone
from pipelines.warehouse.connection import existing_tables
from sources import stripe

DEFAULT_LOOKBACK_DAYS = 30
MONEY = pa.decimal128(18, 3)
CHARGES = pa.schema(
    [
        ("id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("created_day", pa.date32()),
        ("time_zone", pa.string()),
        ("status", pa.string()),
        ("currency", pa.string()),
        ("amount", MONEY),
        ("amount_captured", MONEY),
        ("amount_refunded", MONEY),
        ("amount_minor", pa.int64()),
        ("amount_refunded_minor", pa.int64()),
        ("captured", pa.bool_()),
        ("paid", pa.bool_()),
        ("refunded", pa.bool_()),
        ("disputed", pa.bool_()),
        ("refund_count", pa.int32()),
        ("customer", pa.string()),
        ("customer_created_at", pa.timestamp("us")),
        ("failure_code", pa.string()),
        ("livemode", pa.bool_()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)

# A customer's first succeeded charge before the pulled window, as Stripe lists it.
FIRST_CHARGES = pa.schema(
    [
        ("customer", pa.string()),
        ("charge_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("created_day", pa.date32()),
        ("time_zone", pa.string()),
        ("currency", pa.string()),
        ("_account_id", pa.string()),
    ]
)


def account(config: Config) -> list[str]:
    """The ``_account_id`` of the raw rows: the Connect account, else ``default``."""
    return [config.get("STRIPE_ACCOUNT") or "default"]


def connect(config: Config) -> stripe.StripeClient:
    return stripe.StripeClient(
        config.require("STRIPE_API_KEY"),
        base_url=config.require("STRIPE_BASE_URL"),
        api_version=config.require("STRIPE_API_VERSION"),
        account=config.get("STRIPE_ACCOUNT"),
        **config.http_options(),
    )


@dataclass(frozen=True)
class Known:
    """What the warehouse knows of the account's charges before an extraction."""

    # customer -> when its stored first charge was created (naive UTC), rows of the current zone
    first_charges: dict[str, datetime]
    # the days whose charges are stored, when every stored charge is in the current zone
    synced_days: frozenset[date]

    def covered_since(self, start: date) -> date:
        """The first of the synced days that run without a gap up to ``start`` (``start`` when
        the day before it is not synced)."""
        day = start
        while day - timedelta(days=1) in self.synced_days:
            day -= timedelta(days=1)
        return day

    def customers(self, created: dict[str, datetime], start: date, tz: ZoneInfo) -> set[str]:
        """Of the customers ``created`` before the window (id -> created, naive UTC), those whose
        earlier charges need no listing: a stored first charge before the window, or created
        since :meth:`covered_since`."""
        boundary = stripe.window_start_utc(start, tz)
        covered = stripe.window_start_utc(self.covered_since(start), tz)
        return {
            customer
            for customer, at in created.items()
            if (customer in self.first_charges and self.first_charges[customer] < boundary)
            or at >= covered
        }


def read_known(con: Any, config: Config) -> Known:
    """The account's stored first charges and synced days (``Source.state``): a few small reads,
    nothing when the tables do not exist yet."""
    zone = kpi_timezone().key
    (account_id,) = account(config)
    tables = existing_tables(
        con, "raw", ["stripe__charges", "stripe__sync_days", "stripe__customer_first_charges"]
    )
    first: dict[str, datetime] = {}
    if "stripe__customer_first_charges" in tables:
        first = dict(
            con.execute(
                "select customer, created_at from raw.stripe__customer_first_charges "
                "where _account_id = ? and time_zone = ?",
                [account_id, zone],
            ).fetchall()
        )
    days: frozenset[date] = frozenset()
    if {"stripe__sync_days", "stripe__charges"} <= tables:
        other_zone = con.execute(
            "select count(*) from raw.stripe__charges where _account_id = ? and time_zone <> ?",
            [account_id, zone],
        ).fetchone()
        if not other_zone or not other_zone[0]:
            days = frozenset(
                day
                for (day,) in con.execute(
                    "select _partition_date from raw.stripe__sync_days where _account_id = ?",
                    [account_id],
                ).fetchall()
            )
    return Known(first, days)


def extract(
    client: stripe.StripeClient, window: Window, config: Config
) -> Iterator[Batch | dict[str, Any]]:
    tz = kpi_timezone()
    (account_id,) = account(config)
    known: Known = config.state or Known({}, frozenset())
    currencies: set[str] = set()
    charges: list[dict[str, Any]] = []
    for page in client.charge_pages(window.start, window.end, tz):
        currencies |= {row["currency"] for row in page}
        charges += page
        yield Batch(
            "charges",
            [
                {**row, "_account_id": account_id, "_partition_date": row["created_day"]}
                for row in page
            ],
        )
    yield sync_days_batch(account_id, window)
    older = stripe.customers_created_before(charges, window.start, tz)
    skipped = known.customers(older, window.start, tz)
    first = client.first_charges_before(
        charges,
        window.start,
        tz,
        known=skipped,
        charges_per_day=len(charges) / (window.end - window.start).days,
    )
    yield Batch("customer_first_charges", [{**row, "_account_id": account_id} for row in first])
    yield {
        "time_zone": tz.key,
        "currencies": ", ".join(sorted(currencies)) or "none",
        "returning_customers_listed": len(older) - len(skipped),
        "returning_customers_known": len(skipped),
    }


def check(client: stripe.StripeClient, config: Config) -> str:
    """One charge listed: the key is valid and may read charges."""
    page = client.get_json(stripe.CHARGES, params={"limit": 1})
    return f"account {account(config)[0]}: charges readable ({len(page.get('data') or [])} listed)"


SOURCE = Source(
    name="stripe",
    title="Stripe",
    description="charges created in the window's reporting days, with their refunds as of now",
    settings=(
        Setting(
            "STRIPE_API_KEY",
            "Secret or read-only restricted key (bearer)",
            required=True,
            secret=True,
        ),
        Setting("STRIPE_BASE_URL", "API host", default=stripe.DEFAULT_BASE_URL),
        Setting("STRIPE_API_VERSION", "Pinned Stripe-Version", default=stripe.API_VERSION),
        Setting("STRIPE_ACCOUNT", "Connect account to read (Stripe-Account); blank: your own"),
        Setting(
            "STRIPE_LOOKBACK_DAYS",
            "Days re-pulled each morning (refunds and disputes arrive late)",
            default=str(DEFAULT_LOOKBACK_DAYS),
        ),
    ),
    tables=(
        RawTable(
            "charges",
            "raw.stripe__charges",
            CHARGES,
            "/v1/charges created in the window, one row per charge with its refunds",
        ),
        sync_days_table("stripe"),
        RawTable(
            "customer_first_charges",
            "raw.stripe__customer_first_charges",
            FIRST_CHARGES,
            "the first succeeded charge before the window of each returning customer",
            Replace.KEYS,
            keys=("_account_id", "customer"),
        ),
    ),
    lookback=lookback_setting("STRIPE_LOOKBACK_DAYS"),
    connect=connect,
    accounts=account,
    extract=extract,
    check=check,
    personal_data=True,
    docs="docs/sources/stripe.md",
    state=read_known,
)
