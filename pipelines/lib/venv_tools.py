"""The project's command-line tools (dbt, dagster) found beside the running Python.

Commands are documented as ``.venv/bin/...`` without activating the venv, so ``.venv/bin`` is
usually not on ``PATH``: every process that starts dbt or dagster looks next to its own
interpreter first, then on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pipelines.lib.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def venv_tool(name: str) -> str:
    """The executable ``name`` beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name) or name


def dbt_executable() -> str:
    """The dbt the project runs: the venv's ``kpi-dbt``, dbt's own command line ending without
    Python's teardown (``pipelines.lib.dbt_command``; dagster-dbt alone would look for ``dbt``
    on PATH only)."""
    return venv_tool("kpi-dbt")


def prepare_dbt(env: Mapping[str, str] | None = None) -> None:
    """Write the dbt manifest the Dagster code location loads (``dbt parse``)."""
    result = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        cwd=PROJECT_ROOT,
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise RuntimeError(
            f"dbt parse failed (exit {result.returncode}) in {DBT_PROJECT_DIR}: {output}\n"
            "Fix the model named above, then run `.venv/bin/kpi prepare`."
        )
