"""Other marketing costs: monthly costs no API reports (tools, agency, content), from a CSV file.

raw.marketing_costs__monthly  month x category: amount in its currency (the whole file, every run)

The file (``MARKETING_COSTS_PATH``, default ``config/marketing_costs.csv``) is edited by people, so
it is validated line by line and a bad line fails the asset naming file, line, column, value and
fix. Columns: ``month`` (YYYY-MM), ``category``, ``amount`` (major units, dot decimal), ``currency``
(ISO 4217) and optional ``until`` (YYYY-MM: the same amount every month from ``month`` to ``until``)
and ``note``. Lines starting with ``#`` are comments. dbt spreads each month's amount evenly over
its days (``int_marketing_costs_daily``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.connectors.framework import (
    Batch,
    Config,
    LoadOutcome,
    RawTable,
    Replace,
    Setting,
    Source,
    SourceCheck,
    Window,
    lookback_setting,
)
from pipelines.connectors.paid_ads import ADS_LOOKBACK, MONEY

NAME = "marketing_costs"
SETTING = "MARKETING_COSTS_PATH"
DEFAULT_MARKETING_COSTS_PATH = "config/marketing_costs.csv"
CHECK_COVERAGE = "costs_cover_window"
REQUIRED = ("month", "category", "amount", "currency")
SCHEMA = pa.schema(
    [
        ("month", pa.date32()),
        ("category", pa.string()),
        ("amount", MONEY),
        ("currency", pa.string()),
        ("note", pa.string()),
        ("source_line", pa.int64()),
        ("_loaded_at", pa.timestamp("us")),
    ]
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class MarketingCostsError(ValueError):
    """A line of the costs file is invalid; the message says where, what and how to fix it."""

    def __init__(self, path: str, line: int | None, column: str, value: Any, fix: str) -> None:
        where = f"{path} line {line}" if line else path
        super().__init__(
            f"[marketing_costs] {where}, column {column}: {value!r} is invalid. Fix: {fix}"
        )


def _month(text: str, path: str, line: int, column: str) -> date:
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise MarketingCostsError(
            path, line, column, text, "write the month as YYYY-MM, e.g. 2025-03"
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def parse_costs_csv(text: str, path: str = "marketing_costs.csv") -> list[dict[str, Any]]:
    """Validated rows ``{month, category, amount, currency, note, source_line}``, one per month
    (an ``until`` row becomes one row per month). Duplicate month x category is an error."""
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    lines = [line for _, line in numbered]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MarketingCostsError(
            path,
            1,
            ",".join(missing),
            ",".join(header),
            f"the header must be {','.join(REQUIRED)}[,until,note]",
        )
    data_lines = [n for n, _ in numbered[1:]]  # line numbers in the file, for error messages
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[date, str], int] = {}
    for record, line in zip(reader, data_lines, strict=False):
        if None in record:  # more fields than the header: typically a decimal comma
            raise MarketingCostsError(
                path,
                line,
                "(line)",
                ",".join(str(v) for v in record.values() if not isinstance(v, list)),
                "the line has more fields than the header; write amounts with a dot decimal "
                "and quote text that contains commas",
            )
        record = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
        if not any(record.values()):
            continue
        month = _month(record["month"], path, line, "month")
        until = _month(record["until"], path, line, "until") if record.get("until") else month
        if until < month:
            raise MarketingCostsError(
                path, line, "until", record["until"], "until must not be before month"
            )
        category = record["category"]
        if not category:
            raise MarketingCostsError(
                path, line, "category", category, "name the cost, e.g. tools or agency"
            )
        try:
            amount = Decimal(record["amount"])
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise MarketingCostsError(
                path,
                line,
                "amount",
                record["amount"],
                "a number >= 0 in major units with a dot decimal, no thousands separator",
            )
        currency = record["currency"].upper()
        if not _CURRENCY.match(currency):
            raise MarketingCostsError(
                path, line, "currency", record["currency"], "an ISO 4217 code such as USD or EUR"
            )
        current = month
        while current <= until:
            if (current, category) in seen:
                raise MarketingCostsError(
                    path,
                    line,
                    "month/category",
                    f"{current:%Y-%m} {category}",
                    f"already given on line {seen[(current, category)]}; merge the two lines",
                )
            seen[(current, category)] = line
            rows.append(
                {
                    "month": current,
                    "category": category,
                    "amount": amount,
                    "currency": currency,
                    "note": record.get("note") or None,
                    "source_line": line,
                }
            )
            current = _next_month(current)
    return rows


def load_costs_file(file: Path) -> list[dict[str, Any]]:
    return parse_costs_csv(file.read_text(encoding="utf-8-sig"), str(file))


def _months_in(start: date, end: date) -> list[date]:
    """First days of the months overlapping ``start..end`` (end exclusive)."""
    months, current = [], start.replace(day=1)
    while current < end:
        months.append(current)
        current = _next_month(current)
    return months


def missing(config: Config) -> list[str]:
    """The file is the source: without it there are no other marketing costs."""
    path = config.require_path(SETTING)
    return [] if path.exists() else [f"{SETTING} (no marketing costs file at {path}: create it)"]


def extract(path: Path, window: Window, config: Config) -> Iterator[Batch | dict[str, Any]]:
    """The whole file, validated: a bad line fails the extraction naming file, line and fix."""
    rows = load_costs_file(path)
    now = datetime.now(UTC).replace(tzinfo=None)
    yield Batch(
        "monthly", pa.Table.from_pylist([{**r, "_loaded_at": now} for r in rows], schema=SCHEMA)
    )
    covered = sorted({r["month"] for r in rows})
    yield {
        "file": str(path),
        "months": len(covered),
        "months_covered": ", ".join(f"{m:%Y-%m}" for m in covered),
    }


def covers_window(outcome: LoadOutcome) -> dg.AssetCheckResult:
    """WARN naming the months of the window the file has no costs for."""
    covered = set(filter(None, outcome.metadata["months_covered"].split(", ")))
    months = _months_in(outcome.window.start, outcome.window.end)
    uncovered = [f"{m:%Y-%m}" for m in months if f"{m:%Y-%m}" not in covered]
    name = Path(outcome.metadata["file"]).name
    return dg.AssetCheckResult(
        check_name=CHECK_COVERAGE,
        asset_key=SOURCE.check_asset,
        passed=not uncovered,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"no marketing costs for {', '.join(uncovered)} in {name}"
        if uncovered
        else "every month of the window has costs",
        metadata={"months_without_costs": ", ".join(uncovered) or "none"},
    )


def check(path: Path, config: Config) -> str:
    """Validates the whole file (raises naming the first bad line)."""
    rows = load_costs_file(path)
    return f"{path}: {len(rows)} month x category cost(s), valid"


SOURCE = Source(
    name=NAME,
    title="Marketing costs",
    description="monthly marketing costs no API reports, from the MARKETING_COSTS_PATH CSV",
    settings=(
        Setting(
            SETTING,
            "CSV of monthly costs: month,category,amount,currency[,until,note] (relative to the "
            "project root)",
            default=DEFAULT_MARKETING_COSTS_PATH,
        ),
        ADS_LOOKBACK,
    ),
    tables=(
        RawTable(
            "monthly",
            "raw.marketing_costs__monthly",
            SCHEMA,
            "month x category amounts, validated, rewritten whole on every run",
            Replace.TABLE,
        ),
    ),
    # Not data of a day; the window's months are checked for costs over the days the ad
    # platforms re-pull (digital.roi is recomputed for them).
    lookback=lookback_setting(ADS_LOOKBACK.name),
    connect=lambda config: config.require_path(SETTING),
    accounts=lambda config: [NAME],
    extract=extract,
    check=check,
    checks=(
        SourceCheck(
            CHECK_COVERAGE,
            "WARN when a month of the window has no marketing costs in the file "
            "(digital.roi then counts ad spend only).",
            covers_window,
        ),
    ),
    missing=missing,
    docs="docs/sources/marketing_costs.md",
)
