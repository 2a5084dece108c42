"""Idempotent, transactional Arrow loads into raw tables (pipelines/warehouse/raw_loader.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.connectors.ingest import arrow_table
from pipelines.warehouse import raw_writers
from pipelines.warehouse.raw_loader import replace_keys, replace_window
from sources.http import SchemaError

TABLE = "raw.ga4__traffic"
USERS = "raw.ga4__users"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MARCH = [date(2025, 3, d) for d in range(1, 8)]  # 2025-03-01 .. 2025-03-07


def days(start: date, end: date) -> list[date]:
    """``start`` .. ``end`` exclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days)]


def batch(accounts: list[str], dates: list[date], **columns: list) -> pa.Table:
    """A batch with one row per (account, date) pair, plus the given data columns."""
    pairs = [(a, d) for a in accounts for d in dates]
    data = {
        "_account_id": pa.array([a for a, _ in pairs], pa.string()),
        "_partition_date": pa.array([d for _, d in pairs], pa.date32()),
    }
    for name, values in columns.items():
        data[name] = values if isinstance(values, pa.Array) else pa.array(values)
    return pa.table(data)


def traffic(accounts: list[str], dates: list[date], base: int = 0) -> pa.Table:
    n = len(accounts) * len(dates)
    return batch(
        accounts,
        dates,
        channel=["Organic Search"] * n,
        sessions=pa.array([base + i for i in range(n)], pa.int64()),
        revenue=pa.array([float(base + i) / 4 for i in range(n)], pa.float64()),
    )


def rows(con: duckdb.DuckDBPyConnection, table: str = TABLE, where: str = "true") -> list[tuple]:
    """Every row, without the per-load metadata, in a stable order."""
    return con.execute(
        f"select * exclude (_loaded_at, _source_run_id) from {table} where {where} order by all"
    ).fetchall()


def count(con: duckdb.DuckDBPyConnection, table: str = TABLE, where: str = "true") -> int:
    return con.execute(f"select count(*) from {table} where {where}").fetchone()[0]


def columns(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> dict[str, str]:
    return {name: dtype for name, dtype, *_ in con.execute(f"describe {table}").fetchall()}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "w.duckdb"


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(db_path))
    try:
        yield connection
    finally:
        connection.close()


def load_march(con, accounts=("a", "b"), base=0, run_id="run-1"):
    return replace_window(
        con,
        TABLE,
        traffic(list(accounts), MARCH, base),
        account_ids=list(accounts),
        start=MARCH[0],
        end=MARCH[-1] + timedelta(days=1),
        run_id=run_id,
    )


# --------------------------------------------------------------------------------------------------
# Idempotency
# --------------------------------------------------------------------------------------------------
def test_rerunning_a_partition_replaces_its_rows(con):
    first = load_march(con, run_id="run-1")
    before = rows(con)

    second = load_march(con, run_id="run-2")

    assert rows(con) == before
    assert count(con) == len(before) == 14
    assert (first.rows_deleted, first.rows_inserted) == (0, 14)
    assert (second.rows_deleted, second.rows_inserted) == (14, 14)
    assert con.execute(f"select distinct _source_run_id from {TABLE}").fetchall() == [("run-2",)]


def test_rerunning_a_narrower_window_replaces_only_that_windows_rows(con):
    load_march(con, accounts=("a", "b"), base=0)
    untouched = "not (_account_id = 'a' and _partition_date between '2025-03-03' and '2025-03-04')"
    others_before = rows(con, where=untouched)

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
    assert count(con) == 14
    assert rows(con, where=untouched) == others_before  # other days and account b untouched
    window = rows(
        con, where="_account_id = 'a' and _partition_date in ('2025-03-03', '2025-03-04')"
    )
    assert [r[3] for r in window] == [1000, 1001]
    assert count(con, where="_account_id = 'b'") == 7
    assert count(con, where="_source_run_id = 'run-2'") == 2


def test_a_window_of_one_account_leaves_other_accounts_rows_on_the_same_days(con):
    load_march(con, accounts=("a", "b"))
    b_before = rows(con, where="_account_id = 'b'")

    load_march(con, accounts=("a",), base=500)

    assert rows(con, where="_account_id = 'b'") == b_before
    assert count(con, where="_account_id = 'a' and sessions >= 500") == 7


def test_an_empty_batch_for_an_existing_table_deletes_that_window(con):
    load_march(con, accounts=("a", "b"))
    empty = batch([], [])  # what the GA4 asset loads when the API returned no rows
    outside = "not (_account_id = 'a' and _partition_date >= '2025-03-05')"
    others_before = rows(con, where=outside)

    result = replace_window(
        con,
        TABLE,
        empty,
        account_ids=["a"],
        start=date(2025, 3, 5),
        end=date(2025, 3, 8),
        run_id="run-2",
    )

    assert (result.rows_deleted, result.rows_inserted) == (3, 0)
    assert count(con, where="_account_id = 'a' and _partition_date >= '2025-03-05'") == 0
    assert rows(con) == others_before
    assert set(columns(con)) >= {"channel", "sessions", "revenue"}  # the schema is kept
    # an empty answer says nothing about the API's fields: no "field removed" warning
    assert result.missing_columns == [] and result.warnings == []


def test_an_empty_batch_for_a_new_table_creates_nothing(con):
    result = replace_window(
        con, TABLE, batch([], []), account_ids=["a"], start=MARCH[0], end=MARCH[-1], run_id="r"
    )

    assert (result.rows_deleted, result.rows_inserted) == (0, 0)
    tables = con.execute("select table_name from information_schema.tables").fetchall()
    assert ("ga4__traffic",) not in tables


# --------------------------------------------------------------------------------------------------
# Atomicity
# --------------------------------------------------------------------------------------------------
CRASHING_CHILD = textwrap.dedent(
    """
    import os, sys
    from datetime import date

    import duckdb
    import pyarrow as pa

    from pipelines.warehouse.raw_loader import replace_window


    class CrashBeforeCommit:
        '''The connection, except that the process dies where the load would commit.'''

        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def commit(self):
            seen = self._con.execute("select count(*), min(sessions) from {table}").fetchone()
            print("uncommitted", *seen, flush=True)
            os._exit(1)


    con = duckdb.connect(sys.argv[1])
    new = pa.table({{
        "_account_id": pa.array(["a"] * 3, pa.string()),
        "_partition_date": pa.array([date(2025, 3, d) for d in (1, 2, 3)], pa.date32()),
        "channel": ["Direct"] * 3,
        "sessions": pa.array([9000, 9001, 9002], pa.int64()),
        "revenue": [1.0, 2.0, 3.0],
        "brand_new_field": ["x"] * 3,
    }})
    replace_window(
        CrashBeforeCommit(con), "{table}", new, account_ids=["a", "b"],
        start=date(2025, 3, 1), end=date(2025, 3, 8), run_id="crashing-run",
    )
    print("committed", flush=True)
    """
).format(table=TABLE)


def test_a_crash_mid_load_leaves_the_old_rows(db_path):
    with duckdb.connect(str(db_path)) as con:
        load_march(con)
        before = rows(con)
        columns_before = columns(con)
    # the parent's connection is closed: DuckDB lets one process at a time write the file

    child = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, str(db_path)],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert child.returncode == 1, child.stderr
    # the child had deleted the window (14 rows) and inserted its 3 rows when it died
    assert child.stdout.split() == ["uncommitted", "3", "9000"]
    with duckdb.connect(str(db_path)) as con:
        assert rows(con) == before
        assert count(con) == 14
        assert columns(con) == columns_before  # the new column was not committed either
        assert count(con, where="_source_run_id = 'crashing-run'") == 0


def test_an_error_during_the_insert_rolls_back_the_delete(con, monkeypatch):
    load_march(con)
    before = rows(con)
    real_run = raw_writers.DuckDbWriter.run

    def failing_insert(writer, sql, params=()):
        if sql.startswith("insert into"):
            raise duckdb.IOException("disk full while inserting")
        return real_run(writer, sql, params)

    monkeypatch.setattr(raw_writers.DuckDbWriter, "run", failing_insert)
    new = traffic(["a", "b"], MARCH, base=7000).append_column("extra", pa.array(["x"] * 14))

    with pytest.raises(duckdb.IOException, match="disk full"):
        replace_window(
            con,
            TABLE,
            new,
            account_ids=["a", "b"],
            start=MARCH[0],
            end=date(2025, 3, 8),
            run_id="r",
        )

    monkeypatch.undo()
    assert rows(con) == before
    assert "extra" not in columns(con)
    # the connection is still usable and the next load works
    assert load_march(con, base=100).rows_inserted == 14
    assert count(con, where="sessions >= 100") == 14


# --------------------------------------------------------------------------------------------------
# Schema changes
# --------------------------------------------------------------------------------------------------
def test_a_new_field_is_added_as_a_column_and_kept(con):
    load_march(con, accounts=("a",))
    new = traffic(["b"], MARCH).append_column("new_users", pa.array(list(range(7)), pa.int64()))

    result = replace_window(
        con, TABLE, new, account_ids=["b"], start=MARCH[0], end=date(2025, 3, 8), run_id="r2"
    )

    assert result.added_columns == ["new_users"]
    assert columns(con)["new_users"] == "BIGINT"
    assert count(con, where="_account_id = 'a' and new_users is null") == 7
    assert con.execute(
        f"select sum(new_users) from {TABLE} where _account_id = 'b'"
    ).fetchone() == (21,)

    # a later load of another account without the field keeps the column and b's values
    load_march(con, accounts=("a",), base=50)
    assert "new_users" in columns(con)
    assert con.execute(
        f"select sum(new_users) from {TABLE} where _account_id = 'b'"
    ).fetchone() == (21,)


def test_fields_beyond_a_declared_schema_are_kept_as_columns(con):
    load_march(con, accounts=("a",))
    schema = pa.schema([("_account_id", pa.string()), ("_partition_date", pa.date32())])
    rows = [
        {"_account_id": "b", "_partition_date": MARCH[0], "video_views": 5},
        {"_account_id": "b", "_partition_date": MARCH[1]},
    ]
    data = arrow_table(rows, schema)
    assert data.column_names == ["_account_id", "_partition_date", "video_views"]
    assert data.column("video_views").to_pylist() == [5, None]
    result = replace_window(
        con, TABLE, data, account_ids=["b"], start=MARCH[0], end=MARCH[2], run_id="r1"
    )
    assert result.added_columns == ["video_views"]


def test_a_removed_field_loads_as_null_and_is_reported(con):
    load_march(con, accounts=("a",))
    without_revenue = traffic(["a"], MARCH[:2], base=300).drop_columns(["revenue"])

    result = replace_window(
        con,
        TABLE,
        without_revenue,
        account_ids=["a"],
        start=MARCH[0],
        end=MARCH[2],
        run_id="r2",
    )

    assert result.missing_columns == ["revenue"]
    assert len(result.warnings) == 1
    assert "'revenue'" in result.warnings[0] and TABLE in result.warnings[0]
    assert "revenue" in columns(con)
    assert count(con, where="revenue is null") == 2
    assert count(con, where="revenue is not null") == 5
    assert count(con, where="sessions >= 300") == 2


def test_a_type_change_raises_schema_error_and_leaves_the_old_rows(con):
    load_march(con, accounts=("a",))
    before = rows(con)
    assert columns(con)["sessions"] == "BIGINT"
    changed = batch(
        ["a"],
        MARCH[:3],
        channel=["Direct"] * 3,
        sessions=pa.array(["12", "abc", "14"], pa.string()),
        revenue=[1.0, 2.0, 3.0],
        added_too=["x", "y", "z"],
    )

    with pytest.raises(SchemaError) as info:
        replace_window(
            con, TABLE, changed, account_ids=["a"], start=MARCH[0], end=MARCH[3], run_id="r2"
        )

    error = info.value
    assert error.source == "ga4"
    assert error.field == "sessions" and error.value == "abc"
    assert "field=sessions" in str(error) and "'abc'" in str(error)
    assert "BIGINT" in str(error) and TABLE in str(error)
    assert rows(con) == before
    assert "added_too" not in columns(con)


def test_string_values_that_cast_cleanly_are_loaded_into_the_existing_type(con):
    load_march(con, accounts=("a",))
    as_text = batch(
        ["a"],
        MARCH[:1],
        channel=["Direct"],
        sessions=pa.array(["42"], pa.string()),
        revenue=[1.5],
    )

    replace_window(con, TABLE, as_text, account_ids=["a"], start=MARCH[0], end=MARCH[1], run_id="r")

    assert columns(con)["sessions"] == "BIGINT"
    assert con.execute(
        f"select sessions from {TABLE} where _partition_date = '2025-03-01'"
    ).fetchall() == [(42,)]


# --------------------------------------------------------------------------------------------------
# Guard rails
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dates",
    [
        [date(2025, 2, 28), date(2025, 3, 1)],  # before the start
        [date(2025, 3, 6), date(2025, 3, 8)],  # on the (exclusive) end
    ],
)
def test_rows_outside_the_window_are_rejected(con, dates):
    load_march(con)
    before = rows(con)

    with pytest.raises(ValueError, match="fall outside"):
        replace_window(
            con,
            TABLE,
            traffic(["a"], dates),
            account_ids=["a"],
            start=date(2025, 3, 1),
            end=date(2025, 3, 8),
            run_id="r2",
        )
    assert rows(con) == before


def test_rows_of_an_account_outside_the_load_are_rejected(con):
    """Such rows would never be replaced by a rerun of this load, so they would pile up."""
    with pytest.raises(ValueError, match=r"\['c'\]"):
        replace_window(
            con,
            TABLE,
            traffic(["a", "c"], MARCH),
            account_ids=["a", "b"],
            start=MARCH[0],
            end=date(2025, 3, 8),
            run_id="r",
        )


def test_rows_without_a_partition_date_are_rejected(con):
    data = batch(["a"], MARCH[:2], sessions=[1, 2]).set_column(
        1, "_partition_date", pa.array([MARCH[0], None], pa.date32())
    )

    with pytest.raises(ValueError, match="_partition_date"):
        replace_window(
            con, TABLE, data, account_ids=["a"], start=MARCH[0], end=MARCH[2], run_id="r"
        )


def test_a_batch_without_the_load_columns_is_rejected(con):
    with pytest.raises(ValueError, match="_partition_date"):
        replace_window(
            con,
            TABLE,
            pa.table({"_account_id": ["a"], "sessions": [1]}),
            account_ids=["a"],
            start=MARCH[0],
            end=MARCH[1],
            run_id="r",
        )


# --------------------------------------------------------------------------------------------------
# replace_keys: period rows
# --------------------------------------------------------------------------------------------------
def users_batch(records: list[tuple[str, str, date, date, int]]) -> pa.Table:
    return pa.table(
        {
            "_account_id": pa.array([r[0] for r in records], pa.string()),
            "_partition_date": pa.array([r[2] for r in records], pa.date32()),
            "grain": pa.array([r[1] for r in records], pa.string()),
            "period_start": pa.array([r[2] for r in records], pa.date32()),
            "period_end": pa.array([r[3] for r in records], pa.date32()),
            "total_users": pa.array([r[4] for r in records], pa.int64()),
        }
    )


KEYS = ["_account_id", "grain", "period_start"]


def test_replace_keys_replaces_rows_by_key_and_leaves_the_others(con):
    mon, sun = date(2025, 3, 3), date(2025, 3, 9)
    replace_keys(
        con,
        USERS,
        users_batch(
            [
                ("a", "day", mon, mon, 100),
                ("a", "week", mon, sun, 500),
                ("a", "month", date(2025, 3, 1), date(2025, 3, 31), 2000),
                ("b", "week", mon, sun, 70),
            ]
        ),
        keys=KEYS,
        run_id="run-1",
    )

    result = replace_keys(
        con,
        USERS,
        users_batch([("a", "week", mon, sun, 520), ("a", "day", sun, sun, 90)]),
        keys=KEYS,
        run_id="run-2",
    )

    assert (result.rows_deleted, result.rows_inserted) == (1, 2)
    got = {(acct, grain, start): users for acct, _, grain, start, _, users in rows(con, USERS)}
    assert got == {
        ("a", "day", mon): 100,
        ("a", "day", sun): 90,
        ("a", "week", mon): 520,  # replaced, not duplicated
        ("a", "month", date(2025, 3, 1)): 2000,
        ("b", "week", mon): 70,  # same period, other account: untouched
    }


def test_rerunning_replace_keys_is_idempotent(con):
    data = users_batch([("a", "week", date(2025, 3, 3), date(2025, 3, 9), 500)])

    replace_keys(con, USERS, data, keys=KEYS, run_id="run-1")
    before = rows(con, USERS)
    result = replace_keys(con, USERS, data, keys=KEYS, run_id="run-2")

    assert rows(con, USERS) == before
    assert (result.rows_deleted, result.rows_inserted) == (1, 1)


# --------------------------------------------------------------------------------------------------
# Streaming pages
# --------------------------------------------------------------------------------------------------
def march_pages(base: int) -> Iterator[pa.Table]:
    for day in MARCH:
        yield traffic(["a", "b"], [day], base)


def test_pages_streamed_as_an_iterable_load_like_one_table(con, tmp_path):
    end = MARCH[-1] + timedelta(days=1)
    result = replace_window(
        con, TABLE, march_pages(0), account_ids=["a", "b"], start=MARCH[0], end=end, run_id="r"
    )
    assert result.rows_inserted == 14
    streamed = rows(con)
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    try:
        replace_window(
            other,
            TABLE,
            pa.concat_tables(list(march_pages(0))),
            account_ids=["a", "b"],
            start=MARCH[0],
            end=end,
            run_id="r",
        )
        assert rows(other) == streamed
    finally:
        other.close()


def test_a_failing_page_mid_stream_leaves_every_old_row(con):
    load_march(con, base=0)
    before = rows(con)

    def pages() -> Iterator[pa.Table]:
        yield traffic(["a", "b"], MARCH[:2], 100)
        yield traffic(["a", "b"], MARCH[2:4], 100)
        raise ConnectionError("page 3 never arrived")

    with pytest.raises(ConnectionError):
        replace_window(
            con,
            TABLE,
            pages(),
            account_ids=["a", "b"],
            start=MARCH[0],
            end=MARCH[-1] + timedelta(days=1),
            run_id="r2",
        )
    assert rows(con) == before
