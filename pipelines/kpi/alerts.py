"""Alerts: one message per run with failed checks, grouped by channel, de-duplicated across runs.

Pure parts (no Dagster): turning check evaluations into outcomes, de-duplication against the
state of earlier runs, rendering the message, and delivering it to a Slack-compatible incoming
webhook and/or SMTP e-mail. ``alert_sensor.py`` wires them to finished Dagster runs.

De-duplication: a failed check is announced when its *status* is new for that check: severity
plus what it is about (the drift day, the target period, the stale table), from the result's
``alert_key`` metadata. The same breach re-evaluated by the next runs (a day stays in the lookback
window for several runs) is not repeated; a passing result clears the check, so a later failure
is announced again and the message lists the checks that recovered.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import requests

from sources.http import redact

SEVERITY_ORDER = {"ERROR": 0, "WARN": 1}


@dataclass(frozen=True)
class Outcome:
    """One check evaluation of a run, reduced to what an alert needs."""

    check: str  # "marts/kpi_values:digital__site_traffic__drift"
    channel: str
    passed: bool
    severity: str  # WARN / ERROR (meaningful when failed)
    status_key: str
    explanation: str

    @property
    def fingerprint(self) -> str:
        return f"{self.severity}|{self.status_key}"


@dataclass
class Decision:
    new: list[Outcome] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def outcome_from_evaluation(
    asset_key: str,
    check_name: str,
    passed: bool,
    severity: str,
    description: str | None,
    metadata: Mapping[str, Any],
) -> Outcome:
    """Build an outcome from the fields of a Dagster ``AssetCheckEvaluation``."""
    meta = {k: _plain(v) for k, v in metadata.items()}
    channel = meta.get("channel") or asset_key.split("/")[0]
    explanation = meta.get("explanation") or description or f"{check_name} on {asset_key}"
    return Outcome(
        check=f"{asset_key}:{check_name}",
        channel=str(channel),
        passed=passed,
        severity=severity,
        status_key=str(meta.get("alert_key") or explanation),
        explanation=str(explanation),
    )


def decide(outcomes: Iterable[Outcome], state: Mapping[str, str]) -> Decision:
    """Which failures are new (to send) and which checks recovered, given the earlier state."""
    decision = Decision(state=dict(state))
    for outcome in outcomes:
        if outcome.passed:
            if decision.state.pop(outcome.check, None) is not None:
                decision.resolved.append(outcome.check)
            continue
        if decision.state.get(outcome.check) != outcome.fingerprint:
            decision.new.append(outcome)
            decision.state[outcome.check] = outcome.fingerprint
    return decision


def render(decision: Decision, run_label: str) -> tuple[str, str]:
    """Subject and body (Slack mrkdwn-friendly plain text) of one run's message."""
    errors = sum(o.severity == "ERROR" for o in decision.new)
    warns = len(decision.new) - errors
    subject = (
        f"[kpi-pipeline] {len(decision.new)} check(s) failed in {run_label} "
        f"({errors} ERROR, {warns} WARN)"
    )
    lines = [subject.removeprefix("[kpi-pipeline] ").capitalize() + ":"]
    by_channel: dict[str, list[Outcome]] = {}
    for outcome in decision.new:
        by_channel.setdefault(outcome.channel, []).append(outcome)
    for channel in sorted(by_channel):
        lines.append("")
        lines.append(f"*{channel}*")
        for o in sorted(
            by_channel[channel], key=lambda o: (SEVERITY_ORDER.get(o.severity, 2), o.check)
        ):
            lines.append(f"- {o.severity}: {o.explanation}")
    if decision.resolved:
        lines.append("")
        lines.append(
            "Recovered: " + ", ".join(sorted(c.split(":", 1)[1] for c in decision.resolved))
        )
    return subject, "\n".join(lines)


def post_webhook(url: str, text: str, timeout: float = 10.0) -> None:
    """POST ``{"text": ...}`` to a Slack-compatible incoming webhook."""
    try:
        response = requests.post(url, json={"text": text}, timeout=timeout)
    except requests.RequestException as exc:
        raise RuntimeError(
            redact(f"alert webhook unreachable: {exc}; check KPI_ALERT_WEBHOOK_URL")
        ) from None
    if response.status_code >= 300:
        raise RuntimeError(
            redact(
                f"alert webhook answered {response.status_code} {redact(response.text)[:200]!r}; check "
                "KPI_ALERT_WEBHOOK_URL"
            )
        )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    security: str = "starttls"  # starttls | ssl | none


def send_email(settings: SmtpSettings, subject: str, body: str, timeout: float = 10.0) -> None:
    """Send one plain-text message over SMTP."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if settings.security == "ssl" else smtplib.SMTP
    try:
        with smtp_class(settings.host, settings.port, timeout=timeout) as smtp:
            if settings.security == "starttls":
                smtp.starttls()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise RuntimeError(
            redact(
                f"alert e-mail via {settings.host}:{settings.port} failed: {exc}; check "
                "KPI_ALERT_SMTP_*"
            )
        ) from None
