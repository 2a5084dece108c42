"""Progress of long steps on a fake clock: lines at the interval while pages arrive and while a
throttle is waited out, the source steps' lines in the run log, dbt's models done/total, and the
demo console showing them."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from pipelines.connectors import meta_ads
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.demo import progress_line
from pipelines.lib.progress import dbt_models_progress
from pipelines.warehouse.resource import WarehouseResource
from sources import progress
from sources.http import RetryDecision, RetryPolicy, call_with_retries, paginate_cursor
from sources.progress import Progress, heartbeat, reporting

BLOCK_LIMIT = (
    60.0  # a generous bound on waiting for the heartbeat's line, never reached when it works
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def reporter(clock: FakeClock, lines: list[tuple[float, str]]) -> Progress:
    return Progress("demo_api", write=lambda line: lines.append((clock.now, line)), clock=clock)


def test_a_long_paged_fetch_writes_a_line_every_interval(monkeypatch) -> None:
    clock, lines = FakeClock(), []
    pages = {str(i): (list(range(50)), str(i + 1) if i < 39 else None) for i in range(40)}

    def fetch(cursor: str | None):
        clock.sleep(3.0)  # each page takes 3 s
        return pages[cursor or "0"]

    with reporting(reporter(clock, lines)):
        rows = [
            r for page in paginate_cursor(fetch, source="demo_api", endpoint="GET /x") for r in page
        ]
    assert len(rows) == 2000
    *working, (_, final) = lines
    times = [t for t, _ in working]
    assert times == [12.0 * i for i in range(1, 11)]  # the first page after each 10 s of silence
    assert all(10 <= b - a <= 13 for a, b in zip([0.0, *times], times, strict=False))
    assert working[0][1] == "progress demo_api: working after 12 s: 0 requests, 4 pages, 200 rows"
    assert final == "progress demo_api: done after 120 s: 0 requests, 40 pages, 2,000 rows"


def test_a_long_throttle_wait_is_slept_in_slices_that_each_report() -> None:
    clock, lines = FakeClock(), []
    attempts = iter([RuntimeError("429"), "page"])

    def call() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    policy = RetryPolicy(max_attempts=3, max_delay=60, max_total_wait=60, sleep=sleep)
    with reporting(reporter(clock, lines)):
        call_with_retries(
            call,
            classify=lambda exc: RetryDecision(retry=True, wait_hint=45.0),
            policy=policy,
            describe=lambda exc, n: AssertionError(str(exc)),
        )
    assert slept == [10.0, 10.0, 10.0, 10.0, 5.0]
    assert [t for t, _ in lines] == [10.0, 20.0, 30.0, 40.0, 45.0]  # the last one: done
    assert lines[0][1].endswith(
        "waited 10 s (throttling/backoff) (backing off before retry 1, 35 s left)"
    )
    assert lines[-1][1].startswith("progress demo_api: done after 45 s: 1 requests")


def test_outside_a_step_waits_are_one_sleep_and_nothing_is_written() -> None:
    slept: list[float] = []
    progress.current().wait(45.0, slept.append, "no step")
    assert slept == [45.0]


def test_a_source_step_writes_progress_lines_to_the_run_log(stack, tmp_path, monkeypatch) -> None:
    clock = FakeClock()

    def tick() -> float:
        clock.now += 4.0  # every look at the clock is 4 s later: lines come often
        return clock.now

    monkeypatch.setattr(progress, "_now", tick)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        connector_assets([meta_ads.SOURCE]),
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            **connector_resources([meta_ads.SOURCE], stack.env()),
        },
        partition_key=date.today().replace(day=1).isoformat(),
    )
    assert result.success
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    lines = [m for m in messages if m.startswith("progress meta_ads:")]
    assert len(lines) >= 3 and any("working" in m for m in lines)
    assert lines[-1].startswith("progress meta_ads: done after")
    assert "requests" in lines[-1] and "pages" in lines[-1]
    # the load step (in the warehouse pool) reports the rows it loaded
    loaded = sum(
        event.materialization.metadata["rows_inserted"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key.path[0] == "raw"
    )
    load_lines = [m for m in messages if m.startswith("progress meta_ads load:")]
    assert loaded > 0 and f"{loaded:,} rows loaded" in load_lines[-1]


@dataclass
class StubContext:
    selected_asset_keys: set = field(default_factory=set)
    logged: list[str] = field(default_factory=list)

    @property
    def log(self) -> logging.Logger:
        outer = self

        class Log:
            def info(self, message: str) -> None:
                outer.logged.append(message)

        return Log()  # type: ignore[return-value]


def test_the_dbt_step_reports_models_done_of_total() -> None:
    clock = FakeClock()
    context = StubContext({dg.AssetKey(f"m{i}") for i in range(30)})

    def events():
        for i in range(30):
            clock.sleep(2.0)
            yield dg.Output(None, output_name=f"m{i}")
            yield dg.AssetCheckResult(asset_key=dg.AssetKey(f"m{i}"), passed=True)

    passed = list(dbt_models_progress(context, events(), clock=clock))
    assert len(passed) == 60  # every event still reaches Dagster
    assert context.logged[0] == "progress dbt: 5/30 models built (10 s)"
    assert context.logged[-1] == "progress dbt: done, 30/30 models built (60 s)"
    assert len(context.logged) == 7


def test_a_step_blocked_in_one_long_call_still_writes_lines() -> None:
    """Nothing reports while one request hangs: the heartbeat writes the line from its thread."""
    lines: list[str] = []
    written = threading.Event()

    def write(line: str) -> None:
        lines.append(line)
        written.set()

    progress_ = Progress("slow_api", write=write, interval=0.2)
    with reporting(progress_), heartbeat(lambda: progress_.maybe_write("still working"), 0.2):
        assert written.wait(BLOCK_LIMIT), "no line while the step was blocked"
    assert lines[0].startswith("progress slow_api: working after") and "(still working)" in lines[0]
    assert lines[-1].startswith("progress slow_api: done after")


def test_the_dbt_step_reports_while_dbt_parses_before_the_first_model() -> None:
    context = StubContext({dg.AssetKey(f"m{i}") for i in range(3)})

    def events():
        deadline = time.monotonic() + BLOCK_LIMIT
        while not context.logged and time.monotonic() < deadline:  # dbt still parsing
            time.sleep(0.05)
        assert context.logged, "nothing logged while dbt was starting"
        for i in range(3):
            yield dg.Output(None, output_name=f"m{i}")

    passed = list(dbt_models_progress(context, events(), interval=0.2))
    assert len(passed) == 3
    assert context.logged[0].startswith("progress dbt: 0/3 models built")
    assert context.logged[0].endswith(", still working")
    assert context.logged[-1].startswith("progress dbt: done, 3/3 models built")


def test_the_demo_console_shows_progress_lines() -> None:
    line = (
        "2026-12-02 09:00:00 +0000 - dagster - INFO - __ASSET_JOB - 0a1b2c3d - meta_ads_raw - "
        "progress meta_ads: working after 12 s: 14 requests, 3 pages, 1,204 rows\n"
    )
    assert (
        progress_line(line)
        == "  progress meta_ads: working after 12 s: 14 requests, 3 pages, 1,204 rows"
    )
    assert progress_line(line.replace("progress meta_ads", "pulled meta_ads")) is None
