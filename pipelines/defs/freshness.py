"""Source freshness: each raw table declares how fresh it must be; a stale source is flagged.

The declaration is the dbt source's ``freshness`` (``warn_after`` / ``error_after``) and
``loaded_at_field`` in ``staging/<source>/_<source>__sources.yml``, next to the
``meta.dagster.asset_key`` that links it to the ingestion asset. One ``source_fresh`` check per
such raw asset compares the newest ``_loaded_at`` with those limits. It runs in every pipeline run
and on its own in the job ``kpi_freshness`` (hourly schedule, stopped by default), which is what
notices a source that stopped loading.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt.dbt_manifest import validate_manifest

from pipelines.defs.dbt import dbt_project
from pipelines.defs.kpi_checks import MonitoringResource
from pipelines.lib.partitions import WAREHOUSE_POOL
from pipelines.warehouse.connection import MISSING_COLUMN, MISSING_RELATION
from pipelines.warehouse.resource import WarehouseResource

CHECK_FRESH = "source_fresh"
PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class FreshnessRule:
    source: str
    table: str  # schema.identifier
    asset_key: dg.AssetKey
    loaded_at_field: str
    warn_after: timedelta | None
    error_after: timedelta | None


def _after(spec: dict | None) -> timedelta | None:
    if not spec or not spec.get("count") or spec.get("period") not in PERIODS:
        return None
    return spec["count"] * PERIODS[spec["period"]]


def freshness_rules(manifest_path: Path) -> list[FreshnessRule]:
    """Every dbt source table that declares a freshness limit and a Dagster asset key (the
    manifest as dagster-dbt read it for the dbt assets: parsed once per process)."""
    manifest = validate_manifest(manifest_path)
    rules = []
    for source in manifest.get("sources", {}).values():
        freshness = source.get("freshness") or {}
        warn, error = _after(freshness.get("warn_after")), _after(freshness.get("error_after"))
        key = ((source.get("meta") or {}).get("dagster") or {}).get("asset_key")
        field = source.get("loaded_at_field")
        if key and field and (warn or error):
            rules.append(
                FreshnessRule(
                    source=source["source_name"],
                    table=f"{source['schema']}.{source.get('identifier') or source['name']}",
                    asset_key=dg.AssetKey(key),
                    loaded_at_field=field,
                    warn_after=warn,
                    error_after=error,
                )
            )
    return sorted(rules, key=lambda r: r.table)


def _hours(delta: timedelta | None) -> str:
    return "none" if delta is None else f"{delta.total_seconds() / 3600:g} h"


def evaluate_freshness(
    rule: FreshnessRule, last_loaded: datetime | None, newest_day: object, now: datetime
) -> dg.AssetCheckResult:
    """Pass, WARN (older than warn_after) or ERROR (older than error_after)."""
    limits = f"limits: WARN after {_hours(rule.warn_after)}, ERROR after {_hours(rule.error_after)}"
    metadata = {
        "source": rule.source,
        "table": rule.table,
        "channel": "sources",
        "warn_after_hours": rule.warn_after.total_seconds() / 3600 if rule.warn_after else None,
        "error_after_hours": rule.error_after.total_seconds() / 3600 if rule.error_after else None,
        "method": f"now - max({rule.loaded_at_field})",
    }
    if last_loaded is None:
        text = f"{rule.source} {rule.table}: nothing loaded yet (not configured or never run)"
        return dg.AssetCheckResult(
            check_name=CHECK_FRESH,
            asset_key=rule.asset_key,
            passed=True,
            description=text,
            metadata={**metadata, "explanation": text, "outcome": "no_data"},
        )
    age = now - last_loaded
    severity = None
    if rule.error_after and age > rule.error_after:
        severity = dg.AssetCheckSeverity.ERROR
    elif rule.warn_after and age > rule.warn_after:
        severity = dg.AssetCheckSeverity.WARN
    text = (
        f"{rule.source} {rule.table} last loaded {last_loaded:%Y-%m-%dT%H:%M}Z, "
        f"{age.total_seconds() / 3600:.1f} h ago (newest day {newest_day}); {limits}"
    )
    if severity is not None:
        text += f"; STALE: check the {rule.source} runs and credentials"
    return dg.AssetCheckResult(
        check_name=CHECK_FRESH,
        asset_key=rule.asset_key,
        passed=severity is None,
        severity=severity or dg.AssetCheckSeverity.WARN,
        description=text,
        metadata={
            **metadata,
            "value": round(age.total_seconds() / 3600, 2),
            "last_loaded_at": last_loaded.isoformat(),
            "newest_day": str(newest_day),
            "explanation": text,
            "outcome": "stale" if severity else "fresh",
            "alert_key": f"{severity.value if severity else 'ok'}:{rule.table}",
        },
    )


RULES = freshness_rules(dbt_project.manifest_path)


def _last_load(
    con: duckdb.DuckDBPyConnection, rule: FreshnessRule
) -> tuple[datetime | None, object]:
    schema, table = rule.table.split(".")
    field = rule.loaded_at_field.replace('"', "")
    try:
        row = con.execute(
            f'select max("{field}"), max("_partition_date") from "{schema}"."{table}"'
        ).fetchone()
    except MISSING_COLUMN:  # no _partition_date column: the load time is enough
        row = con.execute(f'select max("{field}"), null from "{schema}"."{table}"').fetchone()
    except MISSING_RELATION:  # the table does not exist yet
        return None, None
    return (row[0], row[1]) if row else (None, None)


@dg.multi_asset_check(
    name="source_freshness_checks",
    specs=[
        dg.AssetCheckSpec(
            CHECK_FRESH,
            asset=rule.asset_key,
            description=f"{rule.source} {rule.table}: newest {rule.loaded_at_field} younger than "
            f"{_hours(rule.warn_after)} (WARN) / {_hours(rule.error_after)} (ERROR).",
        )
        for rule in RULES
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def source_freshness_checks(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    monitoring: MonitoringResource,
) -> Iterator[dg.AssetCheckResult]:
    selected = context.selected_asset_check_keys
    now = monitoring.current_time()
    with warehouse.connect() as con:
        loads = {rule.table: _last_load(con, rule) for rule in RULES}
    for rule in RULES:
        if dg.AssetCheckKey(rule.asset_key, CHECK_FRESH) in selected:
            yield evaluate_freshness(rule, *loads[rule.table], now)


freshness_job = dg.define_asset_job(
    "kpi_freshness",
    selection=dg.AssetSelection.checks(source_freshness_checks),
    description="Only the source freshness checks: flags a source that stopped loading.",
)


@dg.schedule(
    job=freshness_job,
    cron_schedule="15 * * * *",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every hour: are the sources' raw tables as fresh as they declare?",
)
def kpi_freshness_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"freshness-{context.scheduled_execution_time:%Y%m%dT%H%M}")
