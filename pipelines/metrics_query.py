"""``kpi metrics``: a KPI by any dimension and grain from the semantic layer (MetricFlow's ``mf``).

Runs the venv's ``mf query`` in ``dbt_project/`` with the project's profile, translating KPI ids
(``paid_ads.cpc``) to metric names and short dimension names (``campaign``) to MetricFlow's
``<semantic model>__<dimension>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from pipelines.kpi.catalog import load_catalog
from pipelines.lib.settings import duckdb_path, env
from pipelines.lib.venv_tools import DBT_PROJECT_DIR, venv_tool
from pipelines.semantic_layer import KPI_MEASURES, kpi_semantic_model, metric_name, period_only
from pipelines.warehouse.connection import warehouse_target

GRAINS = ("day", "week", "month", "quarter", "year")


class MetricsQueryError(ValueError):
    """A KPI or dimension the semantic layer cannot answer; the message says what can."""


def group_by(kpi_ids: Sequence[str], dimensions: Sequence[str]) -> list[str]:
    """MetricFlow group-by names of ``dimensions`` (``campaign`` -> ``paid_ads__campaign``)."""
    names = []
    for dimension in dimensions:
        if "__" in dimension:  # already MetricFlow's name (paid_ads__campaign, metric_time__week)
            names.append(dimension)
            continue
        models = [kpi_semantic_model(kpi_id) for kpi_id in kpi_ids]
        model = models[0]
        if model is None or any(m is not model for m in models):
            raise MetricsQueryError(
                f"--by {dimension}: {', '.join(kpi_ids)} do not come from one fact table, so "
                "they share only time; query them one at a time, or by time only"
            )
        if dimension not in model.dimensions:
            known = ", ".join(model.dimensions) or "none (time only)"
            raise MetricsQueryError(
                f"--by {dimension}: {', '.join(kpi_ids)} (fact table {model.model}) can be sliced "
                f"by: {known}"
            )
        names.append(f"{model.name}__{dimension}")
    return names


def check_kpis(kpi_ids: Sequence[str]) -> None:
    """Every id is a KPI the semantic layer has a metric for; else a clear error."""
    catalog = load_catalog()
    served_elsewhere = period_only(catalog)
    for kpi_id in kpi_ids:
        catalog[kpi_id]  # KeyError for an unknown id, naming config/kpis.yml
        if kpi_id in served_elsewhere:
            raise MetricsQueryError(
                f"{kpi_id} is served by marts.kpi_values only ({served_elsewhere[kpi_id]}): "
                f'`kpi explain {kpi_id}` or `kpi sql "select * from marts.kpi_values where '
                f"kpi_id = '{kpi_id}'\"`"
            )
        if kpi_id not in KPI_MEASURES:
            raise MetricsQueryError(f"{kpi_id} has no semantic-layer metric")


SEMANTIC_MANIFEST = DBT_PROJECT_DIR / "target" / "semantic_manifest.json"


def warehouse_database() -> str:
    """The database name dbt gives the warehouse: a DuckDB file's stem, PostgreSQL's PGDATABASE."""
    if warehouse_target() == "postgres":
        return env("PGDATABASE", "kpi") or "kpi"
    return duckdb_path().stem


def semantic_manifest_is_current() -> bool:
    """``mf`` reads ``dbt_project/target/semantic_manifest.json`` (``kpi prepare`` writes it),
    where every table is named with the database it was parsed against: a warehouse file of
    another name needs a new parse."""
    if not SEMANTIC_MANIFEST.exists():
        return False
    models = json.loads(SEMANTIC_MANIFEST.read_text()).get("semantic_models") or []
    return bool(models) and all(
        m["node_relation"]["database"] == warehouse_database() for m in models
    )


def mf_command(
    kpi_ids: Sequence[str],
    dimensions: Sequence[str] = (),
    grain: str = "week",
    start: str | None = None,
    end: str | None = None,
    where: str | None = None,
    csv: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """The ``mf query`` argv for KPIs by time (``grain``) and ``dimensions``."""
    check_kpis(kpi_ids)
    if grain not in GRAINS:
        raise MetricsQueryError(f"--grain {grain}: use one of {', '.join(GRAINS)}")
    time = f"metric_time__{grain}"
    argv = [
        venv_tool("mf"),
        "query",
        "--metrics",
        ",".join(metric_name(k) for k in kpi_ids),
        "--group-by",
        ",".join([time, *group_by(kpi_ids, dimensions)]),
        "--order",
        time,
    ]
    for flag, value in (
        ("--start-time", start),
        ("--end-time", end),
        ("--where", where),
        ("--csv", csv),
        ("--limit", None if limit is None else str(limit)),
    ):
        if value is not None:
            argv += [flag, value]
    return argv


def mf_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``mf``'s environment: the project's ``profiles.yml`` (same warehouse settings as dbt)."""
    env = dict(os.environ if environ is None else environ)
    env["DBT_PROFILES_DIR"] = str(DBT_PROJECT_DIR)
    return env
