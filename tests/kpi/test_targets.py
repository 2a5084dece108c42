"""The targets file: the shipped file is valid, and every mistake names its line and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.targets_asset import kpi_targets
from pipelines.kpi.catalog import load_catalog
from pipelines.kpi.targets import (
    TargetsError,
    load_targets,
    parse_period,
    parse_targets,
    period_label,
    targets_to_arrow,
)
from pipelines.warehouse.resource import WarehouseResource

CATALOG = load_catalog()


def parse(text: str):
    return parse_targets(text, CATALOG, "targets.yml")


def test_the_shipped_targets_file_is_valid_and_covers_live_kpis() -> None:
    targets = load_targets(CATALOG)
    kpis = {t.kpi_id for t in targets}
    assert {"digital.site_traffic", "digital.bounce_rate", "seo.organic_traffic"} <= kpis
    assert targets_to_arrow(targets).num_rows == len(targets)


def test_periods_are_months_iso_weeks_or_days() -> None:
    assert parse_period("2025-02") == ("month", date(2025, 2, 1), date(2025, 2, 28))
    assert parse_period("2025-W01") == ("week", date(2024, 12, 30), date(2025, 1, 5))
    assert parse_period("2025-03-05") == ("day", date(2025, 3, 5), date(2025, 3, 5))
    assert period_label("week", date(2024, 12, 30)) == "2025-W01"
    assert period_label("month", date(2025, 3, 1)) == "2025-03"


def test_a_range_applies_to_each_period_and_defaults_come_from_the_catalog() -> None:
    (target,) = parse(
        "targets:\n"
        "  - kpi: digital.bounce_rate\n"
        "    from: 2025-01\n"
        "    to: 2025-06\n"
        "    target: 0.4\n"
    )
    assert (target.grain, target.segment) == ("month", "all")
    assert (target.effective_from, target.effective_to) == (date(2025, 1, 1), date(2025, 6, 30))
    kpi = CATALOG["digital.bounce_rate"]
    assert (target.warn_tolerance, target.error_tolerance) == (
        kpi.warn_tolerance,
        kpi.error_tolerance,
    )
    assert target.tolerance_source == "catalog"
    assert target.line == 2


def test_an_unknown_kpi_id_names_the_line_and_the_known_ids() -> None:
    text = "targets:\n  - kpi: digital.site_trafic\n    period: 2025-03\n    target: 100\n"
    with pytest.raises(
        TargetsError, match=r"targets\.yml:2: unknown KPI id 'digital\.site_trafic'"
    ):
        parse(text)


def test_a_percent_target_written_as_5_2_suggests_0_052() -> None:
    text = "targets:\n  - kpi: digital.conversion_rate\n    period: 2025-03\n    target: 5.2\n"
    with pytest.raises(TargetsError) as error:
        parse(text)
    assert "targets.yml:4:" in str(error.value)
    assert "write 0.052 for 5.2%" in str(error.value)


def test_overlapping_periods_name_both_lines() -> None:
    text = (
        "targets:\n"
        "  - kpi: digital.site_traffic\n"
        "    from: 2025-01\n"
        "    target: 100000\n"
        "  - kpi: digital.site_traffic\n"
        "    period: 2025-03\n"
        "    target: 120000\n"
    )
    with pytest.raises(TargetsError) as error:
        parse(text)
    message = str(error.value)
    assert message.startswith("targets.yml:5:")
    assert "overlaps the target on line 2" in message
    assert "end the earlier one with 'to:'" in message


def test_the_same_periods_for_another_segment_or_grain_do_not_overlap() -> None:
    text = (
        "targets:\n"
        "  - {kpi: digital.site_traffic, from: 2025-01, target: 100000}\n"
        "  - {kpi: digital.site_traffic, from: 2025-W01, target: 25000}\n"
        "  - {kpi: digital.site_traffic, segment: property=1, from: 2025-01, target: 50000}\n"
    )
    assert len(parse(text)) == 3


def test_a_tolerance_key_without_a_value_is_an_error_naming_the_line() -> None:
    text = (
        "targets:\n"
        "  - kpi: digital.bounce_rate\n"
        "    period: 2025-03\n"
        "    target: 0.4\n"
        "    warn_tolerance:\n"
    )
    with pytest.raises(TargetsError) as error:
        parse(text)
    assert "targets.yml:5:" in str(error.value)
    assert "warn_tolerance is missing its value" in str(error.value)
    assert "delete the key to use the catalog default" in str(error.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    warn_tolerance: 10\n", "write 0.1 for 10%"),
        ("    warn_tolerance: 0.3\n", "must be below error_tolerance"),
        ("    grain: week\n", "does not match the period"),
        ("    targte: 1\n", "unknown field 'targte'"),
        ("    to: 2025-01\n", "give either 'period' or 'from'/'to'"),
    ],
)
def test_other_mistakes_say_what_to_fix(extra: str, message: str) -> None:
    text = "targets:\n  - kpi: digital.bounce_rate\n    period: 2025-03\n    target: 0.4\n" + extra
    with pytest.raises(TargetsError, match=message):
        parse(text)


def test_a_period_that_is_not_a_period_names_the_formats() -> None:
    with pytest.raises(TargetsError, match=r"targets\.yml:3: .*2025-W10 \(ISO week\)"):
        parse("targets:\n  - kpi: digital.bounce_rate\n    period: March\n    target: 0.4\n")


def test_an_invalid_targets_file_fails_the_asset_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "targets.yml"
    bad.write_text("targets:\n  - kpi: digital.bounce_rate\n    period: 2025-03\n    target: 41\n")
    monkeypatch.setenv("KPI_TARGETS_PATH", str(bad))
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    result = dg.materialize(
        [kpi_targets],
        resources={"warehouse": WarehouseResource()},
        partition_key="2025-03-01",
        raise_on_error=False,
    )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    message = error.cause.message if error.cause else error.message
    assert f"{bad}:4:" in message
    assert "write 0.41 for 41%" in message
