"""The drift benchmark's goals on one fixed synthetic year (seed 1): the rates cannot regress.

The full report over five years is ``python -m benchmarks.drift`` (docs/drift.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from benchmarks.drift import (
    SeedData,
    SeedResult,
    Summary,
    build_seed,
    judge_seed,
    size_bucket,
    summarize,
)
from pipelines.defs.kpi_checks import DRIFT_PARAMS


@pytest.fixture(scope="module")
def year() -> SeedData:
    return build_seed(1, date(2025, 1, 1), 365)


@pytest.fixture(scope="module")
def result(year: SeedData) -> SeedResult:
    return judge_seed(year)


@pytest.fixture(scope="module")
def summary(result: SeedResult) -> Summary:
    return summarize([result])


def test_false_alarms_stay_within_one_warn_day_per_30_and_one_error_day_per_180(
    summary: Summary,
) -> None:
    assert summary.judged > 250
    assert summary.warn_per_30 <= 1.0, summary
    assert summary.error_per_180 <= 1.0, summary


def test_every_adequately_sized_move_of_30_percent_is_caught_on_its_day_or_the_next(
    result: SeedResult, summary: Summary
) -> None:
    big = [
        d
        for d in result.detections
        if d.adequate and not d.cold and size_bucket(d.change) in (0.3, 0.5)
    ]
    assert len(big) >= 5
    assert summary.detected_30_next_day == 1.0, summary.missed_30
    upward = [d for d in big if d.change > 0]  # a KPI moving the bad way upward (CPC, bounce)
    assert upward and all(d.delay is not None and d.delay <= 1 for d in upward)


def test_days_still_filling_in_never_alarm(result: SeedResult, summary: Summary) -> None:
    assert result.fresh_judged > 0  # late data was looked at, not skipped wholesale
    assert summary.fresh_alarms == 0, result.fresh_alarms


def test_the_first_weeks_are_judged_with_few_false_alarms(summary: Summary) -> None:
    assert summary.cold_judged >= 40  # judged from the first weeks, not after five
    assert 30 * summary.cold_warn_days / summary.cold_judged <= 2.0


def test_the_guard_fails_a_method_that_alarms_too_easily(year: SeedData) -> None:
    loose = summarize([judge_seed(year, replace(DRIFT_PARAMS, warn_score=2.0, min_change=0.05))])
    assert loose.warn_per_30 > 1.0
