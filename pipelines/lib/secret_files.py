"""Secrets at rest: the ``.env`` file and the service-account key must be private to their owner.

Checked when the code location starts (a logged warning, never an error) and by ``kpi doctor``.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from pipelines.lib.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)


def secret_files(root: Path | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files holding secrets that exist: ``<root>/.env`` (root: the project's) and
    ``GOOGLE_APPLICATION_CREDENTIALS``."""
    environ = os.environ if environ is None else environ
    candidates = [(root or PROJECT_ROOT) / ".env"]
    if key := environ.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip():
        candidates.append(Path(key))
    return [path for path in candidates if path.is_file()]


def exposure(path: Path) -> str | None:
    """Why ``path`` is readable by users other than its owner, with the fix; None when private."""
    mode = stat.S_IMODE(path.stat().st_mode)
    readers = [who for who, bit in (("group", 0o040), ("others", 0o004)) if mode & bit]
    if not readers:
        return None
    return (
        f"{path} holds secrets and is readable by {' and '.join(readers)} (mode {mode:04o}); "
        f"make it private to its owner: chmod 600 {path}"
    )


def exposed_secret_files(
    root: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """One message per secret file that other users can read."""
    return [problem for path in secret_files(root, environ) if (problem := exposure(path))]


def warn_about_exposed_secret_files(
    root: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """Log a warning for every secret file other users can read; return the messages."""
    problems = exposed_secret_files(root, environ)
    for problem in problems:
        logger.warning(problem)
    return problems
