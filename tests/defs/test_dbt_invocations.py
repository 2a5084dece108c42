"""How the dbt step invokes dbt: the window through the environment, read only at execution (so a
new window does not make dbt re-parse), the parse state kept for the next run, no adapter or
``dbt --version`` in the Dagster process, the per-invocation folders pruned to the newest few,
mashumaro's serializers compiled on first use and dbt's JSON schemas kept in a file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipelines.defs import dbt as dbt_step
from pipelines.defs.dbt import (
    DBT_PROJECT_DIR,
    dbt_resource,
    keep_parse_state,
    prune_invocation_folders,
)
from pipelines.lib import dbt_command
from pipelines.lib.partitions import dbt_window_env
from pipelines.lib.settings import environment
from pipelines.lib.venv_tools import dbt_executable


def make_folder(root: Path, name: str, mtime: int) -> Path:
    folder = root / name
    (folder / "compiled").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    os.utime(folder, (mtime, mtime))
    return folder


def test_only_the_newest_invocation_folders_of_the_dbt_asset_are_kept(tmp_path: Path) -> None:
    folders = [make_folder(tmp_path, f"kpi_dbt_models-run{i}-abc{i}", 1_000 + i) for i in range(5)]
    other = make_folder(tmp_path, "some_other_op-run0-abc0", 10)
    (tmp_path / "manifest.json").write_text("{}")  # the prepared manifest is never touched

    removed = prune_invocation_folders(tmp_path, keep=2)

    assert sorted(removed) == sorted(folders[:3])
    assert sorted(p for p in tmp_path.iterdir() if p.is_dir()) == sorted([*folders[3:], other])
    assert (tmp_path / "manifest.json").exists()


def dbt_parse(target: Path, *args: str, **env: str) -> list[dict]:
    """``dbt parse [args]`` into ``target`` with ``env`` added; dbt's structured log lines."""
    result = subprocess.run(
        [
            dbt_executable(),
            *("--log-format", "json", "--log-level", "debug", "parse", *args),
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(target)),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_a_new_window_does_not_make_dbt_re_parse_the_project(tmp_path: Path) -> None:
    """The window reaches the models through the environment and only at execution: dbt's
    partial parsing sees no file changed, where --vars would have it re-parse everything."""
    first = dbt_window_env(date(2026, 1, 1), date(2026, 1, 31))
    second = dbt_window_env(date(2026, 2, 1), date(2026, 5, 2))

    def full_parse(events: list[dict]) -> bool:
        return any(e["info"]["name"] == "UnableToPartialParse" for e in events)

    assert full_parse(dbt_parse(tmp_path / "target", **first))  # nothing saved yet
    events = dbt_parse(tmp_path / "target", **second)
    (enabled,) = [e for e in events if e["info"]["name"] == "PartialParsingEnabled"]
    assert enabled["data"] == {"added": 0, "changed": 0, "deleted": 0}
    # --vars, as the step passed the window before, invalidate the whole parse
    assert full_parse(dbt_parse(tmp_path / "target", "--vars", '{"min_date": "2026-02-01"}'))


def test_the_window_environment_is_set_for_dbt_and_restored(monkeypatch) -> None:
    monkeypatch.setenv("KPI_WINDOW_MIN_DATE", "1999-01-01")
    monkeypatch.delenv("KPI_WINDOW_MAX_DATE", raising=False)
    window = dbt_window_env(date(2026, 3, 1), date(2026, 3, 11))
    assert window == {"KPI_WINDOW_MIN_DATE": "2026-03-01", "KPI_WINDOW_MAX_DATE": "2026-03-10"}
    with environment(window):
        assert os.environ["KPI_WINDOW_MAX_DATE"] == "2026-03-10"
    assert os.environ["KPI_WINDOW_MIN_DATE"] == "1999-01-01"
    assert "KPI_WINDOW_MAX_DATE" not in os.environ
    with environment(dict.fromkeys(window)):  # an unpartitioned run: no window at all
        assert "KPI_WINDOW_MIN_DATE" not in os.environ
    assert os.environ["KPI_WINDOW_MIN_DATE"] == "1999-01-01"


def test_an_invocations_parse_state_becomes_the_projects(tmp_path: Path, monkeypatch) -> None:
    project = SimpleNamespace(project_dir=tmp_path / "project", target_path=Path("target"))
    (project.project_dir / "target").mkdir(parents=True)
    (project.project_dir / "target" / "partial_parse.msgpack").write_bytes(b"prepared")
    monkeypatch.setattr(dbt_step, "dbt_project", project)
    invocation = tmp_path / "project" / "target" / "kpi_dbt_models-run1-abc"
    invocation.mkdir()
    keep_parse_state(invocation)  # dbt wrote none (it failed early): the prepared one stays
    assert (project.project_dir / "target" / "partial_parse.msgpack").read_bytes() == b"prepared"
    (invocation / "partial_parse.msgpack").write_bytes(b"after the run")
    keep_parse_state(invocation)
    kept = project.project_dir / "target" / "partial_parse.msgpack"
    assert kept.read_bytes() == b"after the run"
    assert sorted(p.name for p in kept.parent.iterdir() if p.is_file()) == [kept.name]


def test_the_resource_neither_builds_an_adapter_nor_runs_dbt_version(monkeypatch) -> None:
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"unexpected subprocess {args}")

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = dbt_resource()
    installed = subprocess.run(
        [dbt_executable(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert str(resource._cli_version) in installed
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def run_dbt_command(executable: str, tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    """``executable args`` on a database and log folder of its own; exit code, dbt.log events."""
    logs = tmp_path / f"logs-{Path(executable).name}"
    result = subprocess.run(
        [
            executable,
            *args,
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(tmp_path / "target"), "--log-path", str(logs)),
            "--log-format-file",
            "json",
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "KPI_DUCKDB_PATH": str(tmp_path / f"{Path(executable).name}.duckdb")},
        capture_output=True,
        text=True,
    )
    log = logs / "dbt.log"
    names = [json.loads(line)["info"]["name"] for line in log.read_text().splitlines()]
    return result.returncode, names


def test_kpi_dbt_is_dbt_without_the_interpreter_teardown(tmp_path: Path) -> None:
    """The project's dbt command (``pipelines.lib.dbt_command``) exits as dbt does, with the same
    code, its log complete and the DuckDB file closed (no write-ahead log left to replay)."""
    assert Path(dbt_executable()).name == "kpi-dbt"
    plain = str(Path(dbt_executable()).with_name("dbt"))
    build = ("run", "--select", "metricflow_time_spine")
    for executable in (plain, dbt_executable()):
        code, events = run_dbt_command(executable, tmp_path, *build)
        assert code == 0
        assert "CommandCompleted" in events
        database = tmp_path / f"{Path(executable).name}.duckdb"
        assert database.exists()
        assert not database.with_name(database.name + ".wal").exists()
        code, _ = run_dbt_command(
            executable, tmp_path, "run", "--select", "no_such_model+", "--no-such-flag"
        )
        assert code == 2
    assert dbt_command.exit_code(None) == 0
    assert dbt_command.exit_code(1) == 1
    assert dbt_command.exit_code("a message") == 1


DBT_JSON_SCHEMAS = """
import json, sys
if sys.argv[1] == "project":
    import pipelines  # noqa: F401  (what every process of the project imports first)
from mashumaro.jsonschema.models import JSONObjectSchema
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.postgres.connections import PostgresCredentials
from dbt.contracts.project import Project, ProjectFlags
lazy = "CodeBuilder" in JSONObjectSchema.from_dict.__code__.co_names  # a first-use stub
schemas = [c.json_schema() for c in (Project, ProjectFlags, DuckDBCredentials, PostgresCredentials)]
print(json.dumps({"lazy": lazy, "schemas": schemas}, sort_keys=True))
"""


def test_serializers_compile_on_first_use_and_dbt_validates_alike() -> None:
    """Every process of the project compiles mashumaro's serializers when first used (decision
    71), and the JSON schemas dbt validates the project and profiles against come out the same as
    with eager compilation."""
    python = str(Path(dbt_executable()).with_name("python"))
    outputs = {}
    for mode in ("project", "plain dbt"):
        result = subprocess.run(
            [python, "-c", DBT_JSON_SCHEMAS, mode], capture_output=True, text=True, check=True
        )
        outputs[mode] = json.loads(result.stdout)
    assert outputs["project"]["lazy"] is True
    assert outputs["plain dbt"]["lazy"] is False
    assert all(schema["properties"] for schema in outputs["project"]["schemas"])
    assert outputs["project"]["schemas"] == outputs["plain dbt"]["schemas"]


KEPT_JSON_SCHEMA = """
import json, sys
from pathlib import Path
from pipelines.lib.serializers import keep_dbt_json_schemas
path = keep_dbt_json_schemas(Path(sys.argv[1]))
from dbt.contracts.project import Project
from dbt_common.dataclass_schema import ValidationError
try:
    Project.validate({"name": 3})  # dbt still validates against the kept schema
    rejected = False
except ValidationError:
    rejected = True
print(json.dumps({"file": str(path), "schema": Project.json_schema(), "rejected": rejected}))
"""


def kept_project_schema(folder: Path) -> dict:
    """Run ``keep_dbt_json_schemas(folder)`` in a new process; the file, dbt's ``Project``
    schema there and whether an invalid project was rejected."""
    python = str(Path(dbt_executable()).with_name("python"))
    result = subprocess.run(
        [python, "-c", KEPT_JSON_SCHEMA, str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_dbt_json_schemas_are_built_once_and_read_from_their_file(tmp_path: Path) -> None:
    """kpi-dbt serves the JSON schemas dbt validates projects and profiles against from a file
    keyed by the installed dbt packages (decision 71): built and stored by the first process,
    read by the next, and validation still rejects an invalid project."""
    stale = tmp_path / "dbt_json_schemas-0000000000000000.json"  # other installed packages
    stale.write_text("{}")
    first = kept_project_schema(tmp_path)
    path = Path(first["file"])
    assert path.parent == tmp_path
    assert not stale.exists()
    from dbt.contracts.project import Project

    assert first["schema"] == Project.json_schema()
    assert first["rejected"] is True
    stored = json.loads(path.read_text())
    assert stored["dbt.contracts.project.Project"] == first["schema"]

    stored["dbt.contracts.project.Project"]["title"] = "read from the file"
    path.write_text(json.dumps(stored))
    second = kept_project_schema(tmp_path)
    assert second["schema"]["title"] == "read from the file"

    path.write_text("not json")  # an unreadable file is rebuilt
    assert kept_project_schema(tmp_path)["schema"] == first["schema"]


@pytest.fixture(autouse=True)
def _no_stray_targets(tmp_path: Path):
    yield
    shutil.rmtree(tmp_path / "target", ignore_errors=True)
