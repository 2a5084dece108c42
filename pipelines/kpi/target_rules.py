"""When a KPI's gap to its target raises WARN or ERROR. Pure functions, no Dagster.

The pacing itself (actual to date, expected to date, gap) is computed by dbt in
``marts.kpi_status_daily``; these rules turn a series of those daily rows into check outcomes:

- WARN when the gap on the bad side exceeds the warn tolerance;
- ERROR when it exceeds the error tolerance on two consecutive evaluated days, or twice the error
  tolerance (40% by default) on one day;
- capped at WARN on the first three days of a week or month (too early to judge) and on
  provisional days (the source may still restate them);
- passes as ``insufficient_volume`` when the period-to-date denominator is below the catalog's
  ``min_denominator``, and as ``insufficient_data`` / ``no_target`` as kpi_status says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

WARN = "WARN"
ERROR = "ERROR"
EARLY_DAYS = 3


@dataclass(frozen=True)
class StatusRow:
    """One row of marts.kpi_status_daily (the fields the rules and explanations need)."""

    kpi_id: str
    segment: str
    grain: str
    period_start: date
    period_end: date
    as_of_day: date
    day_of_period: int
    actual: float | None
    target: float | None
    expected_to_date: float | None
    gap_pct: float | None
    projected: float | None
    status: str
    pacing: str
    denominator_to_date: float | None
    min_denominator: float
    warn_tolerance: float | None
    error_tolerance: float | None
    direction: str


@dataclass(frozen=True)
class TargetDay:
    row: StatusRow
    outcome: str  # ok, warn, error, no_target, insufficient_data, insufficient_volume
    bad_gap: float | None = None
    consecutive_breaches: int = 0
    capped: str | None = None  # why an ERROR was lowered to WARN

    @property
    def severity(self) -> str | None:
        return {"warn": WARN, "error": ERROR}.get(self.outcome)


def bad_gap(gap_pct: float | None, direction: str) -> float | None:
    """The relative gap signed so that positive is the bad side (below for higher-is-better)."""
    if gap_pct is None:
        return None
    return -gap_pct if direction == "higher" else gap_pct


def evaluate_targets(
    rows: list[StatusRow], provisional: Callable[[date], bool] = lambda _d: False
) -> list[TargetDay]:
    """Evaluate the daily rows of one KPI x segment x grain, in as-of order."""
    results: list[TargetDay] = []
    previous: TargetDay | None = None
    for row in sorted(rows, key=lambda r: r.as_of_day):
        result = _evaluate(row, previous, provisional(row.as_of_day))
        results.append(result)
        previous = result
    return results


def _evaluate(row: StatusRow, previous: TargetDay | None, is_provisional: bool) -> TargetDay:
    if row.status == "no_target" or row.target is None:
        return TargetDay(row, "no_target")
    if row.min_denominator > 0 and (row.denominator_to_date or 0) < row.min_denominator:
        return TargetDay(row, "insufficient_volume")
    gap = bad_gap(row.gap_pct, row.direction)
    if row.status == "insufficient_data" or gap is None:
        return TargetDay(row, "insufficient_data")
    warn = row.warn_tolerance or 0.0
    error = row.error_tolerance or 0.0
    consecutive_previous = (
        previous
        if previous is not None
        and (row.as_of_day - previous.row.as_of_day).days == 1
        and previous.row.period_start == row.period_start
        else None
    )
    outcome = "ok"
    if gap > warn:
        outcome = "warn"
        twice = (
            gap > error
            and consecutive_previous is not None
            and consecutive_previous.bad_gap is not None
            and consecutive_previous.bad_gap > error
        )
        if twice or gap > 2 * error:
            outcome = "error"
    capped = None
    if outcome == "error":
        if row.grain != "day" and row.day_of_period <= EARLY_DAYS:
            capped = f"day {row.day_of_period} of the {row.grain}: capped at WARN"
        elif is_provisional:
            capped = "provisional day: capped at WARN"
        if capped:
            outcome = "warn"
    consecutive = 0
    if gap > warn:
        consecutive = 1 + (consecutive_previous.consecutive_breaches if consecutive_previous else 0)
    return TargetDay(row, outcome, gap, consecutive, capped)


def worst(days: list[TargetDay]) -> TargetDay | None:
    """Among the latest evaluations of several targets of a KPI, the most severe."""
    if not days:
        return None
    rank = {"error": 3, "warn": 2, "ok": 1}
    return max(days, key=lambda d: (rank.get(d.outcome, 0), d.bad_gap or 0))
