"""The KPI scorecard: one self-contained HTML page (inline CSS and SVG, no CDN) for managers.

One tile per KPI, grouped by channel: the last complete week's value, its change against the week
before, the target and status when the targets file sets one, a 13-week trend with the target line,
and the explanation of a failing check. Opens offline and reads on a phone.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.catalog import Kpi, load_catalog
from pipelines.resources import connect_waiting
from pipelines.summary import format_value

WEEKS = 13
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
STATUS_COLOURS = {
    "on_track": "#1a7f37",
    "at_risk": "#b7791f",
    "off_track": "#c62828",
    "no_target": "#6b7280",
    "insufficient_data": "#6b7280",
}


@dataclass
class Tile:
    kpi: Kpi
    points: list[tuple[date, float | None]]  # (week start, value), oldest first, complete weeks
    current_week: date | None = None
    value: float | None = None
    previous: float | None = None
    target: float | None = None
    status: str = "no_target"
    explanation: str = ""
    history_targets: dict[date, float] = field(default_factory=dict)
    target_grain: str = "week"

    @property
    def change(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def load_tiles(con: duckdb.DuckDBPyConnection) -> list[Tile]:
    """Tiles for every catalog KPI that has weekly values (segment ``all``)."""
    rows = con.execute(
        """
        with weeks as (
            select kpi_id, period_start, value,
                   row_number() over (partition by kpi_id order by period_start desc) as recency
            from marts.kpi_values
            where grain = 'week' and segment = 'all' and is_period_complete
        )
        select kpi_id, period_start, value from weeks where recency <= ? order by kpi_id, period_start
        """,
        [WEEKS],
    ).fetchall()
    series: dict[str, list[tuple[date, float | None]]] = defaultdict(list)
    for kpi_id, period_start, value in rows:
        series[kpi_id].append((period_start, value))
    status = _status(con)
    tiles = []
    for kpi in load_catalog().kpis:
        points = series.get(kpi.id)
        if not points:
            continue
        tile = Tile(kpi=kpi, points=points, current_week=points[-1][0], value=points[-1][1])
        tile.previous = points[-2][1] if len(points) > 1 else None
        if kpi.id in status:
            target, tile.status, tile.explanation, tile.history_targets, grain = status[kpi.id]
            tile.target, tile.target_grain = target, grain
        tiles.append(tile)
    return tiles


def _status(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Per KPI (segment ``all``): target, status and explanation of its latest targeted period
    (the month when monthly targets exist, else the week), and the weekly targets for the chart."""
    if not _table_exists(con, "marts", "kpi_status"):
        return {}
    rows = con.execute(
        """
        select kpi_id, grain, period_start, period_end, target, status, actual,
               expected_to_date, gap_pct
        from marts.kpi_status
        where segment = 'all' and grain in ('week', 'month')
        order by kpi_id, period_start
        """
    ).fetchall()
    latest: dict[str, dict[str, tuple]] = defaultdict(dict)
    weekly: dict[str, dict[date, float]] = defaultdict(dict)
    for row in rows:
        kpi_id, grain, period_start, *_ = row
        latest[kpi_id][grain] = row  # ordered by period_start: the last one wins
        if grain == "week" and row[4] is not None:
            weekly[kpi_id][period_start] = row[4]
    catalog = load_catalog()
    result: dict[str, tuple] = {}
    for kpi_id, by_grain in latest.items():
        row = by_grain.get("month") or by_grain["week"]
        _, grain, start, end, target, state, actual, expected, gap_pct = row
        text = ""
        if state in ("at_risk", "off_track") and actual is not None and expected is not None:
            kpi = catalog[kpi_id]
            side = "above" if (gap_pct or 0) > 0 else "below"
            text = (
                f"{kpi_id} {format_value(kpi, actual)} is {abs(gap_pct or 0):.0%} {side} the "
                f"expected {format_value(kpi, expected)} for the {grain} {start}..{end}"
            )
        result[kpi_id] = (target, state or "no_target", text, weekly.get(kpi_id, {}), grain)
    return result


def _sparkline(tile: Tile, width: int = 260, height: int = 64) -> str:
    values = [v for _, v in tile.points if v is not None]
    targets = [tile.history_targets[d] for d, _ in tile.points if d in tile.history_targets]
    if not values:
        return '<svg class="chart" role="img" aria-label="no data yet"></svg>'
    low, high = min(values + targets), max(values + targets)
    span = (high - low) or abs(high) or 1.0
    pad = 6

    def xy(i: int, v: float) -> str:
        x = pad + i * (width - 2 * pad) / max(len(tile.points) - 1, 1)
        y = height - pad - (v - low) / span * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(i, v) for i, (_, v) in enumerate(tile.points) if v is not None)
    target_line = " ".join(
        xy(i, tile.history_targets[d])
        for i, (d, _) in enumerate(tile.points)
        if d in tile.history_targets
    )
    last = len(tile.points) - 1
    dot = xy(last, tile.points[-1][1]) if tile.points[-1][1] is not None else None
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(tile.kpi.name)}, last {len(tile.points)} weeks">',
        f'<polyline class="trend" fill="none" stroke="#2563eb" stroke-width="2" points="{line}"/>',
    ]
    if target_line:
        parts.append(
            f'<polyline class="target" fill="none" stroke="#9ca3af" stroke-width="1.5" '
            f'stroke-dasharray="4 3" points="{target_line}"/>'
        )
    if dot:
        x, y = dot.split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#2563eb"/>')
    parts.append("</svg>")
    return "".join(parts)


def _tile_html(tile: Tile) -> str:
    kpi = tile.kpi
    colour = STATUS_COLOURS.get(tile.status, "#6b7280")
    change = tile.change
    if change is None:
        change_html = '<span class="change">n/a</span>'
    else:
        good = (change >= 0) == (kpi.direction == "higher")
        arrow = "▲" if change >= 0 else "▼"
        change_html = (
            f'<span class="change {"good" if good else "bad"}">{arrow} {abs(change):.1%}</span>'
        )
    target = (
        f"{tile.target_grain} target {html.escape(format_value(kpi, tile.target))}"
        if tile.target is not None
        else ""
    )
    week = tile.current_week.isoformat() if tile.current_week else ""
    explanation = (
        f'<p class="explanation">{html.escape(tile.explanation)}</p>' if tile.explanation else ""
    )
    return f"""
    <article class="tile" data-kpi="{html.escape(kpi.id)}" style="border-top-color:{colour}">
      <header><h3>{html.escape(kpi.name)}</h3><code>{html.escape(kpi.id)}</code></header>
      <div class="value">{html.escape(format_value(kpi, tile.value))}</div>
      <div class="meta">{change_html} vs previous week · week of {week}</div>
      <div class="meta"><span class="status" style="background:{colour}">
        {html.escape(tile.status.replace("_", " "))}</span> {target}</div>
      {_sparkline(tile)}
      {explanation}
    </article>"""


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#111827}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.4rem;margin:8px 0}
h2{font-size:1.1rem;margin:24px 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.tile{background:#fff;border-radius:8px;border-top:4px solid #6b7280;padding:12px;box-shadow:0 1px 2px #0001}
.tile header{display:flex;justify-content:space-between;gap:8px;align-items:baseline}
.tile h3{font-size:.95rem;margin:0}
.tile code{font-size:.7rem;color:#6b7280}
.value{font-size:1.8rem;font-weight:600;margin:6px 0}
.meta{font-size:.8rem;color:#4b5563;margin:2px 0}
.change.good{color:#1a7f37}.change.bad{color:#c62828}
.status{color:#fff;border-radius:4px;padding:1px 6px;font-size:.75rem}
.chart{width:100%;height:64px;margin-top:6px}
.explanation{font-size:.8rem;color:#c62828;margin:6px 0 0}
footer{font-size:.75rem;color:#6b7280;margin:24px 0}
"""

SCRIPT = """
window.addEventListener('error', function (e) {
  document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + ';';
});
document.addEventListener('DOMContentLoaded', function () {
  document.body.dataset.tiles = document.querySelectorAll('.tile').length;
  document.body.dataset.charts = document.querySelectorAll('.tile svg.chart').length;
  document.body.dataset.trends = document.querySelectorAll('.tile svg.chart polyline.trend').length;
});
"""


def render(tiles: list[Tile], generated_at: datetime) -> str:
    """The whole page as one string."""
    by_channel: dict[str, list[Tile]] = defaultdict(list)
    for tile in tiles:
        by_channel[tile.kpi.channel].append(tile)
    sections = "".join(
        f'<section><h2>{html.escape(CHANNEL_NAMES.get(channel, channel))}</h2><div class="grid">'
        + "".join(_tile_html(t) for t in channel_tiles)
        + "</div></section>"
        for channel, channel_tiles in by_channel.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KPI scorecard</title><style>{CSS}</style><script>{SCRIPT}</script></head>
<body><main>
<h1>KPI scorecard</h1>
<p class="meta">Last complete week per KPI, company-wide. Generated {generated_at:%Y-%m-%d %H:%M} UTC.</p>
{sections or "<p>No KPI values yet: run the pipeline first.</p>"}
<footer>kpi-pipeline · ratios are sum(numerator)/sum(denominator) over the week ·
definitions: config/kpis.yml</footer>
</main></body></html>
"""


def write_scorecard(database: Path, reports_dir: Path, now: datetime) -> Path:
    """Render from the warehouse to ``scorecard.html`` and a dated copy; returns the main file."""
    if not database.exists():
        raise FileNotFoundError(f"no warehouse at {database}: run the demo or a materialization")
    with connect_waiting(database, read_only=True) as con:
        return write_scorecard_from(con, reports_dir, now)


def write_scorecard_from(con: duckdb.DuckDBPyConnection, reports_dir: Path, now: datetime) -> Path:
    """The same from an open connection (either warehouse target)."""
    page = render(load_tiles(con), now)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "scorecard.html"
    tmp = reports_dir / ".scorecard.html.tmp"
    tmp.write_text(page)
    tmp.replace(target)
    (reports_dir / f"scorecard-{now:%Y-%m-%d}.html").write_text(page)
    return target
