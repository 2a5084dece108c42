"""Backlink counts per day behind a small provider interface (Ahrefs API v3 today).

A provider answers one question: how many live backlinks and referring domains did the target
have on a day. ``AhrefsProvider`` asks ``GET /v3/site-explorer/backlinks-stats``; a Moz adapter
(Links API ``url_metrics``) would implement the same :class:`BacklinksProvider` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import requests

from sources.http import (
    HttpClient,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    new_metrics,
    provider_message,
    register_secret,
)

AHREFS_DEFAULT_BASE_URL = "https://api.ahrefs.com"
AHREFS_STATS_PATH = "/v3/site-explorer/backlinks-stats"
AHREFS_METRICS = ("live", "all_time", "live_refdomains", "all_time_refdomains")
_UNITS_SPENT = re.compile(r"units|limit reached|insufficient", re.IGNORECASE)


@dataclass(frozen=True)
class BacklinkCounts:
    """A target's backlink profile on one day."""

    live_backlinks: int
    live_referring_domains: int
    all_time_backlinks: int | None = None
    all_time_referring_domains: int | None = None
    added: dict[str, int | float] = field(default_factory=dict)  # metrics the provider added

    def as_row(self) -> dict[str, int | float | None]:
        """The counts as raw columns, the provider's added metrics included."""
        return {
            "live_backlinks": self.live_backlinks,
            "live_referring_domains": self.live_referring_domains,
            "all_time_backlinks": self.all_time_backlinks,
            "all_time_referring_domains": self.all_time_referring_domains,
            **self.added,
        }


class BacklinksProvider(Protocol):
    """What the pipeline needs from a backlinks index."""

    name: str
    requests_made: int

    def counts(self, target: str, day: date) -> BacklinkCounts: ...


def _count(metrics: dict[str, Any], key: str, *, required: bool) -> int | None:
    value = metrics.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SchemaError(
            "ahrefs",
            AHREFS_STATS_PATH,
            "backlink count is not an integer",
            field=f"metrics.{key}",
            value=value,
        )
    return int(value)


def parse_ahrefs_stats(body: dict[str, Any]) -> BacklinkCounts:
    """``{"metrics": {"live": .., "all_time": .., "live_refdomains": .., ...}}``."""
    metrics = body.get("metrics") if isinstance(body, dict) else None
    if not isinstance(metrics, dict):
        raise SchemaError("ahrefs", AHREFS_STATS_PATH, "response has no metrics object", value=body)
    return BacklinkCounts(
        live_backlinks=_count(metrics, "live", required=True) or 0,
        live_referring_domains=_count(metrics, "live_refdomains", required=True) or 0,
        all_time_backlinks=_count(metrics, "all_time", required=False),
        all_time_referring_domains=_count(metrics, "all_time_refdomains", required=False),
        added=new_metrics(metrics, AHREFS_METRICS),
    )


class AhrefsProvider(HttpClient):
    """Ahrefs API v3 Site Explorer backlinks stats (Bearer API token)."""

    source = "ahrefs"
    name = "ahrefs"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = AHREFS_DEFAULT_BASE_URL,
        mode: str = "subdomains",
        retry: RetryPolicy | None = None,
    ) -> None:
        register_secret(token)
        super().__init__(
            base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            retry=retry,
        )
        self.mode = mode

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """Spent API units (403) fail fast; 429 (60 requests/minute) and 5xx are retried."""
        if response.status_code == 403 and _UNITS_SPENT.search(provider_message(response)):
            return RetryDecision(retry=False, quota_exhausted=True)
        return super().retry_decision(response)

    def counts(self, target: str, day: date) -> BacklinkCounts:
        body = self.get_json(
            AHREFS_STATS_PATH,
            params={"target": target, "date": day.isoformat(), "mode": self.mode},
        )
        return parse_ahrefs_stats(body)
