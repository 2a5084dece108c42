"""The landing zone between extraction and loading: what is landed, what is loaded, and when.

Driven through the real Google Ads source (emulator) and the assets its declaration yields.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import cli
from pipelines.connectors import fx, google_ads, landing
from pipelines.connectors.assets import (
    LOOKBACK_TAG,
    PER_SOURCE,
    connector_assets,
    connector_resources,
    landing_key,
)
from pipelines.connectors.framework import Window
from pipelines.connectors.replay import replay_raw
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack

SOURCE = google_ads.SOURCE
STREAM = r"/customers/\d+/googleAds:searchStream"
START, LAST = date(2025, 3, 3), date(2025, 3, 7)
CAMPAIGNS = "raw.google_ads__campaign_stats"
ROWS = f"select * exclude (_loaded_at, _source_run_id) from {CAMPAIGNS} order by all"


@pytest.fixture
def zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "landing"
    monkeypatch.setenv("KPI_LANDING_PATH", str(root))
    return root


def run(
    stack: EmulatorStack,
    database: Path,
    start: date = START,
    last: date = LAST,
    *,
    settings: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    selection: list[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        connector_assets([SOURCE]),
        resources={
            "warehouse": WarehouseResource(path=str(database)),
            **connector_resources([SOURCE], {**stack.env(), **(settings or {})}),
        },
        selection=selection,
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
            **(tags or {}),
        },
        raise_on_error=False,
    )


def rows(database: Path, sql: str = ROWS) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def manifests(zone: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(zone.rglob(landing.MANIFEST))]


def test_a_run_lands_every_page_with_a_manifest_then_loads_exactly_that(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    result = run(stack, tmp_path / "w.duckdb")
    assert result.success
    found = {m["table"]: m for m in manifests(zone)}
    assert set(found) == {t.table for t in SOURCE.tables}
    campaigns = found[CAMPAIGNS]
    assert campaigns["run_id"] == result.run_id and campaigns["window"]["start"] == str(START)
    assert campaigns["rows"] == len(rows(tmp_path / "w.duckdb")) > 0
    assert rows(tmp_path / "w.duckdb", f"select distinct _source_run_id from {CAMPAIGNS}") == [
        (result.run_id,)
    ]


def test_a_failed_extraction_is_never_loaded_and_the_loaded_rows_stay(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    assert run(stack, database).success
    before = rows(database)
    # The first customer's two answers pass, then every answer is broken JSON (fatal).
    stack.server.inject(
        Fault(STREAM, kind="transform", times=2, transform=lambda body: body),
        Fault(STREAM, kind="malformed", times=1000),
    )
    failed = run(stack, database)
    assert not failed.success
    assert "[google_ads] extraction failed" in str(failed.all_events)
    pages = [p for p in zone.rglob("*.parquet") if failed.run_id in p.parts]
    assert pages, "the first customer's pages were landed"
    assert not [p for p in zone.rglob(landing.MANIFEST) if failed.run_id in p.parts]
    assert landing.find_landing(SOURCE, [failed.run_id]) is None
    assert rows(database) == before


def test_a_crash_between_extraction_and_load_loses_nothing(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference.duckdb"
    assert run(stack, reference).success
    database = tmp_path / "w.duckdb"
    # Only the extraction step ran (the process died before the load step): nothing in the
    # warehouse, everything in the landing zone.
    extracted = run(stack, database, selection=[landing_key(SOURCE)])
    assert extracted.success and not database.exists()
    requests = stack.server.count(STREAM)
    replayed = replay_raw(
        [SOURCE], Window(START, LAST + timedelta(days=1)), WarehouseResource(path=str(database))
    )
    assert stack.server.count(STREAM) == requests  # no API call
    assert replayed[0].landings == 2  # the reference run's and the extraction-only run's
    assert rows(database) == rows(reference)


def test_replaying_part_of_a_range_rewrites_only_those_days(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    database = tmp_path / "w.duckdb"
    assert run(stack, database).success
    full = rows(database)
    day = START + timedelta(days=2)
    with duckdb.connect(str(database)) as con:
        con.execute(f"delete from {CAMPAIGNS}")
    replay_raw(
        [SOURCE], Window(day, day + timedelta(days=1)), WarehouseResource(path=str(database))
    )
    assert rows(database) == [
        r for r in full if r[SOURCE.tables[0].schema.get_field_index("date")] == day
    ]


def test_the_daily_run_extracts_each_sources_own_lookback_and_a_range_run_all_of_it(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    settings = {"GOOGLE_ADS_LOOKBACK_DAYS": "2"}
    daily = run(stack, tmp_path / "d.duckdb", settings=settings, tags={LOOKBACK_TAG: PER_SOURCE})
    assert daily.success
    window = {m["window"]["start"] for m in manifests(zone) if m["run_id"] == daily.run_id}
    assert window == {str(LAST - timedelta(days=1))}
    dates = rows(tmp_path / "d.duckdb", f"select distinct date from {CAMPAIGNS} order by 1")
    assert [d for (d,) in dates] == [LAST - timedelta(days=1), LAST]
    ranged = run(stack, tmp_path / "r.duckdb", settings=settings)
    dates = rows(tmp_path / "r.duckdb", f"select min(date), max(date) from {CAMPAIGNS}")
    assert ranged.success and dates == [(START, LAST)]


def test_a_source_listed_in_landing_discard_keeps_no_files_after_its_load(
    stack: EmulatorStack, zone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KPI_LANDING_DISCARD", "stripe, google_ads")
    assert run(stack, tmp_path / "w.duckdb").success
    assert rows(tmp_path / "w.duckdb")
    assert not list(zone.rglob("*.parquet")) and not manifests(zone)


def test_retention_removes_landings_older_than_the_setting(
    stack: EmulatorStack, zone: Path, tmp_path: Path
) -> None:
    assert run(stack, tmp_path / "w.duckdb").success
    assert run(stack, tmp_path / "w.duckdb", START, START).success
    old = sorted(zone.rglob(landing.MANIFEST))[0]
    oldest_run = json.loads(old.read_text())["run_id"]
    for path in zone.rglob(landing.MANIFEST):
        data = json.loads(path.read_text())
        if data["run_id"] == oldest_run:
            data["completed_at"] = (datetime.now() - timedelta(days=40)).astimezone().isoformat()
            path.write_text(json.dumps(data))
    assert landing.prune(SOURCE, 30) == 1
    remaining = {m["run_id"] for m in manifests(zone)}
    assert len(remaining) == 1 and oldest_run not in remaining


def test_kpi_replay_rebuilds_the_raw_tables_then_the_models_without_calling_the_api(
    stack: EmulatorStack, zone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "w.duckdb"
    landed = [SOURCE, fx.SOURCE]  # the ads and the rates their money is converted with
    extracted = dg.materialize(
        connector_assets(landed),
        resources={
            "warehouse": WarehouseResource(path=str(database)),
            **connector_resources(landed, stack.env()),
        },
        selection=[landing_key(s) for s in landed],
        tags={
            "dagster/asset_partition_range_start": START.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
        },
    )
    assert extracted.success and not database.exists()  # extracted, never loaded
    requests = len(stack.server.requests)
    for name, value in stack.env().items():  # never the real hosts, whatever the run selects
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(database))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for name in SOURCE.secrets:  # a replay needs no credential
        monkeypatch.delenv(name, raising=False)
    span = f"{START}...{LAST}"
    assert cli.main(["replay", "all", "--range", span]) == 0
    assert len(stack.server.requests) == requests  # no API was called
    fact = "select count(distinct date_day), sum(clicks) from marts.fct_paid_ads_daily"
    days, clicks = rows(database, fact)[0]
    assert days == (LAST - START).days + 1 and clicks > 0
    assert cli.main(["replay", "google_ads", "--range", span, "--raw-only"]) == 0
    assert cli.main(["replay", "meta_ads", "--range", span, "--raw-only"]) == 1  # nothing landed
