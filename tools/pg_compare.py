"""The PostgreSQL target proved equal to DuckDB: the demo pipeline on both, ``marts.kpi_values``
compared row by row.

``python -m tools.pg_compare --days 14`` (``scripts/postgres_check``; ``.ci/run`` runs it after
the test suite) starts a throwaway PostgreSQL server (``tools.pg_local``) and the API
emulators once (their clocks pinned, so both runs see the same data), runs the run-contract command for the same window with ``KPI_WAREHOUSE=duckdb``
and then ``KPI_WAREHOUSE=postgres``, and compares every row of ``marts.kpi_values``.

Equal means: the same set of keys (kpi_id, grain, period_start, segment); in every row the same
text, dates, booleans and integers; and the same numbers (``value``, ``numerator``,
``denominator``: ``double`` on DuckDB, ``double precision`` on PostgreSQL, both read as 8-byte
floats), either bit for bit or - the one documented allowance - within a relative difference of
``RELATIVE_TOLERANCE`` (1e-12, i.e. agreeing to 12 significant digits). Why: money converted with
a float FX rate is cast to ``decimal(38, 12)`` before it is summed (int_kpi_daily__paid_ads), and
the two engines round a double to a decimal differently (PostgreSQL goes through 15 significant
digits, DuckDB scales in binary floating point), so the 12th decimal of such an amount can
differ by one. The summary counts both kinds, and the largest relative difference seen.

Only ``marts.kpi_values`` is compared: tables holding "everything up to now" (Zendesk tickets are
exported up to the current time) can gain a row created between the two runs.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.settings import PROJECT_ROOT

KEY = ("kpi_id", "grain", "period_start", "segment")
COLUMNS = (
    *KEY,
    "channel",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "unit",
    "aggregation",
    "days_observed",
    "is_period_complete",
)
NUMBERS = {"value", "numerator", "denominator"}
RELATIVE_TOLERANCE = 1e-12


def _query() -> str:
    return f"select {', '.join(COLUMNS)} from marts.kpi_values"


def _normalise(row: Sequence[Any]) -> dict[str, Any]:
    out = {}
    for name, value in zip(COLUMNS, row, strict=True):
        if name in NUMBERS and value is not None:
            value = float(value)
        elif name == "days_observed" and value is not None:
            value = int(value)
        out[name] = value
    return out


def relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b))


@dataclass
class Comparison:
    rows: int = 0
    numbers_identical: int = 0
    numbers_within_tolerance: int = 0
    max_relative_difference: float = 0.0
    mismatches: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"marts.kpi_values: {self.rows} rows compared, {len(self.mismatches)} mismatches; "
            f"numbers bit-identical: {self.numbers_identical}, equal within "
            f"{RELATIVE_TOLERANCE:g} relative: {self.numbers_within_tolerance} "
            f"(largest relative difference {self.max_relative_difference:.1e})"
        )


def _compare_value(result: Comparison, column: str, a: Any, b: Any) -> bool:
    if a == b or (
        isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    ):
        if column in NUMBERS and a is not None:
            result.numbers_identical += 1
        return True
    if column in NUMBERS and isinstance(a, float) and isinstance(b, float):
        difference = relative_difference(a, b)
        if difference <= RELATIVE_TOLERANCE:
            result.numbers_within_tolerance += 1
            result.max_relative_difference = max(result.max_relative_difference, difference)
            return True
    return False


def compare_rows(
    duck_rows: Sequence[Sequence[Any]], pg_rows: Sequence[Sequence[Any]]
) -> Comparison:
    """Every key on both sides, every column equal (numbers: see the module's docstring)."""
    duck = {tuple(r[: len(KEY)]): _normalise(r) for r in duck_rows}
    pg = {tuple(r[: len(KEY)]): _normalise(r) for r in pg_rows}
    result = Comparison()
    result.mismatches += [f"only in DuckDB: {k}" for k in sorted(duck.keys() - pg.keys(), key=str)]
    result.mismatches += [
        f"only in PostgreSQL: {k}" for k in sorted(pg.keys() - duck.keys(), key=str)
    ]
    for key in sorted(duck.keys() & pg.keys(), key=str):
        result.rows += 1
        for column in COLUMNS[len(KEY) :]:
            a, b = duck[key][column], pg[key][column]
            if not _compare_value(result, column, a, b):
                result.mismatches.append(f"{key} {column}: duckdb={a!r} postgres={b!r}")
    return result


def read_duckdb(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(_query()).fetchall()


def read_postgres(env: dict[str, str]) -> list[tuple]:
    import psycopg

    conninfo = (
        f"host={env['PGHOST']} port={env['PGPORT']} user={env['PGUSER']} dbname={env['PGDATABASE']}"
    )
    with psycopg.connect(conninfo) as con:
        return con.execute(_query()).fetchall()


def pin_clocks(stack: Any, moment: datetime) -> None:
    """Every emulator of the stack answers as of ``moment`` (``now``) and of its current day
    (``today``), so two runs minutes apart (or across midnight) see the same data."""
    stack.pin_business_clock(moment)
    seen: set[int] = set()

    def pin(obj: Any) -> None:
        if obj is None or id(obj) in seen or not hasattr(obj, "__dict__"):
            return
        seen.add(id(obj))
        if callable(getattr(obj, "now", None)) and "now" in vars(obj):
            obj.now = lambda: moment
        if callable(getattr(obj, "today", None)) and "today" in vars(obj):
            day = obj.today()  # each emulator's own day (Search Console: Pacific), frozen
            obj.today = lambda day=day: day
        for value in vars(obj).values():
            if type(value).__module__.startswith("sources.emulators"):
                pin(value)

    pin(stack)


def run(days: int, keep: bool = False) -> int:
    from pipelines.demo import materialize, prepare_dbt
    from sources.emulators.stack import build_stack, demo_settings
    from tools.pg_local import remove, start_local_postgres

    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    work = Path(tempfile.mkdtemp(prefix="kpi-pg-compare-"))
    shutil.copy(PROJECT_ROOT / "dagster.yaml", work / "dagster.yaml")
    server = start_local_postgres()
    print(f"postgres_check: PostgreSQL server at {server.directory} (unix socket)", flush=True)
    try:
        base = dict(os.environ)
        base.update(
            {
                "DAGSTER_HOME": str(work),
                "KPI_START_DATE": "2024-01-01",
                "KPI_DUCKDB_PATH": str(work / "warehouse.duckdb"),
                "KPI_PUBLISH_DIR": str(work / "published"),
                "KPI_REPORTS_DIR": str(work / "reports"),
                "PYTHONWARNINGS": "ignore",
                **server.env,
            }
        )
        # In-process emulators with their clocks pinned: Mailchimp, Stripe, HubSpot and Zendesk
        # answer "as of now", and an e-mail opened between the two runs would differ.
        stack = build_stack(work / "service_account.json")
        pin_clocks(stack, datetime.now(UTC).replace(microsecond=0))
        stack.server.start()
        try:
            base.update(demo_settings(stack.server.base_url, work / "service_account.json"))
            prepare_dbt(base)
            for target in ("duckdb", "postgres"):
                log = work / f"run-{target}.log"
                print(f"postgres_check: {start}..{end} on {target} (log: {log})", flush=True)
                materialize({**base, "KPI_WAREHOUSE": target}, start, end, log=log)
        finally:
            stack.server.stop()
        result = compare_rows(read_duckdb(work / "warehouse.duckdb"), read_postgres(server.env))
    finally:
        if keep:
            print(f"postgres_check: kept {work} and the server at {server.directory}")
        else:
            remove(server)
            shutil.rmtree(work, ignore_errors=True)
    print(result.summary())
    for line in result.mismatches[:50]:
        print("  " + line)
    if result.rows == 0:
        print("postgres_check: FAILED, no rows to compare", file=sys.stderr)
        return 1
    return 1 if result.mismatches else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14, help="days of the demo window (14)")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and the server")
    args = parser.parse_args(argv)
    return run(args.days, args.keep)


if __name__ == "__main__":
    sys.exit(main())
