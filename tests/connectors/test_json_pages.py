"""Tables landed as the provider's JSON pages (JsonPage / JsonRows), through the real Search Console
source and its emulator: DuckDB's parse of the landed pages is the rows Python's ``parse_rows``
gives, the raw tables keep their declared types, a bad page fails the load naming the file, and
``kpi replay`` reloads the pages.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.connectors import pipeline, search_console
from pipelines.connectors.framework import JsonPage, Window
from pipelines.connectors.landing import Landing, LandingWriter, find_landing
from pipelines.connectors.replay import replay_raw
from pipelines.warehouse.raw_loader import with_load_metadata
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.company import SITE_URL
from sources.emulators.stack import EmulatorStack
from sources.http import SchemaError
from sources.search_console import QUERY_DIMENSIONS, parse_rows, read_page

SOURCE = search_console.SOURCE
START = date(2025, 3, 2)
WINDOW = Window(START, START + timedelta(days=4))  # 03-04 onward is still incomplete
QUERIES = SOURCE.table("queries")
TOTALS = SOURCE.table("totals")
STAMPED = ("date", "clicks", "impressions", "ctr", "position", "is_provisional", "_account_id")


def extract(stack: EmulatorStack, root: Path, run_id: str = "run-1") -> Landing:
    stack.search_console.today = lambda: date(2025, 3, 6)
    config = SOURCE.config(
        {k: v for k, v in stack.env().items() if k in {s.name for s in SOURCE.settings}},
        adjust=lambda client: setattr(client, "page_size", 7) or client,  # several pages a day
    )
    return pipeline.extract(SOURCE, config, WINDOW, run_id, root=root)


def table_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple]:
    names = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"select {names} from {table} order by all").fetchall()


def test_landed_pages_load_as_the_rows_parse_rows_gives_them(
    stack: EmulatorStack, tmp_path: Path
) -> None:
    landed = extract(stack, tmp_path / "landing")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        results = pipeline.load(con, landed, "run-1")
        for table, dimensions in ((QUERIES, QUERY_DIMENSIONS), (TOTALS, ("date",))):
            pages = landed.json_pages(table.name)
            assert pages and all(path.suffix == ".json" for path, _ in pages)
            expected = []
            for path, entry in pages:
                incomplete = entry["values"]["first_incomplete_date"]
                for row in parse_rows({"rows": json.loads(path.read_bytes())}, dimensions):
                    row["is_provisional"] = incomplete is not None and row["date"] >= (
                        date.fromisoformat(incomplete)
                    )
                    row["_account_id"] = SITE_URL
                    expected.append(tuple(row[c] for c in [*dimensions[1:], *STAMPED]))
            got = table_rows(con, table.table, [*dimensions[1:], *STAMPED])
            assert got == sorted(expected)
            assert results[table.name].rows_inserted == landed.rows()[table.name] == len(got)
        provisional = con.execute(
            f"select distinct date, is_provisional from {QUERIES.table} order by 1"
        ).fetchall()
    assert len(landed.json_pages("queries")) > 4  # several pages a day
    assert provisional == [(START + timedelta(days=d), d >= 2) for d in range(4)]


def test_the_raw_tables_keep_the_types_of_their_declared_schema(
    stack: EmulatorStack, tmp_path: Path
) -> None:
    landed = extract(stack, tmp_path / "landing")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        pipeline.load(con, landed, "run-1")
        for table in (QUERIES, TOTALS):
            assert table.schema is not None
            # what a table created from the declared Arrow schema holds (the Parquet path's types)
            con.register("declared", with_load_metadata(table.schema.empty_table(), "x"))
            expected = con.execute("select column_name, column_type from (describe declared)")
            declared = expected.fetchall()
            con.unregister("declared")
            loaded = con.execute(
                f"select column_name, column_type from (describe {table.table})"
            ).fetchall()
            assert loaded == declared


@pytest.mark.parametrize(
    ("page", "detail"),
    [
        (b'[{"keys": ["2025-03-02", "q", "/p"], "clicks": 1.0,', "not valid JSON"),
        (b'{"rows": []}', "page rejected"),
        (
            b'[{"keys": ["2025-03-02", "q", "/p"], "clicks": "109 clicks", '
            b'"impressions": 3.0, "ctr": 0.1, "position": 2.0}]',
            "field=clicks",
        ),
        (
            b'[{"keys": ["2025-03-02", "q", "/p"], "impressions": 3.0, "ctr": 0.1, "position": 2.0}]',
            "field=clicks",
        ),
        (
            b'[{"keys": ["2025-03-02", "q"], "clicks": 1.0, '
            b'"impressions": 3.0, "ctr": 0.1, "position": 2.0}]',
            "field=keys",
        ),
    ],
    ids=["invalid JSON", "not an array", "text for a number", "missing field", "too few keys"],
)
def test_a_bad_landed_page_fails_the_load_naming_the_file_and_the_rows_stay(
    stack: EmulatorStack, tmp_path: Path, page: bytes, detail: str
) -> None:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        pipeline.load(con, extract(stack, tmp_path / "landing"), "run-1")
        before = {t: table_rows(con, t.table, list(STAMPED)) for t in (QUERIES, TOTALS)}
        again = extract(stack, tmp_path / "landing", "run-2")
        bad, _ = again.json_pages("queries")[2]
        bad.write_bytes(page)

        with pytest.raises(SchemaError) as info:
            pipeline.load(con, again, "run-2")

        message = str(info.value)
        assert "[search_console]" in message and QUERIES.table in message
        assert str(bad) in message and detail in message
        assert {t: table_rows(con, t.table, list(STAMPED)) for t in (QUERIES, TOTALS)} == before


def test_the_client_refuses_a_page_that_is_not_a_search_analytics_page() -> None:
    with pytest.raises(SchemaError, match=r"\[search_console\].*not a valid searchAnalytics page"):
        read_page(b'{"rows": {"keys": []}}')
    with pytest.raises(SchemaError, match="not a valid searchAnalytics page"):
        read_page(b'{"rows": [')
    assert read_page(b'{"responseAggregationType": "byPage"}').rows == 0
    page = read_page(b'{"rows": [ {"keys": ["a"]} ,\n {"keys": ["b"]}], "metadata": {"keys": 1}}')
    assert page.rows == 2 and bytes(page.rows_json) == b'{"keys": ["a"]} ,\n {"keys": ["b"]}'


def test_replay_reloads_json_pages_and_limits_them_to_the_range(
    stack: EmulatorStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "landing"
    monkeypatch.setenv("KPI_LANDING_PATH", str(root))
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        pipeline.load(con, extract(stack, root), "run-1")
        full = table_rows(con, QUERIES.table, list(STAMPED))
        con.execute(f"delete from {QUERIES.table}")
    day = START + timedelta(days=1)

    report = replay_raw(
        [SOURCE], Window(day, day + timedelta(days=1)), WarehouseResource(path=str(database))
    )

    with duckdb.connect(str(database)) as con:
        assert table_rows(con, QUERIES.table, list(STAMPED)) == [r for r in full if r[0] == day]
    assert report[0].landings == 1 and report[0].rows > 0


def land_totals(root: Path, pages: list[tuple[JsonPage, str]]) -> Landing:
    """``pages`` (each with its account) landed as one completed Search Console extraction."""
    writer = LandingWriter(SOURCE, WINDOW, "run-1", root=root)
    for page, _ in pages:
        writer.write(page)
    writer.complete(list(dict.fromkeys(account for _, account in pages)), {})
    landed = find_landing(SOURCE, ["run-1"], root)
    assert landed is not None
    return landed


def test_a_new_numeric_field_in_the_pages_becomes_a_double_column(tmp_path: Path) -> None:
    from pipelines.connectors.framework import JsonPage

    body = json.dumps(
        {
            "rows": [
                {
                    "keys": ["2025-03-02"],
                    "clicks": 5.0,
                    "impressions": 9.0,
                    "ctr": 0.5,
                    "position": 3.0,
                    "aiOverviewImpressions": 4.0,
                }
            ]
        }
    ).encode()
    page = read_page(body)
    values = {"_account_id": SITE_URL, "first_incomplete_date": None}
    landed = land_totals(
        tmp_path,
        [(JsonPage("totals", page.rows_json, page.rows, values, page.new_fields), SITE_URL)],
    )
    with duckdb.connect() as con:
        pipeline.load(con, landed, "run-1")
        got = con.execute(
            f"select ai_overview_impressions, typeof(ai_overview_impressions) from {TOTALS.table}"
        ).fetchall()
    assert page.new_fields == ("aiOverviewImpressions",)
    assert got == [(4.0, "DOUBLE")]
    assert pa.types.is_float64(pa.scalar(got[0][0]).type)


def test_a_landed_row_outside_the_window_fails_the_load_and_loads_nothing(tmp_path: Path) -> None:
    rows = (
        b'{"keys": ["2025-02-01"], "clicks": 1.0, "impressions": 2.0, "ctr": 0.5, "position": 1.0}'
    )
    values = {"_account_id": SITE_URL, "first_incomplete_date": None}
    landed = land_totals(tmp_path, [(JsonPage("totals", rows, 1, values), SITE_URL)])
    with duckdb.connect() as con:
        with pytest.raises(ValueError, match=r"falls outside 2025-03-02\.\.2025-03-06"):
            pipeline.load(con, landed, "run-1")
        tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert ("search_console__totals",) not in tables  # its creation was rolled back too


def test_pages_of_several_accounts_keep_each_pages_values(tmp_path: Path) -> None:
    other = "sc-domain:example.org"

    def row(day: str) -> bytes:
        return (
            f'{{"keys": ["{day}"], "clicks": 1.0, "impressions": 2.0, "ctr": 0.5, "position": 1.0}}'
        ).encode()

    rows = b",".join(row(f"2025-03-0{d}") for d in (3, 4))
    landed = land_totals(
        tmp_path,
        [
            (JsonPage("totals", rows, 2, {"_account_id": a, "first_incomplete_date": i}), a)
            for a, i in ((SITE_URL, None), (other, "2025-03-04"))
        ],
    )
    with duckdb.connect() as con:
        pipeline.load(con, landed, "run-1")
        got = con.execute(
            f"select _account_id, date, is_provisional from {TOTALS.table} order by all"
        ).fetchall()
    march = [date(2025, 3, 3), date(2025, 3, 4)]
    assert got == [
        (SITE_URL, march[0], False),
        (SITE_URL, march[1], False),
        (other, march[0], False),
        (other, march[1], True),
    ]
