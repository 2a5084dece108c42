"""The fault suite's harness: one entry per connector, the same scenarios for every one of them.

A connector registers a :class:`FaultTarget`: how to pull a fixed window from its emulator and load
it into its raw table, and the shape of its own throttle, quota and schema-drift faults. The suite
(tests/connectors/test_faults.py) runs every scenario against every target and prints a summary table.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests import (
    fault_targets,
)
from tests.fault_base import END, START, FaultTarget, Loaded

__all__ = ["END", "RESULTS", "START", "TARGETS", "FaultTarget", "Loaded", "Outcome", "summary"]


TARGETS: list[FaultTarget] = [
    *fault_targets.discovered(),
]


@dataclass
class Outcome:
    source: str
    scenario: str
    survived: bool
    rows_lost: int


RESULTS: list[Outcome] = []


def summary() -> str:
    """The table the suite prints at the end (n/a: rows that cannot happen for that API, each with
    its reason in the target's ``not_applicable``)."""
    if not RESULTS:
        return ""
    na = {t.source: len(t.not_applicable) for t in TARGETS}
    lines = [
        f"{'source':14} {'faults injected':>16} {'runs survived':>14} {'rows lost':>10} {'n/a':>4}"
    ]
    for source in dict.fromkeys(r.source for r in RESULTS):
        mine = [r for r in RESULTS if r.source == source]
        lines.append(
            f"{source:14} {len(mine):>16} {sum(r.survived for r in mine):>14} "
            f"{sum(r.rows_lost for r in mine):>10} {na.get(source, 0):>4}"
        )
    lines.append(
        f"{'total':14} {len(RESULTS):>16} {sum(r.survived for r in RESULTS):>14} "
        f"{sum(r.rows_lost for r in RESULTS):>10} {sum(na.values()):>4}"
    )
    return "\n".join([*lines, *ROWS_LOST_NOTE])


# What the "rows lost" column can and cannot show, printed under the table.
ROWS_LOST_NOTE = (
    "rows lost: rows of the clean load missing afterwards. After a fatal fault it is 0 by",
    "construction (the window is pulled in full before the write transaction opens, so a failing",
    "pull never writes); that an interrupted write keeps the old rows is proven by",
    "tests/warehouse/test_raw_loader.py and tests/warehouse/test_postgres_warehouse.py (failed inserts, killed processes).",
)
