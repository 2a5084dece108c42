"""One-line human explanations of check outcomes, naming the KPI id and the ISO day or period."""

from __future__ import annotations

from pipelines.kpi.catalog import Kpi
from pipelines.kpi.drift import DriftDay, DriftParams
from pipelines.kpi.target_rules import TargetDay
from pipelines.kpi.targets import period_label
from pipelines.lib.settings import env

UNIT_SUFFIX = {"seconds": " s", "minutes": " min"}


def quantity(kpi: Kpi, value: float | None) -> str:
    """A value in the KPI's unit: ``41.2%``, ``2.41 USD``, ``12,345``, ``3.20 s``."""
    if value is None:
        return "n/a"
    if kpi.unit == "fraction":
        return f"{value:.2%}"
    if kpi.unit == "count":
        return f"{value:,.0f}"
    if kpi.unit == "money":
        return f"{value:,.2f} {env('KPI_REPORTING_CURRENCY', 'USD')}"
    return f"{value:,.2f}{UNIT_SUFFIX.get(kpi.unit, '')}"


def _segment(segment: str) -> str:
    return "" if segment == "all" else f" [{segment}]"


def target_explanation(kpi: Kpi, day: TargetDay) -> str:
    row = day.row
    period = f"{row.grain} {period_label(row.grain, row.period_start)}"
    complete = row.as_of_day >= row.period_end
    where = f"{period}{'' if complete else ' to date'} (as of {row.as_of_day})"
    if day.outcome == "no_target":
        return f"{kpi.id}{_segment(row.segment)}: no target covers {period}"
    if day.outcome == "insufficient_volume":
        return (
            f"{kpi.id}{_segment(row.segment)}: too little volume to judge {where}: denominator "
            f"{row.denominator_to_date or 0:,.0f} is below {row.min_denominator:,.0f}"
        )
    if day.outcome == "insufficient_data":
        return f"{kpi.id}{_segment(row.segment)}: not enough data to judge {where}"
    gap = row.gap_pct or 0.0
    side = "above" if gap > 0 else "below"
    if row.pacing == "direct" or complete:
        text = (
            f"{kpi.id}{_segment(row.segment)} {quantity(kpi, row.actual)} is {abs(gap):.0%} "
            f"{side} target {quantity(kpi, row.target)} for {where}"
        )
    else:
        text = (
            f"{kpi.id}{_segment(row.segment)} {quantity(kpi, row.actual)} is {abs(gap):.0%} "
            f"{side} the {quantity(kpi, row.expected_to_date)} expected by {row.as_of_day} "
            f"for target {quantity(kpi, row.target)} in {period} (projected "
            f"{quantity(kpi, row.projected)}, {row.pacing.replace('_', '-')} pacing)"
        )
    if day.outcome == "error":
        return f"{text}; ERROR: beyond the {row.error_tolerance:.0%} error tolerance"
    if day.outcome == "warn":
        note = f"; {day.capped}" if day.capped else ""
        return f"{text}; WARN: beyond the {row.warn_tolerance:.0%} warn tolerance{note}"
    return f"{text}; within the {row.warn_tolerance:.0%} warn tolerance"


def drift_explanation(kpi: Kpi, day: DriftDay, params: DriftParams) -> str:
    if day.outcome == "no_data":
        return f"{kpi.id}: no value on {day.day}"
    if day.outcome == "insufficient_volume":
        return f"{kpi.id}: too little volume on {day.day} to judge drift (below min_denominator)"
    if day.outcome == "settling":
        return (
            f"{kpi.id}: {day.day} is still settling (late events keep arriving for "
            f"{kpi.settle_days} days): judged once it is {kpi.settle_days} days old"
        )
    if day.outcome == "insufficient_history":
        needed = (
            f"{params.cold_days} earlier days needed"
            if params.cold_start
            else f"{params.min_points} same-weekday points in {params.weeks} weeks and "
            f"{params.min_residuals} past residuals needed"
        )
        return f"{kpi.id}: not enough history to judge {day.day} ({needed})"
    change = day.change or 0.0
    side = "above" if change > 0 else "below"
    baseline = "same-weekday baseline" if day.baseline_points else "baseline of recent days"
    if day.cold:
        baseline = f"{baseline} (cold start: short history, wider bounds)"
    text = (
        f"{kpi.id} {quantity(kpi, day.value)} on {day.day} is {abs(change):.0%} {side} its "
        f"{baseline} {quantity(kpi, day.expected)} (score {day.score:+.1f})"
    )
    if day.outcome == "error":
        why = (
            f"score beyond {params.error_score_single:g}"
            if abs(day.score or 0) > params.error_score_single
            else f"beyond {params.error_score:g} two days running"
        )
        return f"{text}; ERROR: {why}"
    if day.outcome == "warn":
        note = "; provisional day: capped at WARN" if day.capped else ""
        return f"{text}; WARN: beyond {params.warn_score:g} and {params.min_change:.0%}{note}"
    if day.outcome == "anomaly":
        return f"{text}; unusual in the good direction: no alert"
    return f"{text}; within its usual range"
