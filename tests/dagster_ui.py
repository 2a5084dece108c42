"""Start a Dagster process the way a user would and ask its webserver what it loaded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests

LOAD_DEADLINE = 300  # seconds; a hang guard, not a speed requirement

LOCATION_QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename
    ... on PythonError { message stack }
    ... on RepositoryLocation { repositories { name
      jobs { name } schedules { name } sensors { name }
      assetNodes { assetKey { path } groupName
        assetChecksOrError { __typename ... on AssetChecks { checks { name } } } } } } } } } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def shell(command: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``bash -c command`` in its own process group, stopped (group and all) on exit."""
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with suppress(ProcessLookupError):  # code servers and daemons left by a hard stop
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def graphql(port: int, query: str) -> dict[str, Any]:
    response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def wait_for_location(port: int, process: subprocess.Popen, log: Path) -> dict[str, Any]:
    """The code location's entry once the webserver reports it loaded (or failed to load)."""
    deadline = time.monotonic() + LOAD_DEADLINE
    while True:
        assert process.poll() is None, f"the UI exited: {log.read_text()[-5000:]}"
        assert time.monotonic() < deadline, f"no code location loaded: {log.read_text()[-5000:]}"
        try:
            workspace = graphql(port, LOCATION_QUERY)["workspaceOrError"]
            entries = workspace.get("locationEntries") or []
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                assert [e["name"] for e in entries] == ["pipelines.definitions"]
                return entries[0]
        except requests.ConnectionError:
            pass
        time.sleep(1)


def repository(entry: dict[str, Any]) -> dict[str, Any]:
    """The loaded repository of a location entry; fails with the load error otherwise."""
    loaded = entry["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", (
        f"{entry['name']} failed to load: {loaded.get('message')}\n{''.join(loaded.get('stack', []))}"
    )
    (repo,) = loaded["repositories"]
    return repo


def add_ui_backfill(
    instance: Any, asset_graph: Any, assets: Any, days: list[str], backfill_id: str
) -> None:
    """Add the asset backfill the UI's Materialize with a partition range creates (GraphQL's
    ``launchPartitionBackfill``): ``days`` of every partitioned asset of ``assets``, and the
    unpartitioned ones; the daemon runs it."""
    from dagster._core.execution.backfill import PartitionBackfill

    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=asset_graph,
        partition_names=days,
        asset_selection=sorted(assets),
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
