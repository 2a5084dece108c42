"""A new source is one declaration: a small toy source, added through the framework alone, is
extracted, landed, loaded, checked, doctored and replayed like the shipped ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from pipelines.connectors import doctor
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.framework import (
    Batch,
    Config,
    RawTable,
    Replace,
    Setting,
    Source,
    Window,
    lookback_setting,
)
from pipelines.connectors.replay import replay_raw
from pipelines.warehouse.resource import WarehouseResource

START, LAST = date(2025, 3, 3), date(2025, 3, 6)
TOKEN = "toy-secret-token"


class ToyClient:
    """A provider in memory: a page of events per day for each account."""

    def __init__(self, token: str, meet: threading.Barrier | None = None) -> None:
        if token != TOKEN:
            raise PermissionError("401 invalid token")
        self.meet = meet
        self.requests_made = 0

    def events(self, account: str, day: date) -> list[dict[str, Any]]:
        self.requests_made += 1
        return [
            {"account": account, "day": day, "event": f"e{i}", "value": i * day.day}
            for i in range(3)
        ]


EVENTS = pa.schema(
    [
        ("account", pa.string()),
        ("day", pa.date32()),
        ("event", pa.string()),
        ("value", pa.int64()),
        ("_account_id", pa.string()),
        ("_partition_date", pa.date32()),
    ]
)


def toy_source(name: str, meet: threading.Barrier | None = None) -> Source:
    prefix = name.upper()

    def accounts(config: Config) -> list[str]:
        return config.list(f"{prefix}_ACCOUNTS")

    def connect(config: Config) -> ToyClient:
        return ToyClient(config.require(f"{prefix}_TOKEN"), meet)

    def extract(client: ToyClient, window: Window, config: Config) -> Iterator[Batch | dict]:
        if client.meet is not None:
            client.meet.wait()  # both toy sources must be extracting at the same moment
        for account in accounts(config):
            for day in window.days():
                rows = client.events(account, day)
                yield Batch(
                    "events", [{**r, "_account_id": account, "_partition_date": day} for r in rows]
                )
        yield {"accounts": ", ".join(accounts(config))}

    return Source(
        name=name,
        title=f"Toy {name}",
        description="events per account and day",
        settings=(
            Setting(f"{prefix}_TOKEN", "API token", required=True, secret=True),
            Setting(f"{prefix}_ACCOUNTS", "Comma-separated accounts", required=True),
            Setting(f"{prefix}_LOOKBACK_DAYS", "Days re-pulled each morning", default="2"),
        ),
        tables=(
            RawTable("events", f"raw.{name}__events", EVENTS, "events by day", Replace.WINDOW),
        ),
        lookback=lookback_setting(f"{prefix}_LOOKBACK_DAYS"),
        connect=connect,
        accounts=accounts,
        extract=extract,
        check=lambda client, config: f"{len(accounts(config))} account(s)",
    )


def materialize(
    sources: list[Source], database: Path, settings: dict[str, str]
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        connector_assets(sources),
        resources={
            "warehouse": WarehouseResource(path=str(database)),
            **connector_resources(sources, settings),
        },
        tags={
            "dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
        raise_on_error=False,
    )


def count(database: Path, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_toy_source_declared_once_runs_end_to_end(tmp_path: Path) -> None:
    toy = toy_source("toy")
    settings = {"TOY_TOKEN": TOKEN, "TOY_ACCOUNTS": "a, b"}
    database = tmp_path / "w.duckdb"
    result = materialize([toy], database, settings)
    assert result.success
    assert count(database, "raw.toy__events") == 2 * 4 * 3  # accounts x days x events
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["source_configured"].passed and checks["no_fields_removed"].passed
    assert {"landing/toy", "raw/toy__events"} <= {
        "/".join(e.asset_key.path) for e in result.get_asset_materialization_events()
    }
    # doctor: answers with the right token, names the setting with a wrong one
    assert doctor.check_source(toy, settings).status == doctor.OK
    wrong = doctor.check_source(toy, {**settings, "TOY_TOKEN": "nope"})
    assert wrong.failed and "TOY_TOKEN" in wrong.fix
    # replay: the raw table rebuilt from the landing zone alone
    with duckdb.connect(str(database)) as con:
        con.execute("delete from raw.toy__events")
    replay_raw(
        [toy], Window(START, LAST + timedelta(days=1)), WarehouseResource(path=str(database))
    )
    assert count(database, "raw.toy__events") == 24


def test_an_unconfigured_toy_source_warns_and_loads_nothing(tmp_path: Path) -> None:
    result = materialize([toy_source("toy")], tmp_path / "w.duckdb", {})
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["source_configured"]
    assert not check.passed and "TOY_TOKEN" in check.description


def test_sources_are_extracted_at_the_same_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"ONE_TOKEN": TOKEN, "ONE_ACCOUNTS": "a", "TWO_TOKEN": TOKEN, "TWO_ACCOUNTS": "b"}
    meet = threading.Barrier(2, timeout=20)
    sources = [toy_source("one", meet), toy_source("two", meet)]
    assert materialize(sources, tmp_path / "w.duckdb", settings).success
    # One at a time, the first extraction waits for a partner that never comes.
    monkeypatch.setenv("KPI_EXTRACT_CONCURRENCY", "1")
    meet = threading.Barrier(2, timeout=2)
    serial = materialize(
        [toy_source("one", meet), toy_source("two", meet)], tmp_path / "s.duckdb", settings
    )
    assert not serial.success and "extraction failed" in str(serial.all_events)
