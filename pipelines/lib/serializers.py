"""mashumaro's serializers compiled when first used, not when their classes are defined.

dbt-core imports ~45 dataclasses whose ``to_dict``/``from_dict`` code mashumaro generates and
compiles as each class is defined: mashumaro's own JSON-schema models (dbt builds the schemas it
validates the project and profiles against with them) and dbt-common's record classes, one per
adapter call. That is ~0.3 s of importing dbt-core in every process that does (the code location
through dagster-dbt, each step process, each ``kpi-dbt``), mostly for classes a run never
serializes. dbt's own classes already compile on first use (dbt-common's mashumaro config sets
``lazy_compilation``); this makes it mashumaro's default, so the rest do too and compile the same
code when first called (docs/decisions.md, decision 71). It must be set before dbt-core is
imported: ``pipelines/__init__.py`` sets it, so every process that loads the project's code does.
"""

from __future__ import annotations

import mashumaro.config


def compile_serializers_on_first_use() -> None:
    """Make mashumaro compile a dataclass's serializers on their first call (process-wide)."""
    mashumaro.config.BaseConfig.lazy_compilation = True
