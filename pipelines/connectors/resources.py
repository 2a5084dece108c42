"""Dagster resources: each source's settings.

Settings are resolved when a run starts (not at import), so a source whose variables are absent is
simply *not configured*: its assets load nothing and say so instead of failing the run.
"""

from __future__ import annotations

import dagster as dg

from pipelines.lib.settings import env, env_list
from sources.backlinks import AHREFS_DEFAULT_BASE_URL, AhrefsProvider, BacklinksProvider
from sources.ecb import DEFAULT_BASE_URL as FX_DEFAULT_BASE_URL
from sources.ecb import EcbClient
from sources.ga4 import DEFAULT_BASE_URL as GA4_DEFAULT_BASE_URL
from sources.ga4 import GA4Client
from sources.http import RetryPolicy
from sources.mailchimp import MailchimpClient
from sources.pagespeed import DEFAULT_BASE_URL as PSI_DEFAULT_URL
from sources.pagespeed import PageSpeedClient
from sources.search_console import DEFAULT_BASE_URL as SC_DEFAULT_BASE_URL
from sources.search_console import SearchConsoleClient


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


def _listed(value: str | None, name: str) -> list[str]:
    """A comma list from a resource field, else from the environment variable ``name``."""
    raw = value.split(",") if value else env_list(name)
    return [item.strip() for item in raw if item.strip()]


class MailchimpResource(dg.ConfigurableResource):
    """Mailchimp settings: ``MAILCHIMP_API_KEY`` (its ``-usN`` suffix picks the data center),
    ``MAILCHIMP_BASE_URL``; send days are bucketed in ``KPI_TIMEZONE``."""

    api_key: str | None = None
    base_url: str | None = None
    time_zone: str | None = None

    def key(self) -> str | None:
        return self.api_key or env("MAILCHIMP_API_KEY")

    def reporting_time_zone(self) -> str:
        return self.time_zone or env("KPI_TIMEZONE", "UTC") or "UTC"

    def missing_settings(self) -> list[str]:
        return [] if self.key() else ["MAILCHIMP_API_KEY"]

    def client(self) -> MailchimpClient:
        return MailchimpClient(
            self.key() or "", base_url=self.base_url or env("MAILCHIMP_BASE_URL")
        )


class SearchConsoleResource(dg.ConfigurableResource):
    """Search Console settings: ``SEARCH_CONSOLE_SITE_URLS``, ``GOOGLE_APPLICATION_CREDENTIALS``,
    ``SEARCH_CONSOLE_BASE_URL``, ``SEO_TRACKED_KEYWORDS``."""

    site_urls: str | None = None
    credentials_path: str | None = None
    base_url: str | None = None
    tracked_keywords: str | None = None

    def sites(self) -> list[str]:
        return _listed(self.site_urls, "SEARCH_CONSOLE_SITE_URLS")

    def keywords(self) -> list[str]:
        return _listed(self.tracked_keywords, "SEO_TRACKED_KEYWORDS")

    def credentials(self) -> str | None:
        return self.credentials_path or env("GOOGLE_APPLICATION_CREDENTIALS")

    def missing_settings(self) -> list[str]:
        missing = [] if self.sites() else ["SEARCH_CONSOLE_SITE_URLS"]
        return missing + ([] if self.credentials() else ["GOOGLE_APPLICATION_CREDENTIALS"])

    def client(self) -> SearchConsoleClient:
        return SearchConsoleClient(
            self.credentials() or "",
            base_url=self.base_url or env("SEARCH_CONSOLE_BASE_URL", SC_DEFAULT_BASE_URL),
        )


class PageSpeedResource(dg.ConfigurableResource):
    """PageSpeed Insights settings: ``PAGESPEED_API_KEY``, ``PAGESPEED_URLS``,
    ``PAGESPEED_BASE_URL``; ``PAGESPEED_MAX_AGE_DAYS`` (default 2): a run measures only when its
    window ends at most this many days before today (PSI measures pages now, not in the past)."""

    api_key: str | None = None
    urls: str | None = None
    base_url: str | None = None
    max_age_days: int | None = None

    def key(self) -> str | None:
        return self.api_key or env("PAGESPEED_API_KEY")

    def url_list(self) -> list[str]:
        return _listed(self.urls, "PAGESPEED_URLS")

    def max_age(self) -> int:
        if self.max_age_days is not None:
            return self.max_age_days
        return int(env("PAGESPEED_MAX_AGE_DAYS", "2") or 2)

    def missing_settings(self) -> list[str]:
        missing = [] if self.url_list() else ["PAGESPEED_URLS"]
        return missing + ([] if self.key() else ["PAGESPEED_API_KEY"])

    def client(self) -> PageSpeedClient:
        return PageSpeedClient(
            self.key() or "", base_url=self.base_url or env("PAGESPEED_BASE_URL", PSI_DEFAULT_URL)
        )


class BacklinksResource(dg.ConfigurableResource):
    """Backlinks settings (Ahrefs API v3): ``AHREFS_API_TOKEN``, ``AHREFS_TARGET``,
    ``AHREFS_BASE_URL``. Another provider plugs in behind ``sources.backlinks.BacklinksProvider``."""

    api_token: str | None = None
    target: str | None = None
    base_url: str | None = None

    def token(self) -> str | None:
        return self.api_token or env("AHREFS_API_TOKEN")

    def target_domain(self) -> str | None:
        return self.target or env("AHREFS_TARGET")

    def missing_settings(self) -> list[str]:
        missing = [] if self.token() else ["AHREFS_API_TOKEN"]
        return missing + ([] if self.target_domain() else ["AHREFS_TARGET"])

    def provider(self) -> BacklinksProvider:
        return AhrefsProvider(
            self.token() or "",
            base_url=self.base_url or env("AHREFS_BASE_URL", AHREFS_DEFAULT_BASE_URL),
        )
