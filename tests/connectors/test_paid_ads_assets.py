"""The paid-ads raw assets and the marketing-costs file: validation, not-configured paths, settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import google_ads, marketing_costs, meta_ads
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.connectors.marketing_costs import MarketingCostsError, parse_costs_csv
from pipelines.warehouse.resource import WarehouseResource

GOOD = """# costs no API reports
month,category,amount,currency,until,note

2025-01,tools,1450.00,usd,2025-03,subscriptions
2025-02,agency,3800,EUR,,
"""


def test_a_costs_file_with_comments_blank_lines_and_until_ranges_is_expanded_per_month() -> None:
    rows = parse_costs_csv(GOOD)
    assert [(r["month"], r["category"], r["amount"], r["currency"]) for r in rows] == [
        (date(2025, 1, 1), "tools", Decimal("1450.00"), "USD"),
        (date(2025, 2, 1), "tools", Decimal("1450.00"), "USD"),
        (date(2025, 3, 1), "tools", Decimal("1450.00"), "USD"),
        (date(2025, 2, 1), "agency", Decimal("3800"), "EUR"),
    ]
    assert rows[0]["source_line"] == 4 and rows[-1]["source_line"] == 5


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("2025-13,tools,10,USD,,", r"line 4, column month: '2025-13'.*YYYY-MM"),
        ("2025-02,tools,12,5,USD,,", r"line 4, column \(line\).*more fields than the header"),
        ('2025-02,tools,"1,200.00",USD,,', r"line 4, column amount: '1,200.00'.*dot decimal"),
        ("2025-02,tools,-5,USD,,", r"column amount: '-5'"),
        ("2025-02,tools,5,dollars,,", r"column currency: 'dollars'.*ISO 4217"),
        ("2025-02,,5,USD,,", r"column category"),
        ("2025-04,tools,5,USD,2025-01,", r"column until: '2025-01'"),
        ("2025-03,tools,5,USD,,", r"line 4, column month/category: '2025-03 tools'.*line 3"),
    ],
)
def test_a_bad_line_names_file_line_column_value_and_fix(line: str, match: str) -> None:
    text = f"month,category,amount,currency,until,note\n# c\n2025-01,tools,1,USD,2025-03,\n{line}\n"
    with pytest.raises(MarketingCostsError, match=match):
        parse_costs_csv(text, "config/marketing_costs.csv")


def test_a_header_without_the_required_columns_is_rejected() -> None:
    with pytest.raises(MarketingCostsError, match=r"column amount.*the header must be"):
        parse_costs_csv("month,category,cost,currency\n2025-01,tools,1,USD\n")


def test_the_shipped_demo_costs_file_is_valid() -> None:
    rows = parse_costs_csv((Path(__file__).parents[2] / "config/marketing_costs.csv").read_text())
    assert {r["currency"] for r in rows} >= {"USD", "EUR"}


COSTS = [marketing_costs.SOURCE]


def materialize_alone(asset, resources: dict, tmp_path: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        asset if isinstance(asset, list) else [asset],
        resources={"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")), **resources},
        partition_key="2025-03-01",
        raise_on_error=False,
    )


def test_the_costs_asset_fails_on_a_bad_file_and_loads_a_good_one(tmp_path) -> None:
    file = tmp_path / "costs.csv"
    file.write_text("month,category,amount,currency\n2025-03,tools,12;50,USD\n")
    resources = connector_resources(COSTS, {"MARKETING_COSTS_PATH": str(file)})
    failed = materialize_alone(connector_assets(COSTS), resources, tmp_path)
    assert not failed.success
    assert "line 2, column amount: '12;50'" in str(failed.all_events)
    file.write_text(GOOD)
    result = materialize_alone(connector_assets(COSTS), resources, tmp_path)
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["source_configured"].passed and checks["costs_cover_window"].passed
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert con.execute("select count(*) from raw.marketing_costs__monthly").fetchone() == (4,)


def test_no_costs_file_warns_and_loads_nothing(tmp_path) -> None:
    resources = connector_resources(COSTS, {"MARKETING_COSTS_PATH": str(tmp_path / "absent.csv")})
    result = materialize_alone(connector_assets(COSTS), resources, tmp_path)
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["source_configured"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "MARKETING_COSTS_PATH" in check.description


@pytest.mark.parametrize(
    ("source", "settings"),
    [
        (google_ads.SOURCE, "GOOGLE_ADS_CUSTOMER_IDS"),
        (meta_ads.SOURCE, "META_AD_ACCOUNT_IDS"),
    ],
)
def test_an_ads_source_without_settings_loads_nothing_and_warns(
    source, settings, tmp_path, monkeypatch
) -> None:
    for name in (
        "GOOGLE_ADS_CUSTOMER_IDS",
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CLIENT_ID",
        "GOOGLE_ADS_CLIENT_SECRET",
        "GOOGLE_ADS_REFRESH_TOKEN",
        "META_AD_ACCOUNT_IDS",
        "META_ACCESS_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KPI_LANDING_PATH", str(tmp_path / "landing"))
    result = materialize_alone(connector_assets([source]), connector_resources([source]), tmp_path)
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["source_configured"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert settings in check.description


def test_the_lookback_is_28_days_unless_configured_per_source_or_for_all_ads(monkeypatch) -> None:
    monkeypatch.delenv("ADS_LOOKBACK_DAYS", raising=False)
    monkeypatch.delenv("META_ADS_LOOKBACK_DAYS", raising=False)

    def lookback() -> int:
        return meta_ads.SOURCE.lookback(meta_ads.SOURCE.config())

    assert lookback() == 28
    monkeypatch.setenv("ADS_LOOKBACK_DAYS", "14")
    assert lookback() == 14
    monkeypatch.setenv("META_ADS_LOOKBACK_DAYS", "7")
    assert lookback() == 7
    monkeypatch.setenv("META_ADS_LOOKBACK_DAYS", "a week")
    with pytest.raises(ValueError, match="META_ADS_LOOKBACK_DAYS"):
        lookback()


def test_account_id_settings_accept_dashes_and_the_act_prefix() -> None:
    google = google_ads.SOURCE.config({"GOOGLE_ADS_CUSTOMER_IDS": "481-516-2342, 7020304050"})
    assert google_ads.customers(google) == ["4815162342", "7020304050"]
    meta = meta_ads.SOURCE.config(
        {"META_AD_ACCOUNT_IDS": "act_1,2", "META_CONVERSION_ACTION_TYPES": " purchase , lead "}
    )
    assert meta_ads.ad_accounts(meta) == ["1", "2"]
    assert meta.list("META_CONVERSION_ACTION_TYPES") == ["purchase", "lead"]
