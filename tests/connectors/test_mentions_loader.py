"""Mention exports: parsing the common shapes, malformed lines, and loading each file once."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import mentions as mentions_source
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators import company as co
from sources.emulators.exports import render_export
from sources.mentions import parse_file, parse_timestamp

DAY = date(2025, 3, 3)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------
def test_a_brandwatch_csv_with_a_report_preamble_parses_from_its_header(tmp_path) -> None:
    mentions = co.mentions_on(DAY)
    parsed = parse_file(write(tmp_path / "bw.csv", render_export("brandwatch", mentions)))
    assert parsed.errors == []
    assert len(parsed.rows) == len(mentions)
    first, mention = parsed.rows[0], mentions[0]
    assert first["mention_id"] == mention.mention_id
    assert first["mentioned_at"] == mention.at
    assert first["source"] == mention.source  # Page Type, not Domain
    assert first["matched_brand"] == f"{mention.brand} - brand"
    assert first["line"] == 5  # 3 preamble lines + the header


def test_a_malformed_csv_line_is_reported_with_file_and_line_and_the_rest_loads(tmp_path) -> None:
    path = write(
        tmp_path / "plain.csv",
        "timestamp,source,text,url,matched_brand\n"
        "2025-03-03T10:00:00Z,twitter,Love Northwind,https://t.example/1,Northwind\n"
        "2025-03-03T11:00:00Z,twitter,too,many,fields,here\n"
        "yesterday,reddit,Contoso is fine,https://r.example/2,Contoso\n"
        "2025-03-03T12:00:00+02:00,news,Fabrikam news,https://n.example/3,Fabrikam\n"
        ",,,,\n",
    )
    parsed = parse_file(path)
    assert [r["url"] for r in parsed.rows] == ["https://t.example/1", "https://n.example/3"]
    assert parsed.errors[0].startswith("plain.csv:3: 6 fields")
    assert parsed.errors[1].startswith("plain.csv:4: timestamp 'yesterday'")
    assert parsed.rows[1]["mentioned_at"] == datetime(2025, 3, 3, 10, 0)  # +02:00 -> UTC


def test_a_malformed_ndjson_line_is_reported_and_the_rest_loads(tmp_path) -> None:
    mentions = co.mentions_on(DAY)[:6]
    path = write(tmp_path / "tw.ndjson", render_export("talkwalker", mentions, malformed=True))
    parsed = parse_file(path)
    assert len(parsed.rows) == 6
    assert parsed.errors == ["tw.ndjson:4: not valid JSON (Expecting value)"]
    assert [r["line"] for r in parsed.rows] == [1, 2, 3, 5, 6, 7]
    assert parsed.rows[0]["mentioned_at"] == mentions[0].at  # epoch milliseconds


def test_semicolon_exports_and_a_missing_id_get_a_stable_hash_key(tmp_path) -> None:
    text = "Date;Platform;Snippet;Link\n2025-03-03 08:15;facebook;Northwind rocks;https://f.example/9\n"
    first = parse_file(write(tmp_path / "a.csv", text))
    second = parse_file(write(tmp_path / "b.csv", text))
    assert first.errors == []
    assert first.rows[0]["source"] == "facebook"
    assert first.rows[0]["mention_key"].startswith("h:")
    assert first.rows[0]["mention_key"] == second.rows[0]["mention_key"]


def test_a_file_without_a_recognisable_header_is_one_error(tmp_path) -> None:
    parsed = parse_file(write(tmp_path / "x.csv", "a,b,c\n1,2,3\n"))
    assert parsed.rows == []
    assert parsed.errors == ["x.csv:1: no header row with a timestamp and a url or text column"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-03T10:00:00Z", datetime(2025, 3, 3, 10)),
        ("2025-03-03T10:00:00-05:00", datetime(2025, 3, 3, 15)),
        ("2025-03-03 10:00:00.0", datetime(2025, 3, 3, 10)),
        ("2025-03-03", datetime(2025, 3, 3)),
        (1741000000, datetime(2025, 3, 3, 11, 6, 40)),
        ("1741000000000", datetime(2025, 3, 3, 11, 6, 40)),
    ],
)
def test_timestamps_in_the_common_export_forms_are_utc(value, expected) -> None:
    assert parse_timestamp(value) == expected


def test_a_day_first_date_is_rejected_not_guessed() -> None:
    with pytest.raises(ValueError, match="03/04/2025"):
        parse_timestamp("03/04/2025 10:00")


def test_the_mention_day_is_taken_in_the_reporting_time_zone(tmp_path) -> None:
    path = write(tmp_path / "p.csv", "timestamp,text\n2025-03-03T02:00:00Z,Northwind\n")
    assert parse_file(path, "America/New_York").rows[0]["mention_date"] == date(2025, 3, 2)
    assert parse_file(path, "UTC").rows[0]["mention_date"] == date(2025, 3, 3)


# --------------------------------------------------------------------------------------------------
# Loading: each file once, by name and checksum
# --------------------------------------------------------------------------------------------------
SOURCES = [mentions_source.SOURCE]


def load(directory: Path, database: Path) -> dg.ExecuteInProcessResult:
    settings = {
        "MENTIONS_DIR": str(directory),
        "SOV_BRAND": "Northwind",
        "SOV_COMPETITORS": "Contoso,Fabrikam",
    }
    return dg.materialize(
        connector_assets(SOURCES),
        resources={
            "warehouse": WarehouseResource(path=str(database)),
            **connector_resources(SOURCES, settings),
        },
        partition_key="2025-03-03",
    )


def raw_rows(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select _file_name, count(*) from raw.mentions__mentions group by all order by all"
        ).fetchall()


def test_a_file_is_loaded_once_a_copy_is_skipped_and_a_changed_file_replaces_its_rows(
    tmp_path,
) -> None:
    exports, database = tmp_path / "exports", tmp_path / "w.duckdb"
    exports.mkdir()
    mentions = co.mentions_on(DAY)
    write(exports / "march.csv", render_export("plain", mentions))
    first = load(exports, database)
    assert raw_rows(database) == [("march.csv", len(mentions))]
    meta = first.asset_materializations_for_node("mentions_raw")[0].metadata
    assert meta["new_data_range"].value == f"{DAY}...{DAY}"

    second = load(exports, database)  # nothing new: nothing loaded again
    assert raw_rows(database) == [("march.csv", len(mentions))]
    assert (
        second.asset_materializations_for_node("mentions_raw")[0].metadata["files_unchanged"].value
        == 1
    )

    shutil.copy(exports / "march.csv", exports / "march (copy).csv")
    third = load(exports, database)
    assert raw_rows(database) == [("march.csv", len(mentions))]
    skipped = third.asset_materializations_for_node("mentions_raw")[0].metadata
    assert (
        "march (copy).csv (same content as march.csv)" in skipped["files_skipped_as_copies"].value
    )

    write(exports / "march.csv", render_export("plain", mentions[:10]))  # re-exported, smaller
    load(exports, database)
    assert raw_rows(database) == [("march.csv", 10)]


def test_the_malformed_line_check_warns_with_file_and_line(tmp_path) -> None:
    exports, database = tmp_path / "exports", tmp_path / "w.duckdb"
    exports.mkdir()
    write(
        exports / "tw.ndjson", render_export("talkwalker", co.mentions_on(DAY)[:6], malformed=True)
    )
    result = load(exports, database)
    check = next(
        c for c in result.get_asset_check_evaluations() if c.check_name == "mention_lines_parsed"
    )
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert "tw.ndjson:4: not valid JSON" in check.description
    assert raw_rows(database) == [("tw.ndjson", 6)]


def test_mentions_without_settings_load_nothing_and_warn(tmp_path, monkeypatch) -> None:
    for name in ("MENTIONS_DIR", "SOV_BRAND", "SOV_COMPETITORS"):
        monkeypatch.delenv(name, raising=False)
    result = dg.materialize(
        connector_assets(SOURCES),
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            **connector_resources(SOURCES),
        },
        partition_key="2025-03-03",
    )
    check = next(
        c for c in result.get_asset_check_evaluations() if c.check_name == "source_configured"
    )
    assert not check.passed
    assert "MENTIONS_DIR" in check.description and "SOV_BRAND" in check.description
