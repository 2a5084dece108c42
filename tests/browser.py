"""Headless Chromium (Debian `chromium`) for checking the pages the project renders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed: apt-get install chromium (.ci/run does)"
    return binary


def render(
    page: Path,
    profile: Path,
    *,
    screenshot: Path | None = None,
    width: int = 1200,
    height: int = 1400,
) -> tuple[str, str]:
    """Load ``page``; return (DOM after scripts ran, browser log). Optionally take a screenshot."""
    base = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    if screenshot is not None:
        subprocess.run(
            [*base, f"--screenshot={screenshot}", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return dom.stdout, dom.stderr
