"""A one-asset code location with the project's run recovery, for the tests' CLI and daemon runs.

Starting it takes seconds, where the real graph takes most of a minute: the tests of how a run
treats the pool's holders need a real `dagster asset materialize` process, not the whole graph.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.run_recovery import dead_run_recovery, recovering_in_process_executor
from pipelines.lib.partitions import WAREHOUSE_POOL


@dg.asset(pool=WAREHOUSE_POOL)
def pooled_step() -> int:
    return 1


defs = dg.Definitions(
    assets=[pooled_step], sensors=[dead_run_recovery], executor=recovering_in_process_executor
)
