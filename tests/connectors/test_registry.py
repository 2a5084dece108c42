"""Every shipped source is complete: what docs/adding-a-source.md's checklist asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipelines.connectors.framework import Source
from pipelines.connectors.registry import SOURCES, source

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def dbt_source_asset_keys() -> set[tuple[str, ...]]:
    """``meta.dagster.asset_key`` of every table in the staging sources files."""
    keys = set()
    for path in (ROOT / "dbt_project/models/staging").rglob("_*__sources.yml"):
        for declared in yaml.safe_load(path.read_text()).get("sources", []):
            for table in declared.get("tables", []):
                key = (table.get("meta") or {}).get("dagster", {}).get("asset_key")
                if key:
                    keys.add(tuple(key))
    return keys


def test_source_names_are_unique_and_known_by_name() -> None:
    names = [s.name for s in SOURCES]
    assert len(names) == len(set(names))
    assert all(source(name).name == name for name in names)
    with pytest.raises(KeyError, match="known:"):
        source("nope")


@pytest.mark.parametrize("declared", SOURCES, ids=lambda s: s.name)
def test_every_source_is_complete(declared: Source) -> None:
    # raw tables are named raw.<source>__<entity> and read by a dbt staging model
    dbt_keys = dbt_source_asset_keys()
    for table in declared.tables:
        assert re.fullmatch(rf"raw\.{declared.name}__[a-z0-9_]+", table.table), table.table
        assert tuple(table.asset_key.path) in dbt_keys, f"no dbt source reads {table.table}"
    # its page under docs/sources, and every setting documented in .env.example
    assert declared.docs and (ROOT / declared.docs).is_file(), declared.docs
    for setting in declared.settings:
        assert re.search(rf"^#?\s*{setting.name}=", ENV_EXAMPLE, re.M), (
            f"{setting.name} not in .env.example"
        )
    # an API source has a fault target driving its own extract
    if any(s.name.endswith("_BASE_URL") for s in declared.settings):
        assert (ROOT / "tests/fault_targets" / f"{declared.name}.py").is_file()


def test_every_fault_target_module_is_a_declared_source() -> None:
    names = {s.name for s in SOURCES}
    modules = {p.stem for p in (ROOT / "tests/fault_targets").glob("*.py")} - {"__init__"}
    assert modules <= names
