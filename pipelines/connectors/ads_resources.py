"""Settings of the paid-ads sources (Google Ads, Meta Ads) and the marketing-costs file.

Resolved when a run starts, like ``pipelines.connectors.resources``; fields set here win over the environment
(tests use that). A source whose required settings are absent is *not configured*.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.lib.settings import PROJECT_ROOT, env, env_list
from sources import google_ads, meta_ads

DEFAULT_LOOKBACK_DAYS = 28
DEFAULT_MARKETING_COSTS_PATH = "config/marketing_costs.csv"


def ads_lookback_days(prefix: str) -> int:
    """``<prefix>_LOOKBACK_DAYS``, else ``ADS_LOOKBACK_DAYS``, else 28 (the conversion window)."""
    raw = env(f"{prefix}_LOOKBACK_DAYS") or env("ADS_LOOKBACK_DAYS") or str(DEFAULT_LOOKBACK_DAYS)
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(
            f"{prefix}_LOOKBACK_DAYS / ADS_LOOKBACK_DAYS={raw!r} must be a whole number of days >= 1"
        )
    return days


class GoogleAdsResource(dg.ConfigurableResource):
    """``GOOGLE_ADS_CUSTOMER_IDS``, ``GOOGLE_ADS_LOGIN_CUSTOMER_ID``, ``GOOGLE_ADS_DEVELOPER_TOKEN``,
    ``GOOGLE_ADS_CLIENT_ID``, ``GOOGLE_ADS_CLIENT_SECRET``, ``GOOGLE_ADS_REFRESH_TOKEN``,
    ``GOOGLE_ADS_BASE_URL``, ``GOOGLE_OAUTH_TOKEN_URL``, ``GOOGLE_ADS_API_VERSION``."""

    customer_ids: str | None = None
    login_customer_id: str | None = None
    developer_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    base_url: str | None = None
    token_url: str | None = None
    api_version: str | None = None

    def _get(self, name: str, setting: str) -> str | None:
        return getattr(self, name) or env(setting)

    def customers(self) -> list[str]:
        raw = (
            self.customer_ids.split(",")
            if self.customer_ids
            else env_list("GOOGLE_ADS_CUSTOMER_IDS")
        )
        return [google_ads.normalize_customer_id(c) for c in raw if c.strip()]

    def missing_settings(self) -> list[str]:
        required = {
            "GOOGLE_ADS_CUSTOMER_IDS": self.customer_ids or env("GOOGLE_ADS_CUSTOMER_IDS"),
            "GOOGLE_ADS_DEVELOPER_TOKEN": self._get(
                "developer_token", "GOOGLE_ADS_DEVELOPER_TOKEN"
            ),
            "GOOGLE_ADS_CLIENT_ID": self._get("client_id", "GOOGLE_ADS_CLIENT_ID"),
            "GOOGLE_ADS_CLIENT_SECRET": self._get("client_secret", "GOOGLE_ADS_CLIENT_SECRET"),
            "GOOGLE_ADS_REFRESH_TOKEN": self._get("refresh_token", "GOOGLE_ADS_REFRESH_TOKEN"),
        }
        return [name for name, value in required.items() if not value]

    def client(self) -> google_ads.GoogleAdsClient:
        return google_ads.GoogleAdsClient(
            developer_token=self._get("developer_token", "GOOGLE_ADS_DEVELOPER_TOKEN") or "",
            client_id=self._get("client_id", "GOOGLE_ADS_CLIENT_ID") or "",
            client_secret=self._get("client_secret", "GOOGLE_ADS_CLIENT_SECRET") or "",
            refresh_token=self._get("refresh_token", "GOOGLE_ADS_REFRESH_TOKEN") or "",
            login_customer_id=self._get("login_customer_id", "GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
            base_url=self._get("base_url", "GOOGLE_ADS_BASE_URL") or google_ads.DEFAULT_BASE_URL,
            token_url=self._get("token_url", "GOOGLE_OAUTH_TOKEN_URL")
            or google_ads.DEFAULT_TOKEN_URL,
            api_version=self._get("api_version", "GOOGLE_ADS_API_VERSION")
            or google_ads.DEFAULT_API_VERSION,
        )


class MetaAdsResource(dg.ConfigurableResource):
    """``META_AD_ACCOUNT_IDS``, ``META_ACCESS_TOKEN``, ``META_BASE_URL``, ``META_API_VERSION``,
    ``META_CONVERSION_ACTION_TYPES``, ``META_ASYNC_THRESHOLD_DAYS``."""

    account_ids: str | None = None
    access_token: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    conversion_action_types: str | None = None
    async_threshold_days: int | None = None

    def accounts(self) -> list[str]:
        raw = self.account_ids.split(",") if self.account_ids else env_list("META_AD_ACCOUNT_IDS")
        return [meta_ads.normalize_account_id(a) for a in raw if a.strip()]

    def token(self) -> str | None:
        return self.access_token or env("META_ACCESS_TOKEN")

    def conversion_types(self) -> list[str]:
        raw = self.conversion_action_types or env("META_CONVERSION_ACTION_TYPES")
        if not raw:
            return list(meta_ads.DEFAULT_CONVERSION_ACTION_TYPES)
        return [t.strip() for t in raw.split(",") if t.strip()]

    def missing_settings(self) -> list[str]:
        missing = []
        if not (self.account_ids or env("META_AD_ACCOUNT_IDS")):
            missing.append("META_AD_ACCOUNT_IDS")
        if not self.token():
            missing.append("META_ACCESS_TOKEN")
        return missing

    def client(self) -> meta_ads.MetaAdsClient:
        threshold = self.async_threshold_days or int(
            env("META_ASYNC_THRESHOLD_DAYS", str(meta_ads.ASYNC_THRESHOLD_DAYS)) or 0
        )
        return meta_ads.MetaAdsClient(
            self.token() or "",
            base_url=self.base_url or env("META_BASE_URL", meta_ads.DEFAULT_BASE_URL) or "",
            api_version=self.api_version
            or env("META_API_VERSION", meta_ads.DEFAULT_API_VERSION)
            or "",
            conversion_action_types=self.conversion_types(),
            async_threshold_days=threshold,
        )


class MarketingCostsResource(dg.ConfigurableResource):
    """``MARKETING_COSTS_PATH``: the CSV of monthly costs no API reports (relative to the project)."""

    path: str | None = None

    def file(self) -> Path:
        p = Path(self.path or env("MARKETING_COSTS_PATH", DEFAULT_MARKETING_COSTS_PATH) or "")
        return p if p.is_absolute() else PROJECT_ROOT / p
