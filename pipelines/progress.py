"""Progress lines in a run's log: source steps (see :mod:`sources.progress`) and the dbt build.

``@reports_progress("google_ads")`` under a source asset's decorator makes a reporter active for
the step, writing to the run log through ``context.log``; the HTTP layer, paging helpers and rate
limiter count into it. :func:`dbt_models_progress` wraps the dbt event stream: models done/total.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg

from sources.progress import DEFAULT_INTERVAL, PREFIX, Progress, reporting


def reports_progress(source: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a source asset function: a progress line at least every 10 s while it works."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
                with reporting(Progress(source, write=context.log.info)) as progress:
                    for event in fn(context, *args, **kwargs):
                        progress.loaded += _rows_loaded(event)
                        yield event

            return generator

        @functools.wraps(fn)
        def function(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
            with reporting(Progress(source, write=context.log.info)) as progress:
                result = fn(context, *args, **kwargs)
                progress.loaded += _rows_loaded(result)
                return result

        return function

    return decorate


def _rows_loaded(event: Any) -> int:
    """``rows_inserted`` of a materialization (the raw loaders' metadata), else 0."""
    metadata = getattr(event, "metadata", None) if isinstance(event, dg.MaterializeResult) else None
    value = (metadata or {}).get("rows_inserted")
    value = getattr(value, "value", value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def dbt_models_progress(
    context: dg.AssetExecutionContext,
    events: Iterable[Any],
    *,
    interval: float = DEFAULT_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Any]:
    """Pass dbt's events through, logging ``models done/total`` at most every ``interval`` s."""
    total = len(context.selected_asset_keys)
    done = 0
    started = last = clock()
    for event in events:
        if isinstance(event, dg.Output | dg.MaterializeResult | dg.AssetMaterialization):
            done += 1
            if clock() - last >= interval:
                last = clock()
                context.log.info(
                    f"{PREFIX} dbt: {done}/{total} models built ({last - started:.0f} s)"
                )
        yield event
    context.log.info(f"{PREFIX} dbt: done, {done}/{total} models built ({clock() - started:.0f} s)")
