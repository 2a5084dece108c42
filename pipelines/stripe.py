"""Stripe ingestion: charges created in the partition window, with their refunds as of now.

raw.stripe__charges    one row per charge: major-unit amounts, lower-case currency, reporting day
raw.stripe__sync_days  the reporting days whose charges were pulled (zero revenue is a real zero)
raw.stripe__customer_first_charges  per customer created before a pulled window: its first
                       succeeded charge before that window (``replace_keys`` per customer), so a
                       returning customer never counts as new (sales.new_customers)

Charges change after creation (refunds, disputes, pending bank debits), so the daily schedule
re-pulls the last ``STRIPE_LOOKBACK_DAYS`` (default 30) days; a window replaces its rows whole
(``replace_window`` on the created day), so a re-pull picks up every refund.
"""

from collections.abc import Iterator

import dagster as dg
import pyarrow as pa

from pipelines.coverage import sync_days
from pipelines.ingest import (
    arrow_table,
    configured,
    configured_check_spec,
    load_metadata,
    not_configured,
    schema_check,
    schema_check_spec,
    window_label,
)
from pipelines.partitions import WAREHOUSE_POOL, daily_partitions, single_run_backfill, window_dates
from pipelines.progress import reports_progress
from pipelines.raw_loader import replace_keys, replace_window
from pipelines.resources import WarehouseResource
from pipelines.resources_business import StripeResource, reporting_zone
from pipelines.settings import env

SOURCE = "stripe"
DEFAULT_LOOKBACK_DAYS = 30
TABLES = {
    "charges": "raw.stripe__charges",
    "sync_days": "raw.stripe__sync_days",
    "customer_first_charges": "raw.stripe__customer_first_charges",
}
KEYS = {name: dg.AssetKey(table.split(".")) for name, table in TABLES.items()}
MONEY = pa.decimal128(18, 3)
CHARGES_SCHEMA = pa.schema(
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

# Issue 17: a customer's first succeeded charge before the pulled window (from the provider).
FIRST_CHARGES_SCHEMA = pa.schema(
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


def lookback_days() -> int:
    """``STRIPE_LOOKBACK_DAYS``: how many days the daily run re-pulls (refunds arrive late)."""
    raw = env("STRIPE_LOOKBACK_DAYS", str(DEFAULT_LOOKBACK_DAYS)) or ""
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"STRIPE_LOOKBACK_DAYS={raw!r} must be a whole number of days >= 1")
    return int(raw)


@dg.multi_asset(
    name="stripe_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_stripe",
            kinds={"python", "duckdb"},
            description=f"Stripe /v1/charges landed in {TABLES[name]} (see pipelines/stripe.py).",
            metadata={"table": TABLES[name], "lookback_days": DEFAULT_LOOKBACK_DAYS},
        )
        for name, key in KEYS.items()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["charges"]),
        schema_check_spec(SOURCE, KEYS["charges"]),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("stripe")
def stripe_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, stripe: StripeResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull the charges created in the window's reporting days and replace that window."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = stripe.missing_settings()
    if missing:
        yield from not_configured(context, SOURCE, missing, KEYS.values(), KEYS["charges"], window)
        return
    tz = reporting_zone()
    account = stripe.account_id()
    client = stripe.client()
    rows = [
        {**row, "_account_id": account, "_partition_date": row["created_day"]}
        for row in client.charges(start, end, tz)
    ]
    first_charges = [  # issue 17: one extra client call
        {**row, "_account_id": account} for row in client.first_charges_before(rows, start, tz)
    ]
    context.log.info(f"stripe: {len(rows)} charges in {client.requests_made} requests")
    with warehouse.connect() as con:
        charges = replace_window(
            con,
            TABLES["charges"],
            arrow_table(rows, CHARGES_SCHEMA),
            account_ids=[account],
            start=start,
            end=end,
            run_id=context.run.run_id,
        )
        days = replace_window(
            con,
            TABLES["sync_days"],
            sync_days(account, start, end),
            account_ids=[account],
            start=start,
            end=end,
            run_id=context.run.run_id,
        )
        first = replace_keys(  # issue 17: the earlier first charges, per customer
            con,
            TABLES["customer_first_charges"],
            arrow_table(first_charges, FIRST_CHARGES_SCHEMA),
            keys=["_account_id", "customer"],
            run_id=context.run.run_id,
        )
    currencies = sorted({r["currency"] for r in rows})
    yield dg.MaterializeResult(
        asset_key=KEYS["charges"],
        metadata=load_metadata(
            charges,
            window,
            time_zone=tz.key,
            currencies=", ".join(currencies) or "none",
            api_requests=client.requests_made,
        ),
    )
    yield dg.MaterializeResult(asset_key=KEYS["sync_days"], metadata=load_metadata(days, window))
    yield dg.MaterializeResult(
        asset_key=KEYS["customer_first_charges"], metadata=load_metadata(first, window)
    )
    yield configured(KEYS["charges"], [account])
    yield schema_check(context, KEYS["charges"], [charges], window)
