"""Dagster resources: the DuckDB warehouse and each source's settings.

Settings are resolved when a run starts (not at import), so a source whose variables are absent is
simply *not configured*: its assets load nothing and say so instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import PROJECT_ROOT, duckdb_path, env, env_list
from sources.ecb import DEFAULT_BASE_URL as FX_DEFAULT_BASE_URL
from sources.ecb import EcbClient
from sources.ga4 import DEFAULT_BASE_URL as GA4_DEFAULT_BASE_URL
from sources.ga4 import GA4Client
from sources.http import RetryPolicy


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (``KPI_DUCKDB_PATH``), opened only while it is used."""

    path: str | None = None

    def database(self) -> Path:
        if self.path:
            p = Path(self.path)
            return p if p.is_absolute() else PROJECT_ROOT / p
        return duckdb_path()

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        database = self.database()
        database.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(database), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


class GA4Resource(dg.ConfigurableResource):
    """GA4 settings: ``GA4_PROPERTY_IDS``, ``GOOGLE_APPLICATION_CREDENTIALS``, ``GA4_BASE_URL``,
    ``GA4_LEAD_EVENT``. Fields set here win over the environment (tests use that)."""

    property_ids: str | None = None
    credentials_path: str | None = None
    base_url: str | None = None
    lead_event: str | None = None
    max_retry_seconds: float = 300.0  # total back-off budget per request before giving up

    def properties(self) -> list[str]:
        raw = self.property_ids.split(",") if self.property_ids else env_list("GA4_PROPERTY_IDS")
        return [p.strip().removeprefix("properties/") for p in raw if p.strip()]

    def credentials(self) -> str | None:
        return self.credentials_path or env("GOOGLE_APPLICATION_CREDENTIALS")

    def event_name(self) -> str:
        return self.lead_event or env("GA4_LEAD_EVENT", "generate_lead")

    def missing_settings(self) -> list[str]:
        missing = []
        if not self.properties():
            missing.append("GA4_PROPERTY_IDS")
        if not self.credentials():
            missing.append("GOOGLE_APPLICATION_CREDENTIALS")
        return missing

    def client(self) -> GA4Client:
        return GA4Client(
            self.credentials() or "",
            base_url=self.base_url or env("GA4_BASE_URL", GA4_DEFAULT_BASE_URL),
            retry=RetryPolicy(max_total_wait=self.max_retry_seconds),
        )


class FxResource(dg.ConfigurableResource):
    """ECB reference rates (``FX_BASE_URL``) and the reporting currency (``KPI_REPORTING_CURRENCY``).

    Needs no credentials, so it is always configured."""

    base_url: str | None = None
    reporting: str | None = None

    def reporting_currency(self) -> str:
        return (self.reporting or env("KPI_REPORTING_CURRENCY", "USD")).upper()

    def client(self) -> EcbClient:
        return EcbClient(self.base_url or env("FX_BASE_URL", FX_DEFAULT_BASE_URL))
