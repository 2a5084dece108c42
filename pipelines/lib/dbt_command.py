"""``kpi-dbt``: dbt's own command line, as the venv's ``dbt`` runs it, ending its process without
Python's interpreter teardown.

dbt-core loads thousands of modules and a manifest of ~300 nodes; tearing them down after
``dbt build`` has finished took ~0.6 s of every dbt step (docs/decisions.md, decision 70). This
entry point runs ``dbt.cli.main.cli`` unchanged, runs the exit handlers Python would run (log
files, multiprocessing's semaphores) and ends the process with dbt's exit code, skipping only the
teardown of modules and objects. dbt-duckdb has closed the database by then (it closes it with the
command's last connection; the profile does not set ``keep_open``), and a PostgreSQL warehouse's
connections are closed with the process. Anything other than dbt's normal exit (an exception,
Ctrl-C) ends as usual.

It also serves the JSON schemas dbt validates the project, profile and selectors against from
``dbt_project/target/`` instead of building them in every process (~0.3 s;
``pipelines.lib.serializers``, decision 71).
"""

from __future__ import annotations

import atexit
import os
import sys

from pipelines.lib.serializers import keep_dbt_json_schemas
from pipelines.lib.venv_tools import DBT_PROJECT_DIR


def exit_code(status: object) -> int:
    """The process exit code of ``SystemExit(status)``, as Python computes it."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1


def main() -> None:
    keep_dbt_json_schemas(DBT_PROJECT_DIR / "target")
    from dbt.cli.main import cli

    try:
        cli()
        status: object = None
    except SystemExit as exit_:
        status = exit_.code
    code = exit_code(status)
    atexit._run_exitfuncs()  # what Python runs at exit, before its teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
