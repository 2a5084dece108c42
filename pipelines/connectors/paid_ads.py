"""What the ads ingestion assets (Google Ads, Meta Ads) share: the account-day table and the load.

Each platform lands two raw tables per window and account:

- ``raw.<platform>__campaign_*``: the campaign-days the API returned (days without delivery are
  absent; dbt fills them with zeros),
- ``raw.<platform>__accounts``: one row per account and day pulled, with the account's currency and
  time zone. It records which days were pulled (the zero-fill spine) and gives FX the currency even
  for an account that spent nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.connectors.ingest import arrow_table, configured, load_metadata, schema_check
from pipelines.warehouse.raw_loader import LoadResult, replace_window
from pipelines.warehouse.resource import WarehouseResource

MONEY = pa.decimal128(18, 6)  # explicit: inferred decimals vary in precision between loads


@dataclass
class AdsPull:
    """Everything pulled for one window: campaign-day rows and account-day rows."""

    campaigns: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    currencies: dict[str, str | None] = field(default_factory=dict)

    def add_account(self, account_id: str, info: dict[str, Any], start: date, end: date) -> None:
        """One row per day of ``start..end`` (inclusive) for the account."""
        day = start
        while day <= end:
            self.accounts.append(
                {**info, "date": day, "_account_id": account_id, "_partition_date": day}
            )
            day += timedelta(days=1)

    def add_campaigns(self, account_id: str, rows: list[dict[str, Any]]) -> None:
        self.campaigns.extend(
            {**row, "_account_id": account_id, "_partition_date": row["date"]} for row in rows
        )


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    full = schema.append(pa.field("_account_id", pa.string())).append(
        pa.field("_partition_date", pa.date32())
    )
    return arrow_table([{name: row.get(name) for name in full.names} for row in rows], full)


def load_and_report(
    context: dg.AssetExecutionContext,
    *,
    warehouse: WarehouseResource,
    pull: AdsPull,
    accounts: list[str],
    start: date,
    end: date,
    window: str,
    tables: dict[str, str],
    schemas: dict[str, pa.Schema],
    keys: dict[str, dg.AssetKey],
    check_asset: dg.AssetKey,
    extra: Callable[[str], dict[str, Any]],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Replace the window's rows of every table and yield the materializations and checks."""
    rows = {"campaigns": pull.campaigns, "accounts": pull.accounts}
    results: dict[str, LoadResult] = {}
    with warehouse.connect() as con:
        for name, table in tables.items():
            results[name] = replace_window(
                con,
                table,
                _table(rows[name], schemas[name]),
                account_ids=accounts,
                start=start,
                end=end,
                run_id=context.run.run_id,
            )
    for name, key in keys.items():
        yield dg.MaterializeResult(
            asset_key=key, metadata=load_metadata(results[name], window, **extra(name))
        )
    yield configured(check_asset, accounts)
    yield schema_check(context, check_asset, results.values(), window)
