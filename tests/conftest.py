"""Shared fixtures: an in-process emulator stack and a throwaway warehouse."""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Retries without real sleeping; the waits asked for are recorded in ``.waits``."""
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=5, sleep=waits.append)
    policy.waits = waits  # type: ignore[attr-defined]
    return policy


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the fault suite's summary table (faults injected, runs survived, rows lost)."""
    from tests.faults import summary

    table = summary()
    if table:
        terminalreporter.write_sep("=", "fault suite")
        terminalreporter.write_line(table)
