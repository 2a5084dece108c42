"""Every shell command the README and docs/ show either runs here or is covered by a named test.

Quick commands run exactly as written (``bash -c``) in a fresh copy of the project, with no venv
on PATH, against a small warehouse in a temporary folder. Long ones (the demo, the suite, the run
contract, the UI, the daemon, the deployment steps) name the test or CI step that covers them;
that test must exist. The benchmark's own commands are a reviewed exception (NOT_RUN, with the
reason). A command that is new or changed is in none of the lists and fails the test until
someone decides which it is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.documented_commands import ROOT, documented_commands, fresh_clone, user_env
from tests.surfaces.test_cli import make_kpi_values

KPI_SQL = (
    ".venv/bin/kpi sql \"select * from marts.kpi_values where grain = 'month' and segment = 'all'\""
)

# command -> a line its output must contain (run here, in a fresh copy)
RUN_HERE: dict[str, str] = {
    ".venv/bin/kpi status": "digital.bounce_rate",
    ".venv/bin/kpi explain digital.bounce_rate": "formula:",
    ".venv/bin/kpi report": "scorecard written to",
    KPI_SQL: "kpi_id",
    ".venv/bin/kpi docs": "dbt docs:",
    ".venv/bin/python -m benchmarks.run --help": "--history-days",
    ".venv/bin/python -m benchmarks.drift --help": "--seeds",
}


@dataclass(frozen=True)
class Covered:
    """Covered elsewhere: ``name`` must be a test function in ``file`` (or, for a script, a
    line of it)."""

    file: str
    name: str
    why: str = ""

    def exists(self) -> bool:
        text = (ROOT / self.file).read_text()
        if self.file.endswith(".py"):
            return re.search(rf"^def {re.escape(self.name)}\(", text, re.M) is not None
        return self.name in text.splitlines()


UI = Covered(
    "tests/surfaces/test_ui.py",
    "test_the_documented_ui_loads_every_definition_without_the_venv_on_path",
)
RUN_CONTRACT = Covered(
    "tests/defs/test_run_contract.py", "test_two_run_contract_commands_at_once_both_finish"
)
INSTALL = Covered(
    "tests/surfaces/test_deploy_security.py",
    "test_the_systemd_units_match_the_documented_install",
    "root-only steps on a server: the test checks the units, users, paths and the env file the "
    "steps create agree, and that systemd accepts the units",
)
CADDY = Covered(
    "tests/surfaces/test_deploy_security.py",
    "test_the_caddy_recipe_asks_for_a_password_and_proxies_both_views",
    "the test starts Caddy with deploy/Caddyfile (validated first) and logs in",
)
REPLAY = Covered(
    "tests/connectors/test_landing.py",
    "test_kpi_replay_rebuilds_the_raw_tables_then_the_models_without_calling_the_api",
    "needs landed files: the test lands a source from its emulator, then replays one and all",
)
# Reviewed: documented commands no test runs, and why.
BENCHMARK = "a measurement taking minutes to an hour (its results are docs/performance.md)"
NOT_RUN: dict[str, str] = {
    ".venv/bin/python -m benchmarks.extract": BENCHMARK,
    ".venv/bin/python -m benchmarks.extract --days 90": BENCHMARK,
    ".venv/bin/pip install -e '.[bench]'": "installs dlt from the package registry into the venv",
    ".venv/bin/python -m benchmarks.run": BENCHMARK,
    ".venv/bin/python -m benchmarks.run --sections e2e": BENCHMARK,
    ".venv/bin/python -m benchmarks.run --sections ingest": BENCHMARK,
    ".venv/bin/python -m benchmarks.run --sections startup,contract": BENCHMARK,
    ".venv/bin/python -m benchmarks.run --quick": BENCHMARK,
    ".venv/bin/python -m benchmarks.dashboard": BENCHMARK,
    ".venv/bin/python -m benchmarks.dashboard --warehouse data/warehouse.duckdb": BENCHMARK,
    ".venv/bin/python -m benchmarks.drift": "five synthetic years, minutes (results: docs/drift.md)",
}

COVERED: dict[str, Covered] = {
    "scripts/demo": Covered(
        ".ci/run",
        "exec scripts/postgres_check --days 14",
        "CI runs the demo's steps (emulators, kpi prepare, the run contract) for 14 days",
    ),
    "scripts/test": Covered(".ci/run", "scripts/test", "CI runs it"),
    ".venv/bin/kpi ui": Covered(
        "tests/surfaces/test_ui.py", "test_kpi_ui_as_documented_starts_the_venvs_dagster_dev"
    ),
    "DAGSTER_HOME=$PWD .venv/bin/dagster dev -m pipelines.definitions": UI,
    "DAGSTER_HOME=$PWD .venv/bin/dagster-daemon run -m pipelines.definitions": Covered(
        "tests/surfaces/test_ui.py",
        "test_the_documented_daemon_runs_the_sensor_without_the_venv_on_path",
    ),
    "DAGSTER_HOME=$PWD .venv/bin/dagster asset materialize -m pipelines.definitions "
    "--select '*' --partition-range 2025-01-01...2025-01-31": RUN_CONTRACT,
    "DAGSTER_HOME=/var/lib/kpi-pipeline/dagster .venv/bin/dagster asset materialize "
    "-m pipelines.definitions --select '*' --partition-range 2025-01-01...2025-06-30": RUN_CONTRACT,
    "sudo useradd --system --home /opt/kpi-pipeline kpi": INSTALL,
    "sudo -u kpi git clone <your fork> /opt/kpi-pipeline && cd /opt/kpi-pipeline": INSTALL,
    "sudo -u kpi scripts/setup": Covered(
        "scripts/test", "scripts/setup", "every suite run starts so"
    ),
    "sudo install -d -m 750 -o root -g kpi /etc/kpi-pipeline": INSTALL,
    "sudo install -m 600 -o root -g root .env.example /etc/kpi-pipeline/env": INSTALL,
    "sudo install -m 600 -o kpi -g kpi key.json /etc/kpi-pipeline/service-account.json": INSTALL,
    "sudo cp deploy/systemd/*.service /etc/systemd/system/": INSTALL,
    "sudo systemctl daemon-reload": INSTALL,
    "sudo systemctl enable --now kpi-dagster-webserver kpi-dagster-daemon": INSTALL,
    "cd /opt/kpi-pipeline": INSTALL,
    "sudo -u kpi git pull": INSTALL,
    "sudo -u kpi .venv/bin/dagster instance migrate": RUN_CONTRACT,
    "sudo systemctl restart kpi-dagster-daemon kpi-dagster-webserver": INSTALL,
    "sudo apt-get install caddy": CADDY,
    "caddy hash-password": CADDY,
    "sudo cp deploy/Caddyfile /etc/caddy/Caddyfile": CADDY,
    "sudo systemctl edit caddy": CADDY,
    "sudo systemctl enable --now kpi-dagster-webserver-readonly": INSTALL,
    "sudo systemctl reload caddy": CADDY,
    ".venv/bin/kpi metrics paid_ads.cpc --by campaign --grain quarter": Covered(
        "tests/surfaces/test_semantic_layer.py",
        "test_kpi_metrics_answers_cost_per_click_by_campaign_by_quarter",
        "needs a warehouse with paid ads: the test builds one from the emulators",
    ),
    ".venv/bin/kpi replay stripe --range 2026-01-01...2026-01-31": REPLAY,
    ".venv/bin/kpi replay all --range 2026-01-01...2026-01-31 --raw-only": REPLAY,
    ".venv/bin/python -m pipelines.semantic_layer": Covered(
        "tests/surfaces/test_semantic_layer.py",
        "test_the_committed_semantic_layer_is_the_generators_output",
        "the test compares the committed file with what the command writes",
    ),
}


def test_every_documented_command_runs_here_or_names_the_test_that_covers_it() -> None:
    commands = documented_commands()
    assert len(commands) > 20
    listed = [set(RUN_HERE), set(COVERED), set(NOT_RUN)]
    assert all(not (a & b) for i, a in enumerate(listed) for b in listed[i + 1 :])
    known = set().union(*listed)
    unknown = [str(c) for c in commands if c.text not in known]
    assert unknown == [], (
        "new or changed documented commands: add each to RUN_HERE (quick) or COVERED (the test "
        "that runs it) in tests/test_readme_commands.py:\n" + "\n".join(unknown)
    )
    stale = sorted(known - {c.text for c in commands})
    assert stale == [], f"no longer documented, remove from the lists: {stale}"


def test_the_demos_next_steps_are_documented_commands() -> None:
    from pipelines.demo import NEXT_STEPS

    documented = {c.text for c in documented_commands() if c.file == "README.md"}
    assert [cmd for _, cmd, _ in NEXT_STEPS if cmd not in documented] == []
    assert NEXT_STEPS[0][1] == ".venv/bin/kpi ui"


@pytest.mark.parametrize(
    "covered", sorted(set(COVERED.values()), key=repr), ids=lambda c: f"{c.file}::{c.name}"
)
def test_the_covering_test_exists(covered: Covered) -> None:
    assert covered.exists(), f"{covered.file} has no {covered.name!r}"


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A fresh copy of the project and a small warehouse outside it."""
    work = tmp_path_factory.mktemp("commands")
    clone = fresh_clone(work / "kpi-pipeline")
    make_kpi_values(work / "warehouse.duckdb")
    target = work / "dbt_target"  # dbt output stays out of the repository
    target.mkdir()
    shutil.copy(ROOT / "dbt_project" / "target" / "partial_parse.msgpack", target)
    env = user_env(
        work / "home",
        KPI_DUCKDB_PATH=str(work / "warehouse.duckdb"),
        KPI_REPORTS_DIR=str(work / "reports"),
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(work / "dbt_logs"),
    )
    return {"clone": clone, "env": env, "work": work}


@pytest.mark.parametrize("command", sorted(RUN_HERE))
def test_a_quick_documented_command_runs_as_written(command: str, copy) -> None:
    documented = {c.text for c in documented_commands()}
    assert command in documented
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=copy["clone"],
        env=copy["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert RUN_HERE[command] in result.stdout, result.stdout
