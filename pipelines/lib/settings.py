"""General settings, read from the environment (a ``.env`` file in the project root is honoured)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parents[2]
load_dotenv(PROJECT_ROOT / ".env", override=False)

DEFAULT_START_DATE = "2024-01-01"


def env(name: str, default: str | None = None) -> str | None:
    """An environment setting, with blank treated as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_list(name: str) -> list[str]:
    """A comma-separated setting as a list of trimmed, non-empty items."""
    return [item.strip() for item in (env(name) or "").split(",") if item.strip()]


def kpi_timezone() -> str:
    """``KPI_TIMEZONE``: the zone whose days the KPIs count in (default UTC)."""
    return env("KPI_TIMEZONE", "UTC") or "UTC"


def duckdb_path() -> Path:
    """``KPI_DUCKDB_PATH``; a relative path is relative to the project root (as in the dbt profile)."""
    path = Path(env("KPI_DUCKDB_PATH", "data/warehouse.duckdb"))
    return path if path.is_absolute() else PROJECT_ROOT / path


def start_date() -> date:
    """First daily partition, ``KPI_START_DATE`` (ISO date)."""
    raw = env("KPI_START_DATE", DEFAULT_START_DATE)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"KPI_START_DATE={raw!r} is not an ISO date; set it like KPI_START_DATE=2024-01-01"
        ) from None
