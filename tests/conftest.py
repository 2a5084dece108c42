"""Shared fixtures: an in-process emulator stack and a throwaway warehouse.

The suite runs on pytest-xdist workers (``-n auto --dist loadfile`` in pyproject.toml): each test
module stays on one worker with its module-scoped warehouse, and each worker gets its own dbt
target folder so two dbt processes never write the same manifest or run results.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from sources.emulators.stack import EmulatorStack, build_stack
from sources.http import RetryPolicy


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[EmulatorStack]:
    """All emulators on a free local port, with a fresh throwaway service account."""
    emulators = build_stack(tmp_path / "service_account.json")
    emulators.server.start()
    try:
        yield emulators
    finally:
        emulators.server.stop()


@pytest.fixture(scope="session", autouse=True)
def landing_zone_per_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every run lands its pages in this worker's own landing zone, never the project's data/."""
    patch = pytest.MonkeyPatch()
    patch.setenv("KPI_LANDING_PATH", str(tmp_path_factory.mktemp("landing")))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def dbt_target_per_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point dbt (and dagster-dbt's per-invocation folders) at this worker's own target folder."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    from pipelines.defs.dbt import DBT_PROJECT_DIR

    target = tmp_path_factory.mktemp("dbt_target")
    partial = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():  # keeps `dbt test` from re-parsing the whole project
        shutil.copy(partial, target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target))
        yield


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Retries without real sleeping; the waits asked for are recorded in ``.waits``."""
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=5, sleep=waits.append)
    policy.waits = waits  # type: ignore[attr-defined]
    return policy


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand the fault suite's outcomes to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        from tests.faults import RESULTS

        output["fault_outcomes"] = [asdict(r) for r in RESULTS]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """On the xdist controller: collect each worker's fault outcomes for the summary table."""
    from tests.faults import RESULTS, Outcome

    RESULTS.extend(Outcome(**o) for o in node.workeroutput.get("fault_outcomes", []))


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the fault suite's summary table (faults injected, runs survived, rows lost)."""
    from tests.faults import summary

    table = summary()
    if table:
        terminalreporter.write_sep("=", "fault suite")
        terminalreporter.write_line(table)
