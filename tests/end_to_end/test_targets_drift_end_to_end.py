"""Targets and drift end to end: 6 weeks (2025-10-01..2025-11-12) from the GA4 emulator through
dbt to marts.kpi_status and the target / drift / freshness checks, then a restating re-run
(kpi_revisions) and the alert sensor on the runs.

The demo company has a tracking outage on 2025-11-10 (every channel at 35%) and an organic slump
on 2025-10-15 (too early to judge: fewer than 3 same-weekday points). Expected pacing is computed
here, independently, from the emulated company.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.connectors import fx, ga4
from pipelines.connectors.assets import connector_assets, connector_resources
from pipelines.defs.alert_sensor import AlertCursor, AlertsResource, kpi_alert_sensor
from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.dbt import dbt_resource, kpi_dbt_models
from pipelines.defs.freshness import source_freshness_checks
from pipelines.defs.kpi_checks import MonitoringResource, kpi_checks
from pipelines.defs.revisions import kpi_revisions
from pipelines.defs.targets_asset import kpi_targets
from pipelines.kpi.catalog import load_catalog
from pipelines.warehouse.resource import WarehouseResource
from sources.emulators.company import CHANNEL_GROUPS
from sources.emulators.server import Fault
from sources.emulators.stack import DEMO_PROPERTIES, EmulatorStack, build_stack
from tests.e2e import materialize_window, query, run_dbt
from tests.receivers import WebhookReceiver

TARGETS_FILE = Path(__file__).resolve().parents[2] / "config" / "targets.yml"
START, END = date(2025, 10, 1), date(2025, 11, 12)  # the demo company's two properties
OUTAGE = date(2025, 11, 10)
TODAY = "2025-12-01"  # nothing in the window is provisional any more
SOURCES = [ga4.SOURCE, fx.SOURCE]
GA4_KEYS = [table.asset_key for table in ga4.SOURCE.tables]
ASSETS = [
    kpi_catalog,
    kpi_targets,
    *connector_assets(SOURCES),
    kpi_dbt_models,
    kpi_revisions,
    kpi_checks,
    source_freshness_checks,
]
TRAFFIC_KPIS = {
    "digital.site_traffic",
    "marketing.site_traffic",
    "seo.organic_traffic",
    "digital.users",
}
RATE_KPIS = {"digital.bounce_rate", "digital.conversion_rate", "seo.bounce_rate"}


class Env:
    def __init__(self, database: Path, stack: EmulatorStack, instance: dg.DagsterInstance):
        self.database, self.stack, self.instance = database, stack, instance
        self.results: list[dg.ExecuteInProcessResult] = []

    def resources(self, **monitoring: str) -> dict:
        return {
            "warehouse": WarehouseResource(),
            **connector_resources(
                SOURCES, {**self.stack.env(), "GA4_PROPERTY_IDS": ",".join(DEMO_PROPERTIES)}
            ),
            "dbt": dbt_resource(),
            "monitoring": MonitoringResource(today=TODAY, **monitoring),
        }

    def materialize(self, start: date, end: date) -> dg.ExecuteInProcessResult:
        result = materialize_window(ASSETS, self.resources(), start, end, instance=self.instance)
        self.results.append(result)
        return result

    def checks(self, index: int = 0) -> dict[str, dg.AssetCheckEvaluation]:
        return {
            c.check_name: c
            for c in self.results[index].get_asset_check_evaluations()
            if c.check_name.endswith(("__target", "__drift"))
        }

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return query(self.database, sql, params)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("targets_drift")
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(tmp / "warehouse.duckdb"))
    patch.delenv("KPI_TARGETS_PATH", raising=False)
    stack = build_stack(tmp / "service_account.json", properties=DEMO_PROPERTIES)
    stack.server.start()
    try:
        environment = Env(tmp / "warehouse.duckdb", stack, dg.DagsterInstance.ephemeral())
        environment.materialize(START, END)
        yield environment
    finally:
        stack.server.stop()
        patch.undo()


def company_days(stack: EmulatorStack, start: date, end: date) -> dict[date, dict[str, float]]:
    days: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    day = start
    while day <= end:
        for property_id in DEMO_PROPERTIES:
            for channel in CHANNEL_GROUPS:
                cd = stack.company.channel_day(property_id, day, channel)
                m = days[day]
                m["sessions"] += cd.sessions
                m["engaged"] += cd.engaged_sessions
                if channel == "Organic Search":
                    m["organic"] += cd.sessions
                    m["organic_engaged"] += cd.engaged_sessions
        day += timedelta(days=1)
    return days


def status_row(env: Env, kpi_id: str, grain: str, period_start: date, segment: str = "all"):
    (row,) = env.query(
        "select as_of_day, actual, expected_to_date, target, gap_pct, projected, status, pacing "
        "from marts.kpi_status where kpi_id = ? and grain = ? and period_start = ? and segment = ?",
        [kpi_id, grain, period_start, segment],
    )
    return row


def first_day(period: str | date) -> date:
    """First day of a targets-file period: 2025-03 (month), 2025-W10 (ISO week) or a day."""
    text = str(period)
    if week := re.fullmatch(r"(\d{4})-W(\d{2})", text):
        return date.fromisocalendar(int(week[1]), int(week[2]), 1)
    if month := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return date(int(month[1]), int(month[2]), 1)
    return date.fromisoformat(text)


def test_kpi_targets_hold_the_reviewed_file(env: Env) -> None:
    entries = yaml.safe_load(TARGETS_FILE.read_text())["targets"]  # read here, not by the loader
    rows = env.query(
        "select kpi_id, segment, grain, effective_from, target_value, warn_tolerance, "
        "error_tolerance from marts.kpi_targets"
    )
    assert len(entries) > 5
    assert sorted((r[0], r[1], r[3], r[4]) for r in rows) == sorted(
        (e["kpi"], e.get("segment", "all"), first_day(e.get("period") or e["from"]), e["target"])
        for e in entries
    )
    email = [r for r in rows if r[1] == "channel_group=Email"]
    assert email == [
        ("digital.bounce_rate", "channel_group=Email", "month", date(2025, 1, 1), 0.30, 0.05, 0.15)
    ]


def test_sum_kpis_are_paced_by_their_weekday_pattern_as_computed_from_the_company(env: Env) -> None:
    days = company_days(env.stack, START, END)
    november = date(2025, 11, 1)
    weekday_means: dict[int, list[float]] = defaultdict(list)
    for day, m in days.items():
        if november - timedelta(days=56) <= day < november:
            weekday_means[day.weekday()].append(m["sessions"])
    weight = {w: sum(v) / len(v) for w, v in weekday_means.items()}
    month_days = [november + timedelta(days=i) for i in range(30)]
    elapsed = [d for d in month_days if d <= END]
    expected = (
        135000
        * sum(weight[d.weekday()] for d in elapsed)
        / sum(weight[d.weekday()] for d in month_days)
    )
    actual = sum(days[d]["sessions"] for d in elapsed)

    as_of, got_actual, got_expected, target, gap, projected, status, pacing = status_row(
        env, "digital.site_traffic", "month", november
    )
    assert (as_of, target, pacing) == (END, 135000, "weekday_weighted")
    assert got_actual == actual
    assert got_expected == pytest.approx(expected, rel=1e-9)
    assert gap == pytest.approx(actual / expected - 1, rel=1e-9)
    assert projected == pytest.approx(135000 * actual / expected, rel=1e-9)
    assert status == ("on_track" if actual / expected - 1 >= -0.10 else "at_risk")


def test_ratio_kpis_compare_period_to_date_sum_over_sum_with_the_target(env: Env) -> None:
    days = company_days(env.stack, date(2025, 11, 1), END)
    sessions = sum(m["sessions"] for m in days.values())
    bounce = (sessions - sum(m["engaged"] for m in days.values())) / sessions
    organic = sum(m["organic"] for m in days.values())
    organic_bounce = (organic - sum(m["organic_engaged"] for m in days.values())) / organic

    row = status_row(env, "digital.bounce_rate", "month", date(2025, 11, 1))
    assert row[1] == pytest.approx(bounce, rel=1e-12)
    assert row[2:4] == (0.40, 0.40)
    assert (row[6], row[7]) == ("on_track", "direct")  # 42% vs 40%: within 10%, lower is better
    row = status_row(env, "seo.bounce_rate", "month", date(2025, 11, 1))
    assert row[1] == pytest.approx(organic_bounce, rel=1e-12)
    assert row[4] == pytest.approx(organic_bounce / 0.28 - 1)
    assert row[6] == "off_track"


def test_complete_partial_and_untargeted_periods_get_their_status(env: Env) -> None:
    october = status_row(env, "digital.site_traffic", "month", date(2025, 10, 1))
    assert october[0] == date(2025, 10, 31)
    assert october[2] == 135000  # complete: expected is the whole target
    assert october[7] == "calendar_days"  # no history before the warehouse starts
    # The week of 2025-09-29 starts before the data: a partial sum cannot be judged.
    assert status_row(env, "marketing.site_traffic", "week", date(2025, 9, 29))[6] == (
        "insufficient_data"
    )
    statuses = {r[0] for r in env.query("select distinct status from marts.kpi_status")}
    assert statuses <= {"on_track", "at_risk", "off_track", "no_target", "insufficient_data"}


def test_drift_checks_catch_the_outage_and_stay_quiet_elsewhere(env: Env) -> None:
    checks = env.checks()
    for kpi_id in TRAFFIC_KPIS:
        check = checks[kpi_id.replace(".", "__") + "__drift"]
        assert not check.passed, kpi_id
        assert check.severity == dg.AssetCheckSeverity.ERROR
        assert check.metadata["evaluated_day"].value == OUTAGE.isoformat()
        assert check.metadata["score"].value < -5
        assert f"{kpi_id} " in check.description and "on 2025-11-10" in check.description
    for kpi_id in RATE_KPIS:
        assert checks[kpi_id.replace(".", "__") + "__drift"].passed, kpi_id
    for kpi in load_catalog().kpis:  # KPIs whose sources are not built yet pass and say why
        check = checks[kpi.id.replace(".", "__") + "__drift"]
        assert kpi.id in check.description


def test_target_checks_follow_the_warn_and_error_rules(env: Env) -> None:
    checks = env.checks()
    seo_bounce = checks["seo__bounce_rate__target"]
    assert (seo_bounce.passed, seo_bounce.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert seo_bounce.metadata["consecutive_breaches"].value >= 2
    assert seo_bounce.description.startswith("seo.bounce_rate ")
    assert "above target 28.00% for month 2025-11 to date (as of 2025-11-12)" in (
        seo_bounce.description
    )
    weekly = checks["marketing__site_traffic__target"]
    assert (weekly.passed, weekly.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert "day 3 of the week: capped at WARN" in weekly.description
    organic = checks["seo__organic_traffic__target"]
    assert (organic.passed, organic.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert checks["digital__bounce_rate__target"].passed
    assert checks["sales__revenue__target"].passed


def test_every_evaluated_kpi_check_carries_its_metadata_and_names_kpi_and_day(env: Env) -> None:
    required = {
        "kpi_id",
        "value",
        "expected",
        "bounds",
        "score",
        "method",
        "parameters",
        "consecutive_breaches",
        "explanation",
        "evaluated_day",
    }
    evaluated = 0
    for name, check in env.checks().items():
        kpi_id = check.metadata["kpi_id"].value
        assert kpi_id in check.description, name
        assert required <= set(check.metadata), name
        if check.metadata["evaluated_day"].value is None:
            continue
        evaluated += 1
        assert re.search(r"\d{4}-\d{2}-\d{2}", check.description), name
    assert evaluated >= 2 * len(RATE_KPIS | TRAFFIC_KPIS) - 1  # digital.users has no target


def test_revisions_record_each_run_and_how_much_a_day_was_restated(env: Env) -> None:
    first = env.query(
        "select count(*), min(revision), max(revision) from marts.kpi_revisions "
        "where kpi_id = 'digital.site_traffic' and segment = 'all'"
    )
    assert first == [((END - START).days + 1, 1, 1)]

    def restate(body: dict) -> dict:
        names = [h["name"] for h in body.get("metricHeaders", [])]
        dims = [h["name"] for h in body.get("dimensionHeaders", [])]
        if "sessions" in names and "sessionDefaultChannelGroup" in dims:
            i = names.index("sessions")
            for row in body.get("rows", []):
                row["metricValues"][i]["value"] = str(
                    round(int(row["metricValues"][i]["value"]) * 1.1)
                )
        return body

    env.stack.server.inject(
        Fault(path=r":runReport", kind="transform", transform=restate, times=10_000)
    )
    try:
        env.materialize(OUTAGE, END)
    finally:
        env.stack.server.clear_faults()
    rows = env.query(
        "select day, revision, previous_value, value, change_pct from marts.kpi_revisions "
        "where kpi_id = 'digital.site_traffic' and segment = 'all' and revision = 2 order by day"
    )
    assert [r[0] for r in rows] == [OUTAGE, OUTAGE + timedelta(days=1), END]
    for _, _, previous, value, change in rows:
        assert change == pytest.approx(0.1, abs=0.01)
        assert value == pytest.approx(previous * 1.1, rel=0.01)


def test_the_alert_sensor_sends_one_message_per_incident_without_repeating_breaches(
    env: Env,
) -> None:
    assert len(env.results) == 2, "runs after the restating re-run"
    with WebhookReceiver() as webhook:
        context = dg.build_sensor_context(
            instance=env.instance,
            cursor=AlertCursor(after=0.0).dump(),
            resources={"alerts": AlertsResource(webhook_url=webhook.url, smtp_host="")},
        )
        kpi_alert_sensor(context)
    texts = [m["text"] for m in webhook.messages]
    first_run = [t for t in texts if "2025-10-01..2025-11-12" in t]
    rerun = [t for t in texts if "2025-11-10..2025-11-12" in t]
    assert first_run and len(first_run) + len(rerun) == len(texts)
    # the outage: every traffic KPI's drift breach of that day in one message, source GA4
    (outage,) = [t for t in first_run if t.startswith("ERROR incident on 2025-11-10")]
    assert "likely source ga4" in outage and "Likely common source: ga4" in outage
    for kpi_id in TRAFFIC_KPIS:
        assert f"ERROR: {kpi_id}" in outage and kpi_id in outage.split("\n")[1]  # the KPIs line
    assert sum("on 2025-11-10 is" in t for t in first_run) == 1
    assert any("ERROR: seo.bounce_rate" in t for t in first_run)
    # the re-run sees the same outage day: its breaches are not repeated
    assert not any("on 2025-11-10 is" in t for t in rerun)


def test_a_source_that_stopped_loading_is_flagged_stale(env: Env) -> None:
    fresh = [
        c
        for c in env.results[0].get_asset_check_evaluations()
        if c.check_name == "source_fresh" and c.asset_key.path[1].startswith("ga4__")
    ]
    assert len(fresh) == len(GA4_KEYS) and all(c.passed for c in fresh)

    def freshness(now: str) -> list[dg.AssetCheckEvaluation]:
        result = dg.materialize(
            [*connector_assets([ga4.SOURCE]), source_freshness_checks],
            selection=dg.AssetSelection.checks(source_freshness_checks),
            resources={**env.resources(now=now)},
            instance=env.instance,
        )
        return [  # GA4's tables (FX, loaded in the same runs, ages the same way)
            c
            for c in result.get_asset_check_evaluations()
            if c.asset_key.path[1].startswith("ga4__")
        ]

    (loaded_at,) = env.query("select max(_loaded_at) from raw.ga4__traffic")[0]
    warn = freshness((loaded_at + timedelta(hours=40)).isoformat())
    assert {c.severity for c in warn if not c.passed} == {dg.AssetCheckSeverity.WARN}
    assert len([c for c in warn if not c.passed]) == len(GA4_KEYS)
    error = freshness((loaded_at + timedelta(hours=80)).isoformat())
    stale = next(c for c in error if c.asset_key == dg.AssetKey(["raw", "ga4__traffic"]))
    assert (stale.passed, stale.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert "ga4 raw.ga4__traffic last loaded" in stale.description
    assert "STALE" in stale.description


def test_dbt_unit_tests_for_pacing_pass(env: Env) -> None:
    result = run_dbt(env.database, "test", "--select", "test_type:unit,kpi_status_daily")
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\bPASS=2\b", result.stdout), result.stdout[-3000:]
