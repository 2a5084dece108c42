"""Tables that Python assets create in ``marts`` are not dbt models, so the dbt docs test skips
them: docs/bi.md documents them instead, and these tests keep that table of columns complete."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import duckdb

import pipelines

ROOT = Path(__file__).resolve().parent.parent
CREATE_MART = re.compile(
    r"create\s+(?:or\s+replace\s+)?table\s+(?:if\s+not\s+exists\s+)?marts\.(\w+)", re.I
)
SECTION = "### Mart tables written by Python assets"
DOC = "docs/bi.md"  # the page documenting them


def documented_section() -> str:
    text = (ROOT / DOC).read_text()
    assert SECTION in text, f"{DOC} lacks the section {SECTION!r}"
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def python_mart_ddl() -> dict[str, str]:
    """``marts`` table -> its CREATE statement, from the string constants of pipelines/**.py."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(pipelines.__path__, "pipelines."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, str) and (match := CREATE_MART.search(value)):
                found[match.group(1)] = value
    return found


def test_every_mart_table_created_by_python_is_documented() -> None:
    created = set()
    for path in (ROOT / "pipelines").rglob("*.py"):
        created |= set(CREATE_MART.findall(path.read_text()))
    assert "kpi_revisions" in created
    section = documented_section()
    assert sorted(t for t in created if f"`marts.{t}`" not in section) == []


def test_every_column_of_a_python_created_mart_table_is_documented() -> None:
    section = documented_section()
    ddl = python_mart_ddl()
    assert "kpi_revisions" in ddl
    missing = []
    with duckdb.connect() as con:
        con.execute("create schema marts")
        for table, statement in ddl.items():
            con.execute(statement)
            columns = con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ?",
                [table],
            ).fetchall()
            missing += [f"{table}.{c}" for (c,) in columns if f"`{c}`" not in section]
    assert missing == []
