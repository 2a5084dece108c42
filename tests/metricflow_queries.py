"""Many MetricFlow queries with one engine (one dbt parse, one connection), in its own process so
the DuckDB file is free again when it ends: ``python -m tests.metricflow_queries IN OUT``.

IN is JSON ``[[metric names, group-by names], ...]``; OUT gets, per query, its rows as objects
keyed by column name (dates as ISO strings). The warehouse is the one ``profiles.yml`` names
(``KPI_DUCKDB_PATH``), as for ``mf``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dbt_metricflow.cli.cli_configuration import CLIConfiguration
from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

from pipelines.lib.venv_tools import DBT_PROJECT_DIR


def run(queries: list[list[list[str]]]) -> list[list[dict]]:
    config = CLIConfiguration()
    config.setup(DBT_PROJECT_DIR, DBT_PROJECT_DIR, configure_file_logging=False)
    results = []
    for metrics, group_by in queries:
        request = MetricFlowQueryRequest.create(metric_names=metrics, group_by_names=group_by)
        table = config.mf.query(request).result_df
        assert table is not None
        results.append([dict(zip(table.column_names, row, strict=True)) for row in table.rows])
    return results


if __name__ == "__main__":
    source, target = sys.argv[1:]
    Path(target).write_text(json.dumps(run(json.loads(Path(source).read_text())), default=str))
