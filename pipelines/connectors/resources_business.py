"""Dagster resources for the sales, CRM and customer-service sources (Stripe, HubSpot, Zendesk).

Settings are read from the environment when a run starts; fields set on the resource win (tests
use that). A source whose required settings are absent is not configured and loads nothing.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.lib.settings import env
from sources.hubspot import DEFAULT_BASE_URL as HUBSPOT_DEFAULT_BASE_URL
from sources.hubspot import SEARCH_REQUESTS_PER_SECOND, HubSpotClient
from sources.ratelimit import RateLimiter
from sources.stripe import API_VERSION as STRIPE_API_VERSION
from sources.stripe import DEFAULT_BASE_URL as STRIPE_DEFAULT_BASE_URL
from sources.stripe import StripeClient
from sources.timezones import zone
from sources.zendesk import EXPORT_REQUESTS_PER_MINUTE, ZendeskClient


def reporting_zone() -> ZoneInfo:
    """``KPI_TIMEZONE`` (default UTC): the zone whose days the UTC instants are bucketed into."""
    return zone(env("KPI_TIMEZONE", "UTC") or "UTC")


def _missing(settings: dict[str, str | None]) -> list[str]:
    return [name for name, value in settings.items() if not value]


class StripeResource(dg.ConfigurableResource):
    """``STRIPE_API_KEY`` (secret or read-only restricted key), ``STRIPE_BASE_URL``,
    ``STRIPE_API_VERSION`` (pinned), ``STRIPE_ACCOUNT`` (optional Connect account)."""

    api_key: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    account: str | None = None

    def key(self) -> str | None:
        return self.api_key or env("STRIPE_API_KEY")

    def account_id(self) -> str:
        """The ``_account_id`` of the raw rows: the Connect account, else ``default``."""
        return self.account or env("STRIPE_ACCOUNT") or "default"

    def missing_settings(self) -> list[str]:
        return _missing({"STRIPE_API_KEY": self.key()})

    def client(self) -> StripeClient:
        return StripeClient(
            self.key() or "",
            base_url=self.base_url or env("STRIPE_BASE_URL", STRIPE_DEFAULT_BASE_URL),
            api_version=self.api_version or env("STRIPE_API_VERSION", STRIPE_API_VERSION),
            account=self.account or env("STRIPE_ACCOUNT"),
        )


class HubSpotResource(dg.ConfigurableResource):
    """``HUBSPOT_ACCESS_TOKEN`` (private app, scopes crm.objects.contacts.read and
    crm.objects.deals.read) and ``HUBSPOT_BASE_URL``."""

    access_token: str | None = None
    base_url: str | None = None
    search_requests_per_second: float = SEARCH_REQUESTS_PER_SECOND

    def token(self) -> str | None:
        return self.access_token or env("HUBSPOT_ACCESS_TOKEN")

    def missing_settings(self) -> list[str]:
        return _missing({"HUBSPOT_ACCESS_TOKEN": self.token()})

    def client(self) -> HubSpotClient:
        return HubSpotClient(
            self.token() or "",
            base_url=self.base_url or env("HUBSPOT_BASE_URL", HUBSPOT_DEFAULT_BASE_URL),
            search_limiter=RateLimiter(max(1, int(self.search_requests_per_second)), 1.0),
        )


class ZendeskResource(dg.ConfigurableResource):
    """``ZENDESK_SUBDOMAIN``, ``ZENDESK_EMAIL`` (an admin: exports need it), ``ZENDESK_API_TOKEN``
    and ``ZENDESK_BASE_URL`` (default ``https://{subdomain}.zendesk.com``)."""

    subdomain: str | None = None
    email: str | None = None
    api_token: str | None = None
    base_url: str | None = None
    export_requests_per_minute: int = EXPORT_REQUESTS_PER_MINUTE

    def account(self) -> str:
        return self.subdomain or env("ZENDESK_SUBDOMAIN") or ""

    def missing_settings(self) -> list[str]:
        return _missing(
            {
                "ZENDESK_SUBDOMAIN": self.account(),
                "ZENDESK_EMAIL": self.email or env("ZENDESK_EMAIL"),
                "ZENDESK_API_TOKEN": self.api_token or env("ZENDESK_API_TOKEN"),
            }
        )

    def client(self) -> ZendeskClient:
        return ZendeskClient(
            self.account(),
            self.email or env("ZENDESK_EMAIL") or "",
            self.api_token or env("ZENDESK_API_TOKEN") or "",
            base_url=self.base_url or env("ZENDESK_BASE_URL"),
            export_limiter=RateLimiter(self.export_requests_per_minute, 60.0),
        )
