"""Plain-text KPI summaries read from the warehouse (used by the demo and ``kpi status``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.kpi.catalog import Kpi, load_catalog
from pipelines.kpi.drift import DriftDay


def count_text(value: float) -> str:
    """A count: whole numbers as such, an average or ratio of counts with its decimals (0.74
    engagements per content piece, not 1); the dashboard's script does the same."""
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def format_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "n/a"
    if kpi.unit == "fraction":
        return f"{value:.2%}"
    if kpi.unit in {"count"}:
        return count_text(value)
    return f"{value:,.2f}"


def latest_values(
    database: Path, grain: str = "week"
) -> list[tuple[Kpi, str, float | None, float | None]]:
    """Per KPI (segment ``all``): the last complete period's value and the one before it."""
    if not database.exists():
        raise FileNotFoundError(
            f"no warehouse at {database}: run the demo (scripts/demo) or a materialization first"
        )
    catalog = load_catalog()
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            """
            select kpi_id, period_start, value
            from marts.kpi_values
            where grain = ? and segment = 'all' and is_period_complete
            qualify row_number() over (partition by kpi_id order by period_start desc) <= 2
            order by kpi_id, period_start desc
            """,
            [grain],
        ).fetchall()
    by_kpi: dict[str, list[tuple]] = {}
    for kpi_id, period_start, value in rows:
        by_kpi.setdefault(kpi_id, []).append((period_start, value))
    result = []
    for kpi in catalog.kpis:
        if kpi.id not in by_kpi:
            continue
        periods = by_kpi[kpi.id]
        previous = periods[1][1] if len(periods) > 1 else None
        result.append((kpi, periods[0][0].isoformat(), periods[0][1], previous))
    return result


def render(database: Path, grain: str = "week") -> str:
    lines = [f"{'KPI':32} {grain + ' of':>12} {'value':>14} {'previous':>14} {'change':>8}"]
    for kpi, period, value, previous in latest_values(database, grain):
        change = ""
        if value is not None and previous:
            change = f"{(value - previous) / abs(previous):+.1%}"
        lines.append(
            f"{kpi.id:32} {period:>12} {format_value(kpi, value):>14} "
            f"{format_value(kpi, previous):>14} {change:>8}"
        )
    return "\n".join(lines)


def render_targets(database: Path) -> str:
    """The latest period of every targeted KPI x segment x grain (``marts.kpi_status``)."""
    catalog = load_catalog()
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            """
            select kpi_id, segment, grain, period_start, as_of_day, actual, expected_to_date,
                   target, gap_pct, projected, status
            from marts.kpi_status
            qualify row_number() over (
                partition by kpi_id, segment, grain order by period_start desc) = 1
            order by kpi_id, segment, grain
            """
        ).fetchall()
    header = (
        f"{'KPI':26} {'segment':22} {'period':9} {'as of':10} {'actual':>11} {'expected':>11} "
        f"{'target':>11} {'gap':>6}  status"
    )
    lines = [header]
    for kpi_id, segment, grain, start, as_of, actual, expected, target, gap, _, status in rows:
        kpi = catalog[kpi_id]
        label = start.strftime("%Y-%m") if grain == "month" else start.strftime("%G-W%V")
        gap_text = f"{gap:+.0%}" if gap is not None else ""
        lines.append(
            f"{kpi_id:26} {segment[:22]:22} {label:9} {as_of.isoformat():10} "
            f"{format_value(kpi, actual):>11} {format_value(kpi, expected):>11} "
            f"{format_value(kpi, target):>11} {gap_text:>6}  {status}"
        )
    return "\n".join(lines)


def drift_by_day(
    database: Path,
    provisional: Callable[[date], bool] = lambda _d: False,
    today: date | None = None,
) -> tuple[dict[date, list[tuple[str, DriftDay]]], set[date]]:
    """Every company-wide daily KPI series evaluated with the drift check's rules: the alerts per
    day, and the days on which at least one KPI had enough history to be judged."""
    from pipelines.defs.kpi_checks import evaluate_kpi_drift, load_daily_series, settling_rule

    catalog = load_catalog()
    with duckdb.connect(str(database), read_only=True) as con:
        series = load_daily_series(con, date(1900, 1, 1), date(9999, 12, 31))
    alerts: dict[date, list[tuple[str, DriftDay]]] = {}
    judged: set[date] = set()
    for kpi_id, (values, denominators) in sorted(series.items()):
        kpi = catalog[kpi_id]
        settling = settling_rule(kpi, today or date.today())
        evaluated = evaluate_kpi_drift(kpi, values, denominators, provisional, settling)
        for day, result in evaluated.items():
            if result.score is not None:
                judged.add(day)
            if result.severity:
                alerts.setdefault(day, []).append((kpi_id, result))
    return alerts, judged


def render_drift(
    database: Path,
    incident: Callable[[date], str | None],
    provisional: Callable[[date], bool] = lambda _d: False,
) -> str:
    """Drift alerts over the whole warehouse next to the injected incidents of the demo company."""
    with duckdb.connect(str(database), read_only=True) as con:
        first, last = con.execute(
            "select min(period_start), max(period_start) from marts.kpi_values where grain = 'day'"
        ).fetchone()
    alerts, judged = drift_by_day(database, provisional)
    lines = [f"{'day':10}  {'injected incident':17}  drift alerts (the <kpi>__drift check rules)"]
    caught = expected = false_days = 0
    day = first
    while day <= last:
        kind = incident(day)
        found = alerts.get(day, [])
        if kind or found:
            text = ", ".join(f"{kpi_id} {r.severity} {r.change:+.0%}" for kpi_id, r in found)
            if not text:
                text = (
                    "not judged yet (the baseline is still building)"
                    if day not in judged
                    else "none (a rise: only the bad direction alerts)"
                    if kind == "campaign_spike"
                    else "none"
                )
            lines.append(f"{day.isoformat():10}  {kind or '-':17}  {text}")
        if kind in ("tracking_outage", "organic_slump") and day in judged:
            expected += 1
            caught += bool(found)
        elif found and not kind:
            false_days += 1
        day += timedelta(days=1)
    lines.append(
        f"Drops caught: {caught} of {expected} judged incident days (outages, organic slumps); "
        f"days with an alert but no incident: {false_days} of {len(judged)} judged days."
    )
    return "\n".join(lines)
