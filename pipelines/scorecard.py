"""The KPI dashboard: one self-contained HTML file (data, script and styles inline; no CDN, no
network) that managers open from ``file://`` or an e-mail attachment.

Python reads the warehouse (:mod:`pipelines.dashboard_data`, either target) and writes the page:
the controls, one tile per catalog KPI grouped by channel, and the data as JSON. The page's
script (``dashboard.js``, hand-written, inline SVG charts: decision in docs/decisions.md) does the
rest in the browser: grain, period, comparison and segment, the KPI pages and the exports.
What each control does: docs/dashboard.md.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.dashboard_data import CHANNEL_NAMES, load_dashboard_data
from pipelines.kpi.annotations import load_annotations
from pipelines.kpi.catalog import load_catalog
from pipelines.lib.settings import duckdb_path
from pipelines.warehouse.connection import connect_postgres, warehouse_target
from pipelines.warehouse.resource import connect_waiting

HERE = Path(__file__).parent
SCRIPT = HERE / "dashboard.js"
STYLE = HERE / "dashboard.css"

CONTROLS = """
<form id="controls" class="controls" aria-label="What the dashboard shows">
  <label for="grain">Grain</label>
  <select id="grain" aria-describedby="summary">
    <option value="day">Day</option><option value="week" selected>Week</option>
    <option value="month">Month</option><option value="quarter">Quarter</option>
  </select>
  <label for="period">Period</label>
  <select id="period">
    <option value="last_week" selected>Last complete week</option>
    <option value="last_month">Last complete month</option>
    <option value="last_quarter">Last complete quarter</option>
    <option value="mtd">Month to date</option>
    <option value="qtd">Quarter to date</option>
    <option value="custom">Custom range</option>
  </select>
  <span id="custom" hidden>
    <label for="from">From</label> <input type="date" id="from">
    <label for="to">To</label> <input type="date" id="to">
  </span>
  <label for="compare">Compare with</label>
  <select id="compare">
    <option value="previous" selected>Previous period</option>
    <option value="year">Same period last year</option>
  </select>
  <label for="segment">Segment</label>
  <select id="segment"><option value="all" selected>All (company-wide)</option></select>
  <span class="actions">
    <button type="button" class="button" id="csv">Download CSV</button>
    <button type="button" class="button" id="print">Print or save as PDF</button>
  </span>
</form>
"""


def _tile(kpi: dict[str, Any]) -> str:
    kpi_id = html.escape(kpi["id"])
    return f"""
<article class="tile" data-kpi="{kpi_id}" aria-labelledby="t-{kpi_id}">
  <h3 id="t-{kpi_id}"><button type="button" class="open" aria-label="{html.escape(kpi["name"])}: \
open its page">{html.escape(kpi["name"])}</button></h3>
  <code class="kpi-id">{kpi_id}</code>
  <div class="value" data-raw="">—</div>
  <div class="meta partial-note"></div>
  <div class="meta compare"></div>
  <div class="meta target-status"></div>
  <div class="spark"></div>
  <p class="meta reason"></p>
  <p class="meta drift-note"></p>
</article>"""


def render(data: dict[str, Any]) -> str:
    """The whole page as one string."""
    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kpi in data["kpis"]:
        by_channel[kpi["channel"]].append(kpi)
    sections = "".join(
        f'<section aria-labelledby="c-{html.escape(channel)}"><h2 id="c-{html.escape(channel)}">'
        f"{html.escape(CHANNEL_NAMES.get(channel, channel))}</h2>"
        f'<div class="grid">{"".join(_tile(k) for k in kpis)}</div></section>'
        for channel, kpis in by_channel.items()
    )
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>KPI dashboard</title><style>{STYLE.read_text()}</style></head>
<body>
<a class="skip" href="#overview">Skip to the KPIs</a>
<header class="top">
<h1>KPI dashboard</h1>
{CONTROLS}
<p id="summary" class="summary" aria-live="polite">Loading…</p>
</header>
<main>
<div id="overview">{sections}</div>
<section id="detail" hidden aria-labelledby="detail-title"></section>
<footer>kpi-pipeline · generated {html.escape(data["generated_at"])} from marts.kpi_values ·
money in {html.escape(data["currency"])} · ratios are sum(numerator) / sum(denominator) over the
period · definitions: config/kpis.yml · annotations: config/annotations.yml</footer>
</main>
<script type="application/json" id="kpi-data">{payload}</script>
<script>{SCRIPT.read_text()}</script>
</body></html>
"""


def write_scorecard_from(con: Any, reports_dir: Path, now: datetime) -> Path:
    """Render from an open connection (either warehouse target) to ``scorecard.html`` and a dated
    copy; returns the main file."""
    catalog = load_catalog()
    data = load_dashboard_data(con, catalog, load_annotations(catalog), now)
    page = render(data)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "scorecard.html"
    tmp = reports_dir / ".scorecard.html.tmp"
    tmp.write_text(page)
    tmp.replace(target)
    (reports_dir / f"scorecard-{now:%Y-%m-%d}.html").write_text(page)
    return target


def write_scorecard(database: Path, reports_dir: Path, now: datetime) -> Path:
    """The same from the DuckDB file."""
    if not database.exists():
        raise FileNotFoundError(f"no warehouse at {database}: run the demo or a materialization")
    with connect_waiting(database, read_only=True) as con:
        return write_scorecard_from(con, reports_dir, now)


def write_report(reports_dir: Path, now: datetime) -> Path:
    """From the warehouse ``KPI_WAREHOUSE`` names (``kpi report``)."""
    if warehouse_target() == "postgres":
        with connect_postgres(read_only=True) as con:
            return write_scorecard_from(con, reports_dir, now)
    return write_scorecard(duckdb_path(), reports_dir, now)
