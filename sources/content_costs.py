"""The editable production-cost file of content pieces (``CONTENT_COSTS_FILE``).

CSV with a header row. Columns (names case-insensitive):

| column | required | meaning |
|---|---|---|
| ``url`` | yes | the piece's URL or path (``https://site/blog/x/`` or ``/blog/x``) |
| ``cost`` | yes | production cost in major units (``850`` or ``850.00``; ``.`` decimal point) |
| ``currency`` | yes | ISO 4217 code (``USD``) |
| ``published_date`` | no | ``YYYY-MM-DD``; used when the piece is not in WordPress |
| ``title`` | no | display name when the piece is not in WordPress |

A bad line is reported with file and line number and left out; the other lines load.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REQUIRED = ("url", "cost", "currency")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass
class CostFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_costs(path: Path) -> CostFile:
    """Rows ``{url, path, cost (Decimal), currency, published_date, title, line}`` and errors."""
    result = CostFile()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return result
        names = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            result.errors.append(
                f"{path}:1: header lacks {', '.join(missing)}; expected url,cost,currency"
                "[,published_date,title]"
            )
            return result
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values) or values[0].lstrip().startswith("#"):
                continue
            if len(values) != len(names):
                result.errors.append(
                    f"{path}:{line}: {len(values)} fields, header has {len(names)}"
                )
                continue
            record = dict(zip(names, (v.strip() for v in values), strict=True))
            try:
                result.rows.append(_row(record, line))
            except ValueError as exc:
                result.errors.append(f"{path}:{line}: {exc}")
    return result


def _row(record: dict[str, str], line: int) -> dict[str, Any]:
    url = record["url"]
    if not url:
        raise ValueError("url is empty")
    try:
        cost = Decimal(record["cost"])
    except InvalidOperation:
        raise ValueError(f"cost {record['cost']!r} is not a number (use 850.00)") from None
    if cost < 0 or not cost.is_finite():
        raise ValueError(f"cost {record['cost']!r} must be a non-negative amount")
    currency = record["currency"].upper()
    if not _CURRENCY.match(currency):
        raise ValueError(f"currency {record['currency']!r} is not an ISO 4217 code like USD")
    published = record.get("published_date") or None
    try:
        published_date = date.fromisoformat(published) if published else None
    except ValueError:
        raise ValueError(f"published_date {published!r} is not YYYY-MM-DD") from None
    return {
        "url": url,
        "path": urlsplit(url).path or "/",
        "cost": cost,
        "currency": currency,
        "published_date": published_date,
        "title": record.get("title") or None,
        "line": line,
    }
