"""End to end: the emulator -> GA4 client -> raw -> dbt -> marts.kpi_values, for a 10-day range.

Expected KPI values are computed here, independently, from the synthetic company the emulator
serves, and compared at day, week and month grain.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import fx, ga4
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.definitions import MART_KEYS
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import DBT_PROJECT_DIR, dbt_node_times, dbt_resource, kpi_dbt_models
from pipelines.publish import build_publish_asset, publish
from pipelines.scorecard import write_scorecard
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.company import CHANNEL_GROUPS
from sources.emulators.stack import EmulatorStack, build_stack
from tests import browser
from tests.e2e import days, materialize_window, period_start, query, run_dbt, usd_per_unit

START, END = date(2025, 3, 1), date(2025, 3, 10)  # Saturday .. Monday: 3 ISO weeks, 1 month
PROPERTIES = ("250000001", "250000002")


SOURCES = [ga4.SOURCE, fx.SOURCE]


def materialize_range(stack: EmulatorStack, start: date, end: date) -> dg.ExecuteInProcessResult:
    settings = {**stack.env(), "GA4_PROPERTY_IDS": ",".join(PROPERTIES)}
    return materialize_window(
        [kpi_catalog, *connector_assets(SOURCES), kpi_dbt_models, build_publish_asset(MART_KEYS)],
        {
            "warehouse": WarehouseResource(),
            **connector_resources(SOURCES, settings),
            "dbt": dbt_resource(),
        },
        start,
        end,
    )


@pytest.fixture(scope="module")
def first_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, EmulatorStack, dg.ExecuteInProcessResult]]:
    """One materialized 10-day range shared by the tests of this module, and its result."""
    tmp = tmp_path_factory.mktemp("e2e")
    database = tmp / "warehouse.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(database))
    patch.setenv("KPI_PUBLISH_DIR", str(tmp / "published"))
    stack = build_stack(tmp / "service_account.json", properties=dict.fromkeys(PROPERTIES, 1.0))
    assert stack.ga4.properties["250000002"].currency_code == "EUR"
    stack.server.start()
    try:
        result = materialize_range(stack, START, END)
        yield database, stack, result
    finally:
        stack.server.stop()
        patch.undo()


@pytest.fixture(scope="module")
def warehouse(first_run) -> tuple[Path, EmulatorStack]:
    database, stack, _ = first_run
    return database, stack


def expected_daily(stack: EmulatorStack) -> dict[date, dict[str, float]]:
    """Base measures per day straight from the synthetic company, summed over properties."""
    days: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    day = START
    while day <= END:
        for property_id in PROPERTIES:
            for channel in CHANNEL_GROUPS:
                cd = stack.company.channel_day(property_id, day, channel)
                m = days[day]
                m["sessions"] += cd.sessions
                m["engaged"] += cd.engaged_sessions
                m["key_events"] += cd.key_events
                if channel == "Organic Search":
                    m["organic"] += cd.sessions
                    m["organic_engaged"] += cd.engaged_sessions
        day += timedelta(days=1)
    return days


def expected_kpis(stack: EmulatorStack) -> dict[tuple[str, str, date], float]:
    totals: dict[tuple[str, date], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day, m in expected_daily(stack).items():
        for grain in ("day", "week", "month"):
            for name, value in m.items():
                totals[(grain, period_start(grain, day))][name] += value
    result = {}
    for (grain, start), m in totals.items():
        result[("digital.site_traffic", grain, start)] = m["sessions"]
        result[("marketing.site_traffic", grain, start)] = m["sessions"]
        result[("digital.bounce_rate", grain, start)] = (m["sessions"] - m["engaged"]) / m[
            "sessions"
        ]
        result[("digital.conversion_rate", grain, start)] = m["key_events"] / m["sessions"]
        result[("seo.organic_traffic", grain, start)] = m["organic"]
        result[("seo.bounce_rate", grain, start)] = (m["organic"] - m["organic_engaged"]) / m[
            "organic"
        ]
    return result


def test_a_range_run_records_every_dbt_model_once_with_the_window_it_rebuilt(first_run) -> None:
    """Bookkeeping, not proportional to models x days: a 10-day run records each dbt model once;
    an incremental model's materialization names the window it rebuilt; raw tables are recorded
    per day (which days of which source are loaded)."""
    _, _, result = first_run
    recorded: dict[str, list[dg.AssetMaterialization]] = defaultdict(list)
    for event in result.get_asset_materialization_events():
        recorded[event.asset_key.to_user_string()].append(event.materialization)
    label = f"{START}..{END}"
    windowed = {"marts/kpi_values", "marts/fct_web_traffic_daily", "marts/fct_paid_ads_daily"}
    for key in kpi_dbt_models.keys:
        (materialization,) = recorded[key.to_user_string()]
        assert materialization.partition is None, key
        window = materialization.metadata.get("window")
        if key.to_user_string() in windowed:
            assert window is not None and window.value == label, key
    incremental = [
        key for key in kpi_dbt_models.keys if "window" in recorded[key.to_user_string()][0].metadata
    ]
    assert 5 <= len(incremental) < len(kpi_dbt_models.keys) / 4
    window = [day.isoformat() for day in days(START, END)]
    assert sorted(m.partition for m in recorded["raw/ga4__traffic"]) == window
    assert [m.partition for m in recorded["published/marts"]] == [None]


def test_the_dbt_step_keeps_dbts_results_in_its_log_instead_of_json_artifacts(first_run) -> None:
    """``dbt build --no-write-json``: the invocation folder has no manifest, semantic manifest or
    run results; dbt's own timing of every model and test is read from its ``dbt.log``."""
    _, _, result = first_run
    target = Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")
    (folder,) = target.glob(f"{kpi_dbt_models.op.name}-{result.run_id[:7]}-*")
    for artifact in ("manifest.json", "semantic_manifest.json", "run_results.json"):
        assert not (folder / artifact).exists(), artifact
    times = dbt_node_times(folder)
    assert times is not None
    models = [node for node in times.nodes if node.startswith("model.")]
    assert len(models) == len(kpi_dbt_models.keys)
    assert sum(node.startswith("test.") for node in times.nodes) > len(models)
    assert times.total > 0
    assert times.elapsed > 0


def test_kpi_values_equal_values_computed_from_the_emulated_company(warehouse) -> None:
    database, stack = warehouse
    expected = expected_kpis(stack)
    rows = query(
        database,
        "select kpi_id, grain, period_start, value from marts.kpi_values "
        "where segment = 'all' and kpi_id in (select distinct kpi_id from marts.kpi_values "
        "where kpi_id <> 'digital.users' and channel in ('digital', 'marketing', 'seo'))",
    )
    actual = {(k, g, p): v for k, g, p, v in rows}
    assert set(actual) == set(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-12), key


def test_week_and_month_rates_are_sum_over_sum_not_mean_of_daily_rates(warehouse) -> None:
    database, _ = warehouse
    (week,) = query(
        database,
        "select value, numerator, denominator from marts.kpi_values where kpi_id = "
        "'digital.bounce_rate' and grain = 'week' and period_start = '2025-03-03' and segment = 'all'",
    )
    daily = query(
        database,
        "select value, numerator, denominator from marts.kpi_values where kpi_id = "
        "'digital.bounce_rate' and grain = 'day' and period_start between '2025-03-03' and "
        "'2025-03-09' and segment = 'all'",
    )
    assert len(daily) == 7
    assert week[1] == pytest.approx(sum(d[1] for d in daily))
    assert week[2] == pytest.approx(sum(d[2] for d in daily))
    assert week[0] == pytest.approx(week[1] / week[2])
    mean_of_rates = sum(d[0] for d in daily) / len(daily)
    assert week[0] != pytest.approx(mean_of_rates, rel=1e-9)


def test_unique_users_come_from_period_pulls_not_sums_of_days(warehouse) -> None:
    database, stack = warehouse
    (week,) = query(
        database,
        "select value from marts.kpi_values where kpi_id = 'digital.users' and grain = 'week' "
        "and period_start = '2025-03-03' and segment = 'all'",
    )
    (days,) = query(
        database,
        "select sum(value) from marts.kpi_values where kpi_id = 'digital.users' and grain = 'day' "
        "and period_start between '2025-03-03' and '2025-03-09' and segment = 'all'",
    )
    expected = sum(
        stack.company.users_in_range(p, date(2025, 3, 3), date(2025, 3, 9)) for p in PROPERTIES
    )
    assert week[0] == expected
    assert week[0] < days[0]


def test_channel_group_segments_add_up_to_all_for_sum_kpis(warehouse) -> None:
    database, _ = warehouse
    rows = query(
        database,
        "select grain, period_start, sum(value) filter (where segment like 'channel_group=%'), "
        "sum(value) filter (where segment = 'all') from marts.kpi_values "
        "where kpi_id = 'digital.site_traffic' group by all",
    )
    assert rows
    for grain, start, by_channel, total in rows:
        assert by_channel == pytest.approx(total), (grain, start)


def test_every_period_has_its_inclusive_end_and_one_row_per_key(warehouse) -> None:
    database, _ = warehouse
    assert (
        query(
            database,
            "select grain, period_start, period_end from marts.kpi_values where "
            "(grain = 'day' and period_end <> period_start) or "
            "(grain = 'week' and period_end <> period_start + 6) or "
            "(grain = 'month' and period_end <> last_day(period_start)) limit 1",
        )
        == []
    )
    assert (
        query(
            database,
            "select kpi_id, grain, period_start, segment, count(*) from marts.kpi_values "
            "group by all having count(*) > 1",
        )
        == []
    )


def test_revenue_in_another_currency_is_converted_with_that_days_ecb_rate(warehouse) -> None:
    database, _ = warehouse
    rows = query(
        database,
        "select date_day, currency_code, purchase_revenue, purchase_revenue_reporting "
        "from marts.fct_web_traffic_daily where property_id = '250000002' and purchase_revenue > 0",
    )
    assert rows
    for day, currency, amount, converted in rows:
        assert currency == "EUR"
        # weekend: the last published rate
        assert converted == pytest.approx(float(amount) * usd_per_unit("EUR", day), rel=1e-9)
    usd = query(
        database,
        "select count(*) from marts.fct_web_traffic_daily where property_id = '250000001' "
        "and purchase_revenue_reporting <> purchase_revenue",
    )
    assert usd == [(0,)]


def test_marts_are_published_read_only_and_as_parquet_matching_the_warehouse(warehouse) -> None:
    database, _ = warehouse
    published = database.parent / "published"
    sql = "select * from marts.kpi_values order by all"
    with duckdb.connect(str(published / "marts.duckdb"), read_only=True) as con:
        assert con.execute(sql).fetchall() == query(database, sql)
        tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
    assert {"kpi_values", "fct_web_traffic_daily"} <= tables
    parquet = published / "marts" / "kpi_values.parquet"
    with duckdb.connect() as con:
        rows = con.execute(f"select * from read_parquet('{parquet}') order by all").fetchall()
    assert rows == query(database, sql)


def test_publishing_again_while_a_reader_holds_the_copy_swaps_it_atomically(warehouse) -> None:
    database, _ = warehouse
    published = database.parent / "published"
    reader = duckdb.connect(str(published / "marts.duckdb"), read_only=True)
    try:
        before = reader.execute("select count(*) from marts.kpi_values").fetchone()
        with duckdb.connect(str(database)) as con:
            publish(con, published)
        assert reader.execute("select count(*) from marts.kpi_values").fetchone() == before
    finally:
        reader.close()
    assert not list(published.glob(".*.tmp"))


def test_rerunning_a_range_gives_identical_tables(warehouse) -> None:
    database, stack = warehouse
    snapshot = "select * exclude (_loaded_at, _source_run_id) from raw.ga4__traffic order by all"
    kpis = "select * from marts.kpi_values order by all"
    before = query(database, snapshot), query(database, kpis)
    materialize_range(stack, date(2025, 3, 4), date(2025, 3, 6))
    after = query(database, snapshot), query(database, kpis)
    assert before == after


def test_every_dbt_unit_test_runs_and_passes(warehouse, tmp_path) -> None:
    """Every unit test the dbt project defines runs here (the dbt asset excludes them) and passes."""
    database, _ = warehouse
    target = tmp_path / "target"  # not the shared dbt_project/target: parallel tests write there
    isolated = ("--target-path", str(target), "--log-path", str(tmp_path / "logs"))
    listed = run_dbt(
        database,
        "ls",
        "--resource-type",
        "unit_test",
        "--output",
        "json",
        "--output-keys",
        "unique_id",
        "--quiet",
        *isolated,
    )
    assert listed.returncode == 0, listed.stdout[-3000:]
    defined = {json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line}
    # the period models' unit tests that no other selector ran are among them
    assert {i.split(".")[2] for i in defined} >= {
        "int_kpi_periods__social",
        "int_kpi_periods__ratio",
    }
    result = run_dbt(database, "test", "--select", "test_type:unit", *isolated)
    assert result.returncode == 0, result.stdout[-3000:]
    outcomes = json.loads((target / "run_results.json").read_text())["results"]
    passed = {r["unique_id"] for r in outcomes if r["status"] == "pass"}
    assert passed == defined, sorted(defined ^ passed)
    assert len(outcomes) == len(defined)


def test_a_missing_fx_rate_fails_its_check_instead_of_producing_a_number(
    warehouse, tmp_path
) -> None:
    database, _ = warehouse
    copy = tmp_path / "copy.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from raw.fx__ecb_rates where currency = 'USD'")
    result = run_dbt(
        copy,
        "build",
        "--select",
        "int_fx_rates_daily",
        "fct_web_traffic_daily",
        "assert_fx_rate_exists_for_money",
        "--vars",
        '{"min_date": "2025-03-01", "max_date": "2025-03-10"}',
    )
    assert result.returncode != 0
    assert "assert_fx_rate_exists_for_money" in result.stdout
    (nulls,) = query(
        copy,
        "select count(*) from marts.fct_web_traffic_daily "
        "where purchase_revenue > 0 and purchase_revenue_reporting is null",
    )
    assert nulls[0] > 0  # no silent 1.0: the amounts stay unconverted and the test fails


def test_the_scorecard_renders_in_chromium_with_tiles_and_charts_and_no_errors(
    warehouse, tmp_path
) -> None:
    database, _ = warehouse
    page = write_scorecard(database, tmp_path / "reports", datetime(2025, 3, 11, 6, 0))
    assert (tmp_path / "reports" / "scorecard-2025-03-11.html").exists()
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # opens offline: nothing fetched
    shot = tmp_path / "scorecard.png"
    dom, log = browser.render(page, tmp_path / "profile", screenshot=shot)
    tiles = int(re.search(r'data-tiles="(\d+)"', dom).group(1))
    charts = int(re.search(r'data-charts="(\d+)"', dom).group(1))
    trends = int(re.search(r'data-trends="(\d+)"', dom).group(1))
    assert tiles >= 6 and charts == tiles and trends >= 6  # a KPI without values: an empty chart
    assert "data-errors" not in dom
    assert "Uncaught" not in log
    assert shot.stat().st_size > 10_000
    phone = tmp_path / "phone.png"
    browser.render(page, tmp_path / "profile", screenshot=phone, width=390, height=1600)
    assert phone.stat().st_size > 10_000


def test_every_mart_column_is_described_in_the_dbt_docs(warehouse) -> None:
    """Every column of every dbt model in `marts`; tables Python assets write there (for example
    `marts.kpi_revisions`) are not dbt nodes and are documented in docs/bi.md instead."""
    database, _ = warehouse
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    documented = {
        node["name"]: {c for c, spec in node["columns"].items() if spec.get("description")}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "marts"
    }
    tables = query(
        database,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'",
    )
    checked = [(t, c) for t, c in tables if t in documented]
    assert {t for t, _ in checked} >= {"kpi_values", "fct_web_traffic_daily"}
    undocumented = sorted(f"{t}.{c}" for t, c in checked if c not in documented[t])
    assert undocumented == []


def test_every_analyst_guide_query_runs(warehouse) -> None:
    database, _ = warehouse
    guide = (Path(__file__).resolve().parents[2] / "docs" / "analyst-guide.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", guide, re.S)
    assert len(queries) >= 10
    with duckdb.connect(str(database.parent / "published" / "marts.duckdb"), read_only=True) as con:
        for sql in queries:
            con.execute(sql).fetchall()  # raises with the failing query's error
        rows = con.execute(queries[0]).fetchall()
    assert rows, "query 1 returns the demo's months"
