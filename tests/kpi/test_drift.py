"""Drift statistics: unit behaviour, and the false-alarm / detection rates on the synthetic company."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest

import sources.emulators.company as company_module
from pipelines.kpi.catalog import load_catalog
from pipelines.kpi.drift import DriftParams, evaluate_series, robust_scale, worst_day
from sources.emulators.company import CHANNEL_GROUPS, WEEKDAY_FACTOR, Company, noise
from sources.emulators.stack import DEMO_PROPERTIES

START = date(2025, 1, 6)  # a Monday


def weekly_series(days: int, level: float = 1000.0, spread: float = 0.04) -> dict[date, float]:
    """A weekly-seasonal series with deterministic noise of +-``spread``."""
    return {
        START + timedelta(days=i): level
        * WEEKDAY_FACTOR[(START + timedelta(days=i)).weekday()]
        * noise(spread, "drift-test", i)
        for i in range(days)
    }


def test_the_baseline_is_the_median_of_the_same_weekday_in_the_last_8_weeks() -> None:
    values = weekly_series(70)
    day = START + timedelta(days=69)
    result = evaluate_series(values, "higher")[day]
    same_weekday = sorted(values[day - timedelta(days=7 * k)] for k in range(1, 9))
    assert result.expected == pytest.approx((same_weekday[3] + same_weekday[4]) / 2)
    assert result.baseline_points == 8
    assert result.outcome == "ok"


def test_a_short_history_is_judged_cold_with_wider_bounds_from_the_first_days() -> None:
    values = weekly_series(84)
    results = evaluate_series(values, "higher")
    first_days = [results[START + timedelta(days=i)].outcome for i in range(3)]
    assert first_days == ["insufficient_history"] * 3  # fewer than 3 earlier days
    young, settled = results[START + timedelta(days=20)], results[START + timedelta(days=83)]
    assert young.cold and young.baseline_points == 2 and young.outcome == "ok"
    assert not settled.cold and settled.baseline_points == 8
    assert young.scale > 1.5 * settled.scale  # wider bounds while the baseline is short
    values[START + timedelta(days=20)] *= 0.5
    assert evaluate_series(values, "higher")[START + timedelta(days=20)].severity is not None


def test_without_cold_start_fewer_than_3_same_weekday_points_is_insufficient_history() -> None:
    results = evaluate_series(weekly_series(21), "higher", params=DriftParams(cold_start=False))
    assert results[START + timedelta(days=20)].outcome == "insufficient_history"


def test_the_scale_is_1_4826_mad_with_a_floor() -> None:
    assert robust_scale([0.0, 0.1, -0.1, 0.2, -0.2], 0.02) == pytest.approx(1.4826 * 0.1)
    assert robust_scale([0.0] * 10, 0.02) == 0.02


def test_a_40_percent_drop_is_an_error_and_names_its_score_and_bounds() -> None:
    values = weekly_series(70)
    day = START + timedelta(days=69)
    values[day] *= 0.6
    result = evaluate_series(values, "higher")[day]
    assert result.outcome == "error"
    assert result.score < -5
    assert result.change == pytest.approx(-0.4, abs=0.06)
    assert result.value < result.lower < result.expected < result.upper


def test_only_the_bad_direction_alerts() -> None:
    values = weekly_series(70)
    day = START + timedelta(days=69)
    values[day] *= 0.6
    assert evaluate_series(values, "lower")[day].outcome == "anomaly"
    values[day] /= 0.36  # now a 67% rise
    assert evaluate_series(values, "lower")[day].outcome == "error"
    assert evaluate_series(values, "higher")[day].outcome == "anomaly"


def test_a_big_score_with_a_small_change_does_not_alert() -> None:
    """A very stable series: 8% below is many MADs away but under the 10% change gate."""
    values = weekly_series(70, spread=0.002)
    day = START + timedelta(days=69)
    values[day] *= 0.92
    result = evaluate_series(values, "higher")[day]
    assert abs(result.score) > 3
    assert result.outcome == "ok"


def test_a_moderate_drop_warns_and_errors_on_the_second_day_running() -> None:
    values = weekly_series(70)
    params = DriftParams(error_score_single=1000)  # isolate the two-day rule
    first, second = START + timedelta(days=63), START + timedelta(days=64)
    values[first] *= 0.75
    values[second] *= 0.75
    results = evaluate_series(values, "higher", params=params)
    assert results[first].outcome == "warn"
    assert results[first].consecutive_breaches == 1
    assert results[second].outcome == "error"
    assert results[second].consecutive_breaches == 2


def test_provisional_days_are_evaluated_but_never_error() -> None:
    values = weekly_series(70)
    day = START + timedelta(days=69)
    values[day] *= 0.4
    result = evaluate_series(values, "higher", provisional=lambda d: d == day)[day]
    assert result.outcome == "warn"
    assert result.capped
    assert result.score < -5


def test_flagged_days_are_left_out_of_later_baselines() -> None:
    values = weekly_series(84)
    outage = START + timedelta(days=62)
    values[outage] *= 0.1
    later = outage + timedelta(days=7)
    result = evaluate_series(values, "higher")[later]
    assert result.baseline_points == 7  # 8 weeks back, minus the flagged outage
    assert result.outcome == "ok"


def test_low_volume_days_are_not_judged() -> None:
    values = weekly_series(70)
    denominators = dict.fromkeys(values, 50.0)
    result = evaluate_series(values, "higher", denominators=denominators, min_denominator=100)
    assert {r.outcome for r in result.values()} == {"insufficient_volume"}


def test_missing_days_are_no_data_and_the_worst_day_is_reported() -> None:
    values = weekly_series(70)
    gap = START + timedelta(days=60)
    del values[gap]
    drop = START + timedelta(days=65)
    values[drop] *= 0.5
    results = evaluate_series(values, "higher")
    assert results[gap].outcome == "no_data"
    assert worst_day(list(results.values())).day == drop


def synthetic_kpis(start: date, end: date) -> dict[str, tuple[dict, dict]]:
    """The demo company's GA4 KPIs per day (segment all), values and denominators."""
    company = Company(DEMO_PROPERTIES)
    series: dict[str, tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    day = start
    while day <= end:
        m: dict[str, float] = defaultdict(float)
        for property_id in company.property_ids:
            for channel in CHANNEL_GROUPS:
                cd = company.channel_day(property_id, day, channel)
                m["sessions"] += cd.sessions
                m["engaged"] += cd.engaged_sessions
                m["key_events"] += cd.key_events
                m["users"] += cd.total_users
                if channel == "Organic Search":
                    m["organic"] += cd.sessions
                    m["organic_engaged"] += cd.engaged_sessions
        rows = {
            "digital.site_traffic": (m["sessions"], None),
            "marketing.site_traffic": (m["sessions"], None),
            "seo.organic_traffic": (m["organic"], None),
            "digital.users": (m["users"], None),
            "digital.bounce_rate": ((m["sessions"] - m["engaged"]) / m["sessions"], m["sessions"]),
            "digital.conversion_rate": (m["key_events"] / m["sessions"], m["sessions"]),
            "seo.bounce_rate": (
                (m["organic"] - m["organic_engaged"]) / m["organic"],
                m["organic"],
            ),
        }
        for kpi_id, (value, denominator) in rows.items():
            series[kpi_id][0][day] = value
            series[kpi_id][1][day] = denominator
        day += timedelta(days=1)
    return series


def test_false_alarm_rate_below_1_percent_and_detection_of_40_percent_drops_above_70_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One year of incident-free synthetic KPIs (after 8 weeks of warm-up): alerts on clean days
    are false alarms. Then every 10th day is moved 40% in the KPI's bad direction (a drop for
    higher-is-better KPIs, a rise for lower-is-better ones) and must be caught."""
    monkeypatch.setattr(company_module, "incident_on", lambda _day: None)
    warm_up, first, last = date(2024, 11, 1), date(2025, 1, 1), date(2025, 12, 31)
    catalog = load_catalog()
    series = synthetic_kpis(warm_up, last)

    judged = alarms = 0
    injected = caught = 0
    for kpi_id, (values, denominators) in series.items():
        kpi = catalog[kpi_id]
        clean = evaluate_series(
            values, kpi.direction, denominators=denominators, min_denominator=kpi.min_denominator
        )
        days = [r for d, r in clean.items() if d >= first and r.score is not None]
        judged += len(days)
        alarms += sum(r.severity is not None for r in days)

        factor = 0.6 if kpi.direction == "higher" else 1.4
        drops = {d for d in values if d >= first and (d - first).days % 10 == 0}
        hit = {d: v * factor if d in drops else v for d, v in values.items()}
        dropped = evaluate_series(
            hit, kpi.direction, denominators=denominators, min_denominator=kpi.min_denominator
        )
        injected += len(drops)
        caught += sum(dropped[d].severity is not None for d in drops)

    false_alarm_rate = alarms / judged
    detection_rate = caught / injected
    print(
        f"\ndrift check on synthetic KPIs: false-alarm rate {false_alarm_rate:.3%} "
        f"({alarms} of {judged} KPI-days), detection rate of 40% drops {detection_rate:.1%} "
        f"({caught} of {injected})"
    )
    assert judged > 2000
    assert false_alarm_rate < 0.01
    assert detection_rate > 0.70


def poisson_like_series(days: int, level: float) -> dict[date, float]:
    """Daily counts around ``level`` whose noise is Poisson-sized (sd = sqrt(level))."""
    spread = 1.7 / level**0.5  # noise() is uniform in +-spread: sd = spread / sqrt(3)
    return {
        START + timedelta(days=i): round(level * noise(spread, "poisson", level, i))
        for i in range(days)
    }


def test_small_counts_do_not_alert_on_sampling_noise_that_large_counts_would_alert_on() -> None:
    day = START + timedelta(days=69)
    for level, expected_outcome in ((12.0, "ok"), (10_000.0, "error")):
        values = poisson_like_series(70, level)
        values[day] = round(values[day] * 0.55)
        poisson = lambda _day, expected: 1 / max(expected, 1.0) ** 0.5  # noqa: E731
        result = evaluate_series(values, "higher", noise=poisson)[day]
        assert result.outcome == expected_outcome, (level, result)
        assert result.scale >= 1 / level**0.5 * 0.9


def test_settling_days_are_shown_but_neither_judged_nor_part_of_later_baselines() -> None:
    values = weekly_series(77)
    young = START + timedelta(days=69)
    values[young] *= 0.3  # a day still filling in: most of its events have not arrived yet
    results = evaluate_series(values, "higher", settling=lambda d: d == young)
    assert results[young].outcome == "settling"
    assert results[young].severity is None
    following = results[young + timedelta(days=7)]
    assert following.outcome == "ok"
    assert following.baseline_points == 7  # of 8 weeks: the settling day is not one of them


def test_an_additive_kpi_crossing_zero_is_judged_on_differences() -> None:
    values = {
        START + timedelta(days=i): 40.0 * (noise(1.0, "growth", i) - 1.0) for i in range(70)
    }  # net growth between -40 and +40, often negative
    day = START + timedelta(days=69)
    calm = evaluate_series(values, "higher", additive=True)
    assert all(d.outcome in ("ok", "anomaly", "insufficient_history") for d in calm.values())
    values[day] = -400.0
    result = evaluate_series(values, "higher", additive=True)[day]
    assert result.outcome == "error"
    assert result.value < result.lower < result.upper


def test_sampling_noise_floors_come_from_the_kpis_unit_and_roll_up() -> None:
    from pipelines.defs.kpi_checks import noise_rule

    catalog, day = load_catalog(), START + timedelta(days=14)
    same_weekdays = {START + timedelta(days=7 * k): 0.2 for k in range(2)}  # pooled p = 0.2
    trials = {d: 400.0 for d in [*same_weekdays, day]}
    per_item = noise_rule(catalog["content.engagement_per_content"], {}, {day: 50.0})
    assert per_item(day, 0.4) == pytest.approx(1 / 20**0.5)  # 20 expected events
    count = noise_rule(catalog["digital.site_traffic"], {}, {})
    assert count(day, 2500.0) == pytest.approx(1 / 50)
    rate = noise_rule(catalog["digital.conversion_rate"], same_weekdays, trials)
    assert rate(day, 0.9) == pytest.approx((0.8 / (400 * 0.2)) ** 0.5)  # the pooled rate
    assert noise_rule(catalog["sales.revenue"], {}, {}) is None  # money: no sampling floor
