"""No configured secret reaches logs, Dagster events, the warehouse or exception messages.

Every source is configured (the demo settings plus alert channels); a clean run builds raw,
staging and marts, then a faulty run makes every API source that authenticates with a secret fail
with error bodies that echo the request back (its URL with query, headers and body: where keys,
tokens and Basic credentials travel), while the file-based sources load. Everything the runs left
behind (logs, Dagster events and compute logs, errors, the warehouse, and the files on disk: dbt
logs and artifacts, reports, published files) is then searched for every secret value and for the
first and last characters of each, the part a cut such as the 500-character ``provider_message``
keeps. The secrets are derived from the settings' names, so a new secret setting is scanned
without editing this test, and one the test does not configure fails it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

import dagster as dg
import duckdb
import pytest

from pipelines.connectors import ga4
from pipelines.connectors.registry import SOURCES
from pipelines.definitions import defs
from pipelines.defs.alert_sensor import AlertCursor, AlertsResource, kpi_alert_sensor
from pipelines.defs.schedules import daily_job
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack, build_stack

# A setting is a secret when a word of its name says so.
# PGPASSWORD is libpq's own name for the PostgreSQL warehouse's password.
SECRET_NAME = re.compile(
    r"(?:^|_)(TOKEN|KEY|SECRET|PASSWORD|CREDENTIALS|WEBHOOK)(?:_|$)|^PGPASSWORD$"
)
# Names that look like secrets but are not, each with the reason.
NOT_SECRETS = {"GOOGLE_OAUTH_TOKEN_URL": "the address of Google's token endpoint"}
# Words that might mark a secret under another name: such a setting must be classified above.
MAYBE_SECRET = re.compile(r"AUTH|PASS|PWD|PRIVATE|CERT|SIGN|COOKIE|SESSION|BEARER|API_|HOOK")
NOT_MAYBE = {"GOOGLE_OAUTH_TOKEN_URL", "STRIPE_API_VERSION", "GOOGLE_ADS_API_VERSION"}
NOT_MAYBE |= {"LINKEDIN_API_VERSION", "META_API_VERSION"}
# Fields of a credentials JSON file that are secret (service account or authorized user).
SECRET_FIELD = re.compile(r"private_key|secret|token|password", re.I)
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
BASIC = re.compile(r"Basic\s+([A-Za-z0-9+/=]{8,})")
ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"

CLEAN_DAY, FAULTY_DAY = 4, 3  # days before today
# (path, status, source): 4xx are final; GA4's 503 is retried within a one-second budget.
ECHO_FAULTS = [
    (r":runReport", 503, "ga4"),
    (r"/v1/charges", 401, "stripe"),
    (r"/api/v2/incremental/tickets", 403, "zendesk"),
    (r"/wp-json/wp/v2/", 401, "wordpress"),
    (r"/pagespeedonline/v5/runPagespeed", 400, "pagespeed"),
    (r"/googleAds:searchStream", 401, "google_ads"),
    (r"/act_\d+/insights$", 400, "meta_ads"),
    (r"/rest/organizationalEntity", 401, "linkedin"),
    (r"/v3/site-explorer/", 403, "ahrefs"),
    (r"/crm/v3/objects/\w+/search", 401, "hubspot"),
    (r"/searchAnalytics/query", 403, "search_console"),
    (r"^/v\d+\.\d+/\d+(/insights)?$", 400, "meta_graph"),
]
FAILING = {"ga4_raw", "stripe_raw", "zendesk_raw", "wordpress_raw", "google_ads_raw"}
FAILING |= {"meta_ads_raw", "linkedin_raw", "backlinks_raw", "mailchimp_raw"}
FAILING |= {"hubspot_raw", "search_console_raw", "meta_graph_raw"}
LOADING = {"mentions_raw", "content_costs_raw"}
# A cut secret: a prefix or suffix this long is reported (a shorter one is not recognisable).
FRAGMENT = 8
URL_START = re.compile(r"https?(://|%3A)", re.I)


def configured_settings(stack: EmulatorStack) -> dict[str, str]:
    """Every source's demo settings plus the alert channels (webhook with a token, SMTP login)."""
    return {
        **stack.env(),
        "KPI_ALERT_WEBHOOK_URL": f"{stack.server.base_url}/services/T0KPI/B0KPI/xoxWebhookT0ken42",
        "KPI_ALERT_SMTP_HOST": "127.0.0.1",
        "KPI_ALERT_SMTP_USER": "alerts@kpidemo.example",
        "KPI_ALERT_SMTP_PASSWORD": "smtp-Pa55word-kpi",
        "KPI_ALERT_SMTP_TO": "team@kpidemo.example",
        # set in the environment of the DuckDB run too: nothing may echo it (PostgreSQL-target
        # redaction is tested in tests/warehouse/test_postgres_warehouse.py)
        "PGPASSWORD": "pg-Pa55word-kpi",
    }


def env_example_names() -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))


# Every setting a source declares, by name: its declaration says whether it is secret.
DECLARED = {setting.name: setting for source in SOURCES for setting in source.settings}


def looks_secret(name: str) -> bool:
    return SECRET_NAME.search(name) is not None and name not in NOT_SECRETS


def secret_names(names: set[str]) -> set[str]:
    """The sources' declared secrets, and the other settings (alerts, PostgreSQL) by name."""
    return {n for n in names if (DECLARED[n].secret if n in DECLARED else looks_secret(n))}


def test_every_declared_setting_that_looks_secret_is_declared_secret() -> None:
    assert sorted(n for n, s in DECLARED.items() if looks_secret(n) != s.secret) == []


def secret_values(name: str, value: str) -> set[str]:
    """The strings that must not appear for one secret setting (and their encoded forms)."""
    values = {value}
    if name.endswith("CREDENTIALS"):  # a path to a credentials JSON file
        info = json.loads(Path(value).read_text())
        values = {v for k, v in info.items() if SECRET_FIELD.search(k) and isinstance(v, str)}
        key = info.get("private_key", "")
        values |= {line for line in key.splitlines() if len(line) > 40}  # any line of the key
    elif value.startswith(("http://", "https://")):  # a webhook: the path carries the token
        parts = urlsplit(value)
        values.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    values |= {quote(v, safe="") for v in values} | {quote_plus(v) for v in values}
    return {v for v in values if len(v) >= 8}


def secret_fragments(name: str, value: str, public: Iterable[str] = ()) -> set[str]:
    """The shortest start and end (``FRAGMENT`` characters or more) of each secret of one setting.

    A cut that keeps a longer start or end of a secret contains one of these, so they find every
    such cut. A piece that a ``public`` (non-secret) value also holds identifies nothing, so it is
    lengthened until none does (the demo developer token's ``emulator`` is in the client id). The
    start of a URL (a webhook's, or a credentials file's ``token_uri``) is no secret: a webhook's
    last path segment, the token, is cut instead.
    """
    values = {v for v in secret_values(name, value) if not URL_START.match(v)}
    if URL_START.match(value):
        values = {urlsplit(value).path.rsplit("/", 1)[-1]}
    pieces = set()
    for secret in values:
        for end in (lambda k, s=secret: s[:k], lambda k, s=secret: s[-k:]):
            distinct = (end(k) for k in range(FRAGMENT, len(secret)))
            pieces.add(next((p for p in distinct if not any(p in v for v in public)), secret))
    return pieces


def files_under(*roots: Path) -> list[Path]:
    """Every file under ``roots``."""
    return sorted(path for root in roots for path in root.rglob("*") if path.is_file())


def test_every_secret_setting_is_configured_and_scanned(tmp_path) -> None:
    """A new secret setting (in .env.example or the demo settings) is scanned, or this fails."""
    stack = build_stack(tmp_path / "sa.json")  # not started: only its settings are read
    settings = configured_settings(stack)
    names = env_example_names() | set(settings)
    secrets = secret_names(names)
    assert {"GOOGLE_APPLICATION_CREDENTIALS", "KPI_ALERT_SMTP_PASSWORD"} <= secrets
    assert {
        "GOOGLE_ADS_REFRESH_TOKEN",
        "GOOGLE_ADS_CLIENT_SECRET",
        "KPI_ALERT_WEBHOOK_URL",
    } <= secrets
    unconfigured = sorted(n for n in secrets if not settings.get(n))
    assert not unconfigured, f"secret settings the scan does not configure: {unconfigured}"
    unclassified = sorted(
        n
        for n in names
        if MAYBE_SECRET.search(n)
        and n not in secrets
        and n not in NOT_MAYBE
        and n not in NOT_SECRETS
    )
    assert not unclassified, f"classify as secret (SECRET_NAME) or not (NOT_MAYBE): {unclassified}"
    for name in secrets:
        assert secret_values(name, settings[name]), name
        assert secret_fragments(name, settings[name]), name
    key = secret_values(
        "GOOGLE_APPLICATION_CREDENTIALS", settings["GOOGLE_APPLICATION_CREDENTIALS"]
    )
    assert len(key) >= 10  # the key, its id and every line of its body


@pytest.fixture
def configured(tmp_path, monkeypatch) -> Iterator[tuple[EmulatorStack, dict[str, str]]]:
    stack = build_stack(tmp_path / "sa.json")
    settings = configured_settings(stack)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("KPI_PUBLISH_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("KPI_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("KPI_LANDING_PATH", str(tmp_path / "landing"))
    # dbt's per-invocation artifacts and logs, here rather than in the shared dbt_project/target
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt-target"))
    # both runs' days are recent enough for PageSpeed to measure (it skips older days)
    monkeypatch.setenv("PAGESPEED_MAX_AGE_DAYS", str(max(CLEAN_DAY, FAULTY_DAY)))
    stack.server.start()
    try:
        yield stack, settings
    finally:
        stack.server.stop()


def run(job: dg.JobDefinition, instance: dg.DagsterInstance, first: date, last: date):
    return job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


def warehouse_text(database: Path) -> tuple[str, set[str]]:
    """Every string column of every table and view, and the schemas seen."""
    parts, schemas = [], set()
    with duckdb.connect(str(database), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type not in ('DOUBLE', 'BIGINT', 'INTEGER', 'DATE', 'BOOLEAN', 'FLOAT', "
            "'HUGEINT', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'SMALLINT', 'UBIGINT') "
            "and data_type not like 'DECIMAL%'"
        ).fetchall()
        for schema, table, column in columns:
            schemas.add(schema)
            rows = con.execute(
                f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"'
            ).fetchall()
            parts.extend(str(r[0]) for r in rows)
    return "\n".join(parts), schemas


def test_a_faulty_run_with_every_source_leaks_no_secret_anywhere(
    configured, tmp_path, caplog, capfd, monkeypatch
) -> None:
    stack, settings = configured
    # GA4's 503s are retried for at most a second (the default budget is five minutes).
    monkeypatch.setattr(ga4, "MAX_RETRY_SECONDS", 1.0)
    secrets = {
        value: name
        for name in secret_names(set(settings))
        for value in secret_values(name, settings[name])
    }
    caplog.set_level(logging.DEBUG)
    job = dg.Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        jobs=[daily_job],
        executor=dg.in_process_executor,
        resources=defs.resources,
    ).resolve_job_def("kpi_daily")
    # a real instance on disk: its compute logs (each step's stdout and stderr) are scanned too
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(dagster_home))
    today = date.today()
    clean_day = today - timedelta(days=CLEAN_DAY)
    clean = run(job, instance, clean_day, clean_day)
    assert clean.success
    faults = [Fault(p, kind="echo", status=s, times=10_000) for p, s, _ in ECHO_FAULTS]
    stack.server.inject(*faults, Fault(r"/3\.0/reports", kind="malformed", times=10_000))
    faulty_day = today - timedelta(days=FAULTY_DAY)
    faulty = run(job, instance, faulty_day, faulty_day)
    assert not faulty.success

    failures = {
        e.step_key: e.step_failure_data.error for e in faulty.all_events if e.is_step_failure
    }
    assert set(failures) >= FAILING, sorted(failures)
    succeeded = {e.step_key for e in faulty.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert succeeded >= LOADING, sorted(LOADING - succeeded)
    errors = "\n".join(error.to_string() for error in failures.values())
    warehouse, schemas = warehouse_text(tmp_path / "w.duckdb")
    for fault, (_, _, source) in zip(faults, ECHO_FAULTS, strict=True):
        assert fault.times < 10_000, f"the echo fault on {source} was never hit"
        # a step failure, or (PageSpeed) a failed measurement row that keeps the error
        assert f"[{source}]" in errors + warehouse, source
    # The alert sensor's tick over those runs: its webhook answers 404 echoing the token path.
    with pytest.raises(RuntimeError, match="alert webhook answered 404") as raised:
        kpi_alert_sensor(
            dg.build_sensor_context(
                instance=instance,
                cursor=AlertCursor(after=0.0).dump(),
                resources={"alerts": AlertsResource()},
            )
        )
    assert stack.server.count(r"^/services/"), "the sensor never called the webhook"
    errors += "\n" + "".join(traceback.format_exception(raised.value))
    events = "\n".join(
        dg.serialize_value(entry)
        for result in (clean, faulty)
        for entry in instance.all_logs(result.run_id)
    )
    captured = capfd.readouterr()
    logs = "\n".join(
        [caplog.text, *(r.getMessage() for r in caplog.records), captured.out, captured.err]
    )
    assert {"raw", "staging", "marts"} <= schemas
    on_disk = files_under(
        tmp_path / "dbt-target",
        dagster_home,
        tmp_path / "reports",
        tmp_path / "published",
        tmp_path / "landing",  # landed pages, manifests and the failed extractions' errors
    )
    assert {"_manifest.json", ".parquet"} <= {p.name for p in on_disk} | {p.suffix for p in on_disk}
    # dbt's, of the runs: its debug log, its parse state (which embeds the profile) and the
    # compiled SQL (the step writes no JSON artifacts, decision 70)
    assert {"dbt.log", "partial_parse.msgpack"} <= {p.name for p in on_disk}
    assert ".sql" in {p.suffix for p in on_disk}
    assert {".out", ".err"} <= {p.suffix for p in on_disk}  # the runs' compute logs
    # decoded leniently: Dagster's SQLite files and the compute logs are scanned as they are
    files = "\n".join(path.read_bytes().decode(errors="replace") for path in on_disk)
    # Access tokens the emulated Google token endpoint issued during the runs are secrets too.
    secrets |= dict.fromkeys(stack.auth._tokens, "a Google access token")
    public = [v for n, v in settings.items() if n not in secret_names(set(settings))]
    fragments = {
        fragment: name
        for name in secret_names(set(settings))
        for fragment in secret_fragments(name, settings[name], public)
    }
    assert set(fragments.values()) == secret_names(set(settings))  # each keeps a piece
    fragments |= {
        f: "a Google access token"
        for t in stack.auth._tokens
        for f in (t[:FRAGMENT], t[-FRAGMENT:])
    }
    haystacks = {"logs": logs, "events": events, "errors": errors, "warehouse": warehouse}
    haystacks["files on disk"] = files
    assert "request rejected" in events and "***" in events  # echoed bodies arrived, redacted
    for where, text in haystacks.items():
        decoded = "\n".join(
            base64.b64decode(m).decode(errors="replace") for m in BASIC.findall(text)
        )
        for secret, name in secrets.items():
            assert secret not in text and secret not in decoded, f"{name} leaked into {where}"
        for fragment, name in fragments.items():
            assert fragment not in text and fragment not in decoded, (
                f"a cut piece of {name} ({fragment!r}) leaked into {where}"
            )
        assert not JWT.search(text), f"a signed JWT (a bearer assertion) leaked into {where}"
    assert len(warehouse) > 10_000 and len(events) > 10_000  # the scan looked at real content
