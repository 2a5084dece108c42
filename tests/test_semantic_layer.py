"""The semantic layer: generated from the KPI catalog, and equal to marts.kpi_values.

The committed YAML is the generator's output; every KPI is a metric or documented as served by
kpi_values; `kpi metrics` builds the right `mf query`; and on a demo warehouse (every source, 11
days over two months) MetricFlow's week and month values of every metric equal kpi_values, for
segment 'all' and per dimension where kpi_values has that breakdown. The published marts carry
enforced contracts.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipelines import cli
from pipelines.catalog import load_catalog, parse_catalog
from pipelines.metrics_query import MetricsQueryError, mf_command, mf_environment
from pipelines.semantic_layer import (
    KPI_MEASURES,
    SEMANTIC_MODELS,
    SEMANTIC_YAML,
    SemanticLayerError,
    build_semantic_layer,
    kpi_semantic_model,
    metric_name,
    period_only,
    render,
)
from pipelines.settings import PROJECT_ROOT
from pipelines.venv_tools import DBT_PROJECT_DIR, venv_tool
from tests.e2e import query

START, END = date(2025, 3, 27), date(2025, 4, 6)  # Thursday .. Sunday: 2 months, 2 full weeks
PUBLISHED = ("kpi_values",)  # and every fct_* table of the marts


def _metrics() -> dict[str, dict]:
    return {m["name"]: m for m in build_semantic_layer(load_catalog())["metrics"]}


def test_the_committed_semantic_layer_is_the_generators_output() -> None:
    assert SEMANTIC_YAML.read_text() == render(), (
        "dbt_project/models/semantic/_semantic_layer.yml is stale: run "
        "`.venv/bin/python -m pipelines.semantic_layer` and commit it"
    )


def test_every_kpi_is_a_metric_with_its_catalog_metadata_or_served_by_kpi_values() -> None:
    catalog = load_catalog()
    metrics = _metrics()
    skipped = period_only(catalog)
    assert set(skipped) == {
        "digital.users",
        "social.reach",
        "social.follower_growth",
        "seo.backlinks",
        "customer_service.median_response_time",
    }
    for kpi in catalog.kpis:
        if kpi.id in skipped:
            assert metric_name(kpi.id) not in metrics
            continue
        metric = metrics[metric_name(kpi.id)]
        assert metric["label"].startswith(kpi.name)
        assert kpi.formula in metric["description"]
        meta = metric["config"]["meta"]
        assert (meta["unit"], meta["direction"], meta["kpi_id"]) == (
            kpi.unit,
            kpi.direction,
            kpi.id,
        )
        # ratios are sum(numerator) / sum(denominator) over the period, never averages of rates
        expected_type = "simple" if kpi.aggregation == "sum" else "ratio"
        assert metric["type"] == expected_type, kpi.id
        if expected_type == "ratio":
            numerator, denominator = KPI_MEASURES[kpi.id]
            assert metric["type_params"] == {"numerator": numerator, "denominator": denominator}
            for side in (numerator, denominator):
                assert metrics[side]["type_params"]["measure"] == side
    measures = [
        m for model in build_semantic_layer(catalog)["semantic_models"] for m in model["measures"]
    ]
    assert {m["agg"] for m in measures} <= {"sum", "count_distinct"}  # no average anywhere


def test_a_kpi_added_to_the_catalog_without_measures_fails_the_generation_by_name() -> None:
    data = yaml.safe_load((PROJECT_ROOT / "config" / "kpis.yml").read_text())
    data["kpis"].append(
        {
            "id": "paid_ads.cpm",
            "name": "CPM",
            "unit": "money",
            "direction": "lower",
            "aggregation": "ratio",
            "formula": "spend / impressions * 1000",
        }
    )
    with pytest.raises(SemanticLayerError, match=r"paid_ads\.cpm .*KPI_MEASURES"):
        build_semantic_layer(parse_catalog(data))
    data["kpis"][-1]["aggregation"] = "unique"  # needs the period itself: kpi_values serves it
    assert "paid_ads.cpm" in period_only(parse_catalog(data))
    build_semantic_layer(parse_catalog(data))


def test_kpi_metrics_asks_mf_for_the_kpi_by_dimension_and_grain() -> None:
    argv = mf_command(["paid_ads.cpc"], ["campaign"], "quarter", start="2025-01-01")
    assert argv[0] == venv_tool("mf")
    assert argv[1:] == [
        "query", "--metrics", "paid_ads_cpc",
        "--group-by", "metric_time__quarter,paid_ads__campaign",
        "--order", "metric_time__quarter", "--start-time", "2025-01-01",
    ]  # fmt: skip
    assert mf_environment({})["DBT_PROFILES_DIR"] == str(DBT_PROJECT_DIR)
    with pytest.raises(MetricsQueryError, match="can be sliced by: platform, account, campaign"):
        mf_command(["paid_ads.cpc"], ["list"])
    with pytest.raises(MetricsQueryError, match="share only time"):
        mf_command(["content.content_roi"], ["content"])  # revenue by session, cost by publishing
    with pytest.raises(MetricsQueryError, match="share only time"):
        mf_command(["paid_ads.cpc", "email.ctr"], ["list"])
    with pytest.raises(MetricsQueryError, match=r"digital\.roi .*sliced by: none \(time only\)"):
        mf_command(["digital.roi"], ["campaign"])
    with pytest.raises(MetricsQueryError, match=r"social\.reach is served by marts\.kpi_values"):
        mf_command(["social.reach"])
    with pytest.raises(KeyError, match="unknown KPI id"):
        mf_command(["paid_ads.nope"])


def test_kpi_metrics_reports_a_dimension_it_cannot_slice_by(capsys) -> None:
    assert cli.main(["metrics", "sales.revenue", "--by", "campaign"]) == 2
    assert "sales.revenue (fact table fct_sales_daily) can be sliced by: account, currency" in (
        capsys.readouterr().err
    )


def test_the_published_marts_have_enforced_contracts_with_a_type_per_column() -> None:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    published = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("schema") == "marts"
        and (node["name"].startswith("fct_") or node["name"] in PUBLISHED)
    ]
    assert len(published) >= 10
    for node in published:
        assert node["config"]["contract"]["enforced"], node["name"]
        untyped = [c for c, spec in node["columns"].items() if not spec.get("data_type")]
        assert not untyped, f"{node['name']}: columns without data_type {untyped}"


# --- on a demo warehouse -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo pipeline (every source, via the emulators) for START..END, built once."""
    from pipelines.demo import emulators, materialize
    from pipelines.venv_tools import prepare_dbt

    tmp = tmp_path_factory.mktemp("semantic")
    database = tmp / "warehouse.duckdb"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp),
        "KPI_DUCKDB_PATH": str(database),
        "KPI_PUBLISH_DIR": str(tmp / "published"),
        "KPI_REPORTS_DIR": str(tmp / "reports"),
        "KPI_START_DATE": "2024-01-01",
        "PYTHONWARNINGS": "ignore",
    }
    with emulators(tmp / "service_account.json") as settings:
        env.update(settings)
        prepare_dbt(env)  # also writes target/semantic_manifest.json, which mf reads
        materialize(env, START, END, log=tmp / "run.log")
    yield database


def mf_rows(database: Path, tmp: Path, metrics: list[str], group_by: list[str]) -> list[dict]:
    """``mf query`` (the CLI `kpi metrics` runs) as rows of strings."""
    out = tmp / f"mf_{abs(hash((tuple(metrics), tuple(group_by))))}.csv"
    argv = [
        venv_tool("mf"), "query", "--quiet", "--metrics", ",".join(metrics),
        "--group-by", ",".join(group_by), "--csv", str(out),
    ]  # fmt: skip
    env = {**mf_environment(), "KPI_DUCKDB_PATH": str(database)}
    result = subprocess.run(
        argv, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and out.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    with out.open() as f:
        return list(csv.DictReader(f))


def _number(text: str | None) -> float | None:
    return None if text in (None, "", "None", "nan", "NaN") else float(text)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _compare(
    database: Path, tmp: Path, kpi_ids: list[str], grain: str, dimension: str | None
) -> int:
    """MetricFlow vs kpi_values for ``kpi_ids`` at ``grain`` (segment 'all', or per dimension
    ``model__dim`` against segments '<prefix>=<value>'); returns the number of values compared."""
    time = f"metric_time__{grain}"
    model_dim, prefix = (None, None)
    if dimension is not None:
        model_dim, prefix = dimension
    rows = mf_rows(
        database, tmp, [metric_name(k) for k in kpi_ids], [time, *filter(None, [model_dim])]
    )
    ours: dict[tuple[str, str, str], float | None] = {}
    for row in rows:
        period = row[time][:10]
        segment = "all" if model_dim is None else f"{prefix}={row[model_dim]}"
        for kpi_id in kpi_ids:
            ours[(kpi_id, period, segment)] = _number(row[metric_name(kpi_id)])
    where = "segment = 'all'" if prefix is None else f"segment like '{prefix}=%'"
    theirs = {
        (kpi_id, str(period), segment): value
        for kpi_id, period, segment, value in query(
            database,
            f"select kpi_id, period_start, segment, value from marts.kpi_values "
            f"where grain = ? and {where} and kpi_id in ({', '.join('?' * len(kpi_ids))})",
            [grain, *kpi_ids],
        )
    }
    assert theirs, f"kpi_values has no {grain} rows for {kpi_ids} ({where})"
    differences = [
        (key, ours.get(key), value)
        for key, value in theirs.items()
        # a period or slice without rows in the fact table: kpi_values has 0 or NULL, MetricFlow
        # no row at all
        if not (_close(ours.get(key), value) or (key not in ours and value in (0, None)))
    ]
    if prefix is None:  # and nothing company-wide that kpi_values does not have
        differences += [(k, v, None) for k, v in ours.items() if k not in theirs and v]
    assert not differences, f"MetricFlow vs kpi_values ({grain}, {where}): {differences[:10]}"
    return len(theirs)


@pytest.mark.parametrize("grain", ["week", "month"])
def test_every_metric_equals_kpi_values_company_wide(warehouse, tmp_path, grain) -> None:
    kpi_ids = [k for k in KPI_MEASURES if k in load_catalog().ids()]
    compared = _compare(warehouse, tmp_path, kpi_ids, grain, None)
    assert compared >= len(kpi_ids) * 2  # two weeks or months at least, every KPI


SEGMENTED = [
    (model.name, dim_prefix, dimension)
    for model in SEMANTIC_MODELS
    for dim_prefix, dimension in model.segments.items()
]


@pytest.mark.parametrize("grain", ["week", "month"])
@pytest.mark.parametrize(("model", "prefix", "dimension"), SEGMENTED)
def test_every_metric_equals_kpi_values_per_segment(
    warehouse, tmp_path, grain, model, prefix, dimension
) -> None:
    kpi_ids = [
        k
        for k in KPI_MEASURES
        if (owner := kpi_semantic_model(k)) is not None and owner.name == model
        and query(warehouse, "select 1 from marts.kpi_values where kpi_id = ? and segment like ? "
                  "limit 1", [k, f"{prefix}=%"])
    ]  # fmt: skip
    assert kpi_ids, f"kpi_values has no {prefix}= segments of {model} KPIs"
    _compare(warehouse, tmp_path, kpi_ids, grain, (f"{model}__{dimension}", prefix))


def test_kpi_metrics_answers_cost_per_click_by_campaign_by_quarter(warehouse, capfd) -> None:
    os.environ["KPI_DUCKDB_PATH"], saved = str(warehouse), os.environ.get("KPI_DUCKDB_PATH")
    try:
        assert cli.main(["metrics", "paid_ads.cpc", "--by", "campaign", "--grain", "quarter"]) == 0
    finally:
        if saved is None:
            del os.environ["KPI_DUCKDB_PATH"]
        else:
            os.environ["KPI_DUCKDB_PATH"] = saved
    out = capfd.readouterr().out
    campaigns = query(
        warehouse,
        "select distinct platform || ':' || campaign_id from marts.fct_paid_ads_daily",
    )
    assert campaigns and all(c in out for (c,) in campaigns), out[-3000:]
    assert "paid_ads_cpc" in out and "2025-01-01" in out and "2025-04-01" in out
