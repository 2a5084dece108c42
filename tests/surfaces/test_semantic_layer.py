"""The semantic layer: generated from the KPI catalog, and equal to marts.kpi_values.

The committed YAML is the generator's output; every KPI is a metric or documented as served by
kpi_values; `kpi metrics` builds the right `mf query`; and on a demo warehouse (every source, 11
days over two months) MetricFlow's week and month values of every metric equal kpi_values, for
segment 'all' and per dimension where kpi_values has that breakdown. The published marts carry
enforced contracts.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from pipelines import cli
from pipelines.kpi.catalog import load_catalog, parse_catalog
from pipelines.lib.settings import PROJECT_ROOT
from pipelines.lib.venv_tools import DBT_PROJECT_DIR, venv_tool
from pipelines.metrics_query import MetricsQueryError, mf_command, mf_environment
from pipelines.semantic_layer import (
    FILTERED_COMPONENTS,
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
from tests.e2e import materialize_window, query

# 11 days over a month boundary (two months, at least one whole ISO week) inside the last 120 days
# the demo's mention files cover: last month's first day - 4 .. + 6.
_FIRST = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
START, END = _FIRST - timedelta(days=4), _FIRST + timedelta(days=6)
SEGMENTED = [
    (model.name, prefix, dimension)
    for model in SEMANTIC_MODELS
    for prefix, dimension in model.segments.items()
]
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
            for side in (numerator, denominator):  # sums of a measure (some rows of it)
                measure = FILTERED_COMPONENTS.get(side, (side,))[0]
                assert metrics[side]["type_params"]["measure"] == measure
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
        mf_command(["content.content_roi"], ["page"])  # revenue by session, cost by publishing
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
    """Every source from the demo's emulators through dbt for START..END, in one run, built once
    (the API rate limiters opened up: the emulators do not need them)."""
    from pipelines.definitions import defs
    from pipelines.demo import emulators

    tmp = tmp_path_factory.mktemp("semantic")
    database = tmp / "warehouse.duckdb"
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_DUCKDB_PATH", str(database))
    patch.setenv("KPI_START_DATE", "2024-01-01")
    patch.setenv("PAGESPEED_MAX_AGE_DAYS", "3650")  # measure (the emulator) although END is past
    skip = {"published", "reports", "kpi_revisions"}
    assets = [
        a
        for a in defs.assets or []
        if not any(key.path[0] in skip or key.path[-1] in skip for key in a.keys)
    ]
    resources = dict(defs.resources or {})
    try:
        with emulators(tmp / "service_account.json") as settings:
            for name, value in settings.items():
                patch.setenv(name, value)
            patch.setenv("HUBSPOT_SEARCH_REQUESTS_PER_SECOND", "1000")
            patch.setenv("ZENDESK_EXPORT_REQUESTS_PER_MINUTE", "1000")
            materialize_window(assets, resources, START, END)
        yield database
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def metricflow(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every comparison's MetricFlow result: (metrics, group-by) -> rows, from one process."""
    queries = [_query(grain, kpis, dimension) for grain, kpis, dimension in _comparisons(warehouse)]
    tmp = tmp_path_factory.mktemp("metricflow")
    (tmp / "in.json").write_text(json.dumps(queries))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.metricflow_queries",
            str(tmp / "in.json"),
            str(tmp / "out.json"),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "KPI_DUCKDB_PATH": str(warehouse)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    rows = json.loads((tmp / "out.json").read_text())
    return {json.dumps(q): r for q, r in zip(queries, rows, strict=True)}


def _query(grain: str, kpi_ids: list[str], dimension: str | None) -> list[list[str]]:
    time = f"metric_time__{grain}"
    return [[metric_name(k) for k in kpi_ids], [time, *([dimension] if dimension else [])]]


def _segmented_kpis(database: Path, model: str, prefix: str) -> list[str]:
    """The KPIs of ``model`` that kpi_values breaks down by ``prefix``."""
    return [
        k
        for k in KPI_MEASURES
        if (owner := kpi_semantic_model(k)) is not None and owner.name == model
        and query(database, "select 1 from marts.kpi_values where kpi_id = ? and segment like ? "
                  "limit 1", [k, f"{prefix}=%"])
    ]  # fmt: skip


def _comparisons(database: Path) -> list[tuple[str, list[str], str | None]]:
    company_wide = [k for k in KPI_MEASURES if k in load_catalog().ids()]
    out = []
    for grain in ("week", "month"):
        out.append((grain, company_wide, None))
        for model, prefix, dimension in SEGMENTED:
            out.append((grain, _segmented_kpis(database, model, prefix), f"{model}__{dimension}"))
    return out


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a == b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _compare(
    database: Path, results: dict, kpi_ids: list[str], grain: str, segment: tuple[str, str] | None
) -> int:
    """MetricFlow vs kpi_values for ``kpi_ids`` at ``grain`` (segment 'all', or per dimension
    ``(model__dim, prefix)`` against segments '<prefix>=<value>'); returns the values compared."""
    time = f"metric_time__{grain}"
    model_dim, prefix = segment or (None, None)
    rows = results[json.dumps(_query(grain, kpi_ids, model_dim))]
    ours: dict[tuple[str, str, str], float | None] = {}
    for row in rows:
        period = str(row[time])[:10]
        segment_name = "all" if model_dim is None else f"{prefix}={row[model_dim]}"
        for kpi_id in kpi_ids:
            value = row[metric_name(kpi_id)]
            ours[(kpi_id, period, segment_name)] = None if value is None else float(value)
    where = "segment = 'all'" if prefix is None else f"segment like '{prefix}=%'"
    theirs = {
        (kpi_id, str(period), segment_name): value
        for kpi_id, period, segment_name, value in query(
            database,
            f"select kpi_id, period_start, segment, value from marts.kpi_values "
            f"where grain = ? and {where} and kpi_id in ({', '.join('?' * len(kpi_ids))})",
            [grain, *kpi_ids],
        )
    }
    missing = sorted(set(kpi_ids) - {k for (k, _, _), v in theirs.items() if v is not None})
    assert not missing, f"kpi_values has no {grain} values ({where}) of {missing} to compare with"
    differences = [
        (key, ours.get(key), value)
        for key, value in theirs.items()
        # a period or slice without rows in the fact table: kpi_values has 0 or NULL, MetricFlow
        # no row at all
        if not (_close(ours.get(key), value) or (key not in ours and value in (0, None)))
    ]
    if prefix is None:  # and nothing company-wide in the run's periods that kpi_values lacks
        periods = {period for _, period, _ in theirs}
        differences += [
            (k, v, None) for k, v in ours.items() if k[1] in periods and k not in theirs and v
        ]
    assert not differences, f"MetricFlow vs kpi_values ({grain}, {where}): {differences[:10]}"
    return len(theirs)


@pytest.mark.parametrize("grain", ["week", "month"])
def test_every_metric_equals_kpi_values_company_wide(warehouse, metricflow, grain) -> None:
    kpi_ids = [k for k in KPI_MEASURES if k in load_catalog().ids()]
    # every KPI has a value to compare (_compare checks), most in two weeks or months
    assert _compare(warehouse, metricflow, kpi_ids, grain, None) > len(kpi_ids) * 1.5


@pytest.mark.parametrize("grain", ["week", "month"])
@pytest.mark.parametrize(("model", "prefix", "dimension"), SEGMENTED)
def test_every_metric_equals_kpi_values_per_segment(
    warehouse, metricflow, grain, model, prefix, dimension
) -> None:
    kpi_ids = _segmented_kpis(warehouse, model, prefix)
    assert kpi_ids, f"kpi_values has no {prefix}= segments of {model} KPIs"
    _compare(warehouse, metricflow, kpi_ids, grain, (f"{model}__{dimension}", prefix))


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
    quarters = {day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1) for day in (START, END)}
    assert "paid_ads_cpc" in out and all(q.isoformat() in out for q in quarters), out[-3000:]


def test_a_column_type_change_breaks_the_build_instead_of_a_dashboard(warehouse, tmp_path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    properties = project / "models" / "marts" / "social" / "_social__models.yml"
    text = properties.read_text()
    contracted = "      - name: impressions\n        data_type: bigint\n"
    assert contracted in text
    properties.write_text(text.replace(contracted, contracted.replace("bigint", "text"), 1))
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, database)
    result = subprocess.run(
        [venv_tool("dbt"), "run", "--select", "fct_social_daily", "--profiles-dir", "."],
        cwd=project,
        env={**os.environ, "KPI_DUCKDB_PATH": str(database), "DBT_TARGET_PATH": "target"},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "enforced contract" in output, output[-3000:]
    assert re.search(r"\| impressions +\| BIGINT +\| VARCHAR +\| data type mismatch", output)
