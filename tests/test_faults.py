"""Fault suite: every connector survives transient faults, fails clearly on bad data without
losing what was loaded, keeps new fields, and fails fast on an exhausted quota.

"Survived" means: a run that should succeed did, with exactly the rows of a clean run; a run that
should fail did, with a source-naming error, and left every earlier row in place. A source whose
contract isolates failures per item (PageSpeed) instead records the item as failed, names the
source, and keeps the earlier row.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack, build_stack
from sources.http import QuotaExhaustedError, RetryPolicy, SourceError
from tests.fault_base import AS_OF, FATAL_ROWS, REPEATED_CURSOR, TRANSIENT_ROWS, rows_of
from tests.faults import RESULTS, START, TARGETS, FaultTarget, Outcome

READ_TIMEOUT = 0.5
RETRY_AFTER = 2.0  # the standard "429 with Retry-After" fault's header


@pytest.fixture(scope="module")
def emulators(tmp_path_factory) -> Iterator[EmulatorStack]:
    stack = build_stack(tmp_path_factory.mktemp("faults") / "sa.json")
    # Every emulator answers as of one fixed moment, so two pulls of the window are identical.
    stack.pin_business_clock(AS_OF)
    stack.social.set_today(AS_OF.date())
    for emulator in (stack.search_console, stack.pagespeed, stack.ahrefs):
        emulator.today = AS_OF.date
    stack.mailchimp.now = lambda: AS_OF
    stack.zendesk.export_rpm = None  # the suite injects its own 429s
    stack.server.start()
    try:
        yield stack
    finally:
        stack.server.stop()


def policy() -> RetryPolicy:
    """Retries without sleeping; the waits asked for are recorded in ``.waits``."""
    waits: list[float] = []
    retry = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=5, sleep=waits.append)
    retry.waits = waits  # type: ignore[attr-defined]
    return retry


def snapshot(con: duckdb.DuckDBPyConnection, target: FaultTarget) -> list[tuple]:
    skip = ", ".join(("_loaded_at", "_source_run_id", *target.volatile))
    return con.execute(f"select * exclude ({skip}) from {target.table} order by all").fetchall()


@dataclass
class CleanRuns:
    """Per target, a warehouse file holding one clean load, its row count and snapshot."""

    directory: Path
    runs: dict[str, tuple[Path, int, list[tuple]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory) -> CleanRuns:
    return CleanRuns(tmp_path_factory.mktemp("clean"))


def baseline(
    target: FaultTarget, stack: EmulatorStack, tmp: Path, cache: CleanRuns
) -> tuple[duckdb.DuckDBPyConnection, int, list[tuple]]:
    """A warehouse holding a clean load of the target (loaded once per target, then copied)."""
    stack.server.clear_faults()
    if target.source not in cache.runs:
        template = cache.directory / f"{target.source}.duckdb"
        con = duckdb.connect(str(template))
        loaded = rows_of(target.load(stack, policy(), con, READ_TIMEOUT))
        assert loaded.rows > 0 and not loaded.failures, loaded
        cache.runs[target.source] = (template, loaded.rows, snapshot(con, target))
        con.close()
    template, rows, before = cache.runs[target.source]
    copy_path = tmp / f"{target.source}.duckdb"
    shutil.copy(template, copy_path)
    return duckdb.connect(str(copy_path)), rows, before


def inject(stack: EmulatorStack, faults: list[Fault]) -> None:
    """Fresh copies: a fault's ``times`` counts down, and stateful transforms start afresh."""
    stack.server.inject(*copy.deepcopy(faults))


def cases(kind: str) -> list:
    return [
        pytest.param(t, name, faults, id=f"{t.source}: {name}")
        for t in TARGETS
        for name, faults in getattr(t, kind).items()
    ]


@pytest.mark.parametrize(("target", "scenario", "faults"), cases("transient"))
def test_transient_faults_are_retried_and_the_run_loads_every_row(
    emulators, clean_runs, tmp_path, target, scenario, faults
) -> None:
    con, rows, before = baseline(target, emulators, tmp_path, clean_runs)
    inject(emulators, faults)
    retry = policy()
    try:
        again = rows_of(target.load(emulators, retry, con, READ_TIMEOUT))
        after = snapshot(con, target)
        waits = retry.waits  # type: ignore[attr-defined]
        honoured = scenario != "429 with Retry-After" or RETRY_AFTER in waits
        survived = again.rows == rows and not again.failures and after == before and honoured
        RESULTS.append(Outcome(target.source, scenario, survived, len(set(before) - set(after))))
        assert not again.failures
        assert again.rows == rows
        assert after == before
        assert waits, "the fault was never met"
        assert honoured, f"Retry-After: {RETRY_AFTER:.0f} was not waited for: {waits}"
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize(("target", "scenario", "faults"), cases("fatal"))
def test_bad_data_fails_the_run_naming_the_source_and_loses_nothing(
    emulators, clean_runs, tmp_path, target, scenario, faults
) -> None:
    con, _, before = baseline(target, emulators, tmp_path, clean_runs)
    inject(emulators, faults)
    try:
        if target.isolates_failures:
            loaded = rows_of(target.load(emulators, policy(), con, READ_TIMEOUT))
            messages = loaded.failures
        else:
            with pytest.raises(SourceError) as caught:
                target.load(emulators, policy(), con, READ_TIMEOUT)
            messages = [str(caught.value)]
        after = snapshot(con, target)
        named = len(messages) == 1 and f"[{target.source}]" in messages[0]
        if scenario.startswith(("type change", REPEATED_CURSOR)):  # which field, which value
            named = named and "field=" in messages[0] and "value=" in messages[0]
        lost = len(set(before) - set(after))
        RESULTS.append(Outcome(target.source, scenario, named and after == before, lost))
        assert named, messages
        assert after == before
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.quota], ids=lambda t: t.source)
def test_an_exhausted_daily_quota_fails_fast(emulators, clean_runs, tmp_path, target) -> None:
    con, _, before = baseline(target, emulators, tmp_path, clean_runs)
    inject(emulators, target.quota or [])
    requests_before = emulators.server.count(target.path)
    try:
        if target.isolates_failures:  # every item failed with the quota message, none called
            messages = rows_of(target.load(emulators, policy(), con, READ_TIMEOUT)).failures
            assert messages
        else:
            with pytest.raises(QuotaExhaustedError) as caught:
                target.load(emulators, policy(), con, READ_TIMEOUT)
            messages = [str(caught.value)]
        made = emulators.server.count(target.path) - requests_before
        after = snapshot(con, target)
        clear = all("quota" in m.lower() and f"[{target.source}]" in m for m in messages)
        RESULTS.append(
            Outcome(
                target.source,
                "exhausted daily quota",
                made == 1 and clear and after == before,
                len(set(before) - set(after)),
            )
        )
        assert made == 1, "a spent quota must not be hammered"
        assert clear, messages
        assert after == before
    finally:
        emulators.server.clear_faults()
        con.close()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.new_field], ids=lambda t: t.source)
def test_a_new_field_from_the_api_is_kept(emulators, clean_runs, tmp_path, target) -> None:
    con, rows, _ = baseline(target, emulators, tmp_path, clean_runs)
    emulators.server.inject(
        Fault(target.path, kind="transform", transform=target.new_field, times=1000)
    )
    try:
        again = rows_of(target.load(emulators, policy(), con, READ_TIMEOUT))
        columns = dict(
            con.execute(
                f"select column_name, column_type from (describe {target.table})"
            ).fetchall()
        )
        column, sent = target.new_field_column, target.new_field_value
        values = (
            con.execute(
                f'select "{column}" from {target.table} where "{column}" is not null'
            ).fetchall()
            if column in columns
            else []
        )
        # every value is the one the API sent, as a number of the JSON's kind (never text)
        filled = bool(values) and all(v == sent and type(v) is type(sent) for (v,) in values)
        typed = columns.get(column) == ("BIGINT" if isinstance(sent, int) else "DOUBLE")
        RESULTS.append(
            Outcome(target.source, "new field", filled and typed and again.rows == rows, 0)
        )
        assert column in columns
        assert filled, f"the new column holds the value the API sent ({sent!r}): {values[:5]}"
        assert typed, columns.get(column)
        assert again.rows == rows
    finally:
        emulators.server.clear_faults()
        con.close()


# --- Coverage: every row of the list, for every connector ----------------------------------
def coverage(target: FaultTarget) -> dict[str, bool]:
    """Each row of the fault list -> whether the target has a scenario for it."""
    rows = {row: any(k.startswith(row) for k in target.transient) for row in TRANSIENT_ROWS}
    rows |= {row: any(k.startswith(row) for k in target.fatal) for row in FATAL_ROWS}
    rows["exhausted daily quota"] = bool(target.quota)
    rows["new field"] = bool(target.new_field)
    rows["missing credentials"] = target.source in CREDENTIALS
    return rows


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.source)
def test_every_fault_row_is_covered_or_declared_not_applicable_with_a_reason(target) -> None:
    rows = coverage(target)
    uncovered = sorted(r for r, done in rows.items() if not done and r not in target.not_applicable)
    assert not uncovered, f"{target.source}: no scenario and no reason for {uncovered}"
    stale = sorted(r for r in target.not_applicable if rows.get(r, True))
    assert not stale, f"{target.source}: declared N/A but covered (or not a row): {stale}"
    assert all(len(reason) > 20 for reason in target.not_applicable.values())


# --- Missing credentials: that source skips with a WARN, the others load ---------------------------
# Each connector's credential setting; the sources sharing one (Google's service account, Meta's
# system-user token) are dropped together. FX reads a public API: it has no credentials.
CREDENTIALS = {
    "ga4": "GOOGLE_APPLICATION_CREDENTIALS",
    "search_console": "GOOGLE_APPLICATION_CREDENTIALS",
    "mailchimp": "MAILCHIMP_API_KEY",
    "stripe": "STRIPE_API_KEY",
    "zendesk": "ZENDESK_API_TOKEN",
    "wordpress": "WORDPRESS_BASE_URL",  # public posts need no login: the site is the setting
    "ahrefs": "AHREFS_API_TOKEN",
    "meta_graph": "META_ACCESS_TOKEN",
    "meta_ads": "META_ACCESS_TOKEN",
    "pagespeed": "PAGESPEED_API_KEY",
    "linkedin": "LINKEDIN_ACCESS_TOKEN",
    "hubspot": "HUBSPOT_ACCESS_TOKEN",
    "google_ads": "GOOGLE_ADS_REFRESH_TOKEN",
}
# PageSpeed measures the live pages: a past day's partition has nothing to pull.
MEASURES_TODAY_ONLY = {"pagespeed"}
ASSET_SOURCE = {"ahrefs": "backlinks"}  # how the asset names the source in its warning
HALVES = (
    {"ga4", "search_console", "mailchimp", "stripe", "zendesk", "wordpress", "ahrefs"},
    {"meta_graph", "meta_ads", "pagespeed", "linkedin", "hubspot", "google_ads"},
)


def raw_rows(database: Path, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        schema, name = table.split(".")
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        return con.execute(f"select count(*) from {table}").fetchone()[0] if exists else 0


@pytest.mark.parametrize("half", HALVES, ids=("google,mailchimp,stripe,...", "meta,psi,..."))
def test_missing_credentials_skip_that_source_with_a_warn_while_the_others_load(
    emulators, tmp_path, monkeypatch, half
) -> None:
    from pipelines.definitions import defs

    for name, value in emulators.env().items():
        monkeypatch.setenv(name, value)
    for source in half:
        monkeypatch.delenv(CREDENTIALS[source], raising=False)
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    job = defs.resolve_job_def("kpi_daily")
    # the raw tables and the landing their loads read (the extraction step)
    raw = [k for k in job.asset_layer.executable_asset_keys if k.path[0] in ("raw", "landing")]
    day = START + timedelta(days=1)
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=day.isoformat(),
        asset_selection=raw,
        raise_on_error=False,
    )
    assert result.success
    warned = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "source_configured" and not c.passed
    ]
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in warned)
    warnings = " ".join(c.description or "" for c in warned)
    for target in (t for t in TARGETS if t.source in CREDENTIALS):
        rows = raw_rows(tmp_path / "w.duckdb", target.table)
        skipped = target.source in half
        warning = f"{ASSET_SOURCE.get(target.source, target.source)} not configured: set "
        if skipped:
            named = warning + CREDENTIALS[target.source] in warnings
            ok = named and rows == 0
            RESULTS.append(Outcome(target.source, "missing credentials", ok, 0))
        else:
            ok = warning not in warnings and (rows > 0 or target.source in MEASURES_TODAY_ONLY)
        assert ok, (target.source, "skipped" if skipped else "configured", rows, warnings)
