"""The registry of versioned APIs, the check every versioned source runs, and the emulators'
versions (all on a fake "today": the dates are the providers' published schedule)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import requests

from pipelines.connectors import api_version_check
from pipelines.connectors import google_ads as google_ads_source
from pipelines.connectors import meta_ads as meta_ads_source
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.warehouse.resource import WarehouseResource
from sources import api_versions, google_ads, linkedin, meta_ads, meta_graph
from sources.api_versions import GOOGLE_ADS, LINKEDIN, META_ADS, META_GRAPH, REGISTRY, Level, assess
from sources.http import SourceError

CHOSEN_ON = date(2026, 12, 2)


@pytest.mark.parametrize("api", REGISTRY.values(), ids=list(REGISTRY))
def test_every_default_was_current_and_not_near_its_sunset_when_chosen(api) -> None:
    status = assess(api, api.default, CHOSEN_ON)
    assert status.level is Level.OK, status.message


def test_the_clients_use_the_registry_defaults() -> None:
    assert google_ads.DEFAULT_API_VERSION == "v26"
    assert meta_ads.DEFAULT_API_VERSION == "v27.0"
    assert meta_graph.DEFAULT_VERSION == "v27.0"
    assert linkedin.DEFAULT_VERSION == api_versions.LINKEDIN.default == "202610"


def test_a_sunset_version_names_the_setting_and_the_version_to_move_to() -> None:
    status = assess(GOOGLE_ADS, "v21", CHOSEN_ON)
    assert status.level is Level.SUNSET and status.sunset == date(2026, 8, 5)
    assert "GOOGLE_ADS_API_VERSION=v26" in status.message
    assert "sunset-dates" in status.message  # where to read the next one


def test_a_version_older_than_every_listed_one_is_sunset() -> None:
    status = assess(META_ADS, "v19.0", CHOSEN_ON)
    assert status.level is Level.SUNSET and "META_API_VERSION=v27.0" in status.message


@pytest.mark.parametrize(
    ("on", "level"),
    [
        (date(2026, 11, 21), Level.OK),  # 61 days left
        (date(2026, 11, 22), Level.WARN),  # 60 days left
        (date(2027, 1, 20), Level.WARN),
        (date(2027, 1, 21), Level.SUNSET),
    ],
)
def test_graph_v21_warns_60_days_ahead_and_fails_on_its_sunset_day(on, level) -> None:
    assert assess(META_GRAPH, "v21.0", on).level is level


def test_the_old_graph_default_warns_today_with_days_left() -> None:
    status = assess(META_GRAPH, "v21.0", CHOSEN_ON)
    assert status.level is Level.WARN
    assert "in 50 days" in status.message and "META_GRAPH_VERSION=v27.0" in status.message


def test_linkedin_versions_use_published_dates_else_the_one_year_minimum() -> None:
    assert LINKEDIN.sunset("202511") == (date(2026, 11, 16), "published")
    assert LINKEDIN.sunset("202610") == (date(2027, 10, 15), "estimated")
    assert assess(LINKEDIN, "202601", CHOSEN_ON).level is Level.WARN
    assert assess(LINKEDIN, "202511", CHOSEN_ON).level is Level.SUNSET


def test_a_version_without_a_published_date_is_ok_and_says_so() -> None:
    status = assess(META_ADS, "v27.0", CHOSEN_ON)
    assert status.level is Level.OK and status.sunset is None
    assert "no sunset date published" in status.message


def test_when_the_default_itself_nears_its_sunset_the_advice_points_at_the_changelog() -> None:
    status = assess(GOOGLE_ADS, "v26", date(2027, 10, 20))
    assert status.level is Level.WARN
    assert "GOOGLE_ADS_API_VERSION=the newest listed at https://" in status.message


def test_a_malformed_version_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"META_API_VERSION='27'.*'v27.0'"):
        assess(META_ADS, "27", CHOSEN_ON)


# --- the check in a run ------------------------------------------------------------------------
def _materialize(asset, resources: dict, tmp_path: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        asset,
        resources={"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")), **resources},
        partition_key="2025-03-01",
        raise_on_error=False,
    )


def _settings(stack) -> dict[str, str]:
    names = {s.name for s in google_ads_source.SOURCE.settings}
    return {k: v for k, v in stack.env().items() if k in names}


def _google(stack, version: str) -> dict:
    settings = {**stack.env(), "GOOGLE_ADS_API_VERSION": version}
    return connector_resources([google_ads_source.SOURCE], settings)


GOOGLE = connector_assets([google_ads_source.SOURCE])


def test_a_run_on_a_sunset_version_fails_before_any_request(stack, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(api_version_check, "today", lambda: CHOSEN_ON)
    result = _materialize(GOOGLE, _google(stack, "v21"), tmp_path)
    assert not result.success
    failure = str(result.all_events)
    assert "GOOGLE_ADS_API_VERSION=v26" in failure and "sunset on 2026-08-05" in failure
    assert stack.server.count(r"googleAds:searchStream") == 0


def test_a_run_near_the_sunset_warns_and_still_loads(stack, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(api_version_check, "today", lambda: date(2027, 1, 1))  # v23: 31 days left
    result = _materialize(GOOGLE, _google(stack, "v23"), tmp_path)
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["api_version_current"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "in 31 days" in check.description and "GOOGLE_ADS_API_VERSION=v26" in check.description


def test_a_current_version_passes_the_check(stack, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(api_version_check, "today", lambda: CHOSEN_ON)
    meta = [meta_ads_source.SOURCE]
    result = _materialize(connector_assets(meta), connector_resources(meta, stack.env()), tmp_path)
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["api_version_current"]
    assert check.passed and check.metadata["version"].value == "v27.0"
    assert set(stack.meta_ads.versions_seen) == {"v27.0"}


# --- the emulators speak the current versions ------------------------------------------------
def test_the_marketing_api_emulator_refuses_an_expired_version_like_meta(stack) -> None:
    env = stack.env()
    response = requests.get(
        f"{env['META_BASE_URL']}/v21.0/act_798085168510957",
        headers={"Authorization": f"Bearer {env['META_ACCESS_TOKEN']}"},
        timeout=5,
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == 2635


def test_the_google_ads_emulator_does_not_serve_a_sunset_version(stack) -> None:
    source = google_ads_source.SOURCE
    client = source.connect(source.config({**_settings(stack), "GOOGLE_ADS_API_VERSION": "v22"}))
    with pytest.raises(SourceError, match="GOOGLE_ADS_API_VERSION"):
        client.customer("4815162342")


def test_doctor_reports_each_api_and_counts_sunset_or_malformed_versions_as_problems() -> None:
    lines, problems = api_versions.doctor_report({"GOOGLE_ADS_API_VERSION": "v21"}, CHOSEN_ON)
    assert len(lines) == 4 and lines[0].startswith("api version SUNSET: GOOGLE_ADS_API_VERSION=v21")
    assert problems == [assess(GOOGLE_ADS, "v21", CHOSEN_ON).message]
    _, problems = api_versions.doctor_report({"META_API_VERSION": "27"}, CHOSEN_ON)
    assert problems and "META_API_VERSION='27'" in problems[0]
    _, problems = api_versions.doctor_report({}, CHOSEN_ON)
    assert problems == []
