"""Test-only: pause a pipeline process at one stage so tests/defs/test_chaos.py can kill it there.

On ``PYTHONPATH`` of the killed run only (never imported by the pipeline itself). With
``KPI_CHAOS_STAGE`` set, the process wraps one function of that stage; when the run gets there it
writes ``KPI_CHAOS_MARKER`` and sleeps until it is killed:

- ``extraction``: GA4's second report request (the first report already fetched), in the
  unpooled ``extract_sources`` step;
- ``loading``: inside the transaction loading ``raw.ga4__leads`` (rows deleted and inserted, not
  committed; ``raw.ga4__traffic`` already committed);
- ``checks``: inside ``kpi_checks``, its warehouse connection open;
- ``publishing``: after the first Parquet file was swapped in, ``marts.duckdb``'s copy half-written;
- ``hold_pool`` (tests/test_run_contract.py, not a kill): the first process to load
  ``raw.ga4__traffic`` (inside the pooled load step) writes ``KPI_CHAOS_MARKER`` and waits there
  until ``KPI_CHAOS_RELEASE`` exists (at most 300 s); the other process passes straight through.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def pause() -> None:
    Path(os.environ["KPI_CHAOS_MARKER"]).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def after(module: Any, name: str, when: Any = lambda *args: True) -> None:
    """Call ``module.name`` as before, then pause if ``when(*args)``."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(*args):
            pause()
        return result

    setattr(module, name, wrapper)


def hold_first(table: str) -> Any:
    """A ``when`` for :func:`after` that holds the first process to insert into ``table`` until
    ``KPI_CHAOS_RELEASE`` exists; never pauses for good."""

    def when(writer: Any, name: str, columns: Any) -> bool:
        if name != table:
            return False
        try:
            marker = os.open(os.environ["KPI_CHAOS_MARKER"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:  # another process holds (or held) the pool: pass
            return False
        os.write(marker, str(os.getpid()).encode())
        os.close(marker)
        release = Path(os.environ["KPI_CHAOS_RELEASE"])
        deadline = time.monotonic() + 300
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return False

    return when


def install(stage: str) -> None:
    if stage == "extraction":
        from sources.ga4 import GA4Client

        original = GA4Client.leads

        def leads(self: GA4Client, *args: Any, **kwargs: Any) -> Any:
            pause()
            return original(self, *args, **kwargs)

        GA4Client.leads = leads
    elif stage == "hold_pool":
        from pipelines.warehouse import raw_loader

        after(raw_loader, "_insert", hold_first("raw.ga4__traffic"))
    elif stage == "loading":
        from pipelines.warehouse import raw_loader

        after(raw_loader, "_insert", lambda writer, table, columns: table == "raw.ga4__leads")
    elif stage == "checks":
        from pipelines.defs import kpi_checks

        after(kpi_checks, "load_daily_series")
    elif stage == "publishing":
        from pipelines import publish

        def replace(source: Any, target: Any) -> None:
            os.replace(source, target)
            if str(target).endswith(".parquet"):
                pause()

        publish.os = SimpleNamespace(replace=replace, getpid=os.getpid)
    else:
        raise ValueError(f"KPI_CHAOS_STAGE={stage!r}: not a stage this hook knows")


if os.environ.get("KPI_CHAOS_STAGE"):
    # Not for the processes the run starts (dbt): they inherit the environment.
    install(os.environ.pop("KPI_CHAOS_STAGE"))
