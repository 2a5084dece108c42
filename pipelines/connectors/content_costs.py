"""Content costs: the editable production-cost file, one line per content piece.

raw.content_costs__costs  CONTENT_COSTS_FILE (url, cost, currency[, published_date, title]), whole

Not data of a day: the whole file replaces the table whatever the window. A line that cannot be
parsed is left out and named by the ``cost_lines_parsed`` check (content ROI would overstate).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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
    fixed_lookback,
)
from sources.content_costs import parse_costs

NAME = "content_costs"
SETTING = "CONTENT_COSTS_FILE"
DEFAULT_COSTS_FILE = "config/content_costs.csv"
CHECK_COST_LINES = "cost_lines_parsed"
MAX_REPORTED_ERRORS = 20
COST_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("path", pa.string()),
        ("cost", pa.decimal128(18, 2)),
        ("currency", pa.string()),
        ("published_date", pa.date32()),
        ("title", pa.string()),
        ("line", pa.int64()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def missing(config: Config) -> list[str]:
    path = config.require_path(SETTING)
    return [] if path.is_file() else [f"{SETTING} ({path} not found)"]


def extract(path: Path, window: Window, config: Config) -> Iterator[Batch | dict[str, Any]]:
    parsed = parse_costs(path)
    today = datetime.now(UTC).date()
    yield Batch(
        "costs",
        [
            {**row, "_account_id": NAME, "_partition_date": row["published_date"] or today}
            for row in parsed.rows
        ],
    )
    yield {
        "file": str(path),
        "cost_lines": len(parsed.rows),
        "rejected_lines": len(parsed.errors),
        "rejected": "; ".join(parsed.errors[:MAX_REPORTED_ERRORS]),
    }


def lines_parsed(outcome: LoadOutcome) -> dg.AssetCheckResult:
    """ERROR listing the lines left out of the costs."""
    metadata = outcome.metadata
    return dg.AssetCheckResult(
        check_name=CHECK_COST_LINES,
        asset_key=SOURCE.check_asset,
        passed=not metadata["rejected_lines"],
        severity=dg.AssetCheckSeverity.ERROR,
        description=metadata["rejected"] or f"all {metadata['cost_lines']} cost line(s) parsed",
        metadata={"rejected_lines": metadata["rejected_lines"], "file": metadata["file"]},
    )


def check(path: Path, config: Config) -> str:
    parsed = parse_costs(path)
    return f"{path}: {len(parsed.rows)} cost line(s), {len(parsed.errors)} rejected"


SOURCE = Source(
    name=NAME,
    title="Content costs",
    description="production cost per content piece from CONTENT_COSTS_FILE",
    settings=(
        Setting(
            SETTING,
            "Production cost per piece: url,cost,currency[,published_date,title] (relative to "
            "the project root)",
            default=DEFAULT_COSTS_FILE,
        ),
    ),
    tables=(
        RawTable(
            "costs",
            "raw.content_costs__costs",
            COST_SCHEMA,
            "production cost per content piece, rewritten whole on every run",
            Replace.ACCOUNTS,
        ),
    ),
    lookback=fixed_lookback(1),  # the file is read whole: the window does not matter
    connect=lambda config: config.require_path(SETTING),
    accounts=lambda config: [NAME],
    extract=extract,
    check=check,
    checks=(
        SourceCheck(
            CHECK_COST_LINES,
            "ERROR listing cost-file lines (file:line) that were left out: content ROI would "
            "overstate until they are fixed.",
            lines_parsed,
        ),
    ),
    missing=missing,
    docs="docs/sources/wordpress-and-content-costs.md",
)
