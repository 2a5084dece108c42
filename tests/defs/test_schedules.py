"""One lookback registry: the daily run and the drift checks read the same declaration."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from pipelines.connectors import stripe
from pipelines.connectors.assets import LOOKBACK_TAG, PER_SOURCE, declared_lookback
from pipelines.connectors.registry import SOURCES
from pipelines.defs.kpi_checks import provisional_rule
from pipelines.defs.schedules import kpi_daily_schedule
from pipelines.kpi.catalog import load_catalog


def test_a_longer_stripe_lookback_is_re_pulled_daily_and_provisional_in_the_checks(
    monkeypatch,
) -> None:
    monkeypatch.setenv("STRIPE_LOOKBACK_DAYS", "45")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 10, 6))
    request = kpi_daily_schedule.evaluate_tick(context).run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2025-01-24"  # 45 days
    assert request.tags[LOOKBACK_TAG] == PER_SOURCE  # each source re-pulls only its own
    lookbacks = {s.name: declared_lookback(s) for s in SOURCES}
    assert lookbacks["stripe"] == 45 and lookbacks["hubspot"] == 2
    revenue = load_catalog()["sales.revenue"]
    today = date(2025, 3, 10)
    provisional = provisional_rule(revenue, lookbacks, today)
    assert provisional(today - timedelta(days=44)) and not provisional(today - timedelta(days=45))
    assert stripe.SOURCE.lookback(stripe.SOURCE.config()) == 45
