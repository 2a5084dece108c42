"""The fault suite's building blocks: a target's shape, the standard faults, small helpers.

Target modules (tests/fault_targets_*.py) build on these; tests/faults.py lists every target.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.connectors import pipeline
from pipelines.connectors.framework import Source, Window
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack
from sources.http import HttpClient, RetryPolicy
from sources.ratelimit import RateLimiter

START, END = date(2025, 3, 3), date(2025, 3, 6)  # end exclusive
# The emulators answer "as of" this moment (fixed, so two pulls of the window are identical).
AS_OF = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)


@dataclass
class Loaded:
    """What one load did: rows inserted, and the items a source recorded as failed."""

    rows: int
    failures: list[str] = field(default_factory=list)


Load = Callable[[EmulatorStack, RetryPolicy, duckdb.DuckDBPyConnection, float], "int | Loaded"]


@dataclass
class FaultTarget:
    source: str  # as the connector's errors name it: "[source] ..."
    path: str  # regex of the endpoint the faults hit
    table: str  # the raw table whose rows must survive a failed run
    load: Load  # pull START..END from the emulator and load it like its asset does
    transient: dict[str, list[Fault]] = field(default_factory=dict)  # retried, run succeeds
    fatal: dict[str, list[Fault]] = field(default_factory=dict)  # run fails, nothing lost
    quota: list[Fault] | None = None  # exhausted daily quota: fails fast
    new_field: Callable[[Any], Any] | None = None  # JSON transform adding a field
    new_field_column: str | None = None
    new_field_value: Any = None  # the value the transform sends: the column must hold it
    # Columns that differ between two clean pulls by design (the moment of the pull).
    volatile: tuple[str, ...] = ()
    # True where the source's contract is that bad data or a spent quota fails only the item it
    # hit (recorded in Loaded.failures) and the run goes on (PageSpeed: decision 14).
    isolates_failures: bool = False
    # Rows of the fault list (ROWS) that cannot happen for this API, each with the reason.
    not_applicable: dict[str, str] = field(default_factory=dict)


# Every row the fault suite must cover for each connector (issue 9), by scenario-name prefix.
TRANSIENT_ROWS = (
    "429 with Retry-After",
    "429 without Retry-After",
    "provider throttle shape",
    "5xx burst",
    "read timeout",
    "dropped connection",
)
FATAL_ROWS = ("malformed JSON", "truncated page", "repeated pagination cursor", "type change")


def standard_transient(path: str, throttle: Fault) -> dict[str, list[Fault]]:
    """The transient faults every connector must survive."""
    return {
        "429 with Retry-After": [
            Fault(path, status=429, headers={"Retry-After": "2"}, body={"error": "slow down"})
        ],
        "429 without Retry-After": [Fault(path, status=429, body={"error": "slow down"})],
        "provider throttle shape": [throttle],
        "5xx burst": [Fault(path, status=503, body={"error": "unavailable"}, times=3)],
        "read timeout": [Fault(path, kind="timeout", delay=1.5)],
        "dropped connection": [Fault(path, kind="drop", times=2)],
    }


REPEATED_CURSOR = "repeated pagination cursor"


def offset_ignored(path: str, *params: str) -> dict[str, list[Fault]]:
    """Offset paging's repeated cursor: the server ignores the offset (``params``) and hands back
    the first page for every request."""
    return {
        f"{REPEATED_CURSOR} (offset ignored: the same page again)": [
            Fault(path, kind="ignore_paging", params=params, times=1000)
        ]
    }


def malformed_and_truncated(path: str) -> dict[str, list[Fault]]:
    """Bad bodies every JSON API can send: a broken document, a page cut off mid-way."""
    return {
        "malformed JSON": [Fault(path, kind="malformed")],
        "truncated page": [Fault(path, kind="truncate")],
    }


class ReplayFirstPage:
    """A transform that answers every request with the first page it saw (after ``mutate``): a
    server stuck on one page hands out the same pagination cursor forever.

    Stateful; the suite deep-copies faults per test, so every test starts afresh.
    """

    def __init__(self, mutate: Callable[[dict[str, Any]], None]) -> None:
        self.mutate = mutate
        self.first: dict[str, Any] | None = None

    def __call__(self, page: dict[str, Any]) -> dict[str, Any]:
        if self.first is None:
            self.first = copy.deepcopy(page)
            self.mutate(self.first)
        return copy.deepcopy(self.first)


def short_timeout(client: HttpClient, read_timeout: float) -> HttpClient:
    """The client with the suite's short read timeout (clients default to a minute or more; a
    client with one number for both timeouts, such as GA4's, gets that number)."""
    if isinstance(client.timeout, tuple):
        client.timeout = (client.timeout[0], read_timeout)
    else:
        client.timeout = read_timeout
    return client


def instant_limiter(max_calls: int, period: float) -> RateLimiter:
    """A client-side rate limiter on a simulated clock: it spaces calls without really waiting."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return RateLimiter(max_calls, period, clock=lambda: now[0], sleep=sleep)


def rows_of(loaded: int | Loaded) -> Loaded:
    return loaded if isinstance(loaded, Loaded) else Loaded(loaded)


def source_load(
    source: Source,
    adjust: Callable[[Any], None] | None = None,
    *,
    settings: dict[str, str] | None = None,
    failures: str | None = None,
) -> Load:
    """A target's ``load``: the source's own ``extract`` to a landing zone, then its load, over
    START..END, exactly as its Dagster assets run them (``adjust`` tunes the client, e.g. smaller
    pages so faults land mid-stream; ``settings`` win over the stack's). For a source that
    isolates failures, ``failures`` names the extraction metadata listing the failed items."""

    def load(
        stack: EmulatorStack, retry: RetryPolicy, con: duckdb.DuckDBPyConnection, timeout: float
    ) -> int | Loaded:
        def tune(client: Any) -> Any:
            short_timeout(client, timeout)
            if adjust is not None:
                adjust(client)
            return client

        names = {s.name for s in source.settings}
        given = {k: v for k, v in stack.env().items() if k in names} | (settings or {})
        config = source.config(given, retry=retry, adjust=tune)
        with tempfile.TemporaryDirectory() as root:
            landed = pipeline.extract(source, config, Window(START, END), "faults", root=Path(root))
            results = pipeline.load(con, landed, "faults")
        rows = sum(result.rows_inserted for result in results.values())
        if failures is None:
            return rows
        return Loaded(rows, [str(f) for f in landed.metadata.get(failures) or []])

    return load
