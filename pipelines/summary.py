"""Plain-text KPI summaries read from the warehouse (used by the demo and ``kpi status``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.catalog import Kpi, load_catalog


def format_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "n/a"
    if kpi.unit == "fraction":
        return f"{value:.2%}"
    if kpi.unit in {"count"}:
        return f"{value:,.0f}"
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
