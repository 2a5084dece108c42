"""The demo: local API emulators + the real pipeline, for the last 90 days, no credentials.

Starts the emulators as a separate process, points every connector at them, prepares the dbt
manifest, runs the run-contract command (``dagster asset materialize ... --partition-range``) and
prints a KPI summary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import requests

from pipelines.lib.settings import PROJECT_ROOT, duckdb_path
from pipelines.lib.venv_tools import prepare_dbt, venv_tool
from pipelines.warehouse.connection import warehouse_target
from sources import progress
from sources.emulators.stack import demo_settings

DEMO_DIR = PROJECT_ROOT / "data" / "demo"
DEMO_DAYS = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def emulators(service_account: Path) -> Iterator[dict[str, str]]:
    """Run ``python -m sources.emulators`` and yield the settings that point at it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sources.emulators",
            "--port",
            str(port),
            "--service-account",
            str(service_account),
        ],
        cwd=PROJECT_ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/_emulator/health", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API emulators did not start") from None
                time.sleep(0.2)
        yield demo_settings(base, service_account)
    finally:
        process.terminate()
        process.wait(timeout=10)


# (what, command as the README shows it, note): printed after the demo, each command tested by
# tests/test_readme_commands.py like every documented one.
NEXT_STEPS = [
    ("the UI", ".venv/bin/kpi ui", "(dagster dev; open http://127.0.0.1:3000)"),
    ("this week", ".venv/bin/kpi status", ""),
    ("one KPI", ".venv/bin/kpi explain digital.bounce_rate", ""),
    (
        "query it",
        ".venv/bin/kpi sql \"select * from marts.kpi_values where grain = 'month' "
        "and segment = 'all'\"",
        "(BI tools: data/marts.duckdb)",
    ),
]

PROGRESS_EVENTS = ("STEP_SUCCESS", "STEP_FAILURE", "RUN_SUCCESS", "RUN_FAILURE")


def progress_line(line: str) -> str | None:
    """The console line for one line of Dagster's run output: step and run outcomes, warnings,
    errors and progress lines; None for the rest (debug events, dbt's node lines), which only the log keeps."""
    parts = line.rstrip("\n").split(" - ")
    if len(parts) < 3 or parts[1] != "dagster":
        return None
    for i, part in enumerate(parts[3:], start=3):
        if part in PROGRESS_EVENTS:
            return f"  {part.lower():13} {' - '.join(parts[i + 1 :])}"
    if parts[2] in ("WARNING", "ERROR", "CRITICAL"):
        return "  " + " - ".join(parts[2:])
    if parts[-1].startswith(f"{progress.PREFIX} "):  # a long step's progress (sources.progress)
        return f"  {parts[-1]}"
    return None


def materialize(
    env: dict[str, str], start: date, end: date, select: str = "*", log: Path | None = None
) -> None:
    """The run contract: one run for the whole range. With ``log``, the run's whole output goes
    there and the console shows progress only; a failed run prints the log's non-debug end."""
    command = [
        venv_tool("dagster"),
        "asset",
        "materialize",
        "-m",
        "pipelines.definitions",
        "--select",
        select,
        "--partition-range",
        f"{start.isoformat()}...{end.isoformat()}",
    ]
    print("$ " + " ".join(command), flush=True)
    if log is None:
        subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True)
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"  (full output: {log})", flush=True)
    with (
        log.open("w") as out,
        subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if progress := progress_line(line):
                print(progress, flush=True)
    if process.returncode:
        lines = log.read_text(errors="replace").splitlines()
        print("\n".join(line for line in lines if " - DEBUG - " not in line)[-20000:])
        raise RuntimeError(f"the run failed (exit {process.returncode}); full output in {log}")


def print_monitoring(database: Path) -> None:
    """Targets and drift: what the checks say, next to the incidents the demo company injects."""
    from pipelines.defs.schedules import lookback_days
    from pipelines.kpi.summary import render_drift, render_targets
    from sources.emulators.company import incident_on

    today = date.today()
    print("Targets (marts.kpi_status, latest period; config/targets.yml):")
    print(render_targets(database))
    print()
    print("Drift against each KPI's own history vs the incidents injected into the demo data:")
    print(
        render_drift(
            database,
            lambda day: incident.kind if (incident := incident_on(day)) else None,
            lambda day: (today - day).days < lookback_days(),
        )
    )
    print(
        "The same results are the `<kpi>__target` / `<kpi>__drift` checks of marts/kpi_values in "
        "the UI (the run's window: worst day for drift, latest day for targets)."
    )


def run_demo(days: int = DEMO_DAYS) -> None:
    from pipelines.kpi.summary import render

    end = date.today() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    env = dict(os.environ)
    env.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    env.setdefault("KPI_START_DATE", "2024-01-01")
    env["PYTHONWARNINGS"] = "ignore"
    os.makedirs(Path(env["DAGSTER_HOME"]) / ".dagster", exist_ok=True)
    with emulators(DEMO_DIR / "service_account.json") as settings:
        env.update(settings)
        prepare_dbt(env)
        materialize(env, start, end, log=DEMO_DIR / "run.log")
    if warehouse_target() == "postgres":
        print()
        print(
            "Warehouse: PostgreSQL (KPI_WAREHOUSE=postgres). The printed summaries read the DuckDB "
            "file; query the marts with psql, e.g. psql -c 'select * from marts.kpi_values limit 5'"
        )
        return
    database = duckdb_path()
    print()
    print(f"KPI summary ({start} .. {end}, demo company, segment 'all'):")
    print(render(database, "week"))
    print()
    print_monitoring(database)
    print()
    print(f"Warehouse: {database}")
    print("Next steps:")
    for what, command, note in NEXT_STEPS:
        print(f"  - {what + ':':15} {command}{'   ' + note if note else ''}")
