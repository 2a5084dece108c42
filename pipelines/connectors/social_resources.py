"""Resources of the social, mentions and content sources (settings resolved at run time).

Fields set here win over the environment (tests use that); ``as_of`` pins "today" for tests of
fixed past ranges (follower totals are snapshots of today).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.lib.settings import PROJECT_ROOT, env, env_list
from sources import linkedin, meta_graph
from sources.linkedin import LinkedInClient
from sources.meta_graph import MetaGraphClient
from sources.wordpress import WordPressClient

DEFAULT_COSTS_FILE = "config/content_costs.csv"


def _ids(value: str | None, name: str, prefixes: tuple[str, ...] = ()) -> list[str]:
    raw = value.split(",") if value else env_list(name)
    ids = []
    for item in raw:
        item = item.strip()
        for prefix in prefixes:
            item = item.removeprefix(prefix)
        if item:
            ids.append(item)
    return ids


def _path(value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def kpi_timezone() -> str:
    return env("KPI_TIMEZONE", "UTC") or "UTC"


class MetaGraphResource(dg.ConfigurableResource):
    """``META_PAGE_IDS``, ``INSTAGRAM_ACCOUNT_IDS``, ``META_ACCESS_TOKEN``, ``META_BASE_URL``,
    ``META_GRAPH_VERSION``."""

    page_ids: str | None = None
    instagram_account_ids: str | None = None
    access_token: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    as_of: str | None = None

    def pages(self) -> list[str]:
        return _ids(self.page_ids, "META_PAGE_IDS")

    def instagram_accounts(self) -> list[str]:
        return _ids(self.instagram_account_ids, "INSTAGRAM_ACCOUNT_IDS")

    def token(self) -> str | None:
        return self.access_token or env("META_ACCESS_TOKEN")

    def missing_settings(self) -> list[str]:
        missing = []
        if not self.pages() and not self.instagram_accounts():
            missing.append("META_PAGE_IDS or INSTAGRAM_ACCOUNT_IDS")
        if not self.token():
            missing.append("META_ACCESS_TOKEN")
        return missing

    def client(self) -> MetaGraphClient:
        return MetaGraphClient(
            self.token() or "",
            base_url=self.base_url or env("META_BASE_URL", meta_graph.DEFAULT_BASE_URL),
            version=self.api_version or env("META_GRAPH_VERSION", meta_graph.DEFAULT_VERSION),
            today=date.fromisoformat(self.as_of) if self.as_of else None,
        )


class LinkedInResource(dg.ConfigurableResource):
    """``LINKEDIN_ORGANIZATION_IDS``, ``LINKEDIN_ACCESS_TOKEN``, ``LINKEDIN_BASE_URL``,
    ``LINKEDIN_API_VERSION``."""

    organization_ids: str | None = None
    access_token: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    as_of: str | None = None

    def organizations(self) -> list[str]:
        return _ids(self.organization_ids, "LINKEDIN_ORGANIZATION_IDS", ("urn:li:organization:",))

    def missing_settings(self) -> list[str]:
        missing = []
        if not self.organizations():
            missing.append("LINKEDIN_ORGANIZATION_IDS")
        if not (self.access_token or env("LINKEDIN_ACCESS_TOKEN")):
            missing.append("LINKEDIN_ACCESS_TOKEN")
        return missing

    def client(self) -> LinkedInClient:
        return LinkedInClient(
            self.access_token or env("LINKEDIN_ACCESS_TOKEN") or "",
            base_url=self.base_url or env("LINKEDIN_BASE_URL", linkedin.DEFAULT_BASE_URL),
            version=self.api_version or env("LINKEDIN_API_VERSION", linkedin.DEFAULT_VERSION),
            today=date.fromisoformat(self.as_of) if self.as_of else None,
        )


class MentionsResource(dg.ConfigurableResource):
    """``MENTIONS_DIR``, ``SOV_BRAND``, ``SOV_COMPETITORS`` (matching happens in dbt)."""

    directory: str | None = None
    brand: str | None = None
    competitors: str | None = None

    def path(self) -> Path | None:
        return _path(self.directory or env("MENTIONS_DIR"))

    def missing_settings(self) -> list[str]:
        missing = []
        if self.path() is None:
            missing.append("MENTIONS_DIR")
        if not (self.brand or env("SOV_BRAND")):
            missing.append("SOV_BRAND")
        if not (self.competitors or env("SOV_COMPETITORS")):
            missing.append("SOV_COMPETITORS")
        return missing


class WordPressResource(dg.ConfigurableResource):
    """``WORDPRESS_BASE_URL`` (the site), optional ``WORDPRESS_USERNAME`` +
    ``WORDPRESS_APP_PASSWORD`` (Application Password), ``CONTENT_COSTS_FILE``."""

    base_url: str | None = None
    username: str | None = None
    app_password: str | None = None
    costs_file: str | None = None

    def site(self) -> str | None:
        value = self.base_url or env("WORDPRESS_BASE_URL")
        return value.rstrip("/") if value else None

    def costs_path(self) -> Path:
        return _path(self.costs_file or env("CONTENT_COSTS_FILE", DEFAULT_COSTS_FILE))  # type: ignore[return-value]

    def missing_settings(self) -> list[str]:
        return [] if self.site() else ["WORDPRESS_BASE_URL"]

    def client(self) -> WordPressClient:
        return WordPressClient(
            self.site() or "",
            username=self.username or env("WORDPRESS_USERNAME"),
            app_password=self.app_password or env("WORDPRESS_APP_PASSWORD"),
        )
