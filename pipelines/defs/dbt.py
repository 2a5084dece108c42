"""dbt models as Dagster assets: staging -> intermediate -> marts -> kpi_values.

One ``dbt build`` step for every model. The models are not partitioned in Dagster: a run records
each model once, whatever its window, and an incremental model's materialization carries the
window it rebuilt (``window``). Which days of which source are loaded is what the daily-partitioned
raw tables show (docs/decisions.md: "dbt models are unpartitioned; a run plans each asset once").

The manifest is prepared ahead of time (``kpi prepare`` or ``dbt parse``), never at import in a
deployed process; under ``dagster dev`` it is refreshed automatically. dagster-dbt gives every
invocation its own target folder (~14 MB each); only the newest ``KEEP_INVOCATIONS`` are kept.
"""

import importlib.metadata
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging.version import Version

from pipelines.connectors.framework import Window
from pipelines.lib.partitions import (
    DBT_WINDOW_ENV,
    WAREHOUSE_POOL,
    dbt_window_env,
    run_window,
    single_run_backfill,
)
from pipelines.lib.progress import dbt_models_progress
from pipelines.lib.settings import environment
from pipelines.lib.venv_tools import DBT_PROJECT_DIR, dbt_executable, prepare_dbt

__all__ = ["DBT_PROJECT_DIR", "dbt_executable", "dbt_resource", "kpi_dbt_models"]

KEEP_INVOCATIONS = 20
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is re-parsed at load, as dagster-dbt's `prepare_if_dev()` does
# (into the folder it is read from), but with the venv's dbt: dagster-dbt's own preparer looks
# for `dbt` on PATH only.
if os.environ.get("DAGSTER_IS_DEV_CLI"):
    prepare_dbt({**os.environ, "DBT_TARGET_PATH": str(dbt_project.manifest_path.parent)})

if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt manifest missing at {dbt_project.manifest_path}. Prepare it once after checkout or "
        "after changing models: `kpi prepare` (runs `dbt parse`)."
    )


class KpiDbtTranslator(DagsterDbtTranslator):
    """Asset keys ``[schema, model]`` and groups named after the dbt folder layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props["config"].get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=KpiDbtTranslator(),
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
    exclude="resource_type:unit_test",
)
def kpi_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """``dbt build`` for the run's window: incremental models rebuild only the periods it touches
    (an unpartitioned run, e.g. views only, has no window: every date)."""
    window = run_window(context.op_execution_context)
    with environment(dbt_window_env(*window) if window else dict.fromkeys(DBT_WINDOW_ENV)):
        # dbt starts with this environment. --no-write-json: no manifest.json (written twice per
        # build), semantic_manifest.json or run_results.json in the invocation folder (~2 s);
        # dbt's results stay in its JSON dbt.log there (``dbt_node_times``).
        invocation = dbt.cli(["build", "--no-write-json"], context=context)
    label = Window(*window).label if window else "every date"
    # Older invocations' folders are deleted while dbt runs, not after it (hundreds of files).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prune-dbt-folders") as pool:
        pruned = pool.submit(prune_invocation_folders, invocation.target_path.parent)
        for event in dbt_models_progress(context, invocation.stream()):
            yield with_window(event, label)
        keep_parse_state(invocation.target_path)
        pruned.result()


@dataclass(frozen=True)
class DbtNodeTimes:
    """dbt's own timing of one invocation: each node's ``execution_time`` (models, tests) and
    the run's ``elapsed_time``, as ``run_results.json`` would give them."""

    nodes: dict[str, float]
    elapsed: float

    @property
    def total(self) -> float:
        return sum(self.nodes.values())


def dbt_node_times(invocation_target: Path) -> DbtNodeTimes | None:
    """``DbtNodeTimes`` from an invocation folder's ``dbt.log`` (dbt's JSON debug log: a
    ``NodeFinished`` event per node, one ``EndRunResult``); None without a finished run."""
    log = invocation_target / "dbt.log"
    if not log.exists():
        return None
    nodes: dict[str, float] = {}
    with log.open() as lines:
        for line in lines:
            if '"NodeFinished"' in line:
                data = json.loads(line)["data"]
                nodes[data["node_info"]["unique_id"]] = data["run_result"]["execution_time"]
            elif '"EndRunResult"' in line:
                return DbtNodeTimes(nodes, float(json.loads(line)["data"]["elapsed_time"]))
    return None


def keep_parse_state(invocation_target: Path) -> None:
    """Make this invocation's parse state the one the next invocation starts from.

    dagster-dbt copies the project's ``target/partial_parse.msgpack`` (written by ``kpi prepare``)
    into each invocation's folder. If the deployment's environment differs from the one the
    manifest was prepared in (the warehouse path, say), dbt re-parses the whole project on every
    run; after this, only the first run does."""
    state = invocation_target / "partial_parse.msgpack"
    if not state.exists():
        return
    kept = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    partial = kept.with_suffix(".msgpack.tmp")
    shutil.copyfile(state, partial)
    os.replace(partial, kept)


# Output names of the incremental models: their pre-hook deletes the window's rows and they
# rebuild only those; views and tables are rebuilt in full by every run, whatever its window.
WINDOWED_OUTPUTS = frozenset(
    name
    for name, key in kpi_dbt_models.keys_by_output_name.items()
    if str(kpi_dbt_models.specs_by_key[key].metadata.get("dagster-dbt/materialization_type"))
    == "incremental"
)


def with_window(event: Any, label: str) -> Any:
    """An incremental model's output with the window it rebuilt (``window`` in its metadata)."""
    if isinstance(event, dg.Output) and event.output_name in WINDOWED_OUTPUTS:
        return event.with_metadata({**event.metadata, "window": label})
    return event


def prune_invocation_folders(target_root: Path, keep: int = KEEP_INVOCATIONS) -> list[Path]:
    """Delete all but the newest ``keep`` per-invocation folders of the dbt asset; return them."""
    folders = sorted(
        (p for p in target_root.glob(f"{kpi_dbt_models.op.name}-*") if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    return folders[keep:]


class KpiDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-up costs of each run's dbt step:

    - the dbt adapter it builds in the Dagster process (dbt's config, profile and DuckDB plugin:
      1.5-3 s), which serves only ``fetch_row_counts`` and ``fetch_column_metadata``, never called
      here;
    - ``dbt --version`` in a subprocess (~2.4 s) to learn the version: the venv's dbt is the
      installed dbt-core package, whose version the package metadata gives."""

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return KpiDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
