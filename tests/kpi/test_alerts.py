"""The alert sensor against a local webhook receiver and a local SMTP server: one message per
incident (a day's failures with shared sources), de-duplicated across runs until a check's status
changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg
import pytest

from pipelines.defs.alert_sensor import AlertCursor, AlertsResource, kpi_alert_sensor
from pipelines.kpi.alerts import Outcome, decide, incidents, messages, outcome_from_evaluation
from tests.receivers import SmtpReceiver, WebhookReceiver

KPI_VALUES = dg.AssetKey(["marts", "kpi_values"])
CHECKS = (
    "digital__site_traffic__drift",
    "digital__bounce_rate__target",
    "seo__organic_traffic__drift",
)


class Script(dg.ConfigurableResource):
    """What the fake checks report in a run: {check name: [severity or PASS, alert_key]}."""

    outcomes: str


@dg.asset(key=KPI_VALUES)
def kpi_values() -> None:
    return None


@dg.multi_asset_check(specs=[dg.AssetCheckSpec(name, asset=KPI_VALUES) for name in CHECKS])
def fake_kpi_checks(script: Script) -> Iterator[dg.AssetCheckResult]:
    scripted = json.loads(script.outcomes)
    for name in CHECKS:
        severity, key = scripted.get(name, ["PASS", "ok"])
        kpi_id = name.rsplit("__", 1)[0].replace("__", ".")
        day = key if key[:2] == "20" and len(key) == 10 else None  # a drift day
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=KPI_VALUES,
            passed=severity == "PASS",
            severity=dg.AssetCheckSeverity.ERROR
            if severity == "ERROR"
            else dg.AssetCheckSeverity.WARN,
            description=f"{kpi_id} {key}",
            metadata={
                "kpi_id": kpi_id,
                "channel": kpi_id.split(".")[0],
                "explanation": f"{kpi_id} breach about {key}",
                "alert_key": f"{severity}:{key}",
                "evaluated_day": day,
            },
        )


def run(instance: dg.DagsterInstance, outcomes: dict[str, list[str]]) -> None:
    dg.materialize(
        [kpi_values, fake_kpi_checks],
        instance=instance,
        resources={"script": Script(outcomes=json.dumps(outcomes))},
    )


def tick(instance: dg.DagsterInstance, alerts: AlertsResource, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"alerts": alerts}
    )
    result = kpi_alert_sensor(context)
    return result, context.cursor


FAILING = {
    "digital__site_traffic__drift": ["ERROR", "2025-11-10"],
    "digital__bounce_rate__target": ["WARN", "all:month 2025-11"],
    "seo__organic_traffic__drift": ["ERROR", "2025-11-10"],
}
START = AlertCursor(after=0.0).dump()


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, SmtpReceiver, AlertsResource]]:
    with WebhookReceiver() as webhook, SmtpReceiver() as smtp:
        alerts = AlertsResource(
            webhook_url=webhook.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_user="alerts",
            smtp_password="smtp-pass-123",
            smtp_from="kpi@example.com",
            smtp_to="team@example.com, oncall@example.com",
            smtp_security="none",
        )
        yield webhook, smtp, alerts


def test_a_days_breaches_with_a_shared_source_are_one_incident_message(receivers) -> None:
    webhook, smtp, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    run(instance, FAILING)
    tick(instance, alerts, START)

    # the two GA4 KPIs of 2025-11-10 are one incident; the month's target breach is another
    assert len(webhook.messages) == 2
    outage, target = (m["text"] for m in webhook.messages)
    assert outage.startswith("ERROR incident on 2025-11-10, likely source ga4: 2 check(s) failed")
    assert "KPIs: digital.site_traffic, seo.organic_traffic" in outage
    assert "Likely common source: ga4 (2 of 2 failed checks read it)" in outage
    assert outage.index("*digital*") < outage.index("*seo*")
    assert "- ERROR: digital.site_traffic breach about 2025-11-10" in outage
    assert "- ERROR: seo.organic_traffic breach about 2025-11-10" in outage
    assert "bounce_rate" not in outage
    assert "- WARN: digital.bounce_rate breach about all:month 2025-11" in target

    first, second = smtp.messages
    assert first["Subject"].startswith("[kpi-pipeline] ERROR incident on 2025-11-10, likely ")
    assert "2 check(s) failed in run " in first["Subject"]
    assert "(2 ERROR, 0 WARN)" in first["Subject"]
    assert second["Subject"].startswith("[kpi-pipeline] WARN incident, likely source ga4: 1 ")
    assert smtp.envelopes[0][1] == ["team@example.com", "oncall@example.com"]
    assert smtp.logins[0] == ("alerts", "smtp-pass-123")
    assert "digital.site_traffic breach about 2025-11-10" in first.get_content()


def test_a_breach_is_not_repeated_until_its_status_changes(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    cursor = START
    run(instance, FAILING)
    _, cursor = tick(instance, alerts, cursor)
    assert len(webhook.messages) == 2  # two incidents

    run(instance, FAILING)  # the next daily run sees the same breaches
    result, cursor = tick(instance, alerts, cursor)
    assert isinstance(result, dg.SkipReason)
    assert len(webhook.messages) == 2

    later = {**FAILING, "digital__site_traffic__drift": ["ERROR", "2025-11-13"]}
    later["digital__bounce_rate__target"] = ["PASS", "ok"]
    run(instance, later)  # a new drift day, and the target recovered
    _, cursor = tick(instance, alerts, cursor)
    assert len(webhook.messages) == 3
    text = webhook.messages[2]["text"]
    assert "digital.site_traffic breach about 2025-11-13" in text
    assert "seo.organic_traffic" not in text
    assert "Recovered: digital__bounce_rate__target" in text

    run(instance, FAILING)  # the target fails again: announced again
    _, cursor = tick(instance, alerts, cursor)
    new = [m["text"] for m in webhook.messages[3:]]
    assert any("digital.bounce_rate breach" in text for text in new)
    assert not any("seo.organic_traffic" in text for text in new)  # unchanged since


def test_two_runs_between_ticks_give_two_messages(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    run(instance, {"digital__site_traffic__drift": ["WARN", "2025-11-10"]})
    run(instance, {"seo__organic_traffic__drift": ["ERROR", "2025-11-11"]})
    tick(instance, alerts, START)
    texts = [m["text"] for m in webhook.messages]
    assert len(texts) == 2
    assert "WARN: digital.site_traffic breach" in texts[0]
    assert "organic" not in texts[0]
    assert "ERROR: seo.organic_traffic breach" in texts[1]
    assert "Recovered: digital__site_traffic__drift" in texts[1]


def test_the_first_tick_starts_from_now_and_no_channel_means_skip(receivers) -> None:
    webhook, _, alerts = receivers
    instance = dg.DagsterInstance.ephemeral()
    run(instance, FAILING)
    result, cursor = tick(instance, alerts, None)
    assert "first tick" in result.skip_message
    result, cursor = tick(instance, alerts, cursor)
    assert webhook.messages == []
    result, _ = tick(instance, AlertsResource(webhook_url="", smtp_host=""), START)
    assert "no alert channel configured" in result.skip_message


def test_a_failed_delivery_is_retried_and_hides_the_webhook_token(
    receivers, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook, _, _ = receivers
    monkeypatch.delenv("KPI_ALERT_SMTP_HOST", raising=False)
    alerts = AlertsResource(webhook_url=webhook.url)
    instance = dg.DagsterInstance.ephemeral()
    run(instance, FAILING)
    webhook.status = 403
    with pytest.raises(RuntimeError, match="alert webhook answered 403") as error:
        tick(instance, alerts, START)
    assert "KPI_ALERT_WEBHOOK_URL" in str(error.value)  # names the setting to check
    assert "secret-token" not in str(error.value)
    webhook.status = 200
    tick(instance, alerts, START)  # the cursor did not move: the run is alerted now
    assert len(webhook.messages) == 2  # its two incidents


def outcome(kpi_id: str, day: str | None, *sources: str, severity: str = "ERROR") -> Outcome:
    return Outcome(
        f"marts/kpi_values:{kpi_id}__drift",
        kpi_id.split(".")[0],
        False,
        severity,
        f"{severity}:{day}",
        f"{kpi_id} fell on {day}",
        kpi_id=kpi_id,
        day=day,
        sources=sources,
    )


def test_incidents_join_failures_of_one_day_that_share_a_source_transitively() -> None:
    found = incidents(
        [
            outcome("digital.site_traffic", "2025-11-10", "ga4"),
            outcome("digital.cost_per_lead", "2025-11-10", "ga4", "google_ads"),
            outcome("paid_ads.cpc", "2025-11-10", "google_ads", "meta_ads", severity="WARN"),
            outcome("sales.revenue", "2025-11-10", "stripe"),  # same day, another source
            outcome("seo.organic_traffic", "2025-11-11", "ga4"),  # another day
        ]
    )
    assert [(i.day, i.kpis) for i in found] == [
        ("2025-11-10", ["digital.cost_per_lead", "digital.site_traffic", "paid_ads.cpc"]),
        ("2025-11-10", ["sales.revenue"]),
        ("2025-11-11", ["seo.organic_traffic"]),
    ]
    assert found[0].likely_source == ("ga4", 2)  # ties go to the alphabetically first


def test_outcomes_take_their_sources_from_metadata_the_catalog_or_the_raw_table() -> None:
    def build(asset_key: str, metadata: dict) -> Outcome:
        return outcome_from_evaluation(
            asset_key, "c", False, "WARN", None, metadata, lambda kpi: ("ga4",)
        )

    assert build("marts/kpi_values", {"kpi_id": "a.b", "sources": "stripe"}).sources == ("stripe",)
    assert build("marts/kpi_values", {"kpi_id": "a.b"}).sources == ("ga4",)
    assert build("raw/zendesk__tickets", {}).sources == ("zendesk",)
    assert build("marts/kpi_values", {"evaluated_day": "2025-11-10"}).day == "2025-11-10"


def test_decide_and_messages_are_pure() -> None:
    failing = Outcome("a:x", "seo", False, "WARN", "k1", "seo.x is low")
    decision = decide([failing], {})
    ((subject, body),) = messages(decision, "run abc")
    assert subject == "[kpi-pipeline] WARN incident: 1 check(s) failed in run abc (0 ERROR, 1 WARN)"
    assert "*seo*\n- WARN: seo.x is low" in body
    assert decide([failing], decision.state).new == []
