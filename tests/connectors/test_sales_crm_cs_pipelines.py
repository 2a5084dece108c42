"""The Stripe, HubSpot and Zendesk raw assets against the emulators: idempotent re-pulls, the
lookback picking up late refunds, the Zendesk cursor persisted between runs, not-configured runs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import hubspot, stripe, zendesk
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.framework import Source
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators import hubspot as hubspot_emulator
from sources.emulators import stripe as stripe_emulator
from sources.emulators import zendesk as zendesk_emulator
from sources.http import SourceError


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(path))
    monkeypatch.setenv("KPI_TIMEZONE", "UTC")
    return path


def run(source: Source, settings: dict, first: str, last: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        connector_assets([source]),
        resources={"warehouse": WarehouseResource(), **connector_resources([source], settings)},
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def stripe_settings(stack) -> dict[str, str]:
    return {
        "STRIPE_API_KEY": stripe_emulator.DEMO_API_KEY,
        "STRIPE_BASE_URL": stack.server.base_url,
    }


def zendesk_settings(stack) -> dict[str, str]:
    return {
        "ZENDESK_SUBDOMAIN": zendesk_emulator.DEMO_SUBDOMAIN,
        "ZENDESK_EMAIL": zendesk_emulator.DEMO_EMAIL,
        "ZENDESK_API_TOKEN": zendesk_emulator.DEMO_API_TOKEN,
        "ZENDESK_BASE_URL": stack.server.base_url,
    }


def lookback_days() -> int:
    return stripe.SOURCE.lookback(stripe.SOURCE.config())


def test_re_pulling_a_charge_window_replaces_it_with_the_refunds_made_since(
    stack, database
) -> None:
    stack.stripe.now = lambda: datetime(2025, 3, 4, tzinfo=UTC)
    assert run(stripe.SOURCE, stripe_settings(stack), "2025-03-02", "2025-03-03").success
    sql = "select count(*), count(distinct id), sum(amount_refunded) from raw.stripe__charges"
    ((rows, ids, refunded_early),) = query(database, sql)
    stack.stripe.now = lambda: datetime(2025, 3, 30, tzinfo=UTC)  # inside the 30-day lookback
    assert run(stripe.SOURCE, stripe_settings(stack), "2025-03-02", "2025-03-03").success
    ((rows_again, ids_again, refunded_late),) = query(database, sql)
    assert rows == ids == rows_again == ids_again  # replaced, not appended
    assert refunded_late > refunded_early
    assert query(database, "select count(*) from raw.stripe__sync_days") == [(2,)]


def test_the_stripe_lookback_is_thirty_days_unless_configured(monkeypatch) -> None:
    monkeypatch.delenv("STRIPE_LOOKBACK_DAYS", raising=False)
    assert lookback_days() == 30
    monkeypatch.setenv("STRIPE_LOOKBACK_DAYS", "45")
    assert lookback_days() == 45
    monkeypatch.setenv("STRIPE_LOOKBACK_DAYS", "a month")
    with pytest.raises(ValueError, match="STRIPE_LOOKBACK_DAYS"):
        lookback_days()


def test_the_zendesk_cursor_is_saved_and_the_next_run_resumes_from_it(stack, database) -> None:
    stack.zendesk.now = lambda: datetime(2025, 3, 4, 9, tzinfo=UTC)
    first = run(zendesk.SOURCE, zendesk_settings(stack), "2025-03-03", "2025-03-03")
    meta = first.asset_materializations_for_node("zendesk_raw")[0].metadata
    assert meta["resumed_from"].value == "start_time"
    ((cursor_1,),) = query(database, "select after_cursor from raw.zendesk__export_state")
    open_before = query(
        database,
        "select count(*) from raw.zendesk__tickets where status in ('new', 'open', 'pending')",
    )

    stack.zendesk.now = lambda: datetime(2025, 3, 20, tzinfo=UTC)
    second = run(zendesk.SOURCE, zendesk_settings(stack), "2025-03-04", "2025-03-04")
    meta = second.asset_materializations_for_node("zendesk_raw")[0].metadata
    assert meta["resumed_from"].value == "cursor"
    ((cursor_2, covered_from),) = query(
        database, "select after_cursor, covered_from from raw.zendesk__export_state"
    )
    assert cursor_2 != cursor_1 and covered_from == date(2025, 3, 3)
    # the latest state wins: one row per ticket, the old ones now solved or closed
    assert query(database, "select count(*) - count(distinct id) from raw.zendesk__tickets") == [
        (0,)
    ]
    open_after = query(
        database,
        "select count(*) from raw.zendesk__tickets where status in ('new', 'open', 'pending') "
        "and created_day = '2025-03-03'",
    )
    assert open_after[0][0] < open_before[0][0]


def test_a_window_before_the_covered_days_restarts_the_export_from_its_start(
    stack, database
) -> None:
    stack.zendesk.now = lambda: datetime(2025, 3, 12, tzinfo=UTC)
    run(zendesk.SOURCE, zendesk_settings(stack), "2025-03-08", "2025-03-08")
    result = run(zendesk.SOURCE, zendesk_settings(stack), "2025-03-02", "2025-03-02")
    meta = result.asset_materializations_for_node("zendesk_raw")[0].metadata
    assert meta["resumed_from"].value == "start_time"
    assert query(database, "select covered_from from raw.zendesk__export_state") == [
        (date(2025, 3, 2),)
    ]
    (days,) = query(
        database,
        "select count(distinct created_day) from raw.zendesk__tickets where created_day >= '2025-03-02'",
    )
    assert days[0] >= 10


def test_hubspot_contacts_are_upserted_by_id_with_their_latest_lifecycle_stage(
    stack, database
) -> None:
    settings = {
        "HUBSPOT_ACCESS_TOKEN": hubspot_emulator.DEMO_ACCESS_TOKEN,
        "HUBSPOT_BASE_URL": stack.server.base_url,
        "HUBSPOT_SEARCH_REQUESTS_PER_SECOND": "1000",
    }
    stack.hubspot.now = lambda: datetime(2025, 3, 4, 12, tzinfo=UTC)
    run(hubspot.SOURCE, settings, "2025-03-03", "2025-03-03")
    sql = "select id, lifecycle_stage from raw.hubspot__contacts where created_day = '2025-03-03'"
    before = dict(query(database, sql))
    stack.hubspot.now = lambda: datetime(2025, 3, 25, tzinfo=UTC)
    result = run(hubspot.SOURCE, settings, "2025-03-04", "2025-03-04")
    after = dict(query(database, sql))
    assert before.keys() == after.keys()
    assert any(before[k] != after[k] for k in before)  # moved on: lead -> MQL -> ...
    assert query(database, "select count(*) - count(distinct id) from raw.hubspot__contacts") == [
        (0,)
    ]
    # the portal the API named is the account the load replaced and every row's
    portal = str(hubspot_emulator.PORTAL_ID)
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["source_configured"]
    assert check.passed and check.metadata["accounts"].value == portal
    for table in ("contacts", "sync_days"):
        sql = f"select distinct _account_id from raw.hubspot__{table}"
        assert query(database, sql) == [(portal,)]


@pytest.mark.parametrize(
    ("source", "setting"),
    [
        (stripe.SOURCE, "STRIPE_API_KEY"),
        (hubspot.SOURCE, "HUBSPOT_ACCESS_TOKEN"),
        (zendesk.SOURCE, "ZENDESK_SUBDOMAIN"),
    ],
)
def test_a_source_without_settings_loads_nothing_and_warns(
    source, setting, database, monkeypatch
) -> None:
    for name in (
        "STRIPE_API_KEY",
        "HUBSPOT_ACCESS_TOKEN",
        "ZENDESK_SUBDOMAIN",
        "ZENDESK_EMAIL",
        "ZENDESK_API_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    result = dg.materialize(
        connector_assets([source]),
        resources={"warehouse": WarehouseResource(), **connector_resources([source])},
        partition_key="2025-03-01",
    )
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["source_configured"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert setting in check.description
    assert not database.exists() or query(
        database, "select count(*) from information_schema.tables where table_schema = 'raw'"
    ) == [(0,)]


@pytest.mark.parametrize(
    ("source", "secret"),
    [
        (stripe.SOURCE, "STRIPE_API_KEY"),
        (hubspot.SOURCE, "HUBSPOT_ACCESS_TOKEN"),
        (zendesk.SOURCE, "ZENDESK_API_TOKEN"),
    ],
)
def test_the_check_call_passes_with_the_credential_and_fails_with_a_wrong_one(
    stack, source, secret
) -> None:
    names = {s.name for s in source.settings}
    settings = {k: v for k, v in stack.env().items() if k in names}
    config = source.config(settings)
    assert source.check(source.connect(config), config)
    wrong = source.config({**settings, secret: f"wrong-{settings[secret]}"})
    with pytest.raises(SourceError, match=rf"\[{source.name}\]"):
        source.check(source.connect(wrong), wrong)
