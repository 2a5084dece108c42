"""FX rates: ECB euro reference rates of every currency the ECB publishes.

raw.fx__ecb_rates  currency x publication day: units of the currency per euro (by key)

One request (``D..EUR.SP00.A``: every currency) per window, so FX needs nothing from the other
sources or the warehouse: any currency a source lands has its rates (dbt converts what it needs).
Rates are fetched from the start of the window's ISO week and month (the KPI periods it
recomputes, e.g. content ROI's costs of pieces published earlier that month), and a week before
that, so a period starting on a weekend or holiday has the last published rate to carry forward
(dbt fills the gaps).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from pipelines.connectors.framework import (
    Batch,
    Config,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    fixed_lookback,
)
from pipelines.connectors.ingest import MONEY_TYPE
from sources.ecb import DEFAULT_BASE_URL, EcbClient

CARRY_BACK_DAYS = 7
ACCOUNT = "ECB"
SCHEMA = pa.schema(
    [
        ("currency", pa.string()),
        ("rate_date", pa.date32()),
        ("units_per_eur", MONEY_TYPE),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def first_rate_day(start: date) -> date:
    """First publication day to fetch for a window starting on ``start``."""
    period_start = min(start.replace(day=1), start - timedelta(days=start.weekday()))
    return period_start - timedelta(days=CARRY_BACK_DAYS)


def connect(config: Config) -> EcbClient:
    return EcbClient(config.require("FX_BASE_URL"), **config.http_options())


def extract(client: EcbClient, window: Window, config: Config) -> Iterator[Batch | dict[str, Any]]:
    rows = client.all_rates(first_rate_day(window.start), window.last)
    yield Batch(
        "rates",
        [{**row, "_account_id": ACCOUNT, "_partition_date": row["rate_date"]} for row in rows],
    )
    yield {"currencies": ", ".join(sorted({str(row["currency"]) for row in rows}))}


def check(client: EcbClient, config: Config) -> str:
    """The last week's USD rates (the ECB needs no credentials: this checks the address)."""
    today = date.today()
    rows = client.rates(["USD"], today - timedelta(days=7), today)
    return f"{len(rows)} USD rate(s) in the last 7 days"


SOURCE = Source(
    name="fx",
    title="FX (ECB)",
    description="ECB euro reference rates of every published currency",
    settings=(Setting("FX_BASE_URL", "ECB Data Portal host", default=DEFAULT_BASE_URL),),
    tables=(
        RawTable(
            "rates",
            "raw.fx__ecb_rates",
            SCHEMA,
            "ECB euro reference rates, currency x publication day",
            Replace.KEYS,
            keys=("currency", "rate_date"),
        ),
    ),
    lookback=fixed_lookback(1),
    connect=connect,
    accounts=lambda config: [ACCOUNT],
    extract=extract,
    check=check,
    docs="docs/sources/ecb.md",
)
