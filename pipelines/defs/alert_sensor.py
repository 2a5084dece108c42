"""The alert sensor: after each finished run, one message per incident among its failed checks.

Polls finished runs (success or failure) since its cursor, reads their asset check evaluations,
de-duplicates against the state kept in the cursor (see ``alerts.py``), groups the new failures
into incidents (same day, shared sources) and delivers one message per incident through every
configured channel. A delivery error fails the tick without moving the cursor: it is retried.
On its first tick it starts from the newest finished run (no flood of old alerts).
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import dagster as dg

from pipelines.kpi.alerts import (
    Decision,
    SmtpSettings,
    decide,
    messages,
    outcome_from_evaluation,
    post_webhook,
    send_email,
)
from pipelines.kpi.catalog import load_catalog
from pipelines.lib.settings import env, env_list
from sources.http import register_secret

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
MAX_RUNS_PER_TICK = 25
NO_CHANNEL = "no alert channel configured: set KPI_ALERT_WEBHOOK_URL and/or KPI_ALERT_SMTP_HOST"
FIRST_TICK = "first tick: alerting on runs that finish from now on"


def newest_finished_at(instance: dg.DagsterInstance) -> float:
    """When the newest finished run finished (0.0 without one): where a new sensor starts."""
    newest = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED), limit=1, order_by="update_timestamp"
    )
    return newest[0].update_timestamp.timestamp() if newest else 0.0


def finished_runs_after(instance: dg.DagsterInstance, after: float) -> list[dg.RunRecord]:
    """Runs that finished after ``after`` (a timestamp), oldest first, one tick's worth."""
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=FINISHED, updated_after=datetime.fromtimestamp(after, UTC)
            ),
            order_by="update_timestamp",
            ascending=True,
            limit=MAX_RUNS_PER_TICK,
        )
    )


class AlertsResource(dg.ConfigurableResource):
    """``KPI_ALERT_WEBHOOK_URL`` and ``KPI_ALERT_SMTP_*``; fields set here win over the
    environment (tests use that). No channel configured: the sensor skips."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_to: str | None = None
    smtp_security: str | None = None

    def webhook(self) -> str | None:
        url = self.webhook_url or env("KPI_ALERT_WEBHOOK_URL")
        # The path carries the token, and servers and HTTP logs repeat it without the host.
        register_secret(url, urlsplit(url).path if url else None)
        return url

    def smtp(self) -> SmtpSettings | None:
        host = self.smtp_host or env("KPI_ALERT_SMTP_HOST")
        if not host:
            return None
        recipients = (
            [r.strip() for r in self.smtp_to.split(",") if r.strip()]
            if self.smtp_to
            else env_list("KPI_ALERT_SMTP_TO")
        )
        if not recipients:
            raise ValueError(
                "KPI_ALERT_SMTP_HOST is set but KPI_ALERT_SMTP_TO is empty; add a recipient"
            )
        password = self.smtp_password or env("KPI_ALERT_SMTP_PASSWORD")
        register_secret(password)
        return SmtpSettings(
            host=host,
            port=int(self.smtp_port or env("KPI_ALERT_SMTP_PORT", "587")),
            sender=self.smtp_from or env("KPI_ALERT_SMTP_FROM", "kpi-pipeline@localhost"),
            recipients=tuple(recipients),
            user=self.smtp_user or env("KPI_ALERT_SMTP_USER"),
            password=password,
            security=(self.smtp_security or env("KPI_ALERT_SMTP_SECURITY", "starttls")).lower(),
        )

    def deliver(self, subject: str, body: str) -> list[str]:
        """Send through every configured channel; the names of those used."""
        used = []
        if url := self.webhook():
            post_webhook(url, body)
            used.append("webhook")
        if smtp := self.smtp():
            send_email(smtp, subject, body)
            used.append("email")
        return used

    def configured(self) -> bool:
        return bool(self.webhook() or self.smtp_host or env("KPI_ALERT_SMTP_HOST"))


@dataclass
class AlertCursor:
    after: float | None = None  # update timestamp of the last run handled
    state: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> "AlertCursor":
        if not text:
            return cls()
        data = json.loads(text)
        return cls(after=data.get("after"), state=data.get("state") or {})

    def dump(self) -> str:
        return json.dumps({"after": self.after, "state": self.state}, sort_keys=True)


def kpi_sources(kpi_id: str) -> tuple[str, ...]:
    """The catalog's sources of a KPI (none for an id the catalog does not know)."""
    try:
        return load_catalog()[kpi_id].sources
    except KeyError:
        return ()


def run_outcomes(instance: dg.DagsterInstance, run_id: str) -> list:
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10_000
    ).records
    outcomes = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        outcomes.append(
            outcome_from_evaluation(
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                evaluation.passed,
                evaluation.severity.value,
                evaluation.description,
                evaluation.metadata,
                kpi_sources,
            )
        )
    return outcomes


def _run_label(record: dg.RunRecord) -> str:
    run = record.dagster_run
    tags = run.tags
    window = ""
    if tags.get("dagster/asset_partition_range_start"):
        window = (
            f", {tags['dagster/asset_partition_range_start']}.."
            f"{tags['dagster/asset_partition_range_end']}"
        )
    elif tags.get("dagster/partition"):
        window = f", {tags['dagster/partition']}"
    return f"run {run.run_id[:8]} ({run.job_name}{window})"


@dg.sensor(
    name="kpi_alert_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One message per incident (failed checks of a finished run about the same day "
    "with shared sources; webhook and/or e-mail), repeated only when a check's status changes.",
)
def kpi_alert_sensor(
    context: dg.SensorEvaluationContext, alerts: AlertsResource
) -> dg.SkipReason | None:
    if not alerts.configured():
        return dg.SkipReason(NO_CHANNEL)
    cursor = AlertCursor.parse(context.cursor)
    instance = context.instance
    if cursor.after is None:
        cursor.after = newest_finished_at(instance)
        context.update_cursor(cursor.dump())
        return dg.SkipReason(FIRST_TICK)
    records = finished_runs_after(instance, cursor.after)
    sent = 0
    for record in records:
        decision: Decision = decide(run_outcomes(instance, record.dagster_run.run_id), cursor.state)
        for subject, body in messages(decision, _run_label(record)):
            channels = alerts.deliver(subject, body)
            context.log.info(f"{subject} -> {', '.join(channels)}")
            sent += 1
        cursor.state = decision.state
        cursor.after = record.update_timestamp.timestamp()
        context.update_cursor(cursor.dump())
    if not sent:
        return dg.SkipReason(f"{len(records)} finished run(s), no new failed checks")
    return None
