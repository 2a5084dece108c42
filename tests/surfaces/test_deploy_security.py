"""Who can reach the UI, and secrets at rest.

- No shipped deployment file binds a webserver to a public address (a read-only view aside).
- The Caddy recipe of docs/deployment.md validates, asks for a password and proxies both views;
  the read-only unit's webserver refuses to launch runs.
- The systemd units agree with the documented install steps, and systemd accepts them.
- A `.env` or key file that other users can read is reported with the file and `chmod 600`.
"""

from __future__ import annotations

import getpass
import logging
import re
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from pipelines.cli import main
from pipelines.lib.secret_files import exposure, secret_files, warn_about_exposed_secret_files
from sources.emulators.google_auth import write_demo_service_account
from tests.dagster_ui import free_port, graphql, shell, wait_for_location
from tests.documented_commands import ROOT, commands_in, fresh_clone, user_env

DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))

# ---------------------------------------------------------------------------- public binds

WEBSERVER = re.compile(r"(?:dagster-webserver|dagster\s+dev|kpi\s+ui)\b(?P<args>[^\n`|;&]*)")
HOST_OPTION = re.compile(r"(?:^|\s)(?:-h|--host|--dagit-host)(?:\s+|=)['\"]?([^\s'\"]+)")
HOST_VARIABLE = re.compile(r"\b(?:DAGSTER_WEBSERVER_HOST|DAGSTER_CLI_DEV_HOST)=['\"]?([^\s'\"]+)")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or re.fullmatch(r"127(\.\d{1,3}){3}", host) is not None


def public_binds(text: str) -> list[str]:
    """Webserver command lines (or host settings) in ``text`` listening beyond loopback without
    ``--read-only``."""
    found = []
    for line in text.splitlines():
        hosts = [m.group(1) for m in HOST_VARIABLE.finditer(line)]
        read_only = False
        for match in WEBSERVER.finditer(line):
            hosts += HOST_OPTION.findall(match.group("args"))
            read_only = read_only or "--read-only" in match.group("args")
        if any(not is_loopback(h) for h in hosts) and not read_only:
            found.append(line.strip())
    return found


def shipped_deployment_files() -> list[Path]:
    """Everything under deploy/, the scripts, CI, the README and docs/."""
    files = [p for p in (ROOT / "deploy").rglob("*") if p.is_file()]
    files += [p for p in (ROOT / "scripts").iterdir() if p.is_file()]
    files += [p for p in (ROOT / ".ci").iterdir() if p.is_file()]
    return sorted([*files, ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


@pytest.mark.parametrize(
    "line",
    [
        "web: .venv/bin/dagster-webserver -m pipelines.definitions -h 0.0.0.0 -p $PORT",
        "ExecStart=/opt/x/.venv/bin/dagster-webserver --host=:: -p 3000",
        "DAGSTER_HOME=$PWD .venv/bin/dagster dev -m pipelines.definitions -h 192.168.1.20",
        ".venv/bin/kpi ui --host kpi.example.com",
        "`dagster-webserver -h '0.0.0.0'`",
        "DAGSTER_WEBSERVER_HOST=0.0.0.0 .venv/bin/dagster-webserver -m pipelines.definitions",
    ],
)
def test_a_public_bind_is_found(line: str) -> None:
    assert public_binds(f"# text\n{line}\n") == [line.strip()]


@pytest.mark.parametrize(
    "line",
    [
        ".venv/bin/dagster-webserver -m pipelines.definitions -h 127.0.0.1 -p ${PORT:-3000}",
        ".venv/bin/dagster-webserver -m pipelines.definitions",  # its default host is 127.0.0.1
        ".venv/bin/dagster dev -m pipelines.definitions --host localhost",
        ".venv/bin/kpi ui -p 3001 -h ::1",
        "dagster-webserver -m pipelines.definitions -h 0.0.0.0 --read-only",
        "ssh -L 3000:127.0.0.1:3000 -h host",  # not a webserver command
    ],
)
def test_a_loopback_or_read_only_bind_passes(line: str) -> None:
    assert public_binds(line) == []


def test_no_shipped_deployment_file_binds_the_webserver_publicly() -> None:
    files = shipped_deployment_files()
    assert ROOT / "deploy" / "Procfile" in files and len(UNITS) >= 3
    found = [
        f"{path.relative_to(ROOT)}: {line}"
        for path in files
        for line in public_binds(path.read_text(errors="replace"))
    ]
    assert found == [], "webservers reachable without authentication:\n" + "\n".join(found)
    # and every webserver the project ships says where it listens
    for path in [ROOT / "deploy" / "Procfile", *UNITS]:
        for match in WEBSERVER.finditer(path.read_text()):
            if "dagster-webserver" in match.group(0):
                assert HOST_OPTION.search(match.group("args")), f"{path.name}: no -h"


# ---------------------------------------------------------------------------- Caddy recipe


def documented_caddy_variables() -> dict[str, str]:
    """The example ``/etc/caddy/kpi-ui.env`` of docs/deployment.md, name -> value."""
    text = DEPLOYMENT_DOC.read_text()
    blocks = re.findall(r"```ini\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if "KPI_UI_ADDRESS=" in b]
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


def caddyfile_variables() -> tuple[set[str], set[str]]:
    """``{$NAME}`` placeholders of the Caddyfile: (required, with a default)."""
    found = re.findall(r"\{\$(\w+)(:[^}]*)?\}", CADDYFILE.read_text())
    return {n for n, d in found if not d}, {n for n, d in found if d}


class Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{self.server.name} saw {self.path}".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def upstream(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def caddy() -> str:
    binary = shutil.which("caddy")
    assert binary, "caddy is not installed: apt-get install caddy (scripts/setup does)"
    return binary


def test_the_caddy_recipe_asks_for_a_password_and_proxies_both_views(tmp_path) -> None:
    required, defaulted = caddyfile_variables()
    documented = documented_caddy_variables()
    assert required == set(documented), "the docs' env example and the Caddyfile disagree"
    table = DEPLOYMENT_DOC.read_text()
    assert [v for v in required | defaulted if f"`{v}`" not in table] == []

    def hash_of(password: str) -> str:
        return subprocess.run(
            [caddy(), "hash-password", "--plaintext", password],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    full, view = upstream("full UI"), upstream("read-only view")
    ports = {"full": free_port(), "view": free_port()}
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "KPI_CADDY_ADMIN": "off",  # no fixed admin port in a test
        "KPI_UI_ADDRESS": f"http://127.0.0.1:{ports['full']}",
        "KPI_UI_USER": "kpi-admin",
        "KPI_UI_PASSWORD_HASH": hash_of("admin password"),
        "KPI_UI_READONLY_ADDRESS": f"http://127.0.0.1:{ports['view']}",
        "KPI_UI_VIEWER": "kpi-viewer",
        "KPI_UI_VIEWER_PASSWORD_HASH": hash_of("viewer password"),
        "KPI_UI_UPSTREAM": f"127.0.0.1:{full.server_port}",
        "KPI_UI_READONLY_UPSTREAM": f"127.0.0.1:{view.server_port}",
    }
    config = ["--config", str(CADDYFILE), "--adapter", "caddyfile"]
    validated = subprocess.run(
        [caddy(), "validate", *config], env=env, capture_output=True, text=True
    )
    assert validated.returncode == 0, validated.stderr
    log = tmp_path / "caddy.log"
    try:
        with shell(" ".join([caddy(), "run", *config]), tmp_path, env, log) as process:
            urls = {k: f"http://127.0.0.1:{p}/runs" for k, p in ports.items()}
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(urls["full"], timeout=2)
                    break
                except requests.ConnectionError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            admin, viewer = ("kpi-admin", "admin password"), ("kpi-viewer", "viewer password")
            for site in urls:
                anonymous = requests.get(urls[site], timeout=5)
                assert anonymous.status_code == 401
                assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
                wrong = requests.get(urls[site], auth=(admin[0], "guess"), timeout=5)
                assert wrong.status_code == 401
            assert requests.get(urls["full"], auth=viewer, timeout=5).status_code == 401
            assert requests.get(urls["view"], auth=admin, timeout=5).status_code == 401
            let_in = requests.get(urls["full"], auth=admin, timeout=5)
            assert (let_in.status_code, let_in.text) == (200, "full UI saw /runs")
            looks = requests.get(urls["view"], auth=viewer, timeout=5)
            assert (looks.status_code, looks.text) == (200, "read-only view saw /runs")
    finally:
        full.shutdown()
        view.shutdown()


def unit(path: Path) -> dict[str, list[str]]:
    """A systemd unit's settings, key -> values in order (sections flattened)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


READONLY_UNIT = ROOT / "deploy" / "systemd" / "kpi-dagster-webserver-readonly.service"


def test_the_read_only_units_webserver_refuses_to_launch_runs(tmp_path) -> None:
    """The read-only unit's ExecStart, run in a fresh copy (paths and port rewritten)."""
    settings = unit(READONLY_UNIT)
    (workdir,) = settings["WorkingDirectory"]
    clone = fresh_clone(tmp_path / "kpi-pipeline")
    port = free_port()
    (exec_start,) = settings["ExecStart"]
    command = exec_start.replace(workdir, str(clone)).replace("-p 3001", f"-p {port}")
    assert "--read-only" in command and f"-p {port}" in command
    log = tmp_path / "readonly.log"
    env = user_env(tmp_path / "home", DAGSTER_HOME=str(clone))
    with shell(command, clone, env, log) as process:
        wait_for_location(port, process, log)
        permissions = {
            p["permission"]: p["value"]
            for p in graphql(port, "{ permissions { permission value } }")["permissions"]
        }
    assert permissions["launch_pipeline_execution"] is False
    assert (
        permissions["start_schedule"] is False
        and permissions["terminate_pipeline_execution"] is False
    )


# ---------------------------------------------------------------------------- systemd units


def test_the_systemd_units_match_the_documented_install(tmp_path) -> None:
    commands = [c.text for c in commands_in(DEPLOYMENT_DOC)]
    (useradd,) = [c for c in commands if c.startswith("sudo useradd")]
    user, home = useradd.split()[-1], useradd.split("--home ")[1].split()[0]
    (clone,) = [c for c in commands if " git clone " in c]
    assert f" {home} " in f"{clone} " and f"cd {home}" in commands
    (env_install,) = [c for c in commands if c.endswith(" /etc/kpi-pipeline/env")]
    assert " -m 600 " in env_install
    enabled = {
        word
        for c in commands
        if c.startswith("sudo systemctl ") and c.split()[2] in ("enable", "restart")
        for word in c.split()[3:]
        if word.startswith("kpi-")
    }
    assert enabled == {path.stem for path in UNITS}
    for path in UNITS:
        settings = unit(path)
        assert settings["User"] == [user], path.name
        assert settings["WorkingDirectory"] == [home], path.name
        assert settings["EnvironmentFile"] == ["/etc/kpi-pipeline/env"], path.name
        assert any(e.startswith("DAGSTER_HOME=") for e in settings["Environment"]), path.name
        (exec_start,) = settings["ExecStart"]
        tool = exec_start.split()[0]
        assert tool.startswith(f"{home}/.venv/bin/"), path.name
        assert (ROOT / tool.removeprefix(f"{home}/")).exists(), f"{path.name}: no {tool}"
        assert "-m pipelines.definitions" in exec_start, path.name
    # systemd itself accepts them (paths rewritten to this checkout, run as this user)
    verify = shutil.which("systemd-analyze")
    assert verify, "systemd-analyze is missing (Debian package systemd)"
    for path in UNITS:
        text = (
            path.read_text()
            .replace(home, str(ROOT))
            .replace(f"User={user}", "User=" + getpass.getuser())
        )
        text = text.replace("EnvironmentFile=", "EnvironmentFile=-")
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [verify, "verify", *(str(tmp_path / p.name) for p in UNITS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- secrets at rest


def test_a_secret_file_other_users_can_read_is_reported_with_the_fix(tmp_path, caplog) -> None:
    env_file, key = tmp_path / ".env", tmp_path / "key.json"
    env_file.write_text("PGPASSWORD=x\n")
    key.write_text("{}")
    environ = {"GOOGLE_APPLICATION_CREDENTIALS": str(key)}
    assert secret_files(tmp_path, environ) == [env_file, key]
    env_file.chmod(0o644)
    key.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="pipelines.lib.secret_files"):
        problems = warn_about_exposed_secret_files(tmp_path, environ)
    assert problems == [
        f"{env_file} holds secrets and is readable by group and others (mode 0644); "
        f"make it private to its owner: chmod 600 {env_file}",
        f"{key} holds secrets and is readable by group (mode 0640); "
        f"make it private to its owner: chmod 600 {key}",
    ]
    assert [r.getMessage() for r in caplog.records] == problems
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    env_file.chmod(0o600)
    key.chmod(0o600)
    assert exposure(env_file) is None and exposure(key) is None
    assert warn_about_exposed_secret_files(tmp_path, environ) == []


def no_source_calls(monkeypatch) -> None:
    """The doctor's provider calls (FX's public API is always configured) are tested against the
    emulators in tests/connectors/test_doctor.py; here there is no network."""
    monkeypatch.setattr("pipelines.connectors.doctor.check_sources", lambda sources: [])


def test_kpi_doctor_names_the_readable_key_file_and_fails(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("pipelines.lib.secret_files.PROJECT_ROOT", tmp_path)  # no .env there
    no_source_calls(monkeypatch)
    key = tmp_path / "key.json"
    key.write_text("{}")
    key.chmod(0o644)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert main(["doctor"]) == 1
    assert f"PROBLEM: {key} holds secrets" in capsys.readouterr().out
    key.chmod(0o600)
    assert main(["doctor"]) == 0
    assert capsys.readouterr().out.strip().endswith("ok")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    assert main(["doctor"]) == 1
    assert "missing.json does not exist" in capsys.readouterr().out


def test_kpi_doctor_fails_on_a_sunset_api_version(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr("pipelines.lib.secret_files.PROJECT_ROOT", tmp_path)
    no_source_calls(monkeypatch)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("GOOGLE_ADS_API_VERSION", "v21")  # sunset on 2026-08-05
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM:" in out and "GOOGLE_ADS_API_VERSION" in out
    monkeypatch.delenv("GOOGLE_ADS_API_VERSION")
    assert main(["doctor"]) == 0
    assert "api version" in capsys.readouterr().out


def test_the_demos_throwaway_key_is_private_to_its_owner(tmp_path) -> None:
    key = write_demo_service_account(tmp_path / "demo" / "service_account.json", "http://x/token")
    assert key.stat().st_mode & 0o777 == 0o600
    assert exposure(key) is None
