"""Alerts: one message per incident, de-duplicated across runs.

Pure parts (no Dagster): turning check evaluations into outcomes, de-duplication against the
state of earlier runs, grouping a run's new failures into incidents, rendering one message per
incident, and delivering it to a Slack-compatible incoming webhook and/or SMTP e-mail.
``alert_sensor.py`` wires them to finished Dagster runs.

Incidents: a tracking outage moves five KPIs on one day, and that is one thing to say. New
failures about the same day (the drift day, the target's as-of day; none for checks without a
day) whose sources overlap (the KPI's catalog sources, or the source of a raw table) form one
incident, transitively: one message naming its KPIs, the likely common source (read by most of
them) and the evidence (each check's explanation), grouped by channel.

De-duplication: a failed check is announced when its *status* is new for that check: severity
plus what it is about (the drift day, the target period, the stale table), from the result's
``alert_key`` metadata. The same breach re-evaluated by the next runs (a day stays in the lookback
window for several runs) is not repeated; a passing result clears the check, so a later failure
is announced again and the message lists the checks that recovered.
"""

from __future__ import annotations

import smtplib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
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
    kpi_id: str | None = None
    day: str | None = None  # the day the failure is about (ISO), None when it has none
    sources: tuple[str, ...] = ()  # the sources the checked data comes from

    @property
    def fingerprint(self) -> str:
        return f"{self.severity}|{self.status_key}"


@dataclass(frozen=True)
class Incident:
    """New failures of one run about the same day with overlapping sources."""

    day: str | None
    outcomes: tuple[Outcome, ...]

    @property
    def severity(self) -> str:
        return "ERROR" if any(o.severity == "ERROR" for o in self.outcomes) else "WARN"

    @property
    def kpis(self) -> list[str]:
        return sorted({o.kpi_id for o in self.outcomes if o.kpi_id})

    @property
    def likely_source(self) -> tuple[str, int] | None:
        """The source most of the incident's failures read, and how many read it."""
        counts = Counter(s for o in self.outcomes for s in set(o.sources))
        if not counts:
            return None
        return min(counts.items(), key=lambda item: (-item[1], item[0]))


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
    kpi_sources: Callable[[str], tuple[str, ...]] = lambda _kpi_id: (),
) -> Outcome:
    """Build an outcome from the fields of a Dagster ``AssetCheckEvaluation``. Sources: the
    ``sources`` metadata, else ``kpi_sources(kpi_id)``, else the raw table's source."""
    meta = {k: _plain(v) for k, v in metadata.items()}
    channel = meta.get("channel") or asset_key.split("/")[0]
    explanation = meta.get("explanation") or description or f"{check_name} on {asset_key}"
    kpi_id = str(meta["kpi_id"]) if meta.get("kpi_id") else None
    return Outcome(
        check=f"{asset_key}:{check_name}",
        channel=str(channel),
        passed=passed,
        severity=severity,
        status_key=str(meta.get("alert_key") or explanation),
        explanation=str(explanation),
        kpi_id=kpi_id,
        day=str(meta["evaluated_day"]) if meta.get("evaluated_day") else None,
        sources=_sources(asset_key, meta.get("sources"), kpi_id, kpi_sources),
    )


def _sources(
    asset_key: str,
    declared: Any,
    kpi_id: str | None,
    kpi_sources: Callable[[str], tuple[str, ...]],
) -> tuple[str, ...]:
    if isinstance(declared, str) and declared:
        return tuple(s.strip() for s in declared.split(",") if s.strip())
    if kpi_id and (known := kpi_sources(kpi_id)):
        return known
    parts = asset_key.split("/")
    if len(parts) == 2 and parts[0] == "raw":  # raw/ga4__sessions -> ga4
        return (parts[1].split("__")[0],)
    return ()


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


def incidents(outcomes: Iterable[Outcome]) -> list[Incident]:
    """Group failures into incidents: same day and overlapping sources, transitively. Failures
    without a source are incidents of their own. Worst first (ERROR, then the day)."""
    groups: list[list[Outcome]] = []
    for outcome in outcomes:
        joined = [
            g
            for g in groups
            if outcome.sources
            and g[0].day == outcome.day
            and any(set(outcome.sources) & set(o.sources) for o in g)
        ]
        merged = [o for g in joined for o in g] + [outcome]
        groups = [g for g in groups if not any(g is j for j in joined)] + [merged]
    found = [Incident(g[0].day, tuple(g)) for g in groups]
    return sorted(found, key=lambda i: (SEVERITY_ORDER.get(i.severity, 2), i.day or "", i.kpis))


def render_incident(
    incident: Incident, run_label: str, resolved: Iterable[str] = ()
) -> tuple[str, str]:
    """Subject and body (Slack mrkdwn-friendly plain text) of one incident's message."""
    outcomes = incident.outcomes
    errors = sum(o.severity == "ERROR" for o in outcomes)
    counts = f"{len(outcomes)} check(s) failed in {run_label} ({errors} ERROR, "
    counts += f"{len(outcomes) - errors} WARN)"
    about = f"{incident.severity} incident" + (f" on {incident.day}" if incident.day else "")
    source = incident.likely_source
    headline = about + (f", likely source {source[0]}" if source else "")
    subject = f"[kpi-pipeline] {headline}: {counts}"
    lines = [f"{headline[0].upper()}{headline[1:]}: {counts}."]
    if incident.kpis:
        lines.append(f"KPIs: {', '.join(incident.kpis)}")
    if source:
        name, readers = source
        lines.append(
            f"Likely common source: {name} ({readers} of {len(outcomes)} failed checks read it)"
        )
    lines.append("Evidence:")
    by_channel: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_channel.setdefault(outcome.channel, []).append(outcome)
    for channel in sorted(by_channel):
        lines.append("")
        lines.append(f"*{channel}*")
        for o in sorted(
            by_channel[channel], key=lambda o: (SEVERITY_ORDER.get(o.severity, 2), o.check)
        ):
            lines.append(f"- {o.severity}: {o.explanation}")
    if resolved := sorted(resolved):
        lines.append("")
        lines.append("Recovered: " + ", ".join(c.split(":", 1)[1] for c in resolved))
    return subject, "\n".join(lines)


def messages(decision: Decision, run_label: str) -> list[tuple[str, str]]:
    """One (subject, body) per incident of the run's new failures; the checks that recovered
    are listed in the last one."""
    found = incidents(decision.new)
    return [
        render_incident(incident, run_label, decision.resolved if n == len(found) - 1 else ())
        for n, incident in enumerate(found)
    ]


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
