"""Target check rules: WARN/ERROR thresholds, consecutive days, early-period and provisional caps,
volume, direction, and the one-line explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pipelines.kpi.catalog import load_catalog
from pipelines.kpi.explain import target_explanation
from pipelines.kpi.target_rules import StatusRow, evaluate_targets, worst

MARCH = date(2025, 3, 1)


def row(day: int, gap_pct: float | None, **changes) -> StatusRow:
    """A month-to-date row of a lower-is-better money KPI with target 1.84."""
    base = StatusRow(
        kpi_id="paid_ads.cpc",
        segment="all",
        grain="month",
        period_start=MARCH,
        period_end=date(2025, 3, 31),
        as_of_day=MARCH + timedelta(days=day - 1),
        day_of_period=day,
        actual=None if gap_pct is None else 1.84 * (1 + gap_pct),
        target=1.84,
        expected_to_date=1.84,
        gap_pct=gap_pct,
        projected=None if gap_pct is None else 1.84 * (1 + gap_pct),
        status="on_track",
        pacing="direct",
        denominator_to_date=5000.0,
        min_denominator=50.0,
        warn_tolerance=0.10,
        error_tolerance=0.20,
        direction="lower",
    )
    return replace(base, **changes)


def outcomes(rows: list[StatusRow], **kwargs) -> list[str]:
    return [d.outcome for d in evaluate_targets(rows, **kwargs)]


def test_a_gap_beyond_the_warn_tolerance_on_the_bad_side_warns() -> None:
    assert outcomes([row(10, 0.05), row(11, 0.15), row(12, -0.5)]) == ["ok", "warn", "ok"]


def test_higher_is_better_kpis_are_bad_below_target() -> None:
    rows = [row(10, -0.15, direction="higher"), row(11, 0.5, direction="higher")]
    assert outcomes(rows) == ["warn", "ok"]


def test_beyond_the_error_tolerance_on_two_consecutive_days_is_an_error() -> None:
    assert outcomes([row(10, 0.25), row(11, 0.25), row(13, 0.25)]) == ["warn", "error", "warn"]


def test_twice_the_error_tolerance_on_one_day_is_an_error() -> None:
    assert outcomes([row(10, 0.41)]) == ["error"]
    assert outcomes([row(10, 0.39)]) == ["warn"]


def test_the_first_three_days_of_a_period_are_capped_at_warn() -> None:
    days = evaluate_targets([row(2, 0.9), row(3, 0.9), row(4, 0.9)])
    assert [d.outcome for d in days] == ["warn", "warn", "error"]
    assert "day 2 of the month" in days[0].capped


def test_provisional_days_are_capped_at_warn() -> None:
    day = MARCH + timedelta(days=19)
    (result,) = evaluate_targets([row(20, 0.9)], provisional=lambda d: d == day)
    assert result.outcome == "warn"
    assert "provisional" in result.capped


def test_low_volume_passes_as_insufficient_volume() -> None:
    assert outcomes([row(10, 0.9, denominator_to_date=20.0)]) == ["insufficient_volume"]


def test_no_target_and_missing_data_pass() -> None:
    assert outcomes([row(10, None, status="no_target", target=None)]) == ["no_target"]
    assert outcomes([row(10, None, status="insufficient_data")]) == ["insufficient_data"]


def test_the_worst_of_several_targets_is_reported() -> None:
    days = evaluate_targets([row(10, 0.15)]) + evaluate_targets([row(10, 0.5, segment="x=1")])
    assert worst(days).row.segment == "x=1"


def test_the_explanation_names_the_kpi_the_values_and_the_iso_period() -> None:
    kpi = load_catalog()["paid_ads.cpc"]
    (result,) = evaluate_targets([row(10, 0.31)])
    text = target_explanation(kpi, result)
    assert text.startswith("paid_ads.cpc 2.41 USD is 31% above target 1.84 USD for month 2025-03")
    assert "to date (as of 2025-03-10)" in text
    assert "WARN" in text


def test_a_paced_explanation_gives_expected_to_date_and_projection() -> None:
    kpi = load_catalog()["digital.site_traffic"]
    paced = row(
        10,
        -0.2,
        kpi_id=kpi.id,
        direction="higher",
        actual=40000.0,
        expected_to_date=50000.0,
        target=150000.0,
        projected=120000.0,
        pacing="weekday_weighted",
        min_denominator=0.0,
    )
    (result,) = evaluate_targets([paced])
    text = target_explanation(kpi, result)
    assert "digital.site_traffic 40,000 is 20% below the 50,000 expected by 2025-03-10" in text
    assert "target 150,000 in month 2025-03" in text
    assert "projected 120,000" in text
