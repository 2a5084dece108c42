"""The layout shows the design: the KPI rules are plain Python, tooling is outside the runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_kpi_rules_import_no_dagster() -> None:
    modules = sorted(p.stem for p in (ROOT / "pipelines/kpi").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import pipelines.kpi.{m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert modules and out.stdout.strip() == "[]"


def test_only_the_demo_reaches_the_emulators_and_nothing_in_the_runtime_reaches_tools() -> None:
    def imports(path: Path, prefix: str) -> bool:
        return any(
            line.lstrip().startswith((f"from {prefix}", f"import {prefix}"))
            for line in path.read_text().splitlines()
        )

    runtime = list((ROOT / "pipelines").rglob("*.py"))
    assert not [p for p in runtime if imports(p, "tools")]
    emulated = [p.relative_to(ROOT).as_posix() for p in runtime if imports(p, "sources.emulators")]
    assert emulated == ["pipelines/demo.py"]  # the demo starts them; nothing else may
