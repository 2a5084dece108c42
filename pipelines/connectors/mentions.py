"""Mentions: social-listening export files dropped into ``MENTIONS_DIR``.

raw.mentions__mentions  one row per mention line of a file (``_file_name``, ``_line``)
raw.mentions__files     one row per loaded file: name, checksum, rows, rejected lines, date range

The files decide what is loaded, not the partition window: the extraction lands every export file
of the folder, and the load (this source's own, since it reads the warehouse) loads the files it
has not seen (by name and checksum), so a file is loaded once; a changed file (same name, new
checksum) replaces its own rows; a copy under another name is skipped. Mentions dated before the
run's window reach ``kpi_values`` when that range is rebuilt (the metadata says which range to
backfill).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

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
from pipelines.connectors.landing import Landing
from pipelines.lib.settings import kpi_timezone
from pipelines.warehouse.connection import existing_tables
from pipelines.warehouse.raw_loader import Connection, LoadResult, replace_keys
from sources.http import SourceError
from sources.mentions import checksum, discover, parse_file

NAME = "mentions"
MENTIONS_TABLE = "raw.mentions__mentions"
FILES_TABLE = "raw.mentions__files"
CHECK_LINES = "mention_lines_parsed"
MAX_REPORTED_ERRORS = 20

MENTION_SCHEMA = pa.schema(
    [
        ("mention_key", pa.string()),
        ("mention_id", pa.string()),
        ("mentioned_at", pa.timestamp("us")),
        ("mention_date", pa.date32()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("linked_url", pa.string()),
        ("text", pa.string()),
        ("matched_brand", pa.string()),
        ("_line", pa.int64()),
        ("_file_name", pa.string()),
        ("_file_checksum", pa.string()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)
FILE_SCHEMA = pa.schema(
    [
        ("file_name", pa.string()),
        ("checksum", pa.string()),
        ("rows_loaded", pa.int64()),
        ("lines_rejected", pa.int64()),
        ("first_date", pa.date32()),
        ("last_date", pa.date32()),
        ("errors", pa.string()),
    ]
)


def folder(config: Config) -> Path:
    path = config.path("MENTIONS_DIR")
    assert path is not None  # a required setting: not configured otherwise
    return path


def accounts(config: Config) -> list[str]:
    return [str(folder(config))]


def connect(config: Config) -> Path:
    """The exports folder (no API): an error naming the fix when it is not a folder."""
    directory = folder(config)
    if not directory.is_dir():
        raise SourceError(
            NAME,
            str(directory),
            "MENTIONS_DIR is not a directory",
            field="MENTIONS_DIR",
            value=str(directory),
            fix="create the folder or point MENTIONS_DIR at the folder the exports are saved to",
        )
    return directory


def mention_rows(parsed_rows: list[dict[str, Any]], name: str, digest: str) -> list[dict[str, Any]]:
    return [
        {
            **{k: v for k, v in row.items() if k != "line"},
            "_line": row["line"],
            "_file_name": name,
            "_file_checksum": digest,
            "_account_id": NAME,
            "_partition_date": row["mention_date"],
        }
        for row in parsed_rows
    ]


def extract(directory: Path, window: Window, config: Config) -> Iterator[Batch]:
    """Every export file of the folder, parsed (the load decides which are new)."""
    for path in discover(directory):
        digest = checksum(path)
        parsed = parse_file(path, kpi_timezone().key)
        dates = parsed.dates
        yield Batch("mentions", mention_rows(parsed.rows, path.name, digest))
        yield Batch(
            "files",
            pa.Table.from_pylist(
                [
                    {
                        "file_name": path.name,
                        "checksum": digest,
                        "rows_loaded": len(parsed.rows),
                        "lines_rejected": len(parsed.errors),
                        "first_date": dates[0] if dates else None,
                        "last_date": dates[1] if dates else None,
                        "errors": "\n".join(parsed.errors[:MAX_REPORTED_ERRORS]) or None,
                    }
                ],
                schema=FILE_SCHEMA,
            ),
        )


def loaded_files(con: Connection) -> dict[str, str]:
    """``{file_name: checksum}`` of the files already loaded (empty before the first load)."""
    if not existing_tables(con, "raw", ["mentions__files"]):
        return {}
    return dict(con.execute(f"select file_name, checksum from {FILES_TABLE}").fetchall())


def load(con: Connection, landing: Landing, run_id: str) -> dict[str, LoadResult]:
    """Load the landed files not loaded before; skip unchanged files and copies."""
    files = pa.concat_tables(list(landing.batches("files"))).to_pylist()
    mentions = pa.concat_tables(list(landing.batches("mentions")), promote_options="default")
    known = loaded_files(con)
    by_checksum = {digest: name for name, digest in known.items()}
    loaded: list[str] = []
    unchanged: list[str] = []
    copies: list[str] = []
    errors: list[str] = []
    rejected = 0
    total = LoadResult(MENTIONS_TABLE)
    first, last = None, None
    for file in files:
        name, digest = file["file_name"], file["checksum"]
        if known.get(name) == digest:
            unchanged.append(name)
            continue
        if digest in by_checksum and by_checksum[digest] != name:
            copies.append(f"{name} (same content as {by_checksum[digest]})")
            continue
        result = replace_keys(
            con,
            MENTIONS_TABLE,
            mentions.filter(pc.equal(mentions["_file_name"], name)),
            keys=["_file_name"],
            run_id=run_id,
        )
        replace_keys(
            con,
            FILES_TABLE,
            pa.Table.from_pylist([file], schema=FILE_SCHEMA),
            keys=["file_name"],
            run_id=run_id,
        )
        by_checksum[digest] = name
        loaded.append(name)
        total.rows_inserted += result.rows_inserted
        total.rows_deleted += result.rows_deleted
        total.added_columns += [c for c in result.added_columns if c not in total.added_columns]
        rejected += file["lines_rejected"]
        errors += (file["errors"] or "").splitlines()
        if file["first_date"] is not None:
            first = min(first or file["first_date"], file["first_date"])
            last = max(last or file["last_date"], file["last_date"])
    total.metadata = {
        "files_loaded": ", ".join(loaded) or "none",
        "files_unchanged": len(unchanged),
        "files_skipped_as_copies": ", ".join(copies) or "none",
        "new_data_range": f"{first}...{last}" if first else "none",
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rejected_lines": rejected,
        "rejected": "; ".join(errors[:MAX_REPORTED_ERRORS]),
    }
    files_result = LoadResult(FILES_TABLE, rows_inserted=len(loaded))
    files_result.metadata = {"files_loaded": len(loaded)}
    return {"mentions": total, "files": files_result}


def lines_parsed(outcome: LoadOutcome) -> dg.AssetCheckResult:
    """WARN listing the export lines (file:line) that could not be parsed."""
    metadata = outcome.results["mentions"].metadata
    rejected, files = metadata["rejected_lines"], metadata["files_loaded"]
    loaded = 0 if files == "none" else len(files.split(", "))
    return dg.AssetCheckResult(
        check_name=CHECK_LINES,
        asset_key=SOURCE.check_asset,
        passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{rejected} export line(s) rejected, the rest loaded: {metadata['rejected']}"
            if rejected
            else f"every line of {loaded} new file(s) parsed"
        ),
        metadata={"rejected_lines": rejected, "window": outcome.window.label},
    )


def check(directory: Path, config: Config) -> str:
    return f"{len(discover(directory))} export file(s) in {directory}"


SOURCE = Source(
    name=NAME,
    title="Mentions",
    description="social-listening export files (CSV / NDJSON) from MENTIONS_DIR, each loaded once",
    settings=(
        Setting(
            "MENTIONS_DIR",
            "Folder the CSV / NDJSON exports are saved to (relative to the project root)",
            required=True,
        ),
        Setting(
            "SOV_BRAND", "Your brand as it appears in the exports (matched in dbt)", required=True
        ),
        Setting(
            "SOV_COMPETITORS",
            "Comma-separated competitors as they appear in the exports (matched in dbt)",
            required=True,
        ),
    ),
    tables=(
        RawTable(
            "mentions",
            MENTIONS_TABLE,
            MENTION_SCHEMA,
            "one row per mention line of an export file",
            Replace.KEYS,
            keys=("_file_name",),
        ),
        RawTable(
            "files",
            FILES_TABLE,
            FILE_SCHEMA,
            "one row per loaded export file: checksum, rows, rejected lines, date range",
            Replace.KEYS,
            keys=("file_name",),
        ),
    ),
    # The files decide what is loaded, whatever the window: nothing is re-pulled.
    lookback=fixed_lookback(1),
    connect=connect,
    accounts=accounts,
    extract=extract,
    check=check,
    checks=(
        SourceCheck(
            CHECK_LINES,
            "WARN listing export lines (file:line) that could not be parsed; the rest of each "
            "file loaded.",
            lines_parsed,
        ),
    ),
    load=load,
    docs="docs/sources/mentions.md",
)
