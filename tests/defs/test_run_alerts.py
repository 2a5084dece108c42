"""Run-health alerts against the local receivers: real failing runs of the daily job, a stale
schedule on a fake clock, de-duplication until the status changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster import DagsterRun, DagsterRunStatus

from pipelines.defs import run_alerts
from pipelines.defs.alert_sensor import AlertsResource
from pipelines.defs.run_alerts import HealthCursor, kpi_run_health_sensor, split_fix, stale_hours
from sources.http import SourceError, register_secret
from tests.receivers import SmtpReceiver, WebhookReceiver

SECRET = "sk_live_runalerts0123456789"
START = HealthCursor(after=0.0).dump()


@dg.asset
def stripe_charges() -> None:
    raise SourceError(
        "stripe",
        "GET https://api.stripe.com/v1/charges",
        "request refused",
        status=401,
        provider_message="Invalid API Key provided",
        fix="set STRIPE_API_KEY to a restricted key with read access",
    )


@dg.asset
def warehouse_load() -> None:
    register_secret(SECRET)
    raise RuntimeError(f"IO Error: Could not set lock on file (key {SECRET})")


@dg.asset
def healthy() -> None:
    return None


def _run(job_name: str, assets: list, instance: dg.DagsterInstance) -> dg.ExecuteJobResult:
    defs = dg.Definitions(assets=assets, jobs=[dg.define_asset_job(job_name, selection=assets)])
    return defs.resolve_job_def(job_name).execute_in_process(
        instance=instance, raise_on_error=False
    )


def fail_daily(instance: dg.DagsterInstance) -> str:
    result = _run("kpi_daily", [stripe_charges, warehouse_load], instance)
    assert not result.success
    return result.run_id


def succeed_daily(instance: dg.DagsterInstance) -> str:
    result = _run("kpi_daily", [healthy], instance)
    assert result.success
    return result.run_id


def tick(instance, alerts, cursor):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"alerts": alerts}
    )
    return kpi_run_health_sensor(context), context.cursor


@pytest.fixture
def receivers(monkeypatch) -> Iterator[tuple[WebhookReceiver, SmtpReceiver, AlertsResource]]:
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.example:3000/")
    monkeypatch.delenv("KPI_STALE_RUN_HOURS", raising=False)
    with WebhookReceiver() as webhook, SmtpReceiver() as smtp:
        yield (
            webhook,
            smtp,
            AlertsResource(
                webhook_url=webhook.url,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_to="oncall@example.com",
                smtp_security="none",
            ),
        )


def test_a_failed_daily_run_names_job_steps_redacted_errors_fixes_and_link(receivers) -> None:
    webhook, smtp, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    run_id = fail_daily(instance)
    tick(instance, alerts, START)

    (message,) = webhook.messages
    text = message["text"]
    assert f"Run {run_id[:8]} of kpi_daily failed." in text
    assert "*stripe_charges*" in text and "*warehouse_load*" in text
    assert "[stripe] request refused" in text
    assert "fix: set STRIPE_API_KEY to a restricted key with read access" in text
    assert "fix: another process holds the DuckDB warehouse" in text
    assert SECRET not in text and "***" in text
    assert f"Run: http://dagster.example:3000/runs/{run_id}" in text
    (mail,) = smtp.messages
    assert "[kpi-pipeline] run failed: kpi_daily (steps: stripe_charges, warehouse_load)" in str(
        mail["Subject"]
    )
    assert SECRET not in mail.get_content()


def test_the_same_failure_is_announced_once_until_a_run_succeeds(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    fail_daily(instance)
    _, cursor = tick(instance, alerts, START)
    fail_daily(instance)
    result, cursor = tick(instance, alerts, cursor)
    assert len(webhook.messages) == 1 and isinstance(result, dg.SkipReason)
    succeed_daily(instance)
    _, cursor = tick(instance, alerts, cursor)
    fail_daily(instance)
    tick(instance, alerts, cursor)
    assert len(webhook.messages) == 2


def test_a_failed_run_of_another_job_is_not_announced(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    _run("kpi_freshness", [stripe_charges], instance)
    tick(instance, alerts, START)
    assert webhook.messages == []


def test_a_stale_schedule_is_announced_once_per_last_success(receivers, monkeypatch) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    first = succeed_daily(instance)
    clock = datetime.now(UTC) + timedelta(hours=29)
    monkeypatch.setattr(run_alerts, "now", lambda: clock)
    _, cursor = tick(instance, alerts, START)
    assert webhook.messages == []  # 29 h < 30 h

    clock += timedelta(hours=2)
    _, cursor = tick(instance, alerts, cursor)
    (message,) = webhook.messages
    assert "No successful kpi_daily run for 31 h (limit 30 h)." in message["text"]
    assert "KPI_STALE_RUN_HOURS=30" in message["text"]
    assert f"/runs/{first}" in message["text"]
    _, cursor = tick(instance, alerts, cursor)
    assert len(webhook.messages) == 1  # not repeated

    succeed_daily(instance)
    clock = datetime.now(UTC) + timedelta(hours=1)
    _, cursor = tick(instance, alerts, cursor)
    assert len(webhook.messages) == 1
    clock += timedelta(hours=40)
    tick(instance, alerts, cursor)
    assert len(webhook.messages) == 2


def test_the_stale_interval_is_configurable_and_zero_turns_it_off(monkeypatch) -> None:
    monkeypatch.setenv("KPI_STALE_RUN_HOURS", "6")
    assert stale_hours() == 6
    monkeypatch.setenv("KPI_STALE_RUN_HOURS", "0")
    assert stale_hours() == 0
    monkeypatch.setenv("KPI_STALE_RUN_HOURS", "a day")
    with pytest.raises(ValueError, match="KPI_STALE_RUN_HOURS='a day'"):
        stale_hours()


def test_an_error_keeps_its_own_fix_else_a_known_hint_else_the_generic_one() -> None:
    assert split_fix("[x] failed | endpoint=e | fix: renew the token") == (
        "[x] failed | endpoint=e",
        "renew the token",
    )
    assert "quota" in split_fix("429 RESOURCE_EXHAUSTED")[1]
    assert split_fix("KeyError: 'x'")[1] == run_alerts.DEFAULT_FIX


def test_a_run_marked_failed_outside_any_step_is_announced_with_its_message(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    run = instance.add_run(
        DagsterRun(job_name="kpi_daily", run_id="0" * 8 + "-dead", status=DagsterRunStatus.STARTED)
    )
    instance.report_run_failed(run, message="Run worker process exited unexpectedly")
    tick(instance, alerts, START)
    (message,) = webhook.messages
    assert (
        "*run*" in message["text"] and "Run worker process exited unexpectedly" in message["text"]
    )
    assert "fix: the run's process died" in message["text"]
