"""dbt-core's serialization start-up, paid once instead of in every process.

- **Serializers compiled on first use.** dbt-core imports ~45 dataclasses whose
  ``to_dict``/``from_dict`` code mashumaro generates and compiles as each class is defined:
  mashumaro's own JSON-schema models and dbt-common's record classes, one per adapter call. That
  is ~0.3 s of importing dbt-core in every process that does (the code location through
  dagster-dbt, each step process, each ``kpi-dbt``), mostly for classes a run never serializes.
  dbt's own classes already compile on first use (dbt-common's mashumaro config sets
  ``lazy_compilation``); ``compile_serializers_on_first_use`` makes it mashumaro's default, so the
  rest compile the same code when first called. It must run before dbt-core is imported:
  ``pipelines/__init__.py`` runs it, so every process that loads the project's code does.
- **dbt's JSON schemas kept in a file.** Every dbt command validates ``dbt_project.yml``, the
  profile and selectors against JSON schemas it builds from its dataclasses (~0.3 s per process,
  the same schemas each time for the same installed packages). ``keep_dbt_json_schemas`` serves
  them from a file keyed by the installed dbt packages' versions; dbt still validates every file
  against them. ``kpi-dbt`` runs it.

docs/decisions.md, decision 71.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mashumaro.config

SCHEMA_FILE_PREFIX = "dbt_json_schemas-"


def compile_serializers_on_first_use() -> None:
    """Make mashumaro compile a dataclass's serializers on their first call (process-wide)."""
    mashumaro.config.BaseConfig.lazy_compilation = True


def installed_dbt_fingerprint() -> str:
    """A short hash of the Python version and the installed dbt and mashumaro distributions
    (their ``.dist-info`` names carry the versions): what dbt's JSON schemas are built from."""
    import dbt_common

    site_packages = Path(dbt_common.__file__).resolve().parents[1]
    names = sorted(
        path.name
        for path in site_packages.glob("*.dist-info")
        if path.name.lower().startswith(("dbt", "mashumaro"))
    )
    text = "\n".join([sys.version.split()[0], *names])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def keep_dbt_json_schemas(folder: Path) -> Path:
    """Serve dbt's JSON schemas (``dbtClassMixin.json_schema``) from a file in ``folder``, adding
    each schema built for the first time; returns the file. A file for other installed packages
    is replaced; an unreadable one is rebuilt."""
    from dbt_common.dataclass_schema import dbtClassMixin

    path = folder / f"{SCHEMA_FILE_PREFIX}{installed_dbt_fingerprint()}.json"
    try:
        stored: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    build: Callable[[type], dict[str, Any]] = dbtClassMixin.__dict__["json_schema"].__func__

    @functools.lru_cache
    def json_schema(cls: type) -> dict[str, Any]:
        key = f"{cls.__module__}.{cls.__qualname__}"
        if key not in stored:
            stored[key] = build(cls)
            write_schemas(path, stored)
        return stored[key]

    dbtClassMixin.json_schema = classmethod(json_schema)  # type: ignore[method-assign]
    return path


def write_schemas(path: Path, schemas: dict[str, Any]) -> None:
    """Write ``schemas`` to ``path`` atomically and remove files of other installed packages;
    a folder that cannot be written only costs the next process the build again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(schemas, sort_keys=True))
        os.replace(partial, path)
        for other in path.parent.glob(f"{SCHEMA_FILE_PREFIX}*.json"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError:
        pass
