"""The docker-free service setup: the Procfile's webserver and daemon start and answer."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import dagster as dg
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def words(command: str) -> tuple[dict[str, str], list[str]]:
    """A Procfile line as a shell runs it: leading ``NAME=value`` assignments, then the argv."""
    argv = command.split()
    assigned = {}
    while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", argv[0]):
        name, _, value = argv.pop(0).partition("=")
        assigned[name] = value
    return assigned, argv


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
    # the documented first step on a new DAGSTER_HOME (deploy/Procfile, docs/deployment.md)
    subprocess.run(
        [".venv/bin/dagster", "instance", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    commands = {
        name: re.sub(r"\$\{PORT:-\d+\}", str(port), cmd) for name, cmd in procfile().items()
    }
    assert set(commands) == {"webserver", "daemon"}
    processes = {
        name: subprocess.Popen(
            words(cmd)[1],
            cwd=ROOT,
            env={**env, **words(cmd)[0]},
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


def test_the_production_extra_runs_the_production_instance_on_postgresql(
    tmp_path, monkeypatch
) -> None:
    """`pip install -e '.[production]'` (part of `.[dev]`) + deploy/dagster.production.yaml: the
    instance stores runs and events in a throwaway PostgreSQL server."""
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    from tools.pg_local import PORT, SUPERUSER, remove, start_local_postgres

    server = start_local_postgres()
    try:
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            (ROOT / "deploy" / "dagster.production.yaml").read_text()
        )
        for name, value in {
            # no host in the URL: libpq falls back to PGHOST, the server's unix socket directory
            "DAGSTER_PG_HOST": "",
            "PGHOST": str(server.directory),
            "DAGSTER_PG_PORT": str(PORT),
            "DAGSTER_PG_DB": "kpi",
            "DAGSTER_PG_USER": SUPERUSER,
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
            "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "compute_logs"),
        }.items():
            monkeypatch.setenv(name, value)
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            assert isinstance(instance.run_storage, PostgresRunStorage)
            assert isinstance(instance.event_log_storage, PostgresEventLogStorage)

            @dg.asset
            def stored_in_postgres() -> int:
                return 1

            result = dg.materialize([stored_in_postgres], instance=instance)
            assert result.success
            (record,) = instance.get_run_records()
            assert record.dagster_run.run_id == result.run_id
            assert instance.get_latest_materialization_event(dg.AssetKey("stored_in_postgres"))
        finally:
            instance.dispose()
    finally:
        remove(server)
