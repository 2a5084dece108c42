"""``kpi doctor`` makes one authenticated call per configured source against the emulators."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import cli
from pipelines.connectors import doctor
from pipelines.connectors.framework import Source
from pipelines.connectors.registry import SOURCES
from sources.emulators.google_auth import write_demo_service_account
from sources.emulators.stack import EmulatorStack


def wrong_credentials(source: Source, env: dict[str, str], tmp: Path) -> dict[str, str]:
    """Every credential of ``source`` replaced by one the provider does not know."""
    wrong = {}
    for name in source.secrets:
        if name == "GOOGLE_APPLICATION_CREDENTIALS":  # a key file: a valid key nobody trusts
            key = write_demo_service_account(
                tmp / f"unknown-{source.name}.json", env["GOOGLE_OAUTH_TOKEN_URL"]
            )
            wrong[name] = str(key)
        else:
            wrong[name] = f"wrong-{name.lower()}"
    return {**env, **wrong}


def test_every_configured_source_answers_the_doctor(stack: EmulatorStack) -> None:
    statuses = doctor.check_sources(SOURCES, stack.env())
    assert [s.source for s in statuses] == [s.name for s in SOURCES]
    assert all(s.status == doctor.OK and s.detail for s in statuses), doctor.render(statuses)


@pytest.mark.parametrize("source", [s for s in SOURCES if s.secrets], ids=lambda s: s.name)
def test_a_wrong_credential_fails_its_source_and_names_the_setting_to_fix(
    source: Source, stack: EmulatorStack, tmp_path: Path
) -> None:
    wrong = wrong_credentials(source, stack.env(), tmp_path)
    status = doctor.check_source(source, wrong)
    assert status.failed, status
    assert any(name in status.fix for name in source.secrets), status.fix
    for value in (wrong[name] for name in source.secrets):
        assert value not in status.detail and value not in status.fix  # never echoed


def test_an_unconfigured_source_says_which_settings_to_set(monkeypatch) -> None:
    source = SOURCES[0]
    for setting in source.settings:
        monkeypatch.delenv(setting.name, raising=False)
    status = doctor.check_source(source)
    assert status.status == doctor.NOT_CONFIGURED and not status.failed
    assert all(name in status.fix for name in source.config().missing())


def test_kpi_doctor_prints_the_table_and_exits_non_zero_when_a_source_fails(
    stack: EmulatorStack, monkeypatch, capsys, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env / key file of the project is looked at
    for name, value in stack.env().items():
        monkeypatch.setenv(name, value)
    assert cli.main(["doctor"]) == 0
    healthy = capsys.readouterr().out
    assert all(f"\n{s.name} " in healthy for s in SOURCES)
    broken = next(
        s for s in SOURCES if s.secrets and s.secrets[0] != "GOOGLE_APPLICATION_CREDENTIALS"
    )
    monkeypatch.setenv(broken.secrets[0], "wrong-credential")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith(f"{broken.name} "))
    assert doctor.FAILED in line and "wrong-credential" not in out
