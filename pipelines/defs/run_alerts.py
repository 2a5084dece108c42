"""Run-health alerts: a run of the daily job (or the run contract) failed, or none succeeded lately.

The KPI alert sensor reads check results, so a run that dies (quota, dbt error, a lock timeout, a
crashed worker marked FAILURE) or a schedule that stopped would tell no one. This sensor watches
finished runs of :data:`MONITORED_JOBS` and the time since the last successful daily run, and
sends through the same channels as the KPI alerts (``AlertsResource``: webhook and/or SMTP).

De-duplication mirrors ``alerts.py``: per job, a failure is announced when its *status* (failed
steps and error, numbers masked) is new; the same failure on the next runs is not repeated, a
successful run of the job clears it. Staleness is announced once per last successful run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from pipelines.defs.alert_sensor import (
    FIRST_TICK,
    NO_CHANNEL,
    AlertsResource,
    finished_runs_after,
    newest_finished_at,
)
from pipelines.lib.settings import env
from sources.http import redact

DAILY_JOB = "kpi_daily"
RUN_CONTRACT_JOB = "__ASSET_JOB"  # `dagster asset materialize --partition-range` (the run contract)
MONITORED_JOBS = (DAILY_JOB, RUN_CONTRACT_JOB)
DEFAULT_STALE_HOURS = 30.0  # the daily schedule runs at 06:00; a day plus slack
MAX_ERROR_CHARS = 600
# Known failure shapes -> what to do. A SourceError carries its own "fix: ..." and wins.
HINTS = (
    (
        re.compile(r"Could not set lock|Conflicting lock|database is locked", re.I),
        "another process holds the DuckDB warehouse (one writer at a time): let it finish or stop "
        "it, then re-run the range",
    ),
    (
        re.compile(r"quota|RESOURCE_EXHAUSTED|rate.?limit", re.I),
        "the provider's quota is spent: re-run the range after it resets",
    ),
    (
        re.compile(r"\bdbt\b", re.I),
        "a dbt model or test failed: read the dbt step's log in the run, fix the model, re-run",
    ),
    (
        re.compile(r"worker|process.*(exited|died|killed)|heartbeat|crash", re.I),
        "the run's process died (out of memory, restart, kill): re-run the range",
    ),
)
DEFAULT_FIX = "open the run, fix what the error names, then re-run the same partition range"


@dataclass(frozen=True)
class StepError:
    step: str
    error: str
    fix: str


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job: str
    window: str
    errors: tuple[StepError, ...]
    url: str | None = None

    @property
    def fingerprint(self) -> str:
        """What the failure is about, numbers masked (ids, timestamps, counts differ per run)."""
        parts = sorted(f"{e.step}:{e.error[:160]}" for e in self.errors)
        return re.sub(r"\d+", "#", "|".join(parts))


def split_fix(message: str) -> tuple[str, str]:
    """The error without its ``fix: ...`` part, and the fix (own, else a known hint, else generic)."""
    text = redact(message).strip()
    if " | fix: " in text:
        error, fix = text.split(" | fix: ", 1)
        return error[:MAX_ERROR_CHARS], fix.strip()
    for pattern, hint in HINTS:
        if pattern.search(text):
            return text[:MAX_ERROR_CHARS], hint
    return text[:MAX_ERROR_CHARS], DEFAULT_FIX


def run_url(run_id: str, base: str | None = None) -> str | None:
    """The run's page in the Dagster UI when ``DAGSTER_WEBSERVER_URL`` is set."""
    base = base if base is not None else env("DAGSTER_WEBSERVER_URL")
    return f"{base.rstrip('/')}/runs/{run_id}" if base else None


def render_failure(failure: RunFailure) -> tuple[str, str]:
    steps = ", ".join(e.step for e in failure.errors) or "(no step: the run itself)"
    subject = f"[kpi-pipeline] run failed: {failure.job}{failure.window} (steps: {steps})"
    lines = [f"Run {failure.run_id[:8]} of {failure.job}{failure.window} failed."]
    for e in failure.errors:
        lines += ["", f"*{e.step}*", f"error: {e.error}", f"fix: {e.fix}"]
    if failure.url:
        lines += ["", f"Run: {failure.url}"]
    return subject, "\n".join(lines)


def render_stale(
    last_success: datetime, hours: float, now: datetime, url: str | None
) -> tuple[str, str]:
    age = (now - last_success).total_seconds() / 3600
    subject = f"[kpi-pipeline] no successful {DAILY_JOB} run for {age:.0f} h (limit {hours:g} h)"
    body = (
        f"{subject.removeprefix('[kpi-pipeline] ').capitalize()}.\n"
        f"The last successful daily run finished {last_success:%Y-%m-%d %H:%M} UTC, {age:.0f} hours "
        f"ago (KPI_STALE_RUN_HOURS={hours:g}). The KPIs are not being refreshed.\n"
        "fix: check that kpi_daily_schedule is running and the daemon is up (`dagster-daemon "
        "run`), then look at the latest runs for failures."
    )
    if url:
        body += f"\nLast success: {url}"
    return subject, body


@dataclass
class HealthCursor:
    after: float | None = None
    state: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> HealthCursor:
        data = json.loads(text) if text else {}
        return cls(after=data.get("after"), state=data.get("state") or {})

    def dump(self) -> str:
        return json.dumps({"after": self.after, "state": self.state}, sort_keys=True)


def stale_hours() -> float:
    raw = env("KPI_STALE_RUN_HOURS", str(DEFAULT_STALE_HOURS)) or "0"
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError(
            f"KPI_STALE_RUN_HOURS={raw!r} must be a number of hours (0 turns the alert off)"
        ) from None
    if hours < 0:
        raise ValueError(f"KPI_STALE_RUN_HOURS={raw!r} must be >= 0 (0 turns the alert off)")
    return hours


def now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------------
# Reading runs
# --------------------------------------------------------------------------------------------------
def _error_text(data: Any) -> str:
    """A step's failure text: a ``dagster.Failure`` description, else the innermost cause."""
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return user.description
    error = getattr(data, "error", None)
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "no error recorded"
    return f"{error.cls_name}: {error.message.strip()}" if error.cls_name else error.message


def _window(run: dg.DagsterRun) -> str:
    tags = run.tags
    if tags.get("dagster/asset_partition_range_start"):
        return (
            f" {tags['dagster/asset_partition_range_start']}.."
            f"{tags['dagster/asset_partition_range_end']}"
        )
    return f" {tags['dagster/partition']}" if tags.get("dagster/partition") else ""


def run_failure(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunFailure:
    """Failed steps and their errors (redacted, each with a fix) of a FAILURE run."""
    errors = []
    for record in instance.get_records_for_run(
        run_id=run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=100
    ).records:
        event = record.event_log_entry.dagster_event
        error, fix = split_fix(_error_text(event.event_specific_data))
        errors.append(StepError(event.step_key or "?", error, fix))
    if not errors:  # the run failed outside any step (crash, cancelled worker, launch error)
        records = instance.get_records_for_run(
            run_id=run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE, limit=1
        ).records
        message = records[0].event_log_entry.dagster_event.message if records else None
        data = records[0].event_log_entry.dagster_event.event_specific_data if records else None
        text = _error_text(data) if getattr(data, "error", None) else message or "run failed"
        error, fix = split_fix(text)
        errors.append(StepError("run", error, fix))
    return RunFailure(run.run_id, run.job_name, _window(run), tuple(errors), run_url(run.run_id))


def last_success(instance: dg.DagsterInstance) -> dg.RunRecord | None:
    """The newest successful daily run: a kpi_daily run or a run-contract partition-range run."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=DAILY_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]),
        limit=1,
        order_by="update_timestamp",
    )
    contract = [
        r
        for r in instance.get_run_records(
            filters=dg.RunsFilter(
                job_name=RUN_CONTRACT_JOB, statuses=[dg.DagsterRunStatus.SUCCESS]
            ),
            limit=50,
            order_by="update_timestamp",
        )
        if r.dagster_run.tags.get("dagster/asset_partition_range_start")
    ]
    candidates = [*records, *contract[:1]]
    return max(candidates, key=lambda r: r.update_timestamp) if candidates else None


@dg.sensor(
    name="kpi_run_health_sensor",
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (webhook and/or e-mail) when a daily or run-contract run fails, and when "
    "no daily run has succeeded for KPI_STALE_RUN_HOURS; each status announced once.",
)
def kpi_run_health_sensor(
    context: dg.SensorEvaluationContext, alerts: AlertsResource
) -> dg.SkipReason | None:
    if not alerts.configured():
        return dg.SkipReason(NO_CHANNEL)
    cursor = HealthCursor.parse(context.cursor)
    instance = context.instance
    if cursor.after is None:
        cursor.after = newest_finished_at(instance)
        context.update_cursor(cursor.dump())
        return dg.SkipReason(FIRST_TICK)
    sent = []
    for record in finished_runs_after(instance, cursor.after):
        run = record.dagster_run
        key = f"failed:{run.job_name}"
        if run.job_name in MONITORED_JOBS:
            if run.status == dg.DagsterRunStatus.SUCCESS:
                cursor.state.pop(key, None)
            else:
                failure = run_failure(instance, run)
                if cursor.state.get(key) != failure.fingerprint:
                    subject, body = render_failure(failure)
                    alerts.deliver(subject, body)
                    sent.append(subject)
                    cursor.state[key] = failure.fingerprint
        cursor.after = record.update_timestamp.timestamp()
        context.update_cursor(cursor.dump())
    hours = stale_hours()
    success = last_success(instance) if hours else None
    if success is not None:
        finished = success.update_timestamp.astimezone(UTC)
        if now() - finished > timedelta(hours=hours):
            if cursor.state.get("stale") != success.dagster_run.run_id:
                subject, body = render_stale(
                    finished, hours, now(), run_url(success.dagster_run.run_id)
                )
                alerts.deliver(subject, body)
                sent.append(subject)
                cursor.state["stale"] = success.dagster_run.run_id
        else:
            cursor.state.pop("stale", None)
    context.update_cursor(cursor.dump())
    for subject in sent:
        context.log.info(subject)
    return None if sent else dg.SkipReason("no new run failure, daily runs are fresh")
