"""FX rates: ECB euro reference rates for every currency the raw tables hold.

raw.fx__ecb_rates  currency x publication day: units of the currency per euro

Rates are fetched from the start of the window's ISO week and month (the KPI periods it
recomputes, e.g. content ROI's costs of pieces published earlier that month), and a week before
that, so a period starting on a weekend or holiday has the last published rate to carry forward
(dbt fills the gaps).
"""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb

from pipelines.connectors import (
    content_costs,
    ga4,
    google_ads,
    hubspot,
    marketing_costs,
    meta_ads,
    stripe,
)
from pipelines.connectors.ingest import arrow_table, load_metadata, window_label
from pipelines.connectors.resources import FxResource
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import replace_keys
from pipelines.warehouse.resource import WarehouseResource

SOURCE = "fx"
TABLE = "raw.fx__ecb_rates"
KEY = dg.AssetKey(["raw", "fx__ecb_rates"])
LOOKBACK_DAYS = 1
# Every raw asset that can hold money: FX runs after them and reads their currencies.
MONEY_SOURCES = [
    ga4.KEYS["traffic"],
    ga4.KEYS["landing_pages"],
    stripe.SOURCE.table("charges").asset_key,
    hubspot.SOURCE.table("deals").asset_key,
    *(t.asset_key for s in (google_ads.SOURCE, meta_ads.SOURCE) for t in s.tables),
    *(t.asset_key for t in marketing_costs.SOURCE.tables),
    *(t.asset_key for t in content_costs.SOURCE.tables),
]
CURRENCY_COLUMNS = ("currency_code", "currency", "account_currency", "deal_currency_code")
CARRY_BACK_DAYS = 7


def first_rate_day(start: date) -> date:
    """First publication day to fetch for a window starting on ``start``."""
    period_start = min(start.replace(day=1), start - timedelta(days=start.weekday()))
    return period_start - timedelta(days=CARRY_BACK_DAYS)


def currencies_in_warehouse(con: duckdb.DuckDBPyConnection, reporting: str) -> list[str]:
    """Distinct upper-case currencies in any raw table's currency column, plus the reporting one."""
    columns = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' and lower(column_name) in "
        f"({', '.join('?' for _ in CURRENCY_COLUMNS)})",
        list(CURRENCY_COLUMNS),
    ).fetchall()
    found = {reporting.upper()}
    for table, column in columns:
        rows = con.execute(
            f'select distinct upper("{column}") from raw."{table}" where "{column}" is not null'
        ).fetchall()
        found.update(r[0] for r in rows)
    return sorted(found)


@dg.asset(
    key=KEY,
    group_name="raw_fx",
    kinds={"python", "duckdb"},
    deps=MONEY_SOURCES,
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
    description="ECB euro reference rates for the currencies in the raw tables (FX_BASE_URL).",
)
@reports_progress("fx")
def fx_rates(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, fx: FxResource
) -> Iterator[dg.MaterializeResult]:
    start, end = window_dates(context)
    window = window_label(start, end)
    with warehouse.connect() as con:
        currencies = currencies_in_warehouse(con, fx.reporting_currency())
    client = fx.client()
    rows = client.rates(currencies, first_rate_day(start), end - timedelta(days=1))
    data = [{**row, "_account_id": "ECB", "_partition_date": row["rate_date"]} for row in rows]
    with warehouse.connect() as con:
        result = replace_keys(
            con, TABLE, arrow_table(data), keys=["currency", "rate_date"], run_id=context.run.run_id
        )
    yield dg.MaterializeResult(
        asset_key=KEY,
        metadata=load_metadata(result, window, currencies=", ".join(currencies)),
    )
