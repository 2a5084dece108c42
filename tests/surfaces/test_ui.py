"""The UI and the daemon as the README documents them, on a fresh copy, without the venv on PATH.

The README's command line runs unchanged through ``bash -c`` in a copy of the project (so
``DAGSTER_HOME=$PWD`` keeps the instance out of the repository); only the port comes from the
environment (``DAGSTER_CLI_DEV_PORT``, click's variable for ``dagster dev -p``). The webserver's
GraphQL API must show the code location loaded without error and every asset, check, job,
schedule and sensor of ``pipelines.definitions``; headless Chromium renders the asset graph.
Set ``KPI_UPDATE_DOCS_IMAGES=1`` to refresh ``docs/asset-graph.png`` from this run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pipelines.cli import ui_command
from tests import browser
from tests.dagster_ui import LOAD_DEADLINE, free_port, repository, shell, wait_for_location
from tests.documented_commands import ROOT, documented, fresh_clone, user_env

DOCUMENTED_UI = "DAGSTER_HOME=$PWD .venv/bin/dagster dev"
DOCUMENTED_KPI_UI = ".venv/bin/kpi ui"
DOCUMENTED_DAEMON = "DAGSTER_HOME=$PWD .venv/bin/dagster-daemon run"
SCREENSHOT = ROOT / "docs" / "asset-graph.png"


def expected_definitions() -> dict[str, set[str]]:
    """What ``pipelines.definitions`` defines, by kind, as names the GraphQL API shows."""
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    graph = repo.asset_graph
    return {
        "assets": {"/".join(key.path) for key in graph.get_all_asset_keys()},
        "checks": {f"{'/'.join(k.asset_key.path)}:{k.name}" for k in graph.asset_check_keys},
        "jobs": {job.name for job in repo.get_all_jobs()},
        "schedules": {schedule.name for schedule in repo.schedule_defs},
        "sensors": {sensor.name for sensor in repo.sensor_defs},
        "groups": {
            graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key)
        },
    }


def shown_definitions(repo: dict[str, Any]) -> dict[str, set[str]]:
    nodes = repo["assetNodes"]
    return {
        "assets": {"/".join(n["assetKey"]["path"]) for n in nodes},
        "checks": {
            f"{'/'.join(n['assetKey']['path'])}:{check['name']}"
            for n in nodes
            for check in n["assetChecksOrError"].get("checks", [])
        },
        "jobs": {job["name"] for job in repo["jobs"]},
        "schedules": {schedule["name"] for schedule in repo["schedules"]},
        "sensors": {sensor["name"] for sensor in repo["sensors"]},
        "groups": {n["groupName"] for n in nodes},
    }


def assert_everything_is_there(repo: dict[str, Any]) -> None:
    expected, shown = expected_definitions(), shown_definitions(repo)
    for kind, names in expected.items():
        assert shown[kind] == names, (
            f"{kind}: missing {sorted(names - shown[kind])}, extra {sorted(shown[kind] - names)}"
        )
    assert len(expected["assets"]) > 100 and len(expected["checks"]) > 100  # the real graph


@pytest.fixture(scope="module")
def documented_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The README's daemon command, started as written in its own fresh copy (no venv on PATH);
    it loads while the UI below does."""
    work = tmp_path_factory.mktemp("daemon")
    clone = fresh_clone(work / "kpi-pipeline")
    log = work / "daemon.log"
    with shell(documented(DOCUMENTED_DAEMON), clone, user_env(work / "home"), log) as process:
        yield {"process": process, "log": log}


@pytest.fixture(scope="module")
def documented_ui(
    tmp_path_factory: pytest.TempPathFactory, documented_daemon
) -> Iterator[dict[str, Any]]:
    """The README's UI command, run as written in a fresh copy with no venv on PATH."""
    command = documented(DOCUMENTED_UI)
    work = tmp_path_factory.mktemp("ui")
    clone = fresh_clone(work / "kpi-pipeline")
    manifest = clone / "dbt_project" / "target" / "manifest.json"
    prepared = manifest.stat().st_mtime_ns
    # A readable `.env`: the code location must warn about it at start-up (and still load).
    (clone / ".env").write_text("KPI_TIMEZONE=UTC\n")
    (clone / ".env").chmod(0o644)
    (clone / ".nux").mkdir()  # Dagster's "join the community" pop-up: seen (keeps it off the shot)
    (clone / ".nux" / "nux.yaml").write_text("seen: 1\n")
    port = free_port()
    env = user_env(work / "home", DAGSTER_CLI_DEV_PORT=str(port))
    log = work / "dagster-dev.log"
    with shell(command, clone, env, log) as process:
        entry = wait_for_location(port, process, log)
        yield {
            "port": port,
            "entry": entry,
            "log": log,
            "clone": clone,
            "work": work,
            "reparsed": manifest.stat().st_mtime_ns > prepared,
        }


def test_the_documented_ui_loads_every_definition_without_the_venv_on_path(documented_ui) -> None:
    assert_everything_is_there(repository(documented_ui["entry"]))
    assert documented_ui["reparsed"], "dagster dev did not re-parse the dbt project (venv's dbt)"


def test_the_code_location_warns_at_start_up_about_a_readable_env_file(documented_ui) -> None:
    env_file = documented_ui["clone"] / ".env"
    log = documented_ui["log"].read_text()
    assert f"{env_file} holds secrets and is readable by group and others (mode 0644)" in log
    assert f"chmod 600 {env_file}" in log


def test_the_asset_graph_renders_in_headless_chromium(documented_ui) -> None:
    url = f"http://127.0.0.1:{documented_ui['port']}/asset-groups"
    work = documented_ui["work"]
    shot = work / "asset-graph.png"
    base = [
        browser.chromium(),
        *browser.FLAGS,
        f"--user-data-dir={work / 'chromium'}",
        "--window-size=1600,1000",
        "--virtual-time-budget=20000",  # let the app fetch the graph and lay it out
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, text=True, timeout=180, check=True
    ).stdout
    missing = sorted(g for g in expected_definitions()["groups"] if f">{g}<" not in dom)
    assert missing == [], f"asset groups not in the rendered graph: {missing}"
    subprocess.run(
        [*base, f"--screenshot={shot}", url], capture_output=True, timeout=180, check=True
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("KPI_UPDATE_DOCS_IMAGES"):
        shutil.copy(shot, SCREENSHOT)
    assert SCREENSHOT.exists(), "run this test with KPI_UPDATE_DOCS_IMAGES=1 to create it"
    assert "docs/asset-graph.png" in (ROOT / "README.md").read_text()


def test_kpi_ui_runs_the_same_command_line(tmp_path) -> None:
    """``kpi ui [args]`` = the README's ``dagster dev`` line from the project root, args passed on."""
    argv, env = ui_command(["-p", "3001"], {"PATH": "/usr/bin"})
    readme = documented(DOCUMENTED_UI).split()
    assert readme[0] == "DAGSTER_HOME=$PWD"
    assert env["DAGSTER_HOME"] == str(ROOT)
    assert argv == [str(ROOT / readme[1]), *readme[2:], "-p", "3001"]
    _, kept = ui_command([], {"DAGSTER_HOME": str(tmp_path)})
    assert kept["DAGSTER_HOME"] == str(tmp_path)


def test_kpi_ui_as_documented_starts_the_venvs_dagster_dev(tmp_path) -> None:
    """``.venv/bin/kpi ui`` with no venv on PATH hands its arguments to the venv's `dagster dev`:
    an option dagster dev rejects comes back as dagster dev's own usage error (the same command
    line is started for real above)."""
    command = documented(DOCUMENTED_KPI_UI)
    result = subprocess.run(
        ["bash", "-c", f"{command} --log-level nonsense"],
        cwd=ROOT,
        env=user_env(tmp_path, DAGSTER_HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Usage: dagster dev" in result.stderr
    assert "Invalid value for '--log-level'" in result.stderr
    assert f"(DAGSTER_HOME={tmp_path})" in result.stdout


def test_the_documented_daemon_runs_the_sensor_without_the_venv_on_path(
    documented_daemon, documented_ui
) -> None:
    """``dagster-daemon run`` as the README shows it: it loads the code location (no re-parse
    outside `dagster dev`: the manifest `kpi prepare` wrote) and ticks the sensor."""
    process, log = documented_daemon["process"], documented_daemon["log"]
    deadline = time.monotonic() + LOAD_DEADLINE
    while "Checking for new runs for sensor: kpi_alert_sensor" not in log.read_text():
        assert process.poll() is None, f"the daemon exited: {log.read_text()[-5000:]}"
        assert time.monotonic() < deadline, f"no sensor tick: {log.read_text()[-5000:]}"
        time.sleep(1)
    assert "Error" not in log.read_text(), log.read_text()[-5000:]
