"""Mentions ingestion: social-listening export files dropped into ``MENTIONS_DIR``.

raw.mentions__mentions  one row per mention line of a file (``_file_name``, ``_line``)
raw.mentions__files     one row per loaded file: name, checksum, rows, rejected lines, date range

The files decide what is loaded, not the partition window: every run loads the files it has not
seen (by name and checksum), so a file is loaded once; a changed file (same name, new checksum)
replaces its own rows; a copy under another name is skipped. Mentions dated before the run's window
reach ``kpi_values`` when that range is rebuilt (the metadata says which range to backfill).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa

from pipelines.connectors.ingest import (
    arrow_table,
    configured,
    configured_check_spec,
    not_configured,
    window_label,
)
from pipelines.connectors.social_resources import MentionsResource, kpi_timezone
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import reports_progress
from pipelines.warehouse.raw_loader import replace_keys
from pipelines.warehouse.resource import WarehouseResource
from sources.http import SourceError
from sources.mentions import checksum, discover, parse_file

SOURCE = "mentions"
MENTIONS_TABLE = "raw.mentions__mentions"
FILES_TABLE = "raw.mentions__files"
KEYS = {
    "mentions": dg.AssetKey(["raw", "mentions__mentions"]),
    "files": dg.AssetKey(["raw", "mentions__files"]),
}
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


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``{file_name: checksum}`` of the files already loaded (empty before the first load)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'mentions__files'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    return dict(con.execute(f"select file_name, checksum from {FILES_TABLE}").fetchall())


def mention_rows(parsed_rows: list[dict[str, Any]], name: str, digest: str) -> list[dict[str, Any]]:
    return [
        {
            **{k: v for k, v in row.items() if k != "line"},
            "_line": row["line"],
            "_file_name": name,
            "_file_checksum": digest,
            "_account_id": SOURCE,
            "_partition_date": row["mention_date"],
        }
        for row in parsed_rows
    ]


@dg.multi_asset(
    name="mentions_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw_social",
            kinds={"python", "duckdb"},
            description=f"Mention exports from MENTIONS_DIR landed in raw.{key.path[-1]}.",
        )
        for key in KEYS.values()
    ],
    check_specs=[
        configured_check_spec(SOURCE, KEYS["mentions"]),
        dg.AssetCheckSpec(
            CHECK_LINES,
            asset=KEYS["mentions"],
            description="WARN listing export lines (file:line) that could not be parsed; the rest "
            "of each file loaded.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
)
@reports_progress("mentions")
def mentions_raw(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mentions: MentionsResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Load every export file not loaded before; report malformed lines with file and line."""
    start, end = window_dates(context)
    window = window_label(start, end)
    missing = mentions.missing_settings()
    if missing:
        yield from not_configured(
            context, SOURCE, missing, KEYS.values(), KEYS["mentions"], window, (CHECK_LINES,)
        )
        return
    directory = mentions.path()
    assert directory is not None
    if not directory.is_dir():
        raise SourceError(
            SOURCE,
            str(directory),
            "MENTIONS_DIR is not a directory",
            field="MENTIONS_DIR",
            value=str(directory),
            fix="create the folder or point MENTIONS_DIR at the folder the exports are saved to",
        )
    errors: list[str] = []
    loaded, unchanged, copies, rows_inserted = [], [], [], 0
    first, last = None, None
    with warehouse.connect() as con:
        known = loaded_files(con)
        checksums = {digest: name for name, digest in known.items()}
        for path in discover(directory):
            digest = checksum(path)
            if known.get(path.name) == digest:
                unchanged.append(path.name)
                continue
            if digest in checksums and checksums[digest] != path.name:
                copies.append(f"{path.name} (same content as {checksums[digest]})")
                continue
            parsed = parse_file(path, kpi_timezone())
            errors.extend(parsed.errors)
            result = replace_keys(
                con,
                MENTIONS_TABLE,
                arrow_table(mention_rows(parsed.rows, path.name, digest), MENTION_SCHEMA),
                keys=["_file_name"],
                run_id=context.run.run_id,
            )
            dates = parsed.dates
            replace_keys(
                con,
                FILES_TABLE,
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
                keys=["file_name"],
                run_id=context.run.run_id,
            )
            checksums[digest] = path.name
            loaded.append(path.name)
            rows_inserted += result.rows_inserted
            if dates:
                first = min(first or dates[0], dates[0])
                last = max(last or dates[1], dates[1])
    for message in errors[:MAX_REPORTED_ERRORS]:
        context.log.warning(f"mentions: {message}")
    backfill = f"{first}...{last}" if first else "none"
    context.log.info(
        f"mentions: loaded {len(loaded)} file(s), {len(unchanged)} unchanged, "
        f"{len(copies)} copies skipped; new data covers {backfill}"
    )
    summary = {
        "status": "loaded",
        "window": window,
        "files_loaded": ", ".join(loaded) or "none",
        "files_unchanged": len(unchanged),
        "files_skipped_as_copies": ", ".join(copies) or "none",
        "rows_inserted": rows_inserted,
        "new_data_range": backfill,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    yield dg.MaterializeResult(asset_key=KEYS["mentions"], metadata=summary)
    yield dg.MaterializeResult(asset_key=KEYS["files"], metadata={"files_loaded": len(loaded)})
    yield configured(KEYS["mentions"], [str(directory)])
    yield dg.AssetCheckResult(
        check_name=CHECK_LINES,
        asset_key=KEYS["mentions"],
        passed=not errors,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(errors)} export line(s) rejected, the rest loaded: "
            + "; ".join(errors[:MAX_REPORTED_ERRORS])
            if errors
            else f"every line of {len(loaded)} new file(s) parsed"
        ),
        metadata={"rejected_lines": len(errors), "window": window},
    )
