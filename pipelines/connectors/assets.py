"""The Dagster assets every source gets from its declaration.

- ``landing/<source>`` (one step, ``extract_sources``, for every selected source): extracts the
  sources concurrently in threads, *outside* the warehouse pool, to the landing zone. A source
  that resumes from a saved state (``Source.state``, e.g. Zendesk's export cursor) first reads it
  with a brief read-only connection.
- ``raw/<source>__<entity>`` (a step per source, in the warehouse pool): loads the landing of this
  run into the raw tables, with the checks ``source_configured``, ``no_fields_removed``,
  ``api_version_current`` (versioned APIs) and the source's own.

A daily run (tag ``kpi/lookback=per_source``, set by the schedule) asks for the longest lookback;
each source then extracts only its own last ``lookback`` days of it. Any other run (the run
contract, a backfill) extracts exactly the range asked.
"""

import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import dagster as dg

from pipelines.connectors import api_version_check
from pipelines.connectors import landing as landing_zone
from pipelines.connectors.api_version_check import (
    CHECK_API_VERSION,
    api_version_check_spec,
    check_api_version,
)
from pipelines.connectors.framework import Config, LoadOutcome, Source, SourceResource, Window
from pipelines.connectors.ingest import (
    CHECK_SCHEMA,
    configured,
    configured_check_spec,
    load_metadata,
    not_configured,
    schema_check,
    schema_check_spec,
)
from pipelines.connectors.pipeline import extract, load
from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.lib.progress import STILL_WORKING, reports_progress
from pipelines.lib.settings import env
from pipelines.warehouse.resource import WarehouseResource
from sources.progress import Progress, heartbeat, reporting

LOOKBACK_TAG = "kpi/lookback"
PER_SOURCE = "per_source"
DEFAULT_CONCURRENCY = 8


def landing_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey(["landing", source.name])


def extract_concurrency() -> int:
    """``KPI_EXTRACT_CONCURRENCY``: sources extracted at once (each keeps its provider's limits)."""
    raw = env("KPI_EXTRACT_CONCURRENCY", str(DEFAULT_CONCURRENCY)) or ""
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"KPI_EXTRACT_CONCURRENCY={raw!r} must be a whole number >= 1")
    return int(raw)


def declared_lookback(source: Source) -> int | None:
    """The lookback under the current environment (None while a setting is invalid)."""
    try:
        return source.lookback(source.config())
    except ValueError:
        return None


def run_ids(run: dg.DagsterRun) -> list[str]:
    """This run, then the runs it re-executes (their landing is this run's to load)."""
    return list(dict.fromkeys(r for r in (run.run_id, run.parent_run_id, run.root_run_id) if r))


def read_state(source: Source, config: Config, warehouse: WarehouseResource) -> None:
    """Set ``config.state`` with the source's ``state`` hook: a short read-only look at the
    warehouse (outside the pool; a new DuckDB file has nothing saved yet)."""
    if source.state is None:
        return
    if warehouse.target() == "duckdb" and not warehouse.database().exists():
        return
    with warehouse.connect(read_only=True) as con:
        config.state = source.state(con, config)


def _extract_one(
    source: Source,
    config: Config,
    window: Window,
    run_id: str,
    log: Any,
    warehouse: WarehouseResource | None,
) -> dict[str, Any]:
    """Extract one source in this thread; the landing asset's metadata."""
    missing = config.missing()
    if missing:
        log.warning(
            f"{source.name} is not configured (missing {', '.join(missing)}); extracting nothing"
        )
        return {"status": "not_configured", "missing": ", ".join(missing)}
    if warehouse is not None:
        read_state(source, config, warehouse)
    with (
        reporting(Progress(source.name, write=log.info)) as progress,
        heartbeat(lambda: progress.maybe_write(STILL_WORKING)),
    ):
        started = time.monotonic()
        landed = extract(source, config, window, run_id, today=api_version_check.today())
        rows = landed.rows()
    return {
        "status": "landed",
        "window": window.label,
        "rows": sum(rows.values()),
        **{f"rows_{name}": count for name, count in rows.items()},
        "seconds": round(time.monotonic() - started, 2),
        "path": str(landing_zone.landing_root() / source.name),
    }


def build_extraction_asset(sources: Sequence[Source]) -> dg.AssetsDefinition:
    """One step that extracts every selected source concurrently to the landing zone."""
    by_key = {landing_key(s): s for s in sources}

    @dg.multi_asset(
        name="extract_sources",
        specs=[
            dg.AssetSpec(
                landing_key(s),
                group_name="landing",
                kinds={"python", "parquet"},
                description=f"{s.title}: pages extracted to the landing zone, not yet loaded.",
                skippable=True,
            )
            for s in sources
        ],
        can_subset=True,
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        # The warehouse only for sources that resume from a saved state (read-only, briefly).
        required_resource_keys={s.name for s in sources}
        | ({"warehouse"} if any(s.state for s in sources) else set()),
    )
    def extract_sources(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        """Extract the selected sources at once; a failure is recorded for its load step."""
        asked = Window(*window_dates(context))
        per_source = context.run.tags.get(LOOKBACK_TAG) == PER_SOURCE
        chosen = [by_key[key] for key in by_key if key in context.selected_asset_keys]
        keep = landing_zone.retention_days()
        warehouse = getattr(context.resources, "warehouse", None)
        with ThreadPoolExecutor(
            max_workers=max(1, min(len(chosen), extract_concurrency()))
        ) as pool:
            pending: dict[Future, Source] = {}
            for source in chosen:
                config: Config = getattr(context.resources, source.name).config(source)
                window = asked.narrowed(source.lookback(config)) if per_source else asked
                pending[
                    pool.submit(
                        _extract_one,
                        source,
                        config,
                        window,
                        context.run.run_id,
                        context.log,
                        warehouse,
                    )
                ] = source
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    source = pending.pop(future)
                    try:
                        metadata = future.result()
                    except Exception as exc:  # recorded; the source's load step fails with it
                        context.log.error(f"{source.name}: extraction failed: {exc}")
                        metadata = {"status": "failed", "error": str(exc)}
                    if keep is not None:
                        landing_zone.prune(source, keep)
                    yield dg.MaterializeResult(asset_key=landing_key(source), metadata=metadata)

    return extract_sources


def _check_specs(source: Source) -> list[dg.AssetCheckSpec]:
    specs = [
        configured_check_spec(source.name, source.check_asset),
        schema_check_spec(source.name, source.check_asset),
    ]
    if source.api_version is not None:
        specs.append(api_version_check_spec(source.api_version, source.check_asset))
    specs += [
        dg.AssetCheckSpec(c.name, asset=source.check_asset, description=c.description)
        for c in source.checks
    ]
    return specs


def build_load_asset(source: Source) -> dg.AssetsDefinition:
    """The step that loads this run's landing of ``source`` into its raw tables."""
    lookback = declared_lookback(source)

    @dg.multi_asset(
        name=f"{source.name}_raw",
        specs=[
            dg.AssetSpec(
                table.asset_key,
                group_name=f"raw_{source.name}",
                kinds=set(source.kinds),
                description=f"{source.title}: {table.description} ({table.table}).",
                deps=[landing_key(source)],
                metadata={
                    "table": table.table,
                    "lookback_days": lookback,
                    "replace": str(table.replace),
                },
            )
            for table in source.tables
        ],
        check_specs=_check_specs(source),
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        pool=WAREHOUSE_POOL,
        required_resource_keys={"warehouse", source.name},
    )
    @reports_progress(f"{source.name} load")
    def load_source(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Load this run's complete landing of the source, in the warehouse pool."""
        resource: SourceResource = getattr(context.resources, source.name)
        warehouse: WarehouseResource = context.resources.warehouse
        config = resource.config(source)
        asked = Window(*window_dates(context))
        missing = config.missing()
        other_checks = [CHECK_SCHEMA, *(c.name for c in source.checks)]
        if source.api_version is not None:
            other_checks.append(CHECK_API_VERSION)
        if missing:
            yield from not_configured(
                context,
                source.name,
                missing,
                [t.asset_key for t in source.tables],
                source.check_asset,
                asked.label,
                other_checks=other_checks,
            )
            return
        runs = run_ids(context.run)
        landed = landing_zone.find_landing(source, runs)
        if landed is None:
            error = landing_zone.failure(source, runs) or "no complete landing for this run"
            raise dg.Failure(description=f"[{source.name}] extraction failed: {error}")
        if source.api_version is not None:
            yield check_api_version(
                context, source.api_version, landed.metadata["api_version"], source.check_asset
            )
        with warehouse.connect() as con:
            results = load(con, landed, context.run.run_id)
        extra = {k: v for k, v in landed.metadata.items() if isinstance(v, str | int | float)}
        for table in source.tables:
            yield dg.MaterializeResult(
                asset_key=table.asset_key,
                metadata=load_metadata(
                    results[table.name],
                    landed.window.label,
                    **{**extra, **results[table.name].metadata},
                ),
            )
        yield configured(source.check_asset, landed.accounts)
        yield schema_check(context, source.check_asset, results.values(), landed.window.label)
        outcome = LoadOutcome(source, landed.window, landed.accounts, results, landed.metadata)
        for check in source.checks:
            yield check.judge(outcome)
        if not landing_zone.keeps_landed_files(source):
            landed.remove()

    return load_source


def connector_assets(sources: Sequence[Source]) -> list[dg.AssetsDefinition]:
    """The extraction step and each source's load step."""
    return [build_extraction_asset(sources), *(build_load_asset(s) for s in sources)]


def connector_resources(
    sources: Sequence[Source], settings: Mapping[str, str] | None = None
) -> dict[str, SourceResource]:
    """A :class:`SourceResource` per source, each with the ``settings`` it declares (tests pass an
    emulator stack's); unset ones come from the environment when a run starts."""
    given = settings or {}
    return {
        s.name: SourceResource(
            settings={x.name: given[x.name] for x in s.settings if x.name in given}
        )
        for s in sources
    }
