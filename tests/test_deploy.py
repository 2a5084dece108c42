"""The docker-free service setup: the Procfile's webserver and daemon start and answer."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_procfile_webserver_and_daemon_start_against_the_code_location(tmp_path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "PORT": str(port),
        "PYTHONWARNINGS": "ignore",
    }
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    commands = {
        name: re.sub(r"\$\{PORT:-\d+\}", str(port), cmd) for name, cmd in procfile().items()
    }
    assert set(commands) == {"webserver", "daemon"}
    processes = {
        name: subprocess.Popen(
            cmd.split(),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, cmd in commands.items()
    }
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                info = requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2)
                if info.ok:
                    break
            except requests.ConnectionError:
                pass
            assert processes["webserver"].poll() is None, processes["webserver"].stderr.read()
            assert time.monotonic() < deadline, "webserver did not answer"
            time.sleep(1)
        assert "dagster_webserver_version" in info.json()
        time.sleep(3)
        assert processes["daemon"].poll() is None, processes["daemon"].stderr.read()
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)


def test_the_production_profile_is_valid_yaml_with_postgres_queue_and_pool() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "dagster.production.yaml").read_text())
    assert "postgres" in config["storage"]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == 1
    for unit in (ROOT / "deploy" / "systemd").glob("*.service"):
        assert "pipelines.definitions" in unit.read_text()
