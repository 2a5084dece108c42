"""One fault target per provider: each module here exports ``TARGET`` (tests/faults.py runs them)."""

from __future__ import annotations

import importlib
import pkgutil

from tests.fault_base import FaultTarget


def discovered() -> list[FaultTarget]:
    """``TARGET`` of every module in this package, in module-name order."""
    return [
        importlib.import_module(f"{__name__}.{info.name}").TARGET
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    ]
