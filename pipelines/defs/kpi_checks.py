"""Asset checks on ``marts/kpi_values``: a target check and a drift check for every catalog KPI.

``<channel>__<name>__target`` reads ``marts.kpi_status_daily`` (pacing computed by dbt) and applies
``target_rules``; ``<channel>__<name>__drift`` reads the KPI's daily company-wide values and applies
``drift``. Both evaluate every day of the run's partition window: the target check reports the
latest day (the current standing), the drift check the worst day. KPIs without data or targets
pass and say so. Every result names the KPI id and the ISO day/period it evaluated.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import duckdb

from pipelines.connectors.assets import declared_lookback
from pipelines.connectors.registry import SOURCES
from pipelines.kpi.catalog import Kpi, load_catalog
from pipelines.kpi.drift import METHOD, DriftDay, DriftParams, evaluate_series, worst_day
from pipelines.kpi.explain import drift_explanation, target_explanation
from pipelines.kpi.target_rules import EARLY_DAYS, StatusRow, TargetDay, evaluate_targets, worst
from pipelines.kpi.targets import period_label
from pipelines.lib.partitions import WAREHOUSE_POOL, run_window
from pipelines.warehouse.connection import MISSING_COLUMN, MISSING_RELATION
from pipelines.warehouse.resource import WarehouseResource

KPI_VALUES = dg.AssetKey(["marts", "kpi_values"])
KPI_STATUS_DAILY = dg.AssetKey(["marts", "kpi_status_daily"])
DRIFT_PARAMS = DriftParams()
HISTORY_DAYS = 7 * (DRIFT_PARAMS.weeks * 2 + 2)  # enough for baselines of baselines
DEFAULT_LOOKBACK_DAYS = 3


class MonitoringResource(dg.ConfigurableResource):
    """Clock of the checks. ``today`` / ``now`` (ISO) pin it for tests and replays."""

    today: str | None = None
    now: str | None = None

    def current_time(self) -> datetime:
        """Now, UTC, naive (as ``_loaded_at`` is stored)."""
        if self.now:
            return datetime.fromisoformat(self.now).replace(tzinfo=None)
        return datetime.now(UTC).replace(tzinfo=None)

    def current_day(self) -> date:
        return date.fromisoformat(self.today) if self.today else self.current_time().date()


def check_name(kpi_id: str, kind: str) -> str:
    """``digital.site_traffic`` + ``target`` -> ``digital__site_traffic__target``."""
    return f"{kpi_id.replace('.', '__')}__{kind}"


def checked_days(context: dg.AssetCheckExecutionContext) -> tuple[date, date] | None:
    """The run's partition window (inclusive; ``run_window``); None for an unpartitioned run."""
    window = run_window(context.op_execution_context)
    return None if window is None else (window[0], window[1] - timedelta(days=1))


def source_lookbacks(context: dg.AssetCheckExecutionContext) -> dict[str, int]:
    """The lookback of each source in the run's code location, from its declaration (the one the
    daily run re-pulls by); ``lookback_days`` metadata for raw assets declared otherwise."""
    graph = context.op_execution_context.job_def.asset_layer.asset_graph
    declared = {s.name: s for s in SOURCES}
    lookbacks: dict[str, int] = {}
    for key in graph.get_all_asset_keys():
        if len(key.path) != 2 or key.path[0] != "raw":
            continue
        source = key.path[1].split("__")[0]
        if source in declared:
            days = declared_lookback(declared[source])
        else:
            days = graph.get(key).metadata.get("lookback_days")
        if isinstance(days, int | float):
            lookbacks[source] = max(lookbacks.get(source, 0), int(days))
    return lookbacks


def provisional_rule(kpi: Kpi, lookbacks: dict[str, int], today: date) -> Callable[[date], bool]:
    """A day is provisional while one of the KPI's sources still re-pulls it: younger than its
    lookback. Sources not in the code location count with the longest known lookback."""
    known = [lookbacks[s] for s in kpi.sources if s in lookbacks]
    days = max(known) if known else max(lookbacks.values(), default=DEFAULT_LOOKBACK_DAYS)
    return lambda day: (today - day).days < days


def settling_rule(kpi: Kpi, today: date) -> Callable[[date], bool]:
    """Days younger than the KPI's ``settle_days`` are still filling in: not judged yet."""
    return lambda day: (today - day).days < kpi.settle_days


def noise_rule(
    kpi: Kpi,
    values: Mapping[date, float | None],
    denominators: Mapping[date, float | None],
    weeks: int = DRIFT_PARAMS.weeks,
) -> Callable[[date, float], float] | None:
    """Sampling noise of a day's value, in log units: Poisson for daily counts and for counts
    per item (events / items: the expected events of the day), binomial for fractions (a rate
    over n trials). The binomial rate is the pooled rate of the same weekday's
    last ``weeks`` weeks (sum of successes / sum of trials): on small denominators the median
    of daily rates drifts to 0 or 1, where the binomial noise would vanish. None for other KPIs
    (money, durations, positions)."""
    if kpi.drift_residual != "log":
        return None
    if kpi.unit == "count" and kpi.aggregation == "sum":
        return lambda _day, expected: 1 / math.sqrt(max(expected, 1.0))
    if kpi.unit == "count" and kpi.aggregation == "ratio":  # events per item: Poisson events

        def per_item(day: date, expected: float) -> float:
            items = denominators.get(day) or 0.0
            return 1 / math.sqrt(max(expected * items, 1.0)) if items > 0 else 0.0

        return per_item
    if kpi.unit == "fraction" and kpi.aggregation == "ratio":

        def binomial(day: date, expected: float) -> float:
            trials = denominators.get(day) or 0.0
            if trials <= 0:
                return 0.0
            rate = pooled_rate(values, denominators, day, weeks) or expected
            if not 0 < rate < 1:
                return 0.0
            return math.sqrt((1 - rate) / (trials * rate))

        return binomial
    return None


def pooled_rate(
    values: Mapping[date, float | None],
    denominators: Mapping[date, float | None],
    day: date,
    weeks: int,
) -> float | None:
    """Sum of value x denominator over sum of denominators, same weekday, last ``weeks`` weeks."""
    successes = trials = 0.0
    for k in range(1, weeks + 1):
        past = day - timedelta(days=7 * k)
        value, denominator = values.get(past), denominators.get(past)
        if value is not None and denominator:
            successes += value * denominator
            trials += denominator
    return successes / trials if trials else None


def evaluate_kpi_drift(
    kpi: Kpi,
    values: Mapping[date, float | None],
    denominators: Mapping[date, float | None],
    provisional: Callable[[date], bool],
    settling: Callable[[date], bool],
    params: DriftParams = DRIFT_PARAMS,
) -> dict[date, DriftDay]:
    """Every day of a KPI's daily series judged with the catalog's drift settings for it."""
    return evaluate_series(
        values,
        kpi.direction,
        denominators=denominators,
        min_denominator=kpi.min_denominator,
        provisional=provisional,
        settling=settling,
        noise=noise_rule(kpi, values, denominators, params.weeks),
        additive=kpi.drift_residual == "additive",
        params=params,
    )


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple]:
    try:
        return con.execute(sql, params).fetchall()
    except MISSING_RELATION:  # the model was not built in this warehouse yet
        return []


STATUS_COLUMNS = (
    "kpi_id, segment, grain, period_start, period_end, as_of_day, day_of_period, actual, target, "
    "expected_to_date, gap_pct, projected, status, pacing, denominator_to_date, min_denominator, "
    "warn_tolerance, error_tolerance, direction"
)


def load_status_rows(
    con: duckdb.DuckDBPyConnection, start: date, end: date
) -> dict[str, list[StatusRow]]:
    rows = _query(
        con,
        f"select {STATUS_COLUMNS} from marts.kpi_status_daily "
        "where as_of_day between ? and ? order by kpi_id, segment, grain, as_of_day",
        [start, end],
    )
    by_kpi: dict[str, list[StatusRow]] = defaultdict(list)
    for row in rows:
        by_kpi[row[0]].append(StatusRow(*row))
    return by_kpi


def load_daily_series(
    con: duckdb.DuckDBPyConnection, start: date, end: date
) -> dict[str, tuple[dict[date, float | None], dict[date, float | None]]]:
    """Company-wide daily value and denominator of every KPI between ``start`` and ``end``. A
    partial day (an account missing from the value, ``is_partial``) has no value to judge."""
    sql = (
        "select kpi_id, period_start, {value}, denominator from marts.kpi_values "
        "where grain = 'day' and segment = 'all' and period_start between ? and ?"
    )
    try:
        rows = _query(
            con, sql.format(value="case when is_partial then null else value end"), [start, end]
        )
    except MISSING_COLUMN:  # a warehouse built before is_partial
        rows = _query(con, sql.format(value="value"), [start, end])
    series: dict[str, tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    for kpi_id, day, value, denominator in rows:
        series[kpi_id][0][day] = value
        series[kpi_id][1][day] = denominator
    return series


# What a result that judged nothing still carries, so every result has the same fields.
_EMPTY = {
    "evaluated_day": None,
    "value": None,
    "expected": None,
    "bounds": None,
    "score": None,
    "consecutive_breaches": 0,
}


def _severity(name: str | None) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if name == "ERROR" else dg.AssetCheckSeverity.WARN


def target_result(
    kpi: Kpi,
    rows: list[StatusRow],
    window: tuple[date, date],
    provisional: Callable[[date], bool],
) -> dg.AssetCheckResult:
    """The standing of the KPI's targets on the last evaluated day of the window."""
    name = check_name(kpi.id, "target")
    start, end = window
    groups: dict[tuple[str, str], list[StatusRow]] = defaultdict(list)
    for row in rows:
        groups[(row.segment, row.grain)].append(row)
    latest: list[TargetDay] = []
    for group in groups.values():
        evaluated = [d for d in evaluate_targets(group, provisional) if d.row.as_of_day >= start]
        if evaluated:
            latest.append(evaluated[-1])
    chosen = worst(latest)
    base = {
        "kpi_id": kpi.id,
        "channel": kpi.channel,
        "sources": ",".join(kpi.sources),
        "window": f"{start}..{end}",
    }
    if chosen is None:
        text = f"{kpi.id}: no target covers {start}..{end} (or no data yet): nothing to judge"
        return dg.AssetCheckResult(
            check_name=name,
            asset_key=KPI_VALUES,
            passed=True,
            description=text,
            metadata={
                **base,
                **_EMPTY,
                "method": "target pacing",
                "parameters": {"direction": kpi.direction},
                "outcome": "no_target",
                "explanation": text,
            },
        )
    row = chosen.row
    text = target_explanation(kpi, chosen)
    expected = row.expected_to_date
    sign = -1 if row.direction == "higher" else 1
    bounds = (
        {
            "warn_at": expected * (1 + sign * (row.warn_tolerance or 0)),
            "error_at": expected * (1 + sign * (row.error_tolerance or 0)),
        }
        if expected is not None
        else None
    )
    period = period_label(row.grain, row.period_start)
    metadata = {
        **base,
        "evaluated_day": row.as_of_day.isoformat(),
        "period": f"{row.grain} {period}",
        "segment": row.segment,
        "value": row.actual,
        "expected": expected,
        "target": row.target,
        "projected": row.projected,
        "bounds": bounds,
        "score": chosen.bad_gap,
        "status": row.status,
        "outcome": chosen.outcome,
        "method": f"target pacing ({row.pacing}); score = relative gap on the bad side",
        "parameters": {
            "warn_tolerance": row.warn_tolerance,
            "error_tolerance": row.error_tolerance,
            "single_day_error": 2 * (row.error_tolerance or 0),
            "early_days_capped": EARLY_DAYS,
            "min_denominator": row.min_denominator,
            "direction": row.direction,
        },
        "consecutive_breaches": chosen.consecutive_breaches,
        "provisional": provisional(row.as_of_day),
        "explanation": text,
        "targets_evaluated": [
            f"{d.row.segment} {d.row.grain} {period_label(d.row.grain, d.row.period_start)}: "
            f"{d.outcome}"
            for d in latest
        ],
        "alert_key": f"{chosen.severity}:{row.segment}:{row.grain} {period}",
    }
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=KPI_VALUES,
        passed=chosen.severity is None,
        severity=_severity(chosen.severity),
        description=text,
        metadata=metadata,
    )


def drift_result(
    kpi: Kpi,
    values: dict[date, float | None],
    denominators: dict[date, float | None],
    window: tuple[date, date],
    provisional: Callable[[date], bool],
    params: DriftParams = DRIFT_PARAMS,
    settling: Callable[[date], bool] = lambda _day: False,
) -> dg.AssetCheckResult:
    """The worst day of the window against the KPI's own history."""
    name = check_name(kpi.id, "drift")
    start, end = window
    evaluated = evaluate_kpi_drift(kpi, values, denominators, provisional, settling, params)
    in_window = [d for day, d in sorted(evaluated.items()) if start <= day <= end]
    scored = [d for d in in_window if d.outcome not in ("no_data",)]
    chosen: DriftDay | None = worst_day(scored)
    base = {
        "kpi_id": kpi.id,
        "channel": kpi.channel,
        "sources": ",".join(kpi.sources),
        "window": f"{start}..{end}",
    }
    if chosen is None:
        text = f"{kpi.id}: no daily values in {start}..{end}: nothing to judge"
        return dg.AssetCheckResult(
            check_name=name,
            asset_key=KPI_VALUES,
            passed=True,
            description=text,
            metadata={
                **base,
                **_EMPTY,
                "method": METHOD,
                "parameters": {**params.as_dict(), "direction": kpi.direction},
                "outcome": "no_data",
                "explanation": text,
            },
        )
    text = drift_explanation(kpi, chosen, params)
    flagged = [f"{d.day}: {d.outcome} ({d.score:+.1f})" for d in in_window if d.severity]
    metadata = {
        **base,
        "evaluated_day": chosen.day.isoformat(),
        "value": chosen.value,
        "expected": chosen.expected,
        "bounds": (
            {"lower": chosen.lower, "upper": chosen.upper} if chosen.lower is not None else None
        ),
        "score": chosen.score,
        "change": chosen.change,
        "outcome": chosen.outcome,
        "method": METHOD,
        "parameters": {
            **params.as_dict(),
            "direction": kpi.direction,
            "min_denominator": kpi.min_denominator,
        },
        "consecutive_breaches": chosen.consecutive_breaches,
        "baseline_points": chosen.baseline_points,
        "cold_start": chosen.cold,
        "provisional": chosen.provisional,
        "days_evaluated": len(scored),
        "days_flagged": flagged,
        "explanation": text,
        "alert_key": f"{chosen.severity}:{chosen.day}",
    }
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=KPI_VALUES,
        passed=chosen.severity is None,
        severity=_severity(chosen.severity),
        description=text,
        metadata=metadata,
    )


def _specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for kpi in load_catalog().kpis:
        specs.append(
            dg.AssetCheckSpec(
                check_name(kpi.id, "target"),
                asset=KPI_VALUES,
                additional_deps=[KPI_STATUS_DAILY],
                description=f"{kpi.id} against its target (config/targets.yml): WARN beyond the "
                "warn tolerance on the bad side, ERROR beyond the error tolerance two days "
                "running or twice it on one day.",
                metadata={"kpi_id": kpi.id, "kind": "target"},
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                check_name(kpi.id, "drift"),
                asset=KPI_VALUES,
                description=f"{kpi.id} against its own same-weekday history (robust z-score): "
                f"WARN at |score| > {DRIFT_PARAMS.warn_score:g} and a "
                f"{DRIFT_PARAMS.min_change:.0%} change in the bad direction, ERROR at > "
                f"{DRIFT_PARAMS.error_score:g} two days running or > "
                f"{DRIFT_PARAMS.error_score_single:g}; wider bounds while the history is short.",
                metadata={"kpi_id": kpi.id, "kind": "drift"},
            )
        )
    return specs


@dg.multi_asset_check(
    name="kpi_checks",
    specs=_specs(),
    can_subset=True,
    pool=WAREHOUSE_POOL,
    description="Target and drift checks of every catalog KPI for the run's window.",
)
def kpi_checks(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    monitoring: MonitoringResource,
) -> Iterator[dg.AssetCheckResult]:
    selected = {key.name for key in context.selected_asset_check_keys}
    today = monitoring.current_day()
    lookbacks = source_lookbacks(context)
    with warehouse.connect() as con:
        window = checked_days(context)
        if window is None:  # unpartitioned run: the latest day with data
            (last,) = _query(
                con, "select max(period_start) from marts.kpi_values where grain = 'day'", []
            ) or [(None,)]
            last = last or today - timedelta(days=1)
            window = (last, last)
        start, end = window
        status = load_status_rows(con, start - timedelta(days=1), end)
        series = load_daily_series(con, start - timedelta(days=HISTORY_DAYS), end)
    for kpi in load_catalog().kpis:
        provisional = provisional_rule(kpi, lookbacks, today)
        if check_name(kpi.id, "target") in selected:
            yield target_result(kpi, status.get(kpi.id, []), window, provisional)
        if check_name(kpi.id, "drift") in selected:
            values, denominators = series.get(kpi.id, ({}, {}))
            settling = settling_rule(kpi, today)
            yield drift_result(kpi, values, denominators, window, provisional, settling=settling)
