"""Everything the KPI dashboard shows, read from the warehouse into one JSON-ready dict.

Works on either warehouse target (a DuckDB connection or :class:`pipelines.warehouse.connection.PgConnection`:
only ``execute(sql, params).fetchall()`` with ``?`` parameters is used).

What the page gets:

- ``series``: the daily rows of ``marts.kpi_values`` per KPI and segment (value, and numerator and
  denominator for ratio / weighted_avg KPIs). The page rolls them up to weeks, months, quarters and
  custom ranges with the catalog's rules (sum; sum(numerator) / sum(denominator); last observation).
- ``rollup``: ``days`` when that roll-up reproduces the KPI's week and month rows of ``kpi_values``
  (checked here, in the warehouse's own numbers), else ``periods``: unique counts and ratios of
  distinct counts (``content.engagement_per_content``) or changes between period ends
  (``social.follower_growth``). For those the page shows the week and month rows of ``kpi_values``
  (in ``periods``) and calls quarters and custom ranges unavailable rather than show a wrong number.
- ``status``: targets, status and pacing (``marts.kpi_status``); ``drift``: the days the drift
  check's rules flag, with their explanation; ``revisions``: the latest restated days
  (``marts.kpi_revisions``); ``annotations``: the team's file (``config/annotations.yml``).

Per-page segments (``content=<path>``, one per content piece) are left out: hundreds of segments
per KPI would multiply the file's size; ``kpi sql`` has them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from pipelines.defs.kpi_checks import (
    DRIFT_PARAMS,
    evaluate_kpi_drift,
    load_daily_series,
    settling_rule,
)
from pipelines.kpi.annotations import Annotation
from pipelines.kpi.catalog import Catalog, Kpi
from pipelines.kpi.explain import drift_explanation
from pipelines.lib.settings import env
from pipelines.warehouse.connection import MISSING_RELATION

CHANNEL_NAMES = {
    "digital": "Digital",
    "marketing": "Marketing",
    "sales": "Sales",
    "customer_service": "Customer service",
    "social": "Social media",
    "email": "Email",
    "content": "Content",
    "paid_ads": "Paid ads",
    "seo": "SEO",
}
EXCLUDED_SEGMENT_PREFIXES = ("content=",)
REVISIONS_PER_KPI = 8
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[tuple]:
    try:
        return con.execute(sql, params or []).fetchall()
    except MISSING_RELATION:  # not built in this warehouse yet
        return []


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(value)


def _compact(values: list[float | None]) -> list[float | int | None]:
    """10 significant digits (display needs at most 7), whole numbers without ``.0``: the file
    is about half the size."""
    result: list[float | int | None] = []
    for value in values:
        if value is None:
            result.append(None)
            continue
        rounded = float(f"{value:.10g}")
        result.append(int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded)
    return result


def _keep(segment: str) -> bool:
    return not segment.startswith(EXCLUDED_SEGMENT_PREFIXES)


def roll_up(kpi: Kpi, days: list[tuple[float | None, float | None, float | None]]) -> float | None:
    """A KPI's value over a run of daily (value, numerator, denominator) rows, in calendar order,
    with the catalog's rule (the page's JavaScript applies the same one)."""
    if kpi.aggregation == "sum":
        values = [v for v, _, _ in days if v is not None]
        return sum(values) if values else None
    if kpi.aggregation == "snapshot":
        values = [v for v, _, _ in days if v is not None]
        return values[-1] if values else None
    if kpi.aggregation in ("ratio", "weighted_avg"):
        numerators = [n for _, n, _ in days if n is not None]
        denominators = [d for _, _, d in days if d is not None]
        den = sum(denominators)
        return sum(numerators) / den if denominators and den != 0 else None
    return None  # unique: pulled per period, never rolled up


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def rollup_mode(
    kpi: Kpi, days: dict[date, tuple], periods: dict[tuple[str, date], float | None]
) -> str:
    """``days`` when rolling the daily rows up reproduces every week and month row of the KPI
    (``periods``: (grain, start) -> value) that starts on or after its first day, else
    ``periods``: the value belongs to the period and cannot be derived from its days. (A period
    cut by the start of the history can hold days the warehouse has no day row for.)"""
    if kpi.aggregation == "unique":
        return "periods"
    if not days:
        return "days"
    first = min(days)
    members: dict[tuple[str, date], list[tuple]] = defaultdict(list)
    for day in sorted(days):
        members[("week", day - timedelta(days=day.weekday()))].append(days[day])
        members[("month", day.replace(day=1))].append(days[day])
    for (grain, start), value in periods.items():
        if start >= first and not _close(roll_up(kpi, members.get((grain, start), [])), value):
            return "periods"
    return "days"


def _series(con: Any, catalog: Catalog) -> tuple[dict, dict[str, dict[date, tuple]], date | None]:
    rows = _rows(
        con,
        "select kpi_id, segment, period_start, value, numerator, denominator "
        "from marts.kpi_values where grain = 'day' order by kpi_id, segment, period_start",
    )
    ids = set(catalog.ids())
    grouped: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    company: dict[str, dict[date, tuple]] = defaultdict(dict)
    data_end: date | None = None
    for kpi_id, segment, day, value, numerator, denominator in rows:
        if kpi_id not in ids or not _keep(segment):
            continue
        row = (_num(value), _num(numerator), _num(denominator))
        grouped[(kpi_id, segment)].append((day, *row))
        if segment == "all":
            company[kpi_id][day] = row
            data_end = day if data_end is None or day > data_end else data_end
    series: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (kpi_id, segment), points in grouped.items():
        first, last = points[0][0], points[-1][0]
        length = (last - first).days + 1
        values: list[float | None] = [None] * length
        nums: list[float | None] = [None] * length
        dens: list[float | None] = [None] * length
        for day, value, numerator, denominator in points:
            i = (day - first).days
            values[i], nums[i], dens[i] = value, numerator, denominator
        entry: dict[str, Any] = {"start": first.isoformat()}
        if catalog[kpi_id].aggregation in ("ratio", "weighted_avg"):  # value = n / d
            entry["n"], entry["d"] = _compact(nums), _compact(dens)
        else:
            entry["v"] = _compact(values)
        series[kpi_id][segment] = entry
    return series, company, data_end


def _period_rows(con: Any, kpi_ids: list[str]) -> dict[str, dict[str, dict[str, list]]]:
    """Week and month rows of ``kpi_values`` for the KPIs that cannot be rolled up from days."""
    result: dict[str, dict[str, dict[str, list]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    if not kpi_ids:
        return result
    marks = ", ".join("?" for _ in kpi_ids)
    rows = _rows(
        con,
        "select kpi_id, segment, grain, period_start, value, is_period_complete "
        f"from marts.kpi_values where grain in ('week', 'month') and kpi_id in ({marks}) "
        "order by kpi_id, segment, grain, period_start",
        list(kpi_ids),
    )
    for kpi_id, segment, grain, start, value, complete in rows:
        if _keep(segment):
            result[kpi_id][segment][grain].append([start.isoformat(), _num(value), bool(complete)])
    return result


def _company_periods(con: Any) -> dict[str, dict[tuple[str, date], float | None]]:
    rows = _rows(
        con,
        "select kpi_id, grain, period_start, value from marts.kpi_values "
        "where grain in ('week', 'month') and segment = 'all'",
    )
    periods: dict[str, dict[tuple[str, date], float | None]] = defaultdict(dict)
    for kpi_id, grain, start, value in rows:
        periods[kpi_id][(grain, start)] = _num(value)
    return periods


def _status(con: Any) -> dict[str, dict[str, dict[str, list]]]:
    """Per KPI, segment and grain: every targeted period's latest status row."""
    rows = _rows(
        con,
        "select kpi_id, segment, grain, period_start, period_end, as_of_day, target, actual, "
        "expected_to_date, projected, gap_pct, status, pacing from marts.kpi_status "
        "where grain in ('week', 'month') order by kpi_id, segment, grain, period_start",
    )
    result: dict[str, dict[str, dict[str, list]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for kpi_id, segment, grain, start, end, as_of, target, actual, expected, *rest in rows:
        projected, gap_pct, status, pacing = rest
        if not _keep(segment):
            continue
        result[kpi_id][segment][grain].append(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "as_of": as_of.isoformat() if as_of else None,
                "target": _num(target),
                "actual": _num(actual),
                "expected": _num(expected),
                "projected": _num(projected),
                "gap_pct": _num(gap_pct),
                "status": status or "no_target",
                "pacing": pacing,
            }
        )
    return result


def _drift(con: Any, catalog: Catalog, today: date) -> dict[str, list[dict[str, str]]]:
    """The days the drift check's rules flag (WARN/ERROR), per KPI, with the check's explanation.

    Drift results are Dagster asset-check results (the event log), not a table: the page
    re-evaluates the company-wide daily series with the same function and parameters."""
    series = load_daily_series(con, date(1900, 1, 1), date(9999, 12, 31))
    result: dict[str, list[dict[str, str]]] = {}
    for kpi_id, (values, denominators) in sorted(series.items()):
        if kpi_id not in catalog.ids():
            continue
        kpi = catalog[kpi_id]
        evaluated = evaluate_kpi_drift(
            kpi, values, denominators, lambda _d: False, settling_rule(kpi, today)
        )
        found = [
            {
                "day": day.isoformat(),
                "severity": result_day.severity or "",
                "text": drift_explanation(kpi, result_day, DRIFT_PARAMS),
            }
            for day, result_day in sorted(evaluated.items())
            if result_day.severity
        ]
        if found:
            result[kpi_id] = found
    return result


def _revisions(con: Any) -> dict[str, list[dict[str, Any]]]:
    rows = _rows(
        con,
        """
        select kpi_id, segment, day, revision, previous_value, value, change_pct, recorded_at
        from (
            select *, row_number() over (
                partition by kpi_id order by recorded_at desc, day desc) as recency
            from marts.kpi_revisions
            where revision > 1 and segment = 'all'
        ) as r
        where recency <= ?
        order by kpi_id, recorded_at desc, day desc
        """,
        [REVISIONS_PER_KPI],
    )
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kpi_id, segment, day, revision, previous, value, change_pct, recorded_at in rows:
        result[kpi_id].append(
            {
                "day": day.isoformat(),
                "segment": segment,
                "revision": int(revision),
                "previous": _num(previous),
                "value": _num(value),
                "change_pct": _num(change_pct),
                "recorded_at": recorded_at.strftime("%Y-%m-%d %H:%M") if recorded_at else "",
            }
        )
    return result


def currency() -> tuple[str, str]:
    """(ISO code, symbol) of ``KPI_REPORTING_CURRENCY``."""
    code = (env("KPI_REPORTING_CURRENCY", "USD") or "USD").upper()
    return code, CURRENCY_SYMBOLS.get(code, code + " ")


def load_dashboard_data(
    con: Any, catalog: Catalog, annotations: list[Annotation], generated_at: datetime
) -> dict[str, Any]:
    """The dashboard's data from an open warehouse connection (DuckDB or PostgreSQL)."""
    series, company, data_end = _series(con, catalog)
    periods = _company_periods(con)
    kpis = []
    for kpi in catalog.kpis:
        days = company.get(kpi.id, {})
        kpis.append(
            {
                "id": kpi.id,
                "name": kpi.name,
                "channel": kpi.channel,
                "channel_name": CHANNEL_NAMES.get(kpi.channel, kpi.channel),
                "unit": kpi.unit,
                "direction": kpi.direction,
                "aggregation": kpi.aggregation,
                "formula": kpi.formula,
                "sources": list(kpi.sources),
                "rollup": rollup_mode(kpi, days, periods.get(kpi.id, {})),
                "last_day": max(days).isoformat() if days else None,
            }
        )
    period_kpis = [k["id"] for k in kpis if k["rollup"] == "periods"]
    first_day = min((min(d) for d in company.values() if d), default=None)
    code, symbol = currency()
    today = generated_at.date()
    return {
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "currency": code,
        "currency_symbol": symbol,
        "data_end": data_end.isoformat() if data_end else None,
        "first_day": first_day.isoformat() if first_day else None,
        "kpis": kpis,
        "series": series,
        "periods": _period_rows(con, period_kpis),
        "status": _status(con),
        "drift": _drift(con, catalog, today) if data_end else {},
        "revisions": _revisions(con),
        "annotations": [a.as_dict() for a in annotations],
    }
