"""The PostgreSQL warehouse target: the COPY raw writer and the DuckDB-compatible connection.

Runs against a real PostgreSQL server started for this module (``tools.pg_local``: initdb in a
temporary directory, unix socket only). The server binaries are required, not optional:
``scripts/setup`` installs the Debian package ``postgresql`` when they are missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest

from pipelines.connectors import pipeline, search_console
from pipelines.connectors.framework import Window
from pipelines.warehouse import raw_writers
from pipelines.warehouse.connection import (
    MISSING_RELATION,
    PgConnection,
    connect_postgres,
    to_pyformat,
    warehouse_target,
)
from pipelines.warehouse.raw_loader import replace_keys, replace_table, replace_window
from pipelines.warehouse.raw_writers import postgres_type
from pipelines.warehouse.resource import WarehouseResource
from sources.http import SchemaError, redact
from tools.pg_compare import COLUMNS as COMPARED_COLUMNS
from tools.pg_compare import compare_rows, pin_clocks
from tools.pg_local import LocalPostgres, remove, start_local_postgres

TABLE = "raw.ga4__traffic"
MARCH = [date(2025, 3, d) for d in range(1, 8)]
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalPostgres]:
    pg = start_local_postgres()
    try:
        yield pg
    finally:
        remove(pg)


@pytest.fixture
def pg_env(server: LocalPostgres, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in {**server.env, "KPI_WAREHOUSE": "postgres"}.items():
        monkeypatch.setenv(name, value)
    return server.env


@pytest.fixture
def con(pg_env: dict[str, str]) -> Iterator[PgConnection]:
    connection = connect_postgres()
    connection.execute("drop schema if exists raw cascade")
    try:
        yield connection
    finally:
        connection.close()


def traffic(accounts: list[str], dates: list[date], base: int = 0) -> pa.Table:
    pairs = [(a, d) for a in accounts for d in dates]
    n = len(pairs)
    return pa.table(
        {
            "_account_id": pa.array([a for a, _ in pairs], pa.string()),
            "_partition_date": pa.array([d for _, d in pairs], pa.date32()),
            "channel": ["Organic Search"] * n,
            "sessions": pa.array([base + i for i in range(n)], pa.int64()),
            "revenue": pa.array([Decimal(base + i) / 4 for i in range(n)], pa.decimal128(38, 9)),
        }
    )


def load_march(con, accounts=("a", "b"), base=0, run_id="run-1", data=None):
    return replace_window(
        con,
        TABLE,
        data if data is not None else traffic(list(accounts), MARCH, base),
        account_ids=list(accounts),
        start=MARCH[0],
        end=MARCH[-1] + timedelta(days=1),
        run_id=run_id,
    )


def rows(con, where: str = "true") -> list[tuple]:
    return con.execute(
        f"select _account_id, _partition_date, channel, sessions, revenue from {TABLE} "
        f"where {where} order by 1, 2"
    ).fetchall()


def column_types(con, table: str = TABLE) -> dict[str, str]:
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            table.split("."),
        ).fetchall()
    )


def test_rerunning_a_window_replaces_its_rows_and_loads_through_copy(con, monkeypatch):
    statements: list[str] = []
    real_run = raw_writers.PostgresWriter.run

    def recording_run(writer, sql, params=()):
        statements.append(sql)
        return real_run(writer, sql, params)

    monkeypatch.setattr(raw_writers.PostgresWriter, "run", recording_run)
    first = load_march(con, run_id="run-1")
    before = rows(con)
    second = load_march(con, run_id="run-2")

    assert rows(con) == before
    assert len(before) == 14
    assert before[0] == ("a", date(2025, 3, 1), "Organic Search", 0, Decimal("0E-9"))
    assert (first.rows_deleted, first.rows_inserted) == (0, 14)
    assert (second.rows_deleted, second.rows_inserted) == (14, 14)
    assert con.execute(f"select distinct _source_run_id from {TABLE}").fetchall() == [("run-2",)]
    # rows arrive by COPY into the staging table, then one insert ... select; never row values
    assert not [s for s in statements if "values" in s.lower()]
    assert sum(s.startswith("insert into raw.ga4__traffic") for s in statements) == 2


def test_a_narrower_window_replaces_only_its_rows(con):
    load_march(con)
    result = replace_window(
        con,
        TABLE,
        traffic(["a"], [date(2025, 3, 3), date(2025, 3, 4)], base=1000),
        account_ids=["a"],
        start=date(2025, 3, 3),
        end=date(2025, 3, 5),
        run_id="run-2",
    )

    assert (result.rows_deleted, result.rows_inserted) == (2, 2)
    assert len(rows(con)) == 14
    assert [r[3] for r in rows(con, "sessions >= 1000")] == [1000, 1001]
    assert len(rows(con, "_account_id = 'b' and sessions < 1000")) == 7


def test_arrow_types_map_to_postgres_types_and_values_round_trip_exactly(con):
    tricky = ["plain", "", 'comma, "quote"', "new\nline", "naïve ☃", None, "\\N"]
    n = len(tricky)
    data = pa.table(
        {
            "_account_id": pa.array(["a"] * n, pa.string()),
            "_partition_date": pa.array([MARCH[0]] * n, pa.date32()),
            "text": pa.array(tricky, pa.string()),
            "money": pa.array(
                [Decimal("12345678901234567890.123456789"), Decimal("-0.000000001")]
                + [None] * (n - 2),
                pa.decimal128(38, 9),
            ),
            "ratio": pa.array([0.1, 1 / 3, 1e-300, -2.5e300, None, 0.0, 123456.789], pa.float64()),
            "flag": pa.array([True, False, None, True, True, False, True]),
            "at": pa.array(
                [datetime(2025, 3, 1, 12, 30, 15, 123456)] + [None] * (n - 1), pa.timestamp("us")
            ),
            "count32": pa.array(range(n), pa.int32()),
            "nothing": pa.nulls(n),
            "tags": pa.array([["x", "y"]] + [None] * (n - 1), pa.list_(pa.string())),
        }
    )
    replace_window(
        con, TABLE, data, account_ids=["a"], start=MARCH[0], end=MARCH[1], run_id="types"
    )

    types = column_types(con)
    assert types["money"] == "numeric"
    assert con.execute(
        "select numeric_precision, numeric_scale from information_schema.columns "
        "where table_name = 'ga4__traffic' and column_name = 'money'"
    ).fetchone() == (38, 9)
    assert types["ratio"] == "double precision"
    assert types["at"] == "timestamp without time zone"
    assert types["_partition_date"] == "date"
    assert types["tags"] == "jsonb"
    got = con.execute(
        f'select text, money, ratio, flag, "at", count32, nothing, tags from {TABLE} '
        "order by count32"
    ).fetchall()
    assert [r[0] for r in got] == tricky  # '' stays '', NULL stays NULL
    assert got[0][1] == Decimal("12345678901234567890.123456789")
    assert got[1][1] == Decimal("-0.000000001")
    assert [r[2] for r in got] == data.column("ratio").to_pylist()  # floats bit for bit
    assert [r[3] for r in got] == data.column("flag").to_pylist()
    assert got[0][4] == datetime(2025, 3, 1, 12, 30, 15, 123456)
    assert {r[6] for r in got} == {None}
    assert got[0][7] == ["x", "y"]


def test_new_fields_become_columns_and_missing_fields_are_reported(con):
    load_march(con, accounts=("a",))
    new = traffic(["b"], MARCH).append_column("new_users", pa.array(range(7), pa.int64()))
    added = load_march(con, accounts=("b",), data=new)
    assert added.added_columns == ["new_users"]
    assert column_types(con)["new_users"] == "bigint"

    fewer = traffic(["a"], MARCH).drop_columns(["channel"])
    result = load_march(con, accounts=("a",), data=fewer)
    assert result.missing_columns == ["channel", "new_users"]
    assert "field 'channel' is no longer returned" in result.warnings[0]
    assert rows(con, "_account_id = 'a'")[0][2] is None


def test_a_changed_type_is_rejected_and_nothing_is_loaded(con):
    load_march(con)
    before = rows(con)
    bad = traffic(["a", "b"], MARCH).set_column(
        3, "sessions", pa.array(["12", "n/a"] + ["1"] * 12, pa.string())
    )

    with pytest.raises(SchemaError) as failure:
        load_march(con, data=bad)

    message = str(failure.value)
    assert "sessions" in message and "bigint" in message and "n/a" in message
    assert rows(con) == before
    # a compatible widening is accepted: int32 values into the bigint column
    wider = traffic(["a", "b"], MARCH, base=5).set_column(
        3, "sessions", pa.array(range(5, 19), pa.int32())
    )
    assert load_march(con, data=wider).rows_inserted == 14


def test_an_error_during_the_insert_rolls_back_the_delete(con, monkeypatch):
    load_march(con)
    before = rows(con)
    real_run = raw_writers.PostgresWriter.run

    def failing_insert(writer, sql, params=()):
        if sql.startswith("insert into"):
            raise psycopg.OperationalError("disk full while inserting")
        return real_run(writer, sql, params)

    monkeypatch.setattr(raw_writers.PostgresWriter, "run", failing_insert)
    new = traffic(["a", "b"], MARCH, base=7000).append_column("extra", pa.array(["x"] * 14))
    with pytest.raises(psycopg.OperationalError, match="disk full"):
        load_march(con, data=new)
    monkeypatch.undo()

    assert rows(con) == before
    assert "extra" not in column_types(con)
    assert load_march(con, base=100).rows_inserted == 14  # the connection is still usable


CRASHING_CHILD = textwrap.dedent(
    """
    import os
    from datetime import date

    import pyarrow as pa

    from pipelines.warehouse.raw_loader import replace_window
    from pipelines.warehouse.connection import connect_postgres


    class CrashBeforeCommit:
        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def commit(self):
            print("uncommitted", flush=True)
            os._exit(1)


    con = connect_postgres()
    new = pa.table({
        "_account_id": pa.array(["a"] * 3, pa.string()),
        "_partition_date": pa.array([date(2025, 3, d) for d in (1, 2, 3)], pa.date32()),
        "sessions": pa.array([9000, 9001, 9002], pa.int64()),
        "brand_new_field": ["x"] * 3,
    })
    replace_window(CrashBeforeCommit(con), "raw.ga4__traffic", new, account_ids=["a", "b"],
                   start=date(2025, 3, 1), end=date(2025, 3, 8), run_id="crashing-run")
    """
)


def test_a_process_killed_before_the_commit_leaves_the_old_rows(con, pg_env, monkeypatch):
    load_march(con)
    before = rows(con)
    # the wrapper is not a PgConnection: make the child pick the PostgreSQL writer for it
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pipelines.warehouse.raw_writers as w; w.is_postgres = lambda con: True\n"
            + CRASHING_CHILD,
        ],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert child.returncode == 1, child.stderr
    assert child.stdout.split() == ["uncommitted"]
    assert rows(con) == before
    assert "brand_new_field" not in column_types(con)


def test_replace_keys_and_replace_table_keep_dependent_views(con):
    rates = pa.table(
        {
            "_account_id": ["ECB", "ECB"],
            "_partition_date": pa.array([MARCH[0], MARCH[1]], pa.date32()),
            "currency": ["NOK", "NOK"],
            "rate_date": pa.array([MARCH[0], MARCH[1]], pa.date32()),
            "rate": [11.5, 11.6],
        }
    )
    replace_keys(con, "raw.fx__ecb_rates", rates, keys=["currency", "rate_date"], run_id="r1")
    result = replace_keys(
        con, "raw.fx__ecb_rates", rates.slice(1), keys=["currency", "rate_date"], run_id="r2"
    )
    assert (result.rows_deleted, result.rows_inserted) == (1, 1)
    assert con.execute("select count(*) from raw.fx__ecb_rates").fetchone() == (2,)

    catalog = pa.table({"kpi_id": ["a", "b"], "unit": ["count", "fraction"]})
    replace_table(con, "raw.kpi_catalog", catalog)
    con.execute("create view raw.catalog_view as select kpi_id from raw.kpi_catalog")
    replace_table(con, "raw.kpi_catalog", catalog.slice(1))  # a dbt view depends on it
    assert con.execute("select kpi_id from raw.catalog_view").fetchall() == [("b",)]


def test_duckdb_parameters_and_missing_relations_work_on_postgres(con):
    assert to_pyformat("select ? where x like '%?%' and y = $start -- ?") == (
        "select %s where x like '%%?%%' and y = %(start)s -- ?"
    )
    assert con.execute("select $n::int + 1, '5%'", {"n": 41}).fetchone() == (42, "5%")
    assert con.execute("select cast(? as date)", [MARCH[0]]).fetchone() == (MARCH[0],)
    with pytest.raises(MISSING_RELATION):
        con.execute("select * from marts.not_built_yet")
    con.begin()
    con.execute("create schema raw")
    con.rollback()
    assert con.execute("select count(*) from pg_namespace where nspname = 'raw'").fetchone() == (0,)


def test_the_warehouse_resource_picks_postgres_and_redacts_its_password(pg_env, monkeypatch):
    assert warehouse_target() == "postgres"
    with WarehouseResource().connect() as con:
        assert isinstance(con, PgConnection)
    monkeypatch.setenv("PGPASSWORD", "s3cret-pg-password")
    monkeypatch.setenv("PGHOST", "/nonexistent-socket-dir")
    with pytest.raises(RuntimeError, match="PGHOST") as failure:
        connect_postgres()
    assert "s3cret-pg-password" not in str(failure.value)
    assert "s3cret-pg-password" not in redact("password=s3cret-pg-password")
    monkeypatch.setenv("KPI_WAREHOUSE", "oracle")
    with pytest.raises(ValueError, match="KPI_WAREHOUSE='oracle'"):
        warehouse_target()


def test_every_arrow_type_the_sources_produce_has_a_postgres_type():
    assert postgres_type(pa.decimal128(38, 9)) == "numeric(38,9)"
    assert postgres_type(pa.timestamp("us")) == "timestamp without time zone"
    assert postgres_type(pa.timestamp("us", tz="UTC")) == "timestamp with time zone"
    assert postgres_type(pa.int64()) == "bigint"
    assert postgres_type(pa.float64()) == "double precision"
    assert postgres_type(pa.struct([("a", pa.int64())])) == "jsonb"
    with pytest.raises(TypeError, match="binary"):
        postgres_type(pa.binary())


def test_the_warehouse_comparison_fails_on_any_difference_beyond_float_rounding():
    day = date(2026, 11, 2)
    row = ("seo.ctr", "day", day, "all", "seo", day, 0.1, 3, 30, "fraction", "ratio", 1, True)

    def variant(**changes):
        values = dict(zip(COMPARED_COLUMNS, row, strict=True))
        values.update(changes)
        return tuple(values.values())

    same = compare_rows([row], [variant(numerator=Decimal(3))])
    assert (same.rows, same.mismatches, same.numbers_identical) == (1, [], 3)
    rounded = compare_rows([row], [variant(value=0.1 * (1 + 5e-15))])
    assert rounded.mismatches == [] and rounded.numbers_within_tolerance == 1
    assert "1 rows compared, 0 mismatches" in rounded.summary()
    assert compare_rows([row], [variant(value=0.1000001)]).mismatches == [
        f"('seo.ctr', 'day', {day!r}, 'all') value: duckdb=0.1 postgres=0.1000001"
    ]
    assert compare_rows([row], [variant(is_period_complete=False)]).mismatches
    assert compare_rows([row], [variant(value=None)]).mismatches
    missing = compare_rows([row], [variant(segment="channel_group=Email")])
    assert missing.rows == 0 and len(missing.mismatches) == 2


def test_the_comparison_pins_every_emulator_clock_so_both_runs_see_the_same_data(tmp_path):
    from sources.emulators.stack import build_stack

    stack = build_stack(tmp_path / "sa.json")
    moment = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    pin_clocks(stack, moment)

    assert stack.mailchimp.now() == stack.zendesk.now() == stack.stripe.now() == moment
    frozen = stack.ga4.today()
    assert stack.ga4.today() == frozen and stack.search_console.today() is not None


def test_json_pages_load_into_postgres_as_into_duckdb(con, stack, tmp_path):
    """A table landed as JSON pages (Search Console) loads the same rows and types on either
    warehouse: PostgreSQL gets them as Arrow batches from an in-memory DuckDB."""
    source = search_console.SOURCE
    stack.search_console.today = lambda: date(2025, 3, 6)
    names = {s.name for s in source.settings}
    config = source.config({k: v for k, v in stack.env().items() if k in names})
    landed = pipeline.extract(
        source, config, Window(date(2025, 3, 2), date(2025, 3, 6)), "run-1", root=tmp_path
    )
    columns = "date, query, page, clicks, impressions, ctr, position, is_provisional, _account_id"
    query = f"select {columns} from raw.search_console__queries order by date, query, page"

    results = pipeline.load(con, landed, "run-1")
    with duckdb.connect() as local:
        pipeline.load(local, landed, "run-1")
        expected = local.execute(query).fetchall()

    assert results["queries"].rows_inserted == len(expected) > 0
    assert con.execute(query).fetchall() == expected
    types = column_types(con, "raw.search_console__queries")
    assert types["clicks"] == "bigint" and types["date"] == "date"
    assert types["is_provisional"] == "boolean"
