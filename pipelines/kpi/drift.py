"""Drift of a daily KPI series against its own history: robust on short, weekly-seasonal series.

Pure functions, no Dagster. For each day, in calendar order:

- baseline = median of the same weekday over the last ``weeks`` weeks, leaving out days already
  flagged; residual = ln(value / baseline); scale = 1.4826 x MAD of the past residuals of the
  last ``scale_weeks`` weeks (unflagged days only), floored at ``mad_floor`` and at the day's
  sampling noise when the KPI gives one (``noise``: a count of n events or a rate over n trials
  cannot be steadier than Poisson/binomial noise, so small volumes do not alert on chance);
  score = residual / scale;
- cold start (``cold_start``): with fewer than ``min_points`` same-weekday points or
  ``min_residuals`` past residuals the day is still judged, with wider bounds: the scale is
  widened by 1 + ``cold_widen`` / sqrt(residuals) (``cold_scale`` assumed below
  ``cold_residuals`` residuals); before any same weekday exists the baseline is the median of the
  last two weeks' days (``cold_days`` of them at least, else ``insufficient_history``);
- KPIs that are changes and can be zero or negative (``additive=True``, e.g. follower growth):
  residual = value - baseline and the scale is the MAD of those differences;
- a day younger than the KPI's ``settle_days`` (its value still grows as late events arrive,
  e.g. tickets resolved later) is ``settling``: shown, never judged, never part of a baseline;
- WARN when |score| > ``warn_score`` and the change exceeds ``min_change`` in the KPI's bad
  direction; ERROR when the bad-side score exceeds ``error_score`` on this day and the day before,
  or ``error_score_single`` on one day. A provisional day (its source may still restate it) is
  evaluated but capped at WARN.
- A day beyond both thresholds in either direction is *flagged* and excluded from later baselines
  and scales, so an incident does not become the new normal (only the bad direction alerts);
  a level shift flagged ``accept_after`` days running on the same side becomes the norm.

The parameters are tuned on ``benchmarks/drift.py`` (docs/drift.md).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

WARN = "WARN"
ERROR = "ERROR"
METHOD = "same-weekday median, log-ratio / (1.4826 x MAD)"


@dataclass(frozen=True)
class DriftParams:
    weeks: int = 8  # same-weekday points of the baseline
    scale_weeks: int = 16  # past residuals of the scale (a longer window: a steadier scale)
    min_points: int = 3  # same-weekday points for a full judgement
    min_residuals: int = 14  # past residuals for a full judgement
    mad_floor: float = 0.02
    warn_score: float = 3.5
    min_change: float = 0.10
    error_score: float = 4.0
    error_score_single: float = 6.0
    cold_start: bool = True  # judge from the first days with wider bounds
    cold_days: int = 3  # earlier days needed before the first judgement
    cold_residuals: int = 5  # below this many past residuals the scale is cold_scale
    cold_scale: float = 0.15  # the scale assumed while there is hardly any residual history
    cold_widen: float = 2.0  # cold scales are widened by 1 + cold_widen / sqrt(residuals)
    accept_after: int = 14  # a level shift flagged this many days running becomes the norm

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DriftDay:
    """The evaluation of one day. ``outcome``: ok, anomaly (good direction), warn, error,
    insufficient_history, insufficient_volume, settling or no_data. ``cold``: judged in the
    cold start (short baseline, wider bounds)."""

    day: date
    outcome: str
    value: float | None = None
    expected: float | None = None
    lower: float | None = None
    upper: float | None = None
    score: float | None = None
    change: float | None = None
    scale: float | None = None
    baseline_points: int = 0
    consecutive_breaches: int = 0
    provisional: bool = False
    capped: bool = False
    flagged: bool = False
    cold: bool = False

    @property
    def severity(self) -> str | None:
        return {"warn": WARN, "error": ERROR}.get(self.outcome)


@dataclass
class _State:
    values: dict[date, float] = field(default_factory=dict)
    residuals: dict[date, float] = field(default_factory=dict)
    flagged: set[date] = field(default_factory=set)
    run: list[date] = field(default_factory=list)  # the current run of flagged days
    run_up: bool = False  # the side of that run


def bad_side(score: float, direction: str) -> float:
    """The score signed so that positive is the KPI's bad direction."""
    return -score if direction == "higher" else score


def robust_scale(residuals: list[float], floor: float) -> float:
    """1.4826 x the median absolute deviation, floored (a perfectly flat history gives the floor)."""
    center = statistics.median(residuals)
    mad = statistics.median(abs(r - center) for r in residuals)
    return max(1.4826 * mad, floor)


def evaluate_series(
    values: Mapping[date, float | None],
    direction: str,
    *,
    denominators: Mapping[date, float | None] | None = None,
    min_denominator: float = 0.0,
    provisional: Callable[[date], bool] = lambda _day: False,
    settling: Callable[[date], bool] = lambda _day: False,
    noise: Callable[[date, float], float] | None = None,
    additive: bool = False,
    params: DriftParams = DriftParams(),
) -> dict[date, DriftDay]:
    """Evaluate every calendar day from the first to the last day of ``values``, in order.

    ``noise(day, expected)`` is the sampling noise of the day's value in residual units (a floor
    for the scale); ``settling(day)`` marks days too young to judge."""
    rule = _Rule(provisional, settling, noise, additive)
    if not values:
        return {}
    state = _State()
    results: dict[date, DriftDay] = {}
    day, last = min(values), max(values)
    while day <= last:
        results[day] = _evaluate_day(
            day,
            values,
            direction,
            denominators,
            min_denominator,
            rule,
            params,
            state,
            results,
        )
        day += timedelta(days=1)
    return results


@dataclass(frozen=True)
class _Rule:
    provisional: Callable[[date], bool]
    settling: Callable[[date], bool]
    noise: Callable[[date, float], float] | None
    additive: bool


@dataclass(frozen=True)
class _Baseline:
    expected: float
    points: int  # same-weekday points (0: the cold start's all-weekday median)
    residual: float
    scale: float
    cold: bool


def _baseline(
    day: date, value: float, rule: _Rule, params: DriftParams, state: _State
) -> _Baseline | None:
    """Expected value and scale of ``day`` from the unflagged history; None: too little yet."""

    def usable(past: date) -> bool:
        return (
            past in state.values
            and past not in state.flagged
            and (rule.additive or state.values[past] > 0)
        )

    points = [
        state.values[past]
        for k in range(1, params.weeks + 1)
        if usable(past := day - timedelta(days=7 * k))
    ]
    if points:
        expected = statistics.median(points)
    else:  # no same weekday yet: the median of the last two weeks, weekday effects unknown
        earlier = [
            state.values[past] for k in range(1, 15) if usable(past := day - timedelta(days=k))
        ]
        if not params.cold_start or len(earlier) < params.cold_days:
            return None
        expected = statistics.median(earlier)
    if rule.additive:
        residual = value - expected
    else:
        residual = math.log(max(value, expected * 1e-3) / expected)
    window_start = day - timedelta(days=7 * params.scale_weeks)
    past_residuals = [
        r for d, r in state.residuals.items() if window_start <= d < day and d not in state.flagged
    ]
    if points:  # residuals from a same-weekday baseline only feed later scales
        state.residuals[day] = residual
    cold = len(points) < params.min_points or len(past_residuals) < params.min_residuals
    if cold and not params.cold_start:
        return None
    floor = params.mad_floor
    if rule.additive:  # differences: at least the spread of the values themselves
        spread = [
            v for d, v in state.values.items() if window_start <= d < day and d not in state.flagged
        ]
        floor = max(params.mad_floor * max(abs(expected), 1.0), robust_scale(spread, 0.0))
    if rule.noise is not None:
        floor = max(floor, rule.noise(day, expected))
    if not cold:
        return _Baseline(
            expected, len(points), residual, robust_scale(past_residuals, floor), False
        )
    count = len(past_residuals)
    if count >= params.cold_residuals:  # a short history: its scale, widened for its shortness
        scale = robust_scale(past_residuals, floor) * (1 + params.cold_widen / math.sqrt(count))
    else:  # hardly any history: an assumed scale
        scale = floor if rule.additive else max(floor, params.cold_scale)
        scale *= 1 + params.cold_widen / math.sqrt(max(count, 1))
    return _Baseline(expected, len(points), residual, scale, True)


def _evaluate_day(
    day: date,
    values: Mapping[date, float | None],
    direction: str,
    denominators: Mapping[date, float | None] | None,
    min_denominator: float,
    rule: _Rule,
    params: DriftParams,
    state: _State,
    results: Mapping[date, DriftDay],
) -> DriftDay:
    value = values.get(day)
    is_provisional = rule.provisional(day)
    if value is None:
        return DriftDay(day, "no_data", provisional=is_provisional)
    if rule.settling(day):
        return DriftDay(day, "settling", value=value, provisional=is_provisional)
    if denominators is not None and min_denominator > 0:
        denominator = denominators.get(day)
        if denominator is None or denominator < min_denominator:
            return DriftDay(day, "insufficient_volume", value=value, provisional=is_provisional)
    state.values[day] = value
    base = _baseline(day, value, rule, params, state)
    if base is None:
        return DriftDay(day, "insufficient_history", value=value, provisional=is_provisional)
    expected, scale = base.expected, base.scale
    score = base.residual / scale
    change = (value - expected) / abs(expected) if expected else math.copysign(math.inf, score)
    bad = bad_side(score, direction)
    if rule.additive:
        reach = max(params.warn_score * scale, params.min_change * abs(expected))
        lower, upper = expected - reach, expected + reach
    else:
        band = math.exp(params.warn_score * scale)
        lower = expected * min(1 / band, 1 - params.min_change)
        upper = expected * max(band, 1 + params.min_change)

    previous = results.get(day - timedelta(days=1))
    previous_bad = (
        bad_side(previous.score, direction)
        if previous is not None and previous.score is not None
        else None
    )
    big_change = abs(change) > params.min_change
    anomalous = abs(score) > params.warn_score and big_change
    outcome = "ok"
    if anomalous:
        outcome = "anomaly"
        if bad > params.warn_score:
            outcome = "warn"
            twice = (
                bad > params.error_score
                and previous_bad is not None
                and previous_bad > params.error_score
            )
            if bad > params.error_score_single or twice:
                outcome = "error"
    capped = outcome == "error" and is_provisional
    if capped:
        outcome = "warn"
    _flag(day, anomalous, score, params, state)
    breach = bad > params.warn_score and big_change
    consecutive = 0
    if breach:
        consecutive = 1 + (previous.consecutive_breaches if previous is not None else 0)
    return DriftDay(
        day,
        outcome,
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        score=score,
        change=change,
        scale=scale,
        baseline_points=base.points,
        consecutive_breaches=consecutive,
        provisional=is_provisional,
        capped=capped,
        flagged=anomalous,
        cold=base.cold,
    )


def _flag(day: date, anomalous: bool, score: float, params: DriftParams, state: _State) -> None:
    """Keep an anomalous day out of later baselines, unless it is part of a level shift: once
    ``accept_after`` days in a row are flagged on the same side, they become the new norm."""
    if not anomalous:
        state.run = []
        return
    state.flagged.add(day)
    follows = bool(state.run) and state.run[-1] == day - timedelta(days=1)
    state.run = [*state.run, day] if follows and state.run_up == (score > 0) else [day]
    state.run_up = score > 0
    if len(state.run) >= params.accept_after:
        state.flagged.difference_update(state.run)
        state.run = []


def worst_day(days: list[DriftDay]) -> DriftDay | None:
    """The day a window's check reports: the most severe, the latest among equals."""
    if not days:
        return None
    rank = {"error": 3, "warn": 2}
    return max(days, key=lambda d: (rank.get(d.outcome, 0), d.day))
