"""What the ad platforms (Google Ads, Meta Ads) share: the account-day spine and the lookback.

Each platform lands two raw tables per window and account:

- ``raw.<platform>__campaign_*``: the campaign-days the API returned (days without delivery are
  absent; dbt fills them with zeros),
- ``raw.<platform>__accounts``: one row per account and day pulled, with the account's currency and
  time zone. It records which days were pulled (the zero-fill spine) and gives FX the currency even
  for an account that spent nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import Batch, Config, Setting, Window

MONEY = pa.decimal128(18, 6)  # explicit: inferred decimals vary in precision between loads
DEFAULT_LOOKBACK_DAYS = 28  # both platforms attribute conversions up to 28 days after the click
LOADER_COLUMNS = [("_account_id", pa.string()), ("_partition_date", pa.date32())]
ADS_LOOKBACK = Setting(
    "ADS_LOOKBACK_DAYS",
    "Days every ad platform re-pulls each morning (conversions are attributed late)",
    default=str(DEFAULT_LOOKBACK_DAYS),
)


def ads_lookback(setting: str) -> Callable[[Config], int]:
    """``<PLATFORM>_LOOKBACK_DAYS``, else ``ADS_LOOKBACK_DAYS``, else 28."""
    return lambda config: config.days(setting if config.get(setting) else ADS_LOOKBACK.name)


def with_loader_columns(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema([*fields, *LOADER_COLUMNS])


def account_days(
    account_id: str, info: dict[str, Any], window: Window, schema: pa.Schema
) -> list[dict[str, Any]]:
    """One row per day of the window for the account: the zero-fill spine."""
    return [
        _only(schema, {**info, "date": day, "_account_id": account_id, "_partition_date": day})
        for day in window.days()
    ]


def campaign_days(
    account_id: str, rows: list[dict[str, Any]], schema: pa.Schema
) -> list[dict[str, Any]]:
    return [
        _only(schema, {**row, "_account_id": account_id, "_partition_date": row["date"]})
        for row in rows
    ]


def _only(schema: pa.Schema, row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in schema.names}


def extract_accounts(
    accounts: list[str],
    window: Window,
    *,
    account: Callable[[str], dict[str, Any]],
    campaigns: Callable[[str, date, date], list[dict[str, Any]]],
    currency_field: str,
    schemas: tuple[pa.Schema, pa.Schema],
    accounts_label: str = "accounts",
) -> Iterator[Batch | dict[str, Any]]:
    """Per account: its day spine (``account`` info) and its campaign-days (``campaigns`` over the
    window, inclusive); then the accounts (under ``accounts_label``) and their currencies as
    metadata.
    ``schemas`` are the (campaigns, accounts) tables'."""
    campaign_schema, account_schema = schemas
    currencies = {}
    for account_id in accounts:
        info = account(account_id)
        currencies[account_id] = info[currency_field]
        yield Batch("accounts", account_days(account_id, info, window, account_schema))
        rows = campaigns(account_id, window.start, window.last)
        yield Batch("campaigns", campaign_days(account_id, rows, campaign_schema))
    yield {
        accounts_label: ", ".join(currencies),
        "currencies": ", ".join(f"{a}={v}" for a, v in currencies.items()),
    }


def describe_accounts(names: list[Any], kind: str) -> str:
    """``kpi doctor``'s line: the accounts the credentials reach."""
    return f"{len(names)} {kind}(s): {', '.join(str(n) for n in names)}"
