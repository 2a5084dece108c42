"""Progress lines in a run's log: source steps (see :mod:`sources.progress`) and the dbt build.

``@reports_progress("google_ads")`` under a source asset's decorator makes a reporter active for
the step, writing to the run log through ``context.log``; the HTTP layer, paging helpers and rate
limiter count into it. :func:`dbt_models_progress` wraps the dbt event stream: models done/total.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg

from sources.progress import DEFAULT_INTERVAL, PREFIX, Progress, heartbeat, reporting

STILL_WORKING = "still working"


def reports_progress(source: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a source asset function: a progress line at least every 10 s while it works."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
                with (
                    reporting(Progress(source, write=context.log.info)) as progress,
                    heartbeat(lambda: progress.maybe_write(STILL_WORKING)),
                ):
                    for event in fn(context, *args, **kwargs):
                        progress.loaded += _rows_loaded(event)
                        yield event

            return generator

        @functools.wraps(fn)
        def function(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
            with (
                reporting(Progress(source, write=context.log.info)) as progress,
                heartbeat(lambda: progress.maybe_write(STILL_WORKING)),
            ):
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
    """Pass dbt's events through, logging ``models done/total`` every ``interval`` s: when a model
    finishes, and (on the real clock) from a heartbeat while dbt parses or runs one long model."""
    total = len(context.selected_asset_keys)
    state = {"done": 0, "last": clock()}
    started = state["last"]
    lock = threading.Lock()

    def report(note: str = "") -> None:
        with lock:
            now = clock()
            if now - state["last"] >= interval:
                state["last"] = now
                context.log.info(
                    f"{PREFIX} dbt: {state['done']}/{total} models built ({now - started:.0f} s)"
                    + note
                )

    beating = (
        heartbeat(lambda: report(f", {STILL_WORKING}"), interval)
        if clock is time.monotonic
        else contextlib.nullcontext()
    )
    with beating:
        for event in events:
            if isinstance(event, dg.Output | dg.MaterializeResult | dg.AssetMaterialization):
                with lock:
                    state["done"] += 1
                report()
            yield event
    context.log.info(
        f"{PREFIX} dbt: done, {state['done']}/{total} models built ({clock() - started:.0f} s)"
    )
