"""General settings, read from the environment (a ``.env`` file in the project root is honoured)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from dotenv import load_dotenv

from sources.timezones import zone

PROJECT_ROOT = Path(__file__).resolve().parents[2]
load_dotenv(PROJECT_ROOT / ".env", override=False)

DEFAULT_START_DATE = "2024-01-01"


def env(name: str, default: str | None = None) -> str | None:
    """An environment setting, with blank treated as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """This process's environment with ``values`` set (None: unset), restored afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            _set_env(name, value)
        yield
    finally:
        for name, value in saved.items():
            _set_env(name, value)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def comma_list(value: str | None) -> list[str]:
    """A comma-separated value as a list of trimmed, non-empty items."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def env_list(name: str) -> list[str]:
    """A comma-separated setting as a list of trimmed, non-empty items."""
    return comma_list(env(name))


def kpi_timezone() -> ZoneInfo:
    """``KPI_TIMEZONE`` (default UTC): the zone whose calendar days KPIs count; providers' UTC
    instants are bucketed into its days. A name that is not an IANA zone fails naming the setting."""
    return zone(env("KPI_TIMEZONE", "UTC") or "UTC")


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
