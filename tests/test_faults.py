"""Fault suite: every connector survives transient faults, fails clearly on bad data without
losing what was loaded, keeps new fields, and fails fast on an exhausted quota.

"Survived" means: a run that should succeed did, with exactly the rows of a clean run; a run that
should fail did, with a source-naming error, and left every earlier row in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from sources.emulators.stack import EmulatorStack, build_stack
from sources.http import QuotaExhaustedError, RetryPolicy, SourceError
from tests.faults import RESULTS, TARGETS, FaultTarget, Outcome

READ_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def emulators(tmp_path_factory) -> Iterator[EmulatorStack]:
    stack = build_stack(tmp_path_factory.mktemp("faults") / "sa.json")
    stack.server.start()
    try:
        yield stack
    finally:
        stack.server.stop()


def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=5, sleep=lambda _s: None)


def snapshot(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(
        f"select * exclude (_loaded_at, _source_run_id) from {table} order by all"
    ).fetchall()


def baseline(target: FaultTarget, stack: EmulatorStack, tmp: Path):
    con = duckdb.connect(str(tmp / f"{target.source}.duckdb"))
    stack.server.clear_faults()
    rows = target.load(stack, policy(), con, READ_TIMEOUT)
    assert rows > 0
    return con, rows, snapshot(con, target.table)


def cases(kind: str) -> list:
    return [
        pytest.param(t, name, faults, id=f"{t.source}: {name}")
        for t in TARGETS
        for name, faults in getattr(t, kind).items()
    ]


@pytest.mark.parametrize(("target", "scenario", "faults"), cases("transient"))
def test_transient_faults_are_retried_and_the_run_loads_every_row(
    emulators, tmp_path, target, scenario, faults
) -> None:
    con, rows, before = baseline(target, emulators, tmp_path)
    emulators.server.inject(*[type(f)(**vars(f)) for f in faults])
    try:
        again = target.load(emulators, policy(), con, READ_TIMEOUT)
        after = snapshot(con, target.table)
        RESULTS.append(
            Outcome(
                target.source,
                scenario,
                again == rows and after == before,
                max(len(before) - len(after), 0),
            )
        )
        assert again == rows
        assert after == before
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize(("target", "scenario", "faults"), cases("fatal"))
def test_bad_data_fails_the_run_naming_the_source_and_loses_nothing(
    emulators, tmp_path, target, scenario, faults
) -> None:
    con, _, before = baseline(target, emulators, tmp_path)
    emulators.server.inject(*[type(f)(**vars(f)) for f in faults])
    try:
        with pytest.raises(SourceError) as caught:
            target.load(emulators, policy(), con, READ_TIMEOUT)
        after = snapshot(con, target.table)
        lost = len(set(before) - set(after))
        RESULTS.append(Outcome(target.source, scenario, after == before, lost))
        assert f"[{target.source}]" in str(caught.value)
        assert after == before
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.quota], ids=lambda t: t.source)
def test_an_exhausted_daily_quota_fails_fast(emulators, tmp_path, target) -> None:
    con, _, before = baseline(target, emulators, tmp_path)
    emulators.server.inject(*[type(f)(**vars(f)) for f in target.quota])
    requests_before = emulators.server.count(target.path)
    try:
        with pytest.raises(QuotaExhaustedError) as caught:
            target.load(emulators, policy(), con, READ_TIMEOUT)
        made = emulators.server.count(target.path) - requests_before
        RESULTS.append(
            Outcome(
                target.source,
                "exhausted daily quota",
                made == 1 and snapshot(con, target.table) == before,
                0,
            )
        )
        assert made == 1, "a spent quota must not be hammered"
        assert "quota" in str(caught.value).lower()
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.new_field], ids=lambda t: t.source)
def test_a_new_field_from_the_api_is_kept(emulators, tmp_path, target) -> None:
    from sources.emulators.server import Fault

    con, _, _ = baseline(target, emulators, tmp_path)
    emulators.server.inject(
        Fault(target.path, kind="transform", transform=target.new_field, times=1000)
    )
    try:
        target.load(emulators, policy(), con, READ_TIMEOUT)
        columns = {r[0] for r in con.execute(f"describe {target.table}").fetchall()}
        kept = target.new_field_column in columns
        RESULTS.append(Outcome(target.source, "new field", kept, 0))
        assert kept
    finally:
        emulators.server.clear_faults()
        con.close()
