"""The interactive KPI dashboard (data/reports/scorecard.html) in the system Chromium.

A two-year warehouse is written directly (no pipeline run: fast), with KPIs of every roll-up kind:
a sum, ratios with segments, a unique count pulled per period, a ratio of a distinct count
(month rows that are not the sum of their days), a snapshot. Playwright drives
``/usr/bin/chromium`` (no browser download): the numbers the page shows for each choice of grain,
period, comparison and segment must equal ``marts.kpi_values`` (or the quarter and custom-range
roll-up of its day rows computed here in SQL).
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.dashboard_data import roll_up, rollup_mode
from pipelines.kpi.annotations import AnnotationsError, parse_annotations
from pipelines.kpi.catalog import load_catalog
from pipelines.scorecard import write_report, write_scorecard
from pipelines.warehouse.connection import connect_postgres
from tools.pg_local import remove, start_local_postgres

FIRST = date(2024, 11, 8)  # a Friday: the first ISO week is partial
LAST = date(2026, 11, 25)  # a Wednesday: the current week and month are partial
DROP = date(2026, 10, 14)  # site traffic collapses: a drift finding
SUMS = ("digital.site_traffic", "sales.revenue")
RATIOS = ("digital.bounce_rate", "customer_service.avg_response_time")
SEGMENTS = {"digital.bounce_rate": ("channel_group=Direct", "channel_group=Email")}
UNIQUE = "digital.users"
PERIOD_RATIO = "content.engagement_per_content"
SNAPSHOT = "seo.backlinks"
NOW = datetime(2026, 11, 26, 6, tzinfo=UTC)
ANNOTATIONS = """version: 1
annotations:
  - {date: 2026-10-05, title: Autumn campaign launch, kpis: [digital]}
"""

CHROMIUM = Path("/usr/bin/chromium")


def _start(grain: str, day: date) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)


def _end(grain: str, start: date) -> date:
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    months = 1 if grain == "month" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1) - timedelta(days=1)


def _days() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def build_warehouse(path: Path) -> None:
    """``marts.kpi_values`` (day, week and month rows), ``kpi_status`` and ``kpi_revisions``."""
    rng = random.Random(7)
    days = _days()
    catalog = load_catalog()
    rows: list[tuple] = []  # kpi_id, segment, grain, start, value, numerator, denominator, complete

    def add_periods(kpi_id: str, segment: str, daily: dict[date, tuple]) -> None:
        kpi = catalog[kpi_id]
        for day, (v, n, d) in daily.items():
            rows.append((kpi_id, segment, "day", day, v, n, d, True))
        for grain in ("week", "month"):
            periods: dict[date, list[date]] = {}
            for day in daily:
                periods.setdefault(_start(grain, day), []).append(day)
            for start, members in periods.items():
                value = roll_up(kpi, [daily[d] for d in sorted(members)])
                n = d = None
                if kpi.aggregation in ("ratio", "weighted_avg"):
                    n = sum(daily[x][1] for x in members)
                    d = sum(daily[x][2] for x in members)
                rows.append(
                    (kpi_id, segment, grain, start, value, n, d, max(members) >= _end(grain, start))
                )

    for kpi_id in SUMS:
        daily = {}
        for day in days:
            base = 1000 * (1.2 if day.weekday() < 5 else 0.7)
            value = round(base * (1 + 0.05 * rng.uniform(-1, 1)))
            if kpi_id == "digital.site_traffic" and day == DROP:
                value = round(value * 0.3)
            daily[day] = (float(value), None, None)
        add_periods(kpi_id, "all", daily)
    for kpi_id in RATIOS:
        for segment in ("all", *SEGMENTS.get(kpi_id, ())):
            daily = {}
            for day in days:
                den = float(rng.randint(200, 400))
                num = round(den * rng.uniform(0.3, 0.5), 2)
                daily[day] = (num / den, num, den)
            add_periods(kpi_id, segment, daily)
    backlinks = {}
    total = 500.0
    for day in days:
        total += rng.randint(-2, 4)
        backlinks[day] = (total, None, None)
    add_periods(SNAPSHOT, "all", backlinks)
    for kpi_id in (UNIQUE, PERIOD_RATIO):  # the period's own number: never derived from days
        for grain in ("day", "week", "month"):
            for start in sorted({_start(grain, d) for d in days}):
                complete = _end(grain, start) <= LAST
                if kpi_id == UNIQUE:
                    value, n, d = (
                        float(rng.randint(500, 900) * (1 if grain == "day" else 4)),
                        None,
                        None,
                    )
                else:
                    n, d = float(rng.randint(20, 60)), float(rng.randint(30, 50))
                    value = n / d
                rows.append((kpi_id, "all", grain, start, value, n, d, complete))
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_values (kpi_id varchar, channel varchar, grain varchar, "
            "period_start date, period_end date, segment varchar, value double, numerator double, "
            "denominator double, unit varchar, aggregation varchar, days_observed bigint, "
            "is_period_complete boolean)"
        )
        fields = ("kpi_id", "segment", "grain", "period_start", "value", "num", "den", "complete")
        table = pa.table(
            {
                name: pa.array([row[i] for row in rows], pa.float64() if i in (4, 5, 6) else None)
                for i, name in enumerate(fields)
            }
        )
        con.register("rows", table)
        con.execute(
            "insert into marts.kpi_values select kpi_id, split_part(kpi_id, '.', 1), grain, "
            "period_start, case grain when 'day' then period_start when 'week' then "
            "period_start + 6 else last_day(period_start) end, segment, value, num, den, 'x', "
            "'x', null, complete from rows"
        )
        month = date(2026, 10, 1)
        con.execute(
            "create table marts.kpi_status as select 'digital.site_traffic' as kpi_id, "
            "'all' as segment, 'month' as grain, ?::date as period_start, ?::date as period_end, "
            "?::date as as_of_day, 40000.0 as target, 30000.0 as actual, "
            "40000.0 as expected_to_date, 31000.0 as projected, -0.25 as gap_pct, "
            "'off_track' as status, 'behind' as pacing",
            [month, _end("month", month), _end("month", month)],
        )
        con.execute(
            "create table marts.kpi_revisions (run_id varchar, recorded_at timestamp, "
            "kpi_id varchar, segment varchar, day date, value double, numerator double, "
            "denominator double, revision integer, previous_value double, change double, "
            "change_pct double)"
        )
        con.execute(
            "insert into marts.kpi_revisions values ('r2', '2026-11-20 06:00', 'sales.revenue', "
            "'all', '2026-11-17', 1100, null, null, 2, 1000, 100, 0.1)"
        )


def settings(mp: pytest.MonkeyPatch, root: Path) -> None:
    notes = root / "annotations.yml"
    notes.write_text(ANNOTATIONS)
    mp.setenv("KPI_ANNOTATIONS_PATH", str(notes))
    mp.setenv("KPI_REPORTING_CURRENCY", "EUR")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dashboard")
    database = root / "w.duckdb"
    build_warehouse(database)
    mp = pytest.MonkeyPatch()
    settings(mp, root)
    try:
        page = write_scorecard(database, root / "reports", NOW)
    finally:
        mp.undo()
    return database, page


def payload(page: Path) -> dict:
    text = page.read_text()
    start = text.index('<script type="application/json" id="kpi-data">')
    start = text.index(">", start) + 1
    return json.loads(text[start : text.index("</script>", start)])


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "chromium is not installed: apt-get install chromium (.ci/run does)"
    from playwright.sync_api import sync_playwright  # the dev extra: pip install -e '.[dev]'

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser, dashboard):
    _, path = dashboard
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("requestfailed", lambda r: errors.append(f"request {r.url}"))
    tab.goto(path.as_uri())
    tab.wait_for_selector("body[data-ready='1']")
    yield tab
    assert not errors, errors
    context.close()


def choose(page, **controls: str) -> None:
    for control, value in controls.items():
        if control in ("from_", "to"):
            page.fill("#from" if control == "from_" else "#to", value)
            page.dispatch_event("#from" if control == "from_" else "#to", "change")
        else:
            page.select_option(f"#{control}", value)
    page.wait_for_selector("body[data-ready='1']")


def shown(page, kpi_id: str, selector: str = ".value") -> tuple[float | None, str]:
    element = page.locator(f'.tile[data-kpi="{kpi_id}"] {selector}')
    raw = element.get_attribute("data-raw")
    return (float(raw) if raw else None), element.inner_text()


def kpi_value(database: Path, kpi_id: str, grain: str, start: date, segment: str = "all"):
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            "select value from marts.kpi_values where kpi_id = ? and grain = ? "
            "and period_start = ? and segment = ?",
            [kpi_id, grain, start, segment],
        ).fetchone()
    return row[0] if row else None


def rolled_from_days(database: Path, kpi_id: str, start: date, end: date) -> float:
    """The roll-up rule in SQL: sums add up, ratios are sum(numerator) / sum(denominator)."""
    with duckdb.connect(str(database), read_only=True) as con:
        total, num, den = con.execute(
            "select sum(value), sum(numerator), sum(denominator) from marts.kpi_values "
            "where kpi_id = ? and grain = 'day' and segment = 'all' "
            "and period_start between ? and ?",
            [kpi_id, start, end],
        ).fetchone()
    return total if num is None else num / den


def same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)


# ---- without a browser ------------------------------------------------------------------------


def test_annotation_errors_name_the_line_and_the_fix() -> None:
    catalog = load_catalog()
    good = parse_annotations(ANNOTATIONS, catalog)
    assert good[0].start == date(2026, 10, 5) and good[0].concerns("digital.bounce_rate")
    assert not good[0].concerns("sales.revenue")
    cases = {
        "  - {date: 2026-10-05, title: X, kpis: [digital.nope]}\n": (3, "neither a KPI id"),
        "  - {date: 5 Oct, title: X}\n": (3, "date must be a day"),
        "  - {date: 2026-10-05, to: 2026-10-01, title: X}\n": (3, "not before date"),
        "  - {date: 2026-10-05}\n": (3, "title is missing"),
        "  - {date: 2026-10-05, title: X, colour: red}\n": (3, "unknown field 'colour'"),
    }
    for entry, (line, message) in cases.items():
        text = "version: 1\nannotations:\n" + entry
        with pytest.raises(AnnotationsError) as error:
            parse_annotations(text, catalog, "config/annotations.yml")
        assert str(error.value).startswith(f"config/annotations.yml:{line}: ")
        assert message in str(error.value)
    with pytest.raises(AnnotationsError, match=r"annotations.yml:3: not valid YAML"):
        parse_annotations("version: 1\nannotations: [\n", catalog, "config/annotations.yml")


def test_only_kpis_whose_months_are_the_roll_up_of_their_days_get_quarters(dashboard) -> None:
    database, _ = dashboard
    catalog = load_catalog()
    with duckdb.connect(str(database), read_only=True) as con:

        def mode(kpi_id: str) -> str:
            days = {
                r[0]: r[1:]
                for r in con.execute(
                    "select period_start, value, numerator, denominator from marts.kpi_values "
                    "where kpi_id = ? and grain = 'day' and segment = 'all'",
                    [kpi_id],
                ).fetchall()
            }
            periods = {
                (grain, start): value
                for grain, start, value in con.execute(
                    "select grain, period_start, value from marts.kpi_values "
                    "where kpi_id = ? and grain in ('week', 'month') and segment = 'all'",
                    [kpi_id],
                ).fetchall()
            }
            return rollup_mode(catalog[kpi_id], days, periods)

        for kpi_id in (*SUMS, *RATIOS, SNAPSHOT):
            assert mode(kpi_id) == "days", kpi_id
        assert mode(UNIQUE) == "periods"
        assert mode(PERIOD_RATIO) == "periods"  # a distinct count: months are not sums of days
    # a period cut by the start of the history may hold days without a day row: not judged
    kpi = catalog["digital.site_traffic"]
    days = {date(2026, 9, 3) + timedelta(days=i): (10.0, None, None) for i in range(59)}
    periods = {("month", date(2026, 9, 1)): 999.0, ("month", date(2026, 10, 1)): 310.0}
    assert rollup_mode(kpi, days, periods) == "days"
    periods[("week", date(2026, 9, 7))] = 71.0
    assert rollup_mode(kpi, days, periods) == "periods"


PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "DATE": "date", "BOOLEAN": "boolean"}


def test_postgresql_warehouse_gives_the_same_dashboard(dashboard, tmp_path, monkeypatch) -> None:
    """``kpi report`` with ``KPI_WAREHOUSE=postgres`` reads the same marts through the connection
    abstraction and embeds exactly the same data."""
    database, page = dashboard
    server = start_local_postgres()
    try:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("KPI_WAREHOUSE", "postgres")
        settings(monkeypatch, tmp_path)
        with connect_postgres() as pg, duckdb.connect(str(database), read_only=True) as src:
            pg.execute("create schema marts")
            for table in ("kpi_values", "kpi_status", "kpi_revisions"):
                columns = src.execute(f"describe marts.{table}").fetchall()
                ddl = ", ".join(
                    f"{name} {PG_TYPES.get(kind, 'numeric' if 'DECIMAL' in kind else kind)}"
                    for name, kind, *_ in columns
                )
                pg.execute(f"create table marts.{table} ({ddl})")
                with pg.cursor().copy(f"copy marts.{table} from stdin") as copy:
                    for row in src.execute(f"select * from marts.{table}").fetchall():
                        copy.write_row(row)
        from_pg = write_report(tmp_path / "pg-reports", NOW)
    finally:
        remove(server)
    assert payload(from_pg) == payload(page)
    assert payload(page)["drift"]["digital.site_traffic"]  # not trivially equal: both have data


# ---- in Chromium ----------------------------------------------------------------------------------


def test_default_view_is_the_last_complete_week_against_the_week_before(dashboard, page) -> None:
    database, path = dashboard
    html = path.read_text()
    assert "http://" not in html and "https://" not in html  # opens offline: nothing fetched
    week = date(2026, 11, 16)  # LAST is Wednesday 2026-11-25: the week of the 23rd is partial
    for kpi_id in (*SUMS, *RATIOS, SNAPSHOT, UNIQUE, PERIOD_RATIO):
        value, _ = shown(page, kpi_id)
        assert same(value, kpi_value(database, kpi_id, "week", week)), kpi_id
        previous, _ = shown(page, kpi_id, ".compare-value")
        assert same(previous, kpi_value(database, kpi_id, "week", week - timedelta(days=7)))
    # units: the currency, percentages, minutes, a ratio of counts with its decimals
    assert shown(page, "sales.revenue")[1].startswith("€")
    assert shown(page, "digital.bounce_rate")[1].endswith("%")
    assert "min" in shown(page, "customer_service.avg_response_time")[1]
    engagement = shown(page, PERIOD_RATIO)
    assert engagement[1] == f"{engagement[0]:.2f}"  # 0.7 .. 1.4 is not rounded to 1
    # the change is coloured by direction: bounce rate down is good
    change = page.locator('.tile[data-kpi="digital.bounce_rate"] .change')
    ratio = float(change.get_attribute("data-raw"))
    assert ("good" in change.get_attribute("class")) == (ratio < 0)


def test_grain_and_period_controls_show_kpi_values_and_correct_quarters(dashboard, page) -> None:
    database, _ = dashboard
    choose(page, grain="month", period="last_month")
    october = date(2026, 10, 1)
    for kpi_id in (*SUMS, *RATIOS, UNIQUE, PERIOD_RATIO):
        assert same(shown(page, kpi_id)[0], kpi_value(database, kpi_id, "month", october))
        assert same(
            shown(page, kpi_id, ".compare-value")[0],
            kpi_value(database, kpi_id, "month", date(2026, 9, 1)),
        )
    target = page.locator('.tile[data-kpi="digital.site_traffic"] .target-status').inner_text()
    assert "off track" in target and "40,000" in target and "expected" in target

    choose(page, period="mtd")  # the partial month row of kpi_values
    for kpi_id in (*SUMS, UNIQUE):
        assert same(shown(page, kpi_id)[0], kpi_value(database, kpi_id, "month", date(2026, 11, 1)))

    choose(page, grain="quarter", period="last_quarter")  # 2026-Q3, rolled up from day rows
    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    for kpi_id in (*SUMS, *RATIOS):
        assert same(shown(page, kpi_id)[0], rolled_from_days(database, kpi_id, *q3)), kpi_id
    for kpi_id in (UNIQUE, PERIOD_RATIO):  # not derivable from days: unavailable, never wrong
        value, text = shown(page, kpi_id)
        assert value is None and text == "unavailable"
    spark = page.locator('.tile[data-kpi="digital.bounce_rate"] .spark svg')
    assert "from 2025-Q1 to 2026-Q3" in spark.get_attribute("aria-label")  # 2024-Q4: partial
    choose(page, period="qtd")  # 2026-Q4 so far: its chart point is marked partial
    for kpi_id in (*SUMS, *RATIOS):
        rolled = rolled_from_days(database, kpi_id, date(2026, 10, 1), LAST)
        assert same(shown(page, kpi_id)[0], rolled), kpi_id
    label = spark.get_attribute("aria-label")
    assert "to 2026-Q4; latest" in label and label.endswith("(partial period)")

    choose(page, period="custom", from_="2026-10-03", to="2026-10-19")
    for kpi_id in SUMS:
        rolled = rolled_from_days(database, kpi_id, date(2026, 10, 3), date(2026, 10, 19))
        assert same(shown(page, kpi_id)[0], rolled)
        before = rolled_from_days(database, kpi_id, date(2026, 9, 16), date(2026, 10, 2))
        assert same(shown(page, kpi_id, ".compare-value")[0], before)


def test_comparison_with_last_year_and_where_history_runs_out(dashboard, page) -> None:
    database, _ = dashboard
    choose(page, grain="month", period="last_month", compare="year")
    value, _ = shown(page, "sales.revenue", ".compare-value")
    assert same(value, kpi_value(database, "sales.revenue", "month", date(2025, 10, 1)))
    choose(page, grain="week", period="last_week")  # 52 weeks back: the same ISO week
    value, _ = shown(page, "digital.site_traffic", ".compare-value")
    assert same(value, kpi_value(database, "digital.site_traffic", "week", date(2025, 11, 17)))
    choose(page, period="custom", from_="2026-01-01", to="2026-06-30", compare="previous")
    value, _ = shown(page, "sales.revenue", ".compare-value")  # six whole months: the six before
    rolled = rolled_from_days(database, "sales.revenue", date(2025, 7, 1), date(2025, 12, 31))
    assert same(value, rolled)
    choose(page, period="custom", from_="2024-11-10", to="2024-11-20")
    assert "no history" in shown(page, "digital.site_traffic", ".change")[1]


def test_segment_filter_shows_segment_rows_and_says_where_there_are_none(dashboard, page) -> None:
    database, _ = dashboard
    choose(page, grain="month", period="last_month", segment="channel_group=Email")
    value, _ = shown(page, "digital.bounce_rate")
    expected = kpi_value(
        database, "digital.bounce_rate", "month", date(2026, 10, 1), "channel_group=Email"
    )
    assert same(value, expected)
    assert shown(page, "digital.site_traffic")[0] is None
    reason = page.locator('.tile[data-kpi="digital.site_traffic"] .reason').inner_text()
    assert "no rows for this segment" in reason


def test_kpi_page_has_series_segments_definition_drift_annotations_revisions(dashboard, page):
    database, _ = dashboard
    choose(page, grain="week", period="mtd")
    page.focus('.tile[data-kpi="digital.site_traffic"] .open')
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "detail-title"
    detail = page.locator("#detail")
    for row in detail.locator("table.series tbody tr").all()[:6]:
        start = date.fromisoformat(row.get_attribute("data-start"))
        cell = row.locator("td.num").first
        assert same(
            float(cell.get_attribute("data-raw")),
            kpi_value(database, "digital.site_traffic", "week", start),
        )
    first_row = detail.locator("table.series tbody tr").first
    assert (
        first_row.get_attribute("data-start") == "2026-11-23"
        and "partial" in first_row.inner_text()
    )
    text = detail.inner_text()
    assert "sessions, all channels" in text  # the catalog's formula
    assert "Autumn campaign launch" in text
    assert f"{DROP}" in text and "below its same-weekday baseline" in text  # the drift finding
    svg = detail.locator("svg.chart")
    assert svg.locator("g.drift").count() >= 1 and svg.locator("g.annotation").count() == 1
    with page.expect_download() as download:
        page.click("#detail-csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "period,start,end,value,partial,target" and len(lines) > 10
    with page.expect_download() as download:
        page.click("#detail-png")
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.click("#back")
    page.wait_for_selector("#overview:not([hidden])")
    assert (
        page.evaluate("document.activeElement.closest('.tile').dataset.kpi")
        == "digital.site_traffic"
    )

    page.click('.tile[data-kpi="sales.revenue"] .open')
    assert (
        "Latest revisions" in detail.inner_text()
        and "2026-11-17" in detail.locator("table.revisions").inner_text()
    )
    page.click("#back")
    page.click('.tile[data-kpi="digital.bounce_rate"] .open')
    choose(page, grain="month", period="last_month")
    for row in detail.locator("table.segments tbody tr").all():
        segment = row.get_attribute("data-segment")
        raw = float(row.locator("td.num").first.get_attribute("data-raw"))
        assert same(
            raw, kpi_value(database, "digital.bounce_rate", "month", date(2026, 10, 1), segment)
        )


def test_sparklines_skip_the_partial_first_week_and_mark_the_current_one(dashboard, page) -> None:
    choose(page, grain="week", period="custom", from_="2024-11-11", to="2025-01-05")
    label = page.locator('.tile[data-kpi="sales.revenue"] .spark svg').get_attribute("aria-label")
    assert "from 2024-W46" in label  # the history starts on Friday 2024-11-08: W45 is left out
    choose(page, period="mtd")  # ends in the current week: drawn dashed, with a hollow point
    spark = page.locator('.tile[data-kpi="sales.revenue"] .spark svg')
    assert (
        spark.locator("circle.partial").count() == 1 and spark.locator("path.partial").count() == 1
    )


def test_csv_export_and_every_control_has_a_label(page) -> None:
    order = []
    for _ in range(7):  # the keyboard reaches the skip link, then the controls in reading order
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert order == ["skip", "grain", "period", "compare", "segment", "csv", "print"]
    for control in page.locator("#controls select, #controls input").all():
        control_id = control.get_attribute("id")
        assert page.locator(f'label[for="{control_id}"]').count() == 1, control_id
    with page.expect_download() as download:
        page.click("#csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("kpi_id,name,segment,from,to,value,unit")
    assert len(lines) == 1 + len(load_catalog().kpis)


def _overlaps(boxes: list[dict]) -> list[tuple[int, int]]:
    found = []
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[i + 1 :], i + 1):
            if (
                a["x"] + a["width"] > b["x"] + 0.5
                and b["x"] + b["width"] > a["x"] + 0.5
                and a["y"] + a["height"] > b["y"] + 0.5
                and b["y"] + b["height"] > a["y"] + 0.5
            ):
                found.append((i, j))
    return found


BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const visible = e => e.getClientRects().length && e.getBoundingClientRect().height > 0;
  const tiles = [...document.querySelectorAll('#overview .tile')];
  return {
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
    tiles: tiles.map(box),
    parts: tiles.map(t => [...t.children].filter(visible).map(box)),
    controls: [...document.querySelectorAll('#controls label, #controls select, #controls .button')].filter(visible).map(box),
  };
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_no_overlap_at_desktop_and_phone_widths(dashboard, browser, width, tmp_path) -> None:
    _, path = dashboard
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.goto(path.as_uri())
    tab.wait_for_selector("body[data-ready='1']")
    layout = tab.evaluate(BOXES)
    assert layout["scroll"] <= layout["width"]  # nothing runs off the side
    assert not _overlaps(layout["tiles"])
    for parts in layout["parts"]:
        assert not _overlaps(parts)
    assert not _overlaps(layout["controls"])
    tab.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
    assert (tmp_path / f"dashboard-{width}.png").stat().st_size > 10_000
    tab.click('.tile[data-kpi="digital.bounce_rate"] .open')  # the KPI page, with its tables
    tab.wait_for_selector("#detail:not([hidden])")
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    blocks = tab.evaluate(
        "() => [...document.querySelectorAll('#detail > *')].filter(e => e.getClientRects()"
        ".length).map(e => { const r = e.getBoundingClientRect(); "
        "return {x: r.x, y: r.y, width: r.width, height: r.height}; })"
    )
    assert not _overlaps(blocks)
    context.close()


def test_counts_keep_their_decimals_only_when_they_have_some() -> None:
    from pipelines.kpi.summary import format_value

    catalog = load_catalog()
    assert format_value(catalog[PERIOD_RATIO], 0.74) == "0.74"  # was "1"
    assert format_value(catalog[PERIOD_RATIO], 12.34) == "12.3"
    assert format_value(catalog["digital.site_traffic"], 1100.0) == "1,100"
    assert format_value(catalog["digital.site_traffic"], 1234.5) == "1,234"


def test_kpi_report_names_the_line_of_a_wrong_annotation(dashboard, tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    database, _ = dashboard
    notes = tmp_path / "annotations.yml"
    notes.write_text(
        ANNOTATIONS + "  - {date: 2026-10-07, title: Price change, kpis: [sales.nope]}\n"
    )
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(database))
    monkeypatch.setenv("KPI_ANNOTATIONS_PATH", str(notes))
    monkeypatch.setenv("KPI_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["report"]) == 1
    assert f"{notes}:4: kpis: 'sales.nope' is neither a KPI id" in capsys.readouterr().err
    monkeypatch.setenv("KPI_ANNOTATIONS_PATH", str(tmp_path / "absent.yml"))  # optional file
    assert main(["report"]) == 0
    assert (tmp_path / "reports" / "scorecard.html").exists()
