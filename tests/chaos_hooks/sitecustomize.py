"""Test-only: pause a pipeline process at one stage so tests/defs/test_chaos.py can kill it there.

On ``PYTHONPATH`` of the killed run only (never imported by the pipeline itself). With
``KPI_CHAOS_STAGE`` set, the process wraps one function of that stage; when the run gets there it
writes ``KPI_CHAOS_MARKER`` and sleeps until it is killed:

- ``extraction``: GA4's second report request (the first report already fetched);
- ``loading``: inside the transaction loading ``raw.ga4__leads`` (rows deleted and inserted, not
  committed; ``raw.ga4__traffic`` already committed);
- ``checks``: inside ``kpi_checks``, its warehouse connection open;
- ``publishing``: after the first Parquet file was swapped in, ``marts.duckdb``'s copy half-written.
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


def install(stage: str) -> None:
    if stage == "extraction":
        from sources.ga4 import GA4Client

        original = GA4Client.leads

        def leads(self: GA4Client, *args: Any, **kwargs: Any) -> Any:
            pause()
            return original(self, *args, **kwargs)

        GA4Client.leads = leads
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
