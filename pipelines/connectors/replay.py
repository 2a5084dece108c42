"""``kpi replay``: rebuild raw tables from the landing zone, without calling any API.

Every complete landing of a source that overlaps the range is loaded again, oldest first, with its
tables' replace semantics, limited to the range for window-replaced tables: the raw tables end as
the original loads left them, now parsed by today's code (the fix for a parser bug or a new
column). Then the models are rebuilt for the range through the run contract.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.connectors.framework import Source, Window
from pipelines.connectors.landing import Landing, all_landings
from pipelines.connectors.pipeline import load
from pipelines.warehouse.resource import WarehouseResource


@dataclass(frozen=True)
class Replayed:
    source: str
    landings: int
    rows: int


def _overlaps(landing: Landing, window: Window) -> bool:
    return landing.window.start < window.end and window.start < landing.window.end


def replay_raw(
    sources: Sequence[Source], window: Window, warehouse: WarehouseResource | None = None
) -> list[Replayed]:
    """Re-load every landing of ``sources`` that overlaps ``window``; one line per source."""
    run_id = f"replay-{uuid.uuid4()}"
    report = []
    with (warehouse or WarehouseResource()).connect() as con:
        for source in sources:
            landings = [x for x in all_landings(source) if _overlaps(x, window)]
            rows = 0
            for landing in landings:
                results = load(con, landing, run_id, within=window)
                rows += sum(r.rows_inserted for r in results.values())
            report.append(Replayed(source.name, len(landings), rows))
    return report


def models_selection(all_keys: Sequence[str], sources: Sequence[Source]) -> list[str]:
    """Asset keys (``a/b``) to rebuild after a replay: everything but the connectors' landing and
    raw assets (rebuilding those would call the APIs the replay exists to avoid)."""
    own = {"/".join(t.asset_key.path) for s in sources for t in s.tables}
    own |= {f"landing/{s.name}" for s in sources}
    return [key for key in all_keys if key not in own]
