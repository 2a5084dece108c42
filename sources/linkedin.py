"""LinkedIn Community Management API: organization share statistics and follower statistics.

Versioned ``/rest`` endpoints with ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version:
2.0.0``. Time-bound statistics take a Rest.li 2.0 tuple
``timeIntervals=(timeRange:(start:<ms>,end:<ms>),timeGranularityType:DAY)`` whose structure is
sent unencoded while the URN values are percent-encoded. Buckets are UTC days in epoch
milliseconds, ``end`` exclusive; days without activity are omitted; ``uniqueImpressionsCount`` may
be missing (None, never 0). Data older than 12 months silently does not exist.

Total followers exist only as a snapshot (``networkSizes``): end-of-day followers are rebuilt from
it and the daily ``followerGains`` reported after each day.

A 429 whose message names a ``DAY`` throttle is a quota that resets at 00:00 UTC: it fails at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from sources import api_versions, progress
from sources.http import (
    HttpClient,
    QuotaExhaustedError,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    check_page_moved,
    new_metrics,
    optional_number,
    parse_retry_after,
    provider_message,
    register_secret,
)
from sources.meta_graph import day_chunks, reconstruct_followers

SOURCE = "linkedin"
DEFAULT_BASE_URL = "https://api.linkedin.com"
DEFAULT_VERSION = api_versions.LINKEDIN.default
RESTLI_PROTOCOL = "2.0.0"
MAX_RANGE_DAYS = 90  # "keep the date span to about 1-3 months per call"
HISTORY_DAYS = 365  # rolling 12 months
PAGE_SIZE = 100
SHARE_FIELDS = (
    "impressionCount",
    "uniqueImpressionsCount",
    "clickCount",
    "likeCount",
    "commentCount",
    "shareCount",
    "engagement",
)


def organization_urn(organization_id: str) -> str:
    """``2414183`` or ``urn:li:organization:2414183`` -> the URN."""
    value = organization_id.strip()
    return value if value.startswith("urn:li:") else f"urn:li:organization:{value}"


def epoch_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def day_of(ms: Any) -> date:
    """The UTC day a DAY bucket starts on (``timeRange.start`` in epoch milliseconds)."""
    if isinstance(ms, bool) or not isinstance(ms, int):
        raise SchemaError(SOURCE, "timeRange", "start is not epoch milliseconds", value=ms)
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def time_intervals(start: date, end: date) -> str:
    """The Rest.li 2.0 tuple for DAY buckets covering ``start..end`` (inclusive)."""
    return (
        f"(timeRange:(start:{epoch_ms(start)},end:{epoch_ms(end + timedelta(days=1))}),"
        "timeGranularityType:DAY)"
    )


def _count(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(
            SOURCE, "statistics", "count is not a JSON integer", field=field, value=value
        )
    return value


def parse_share_statistics(page: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per DAY element: counts as ints, ``engagement`` a 0..1 fraction, missing -> None."""
    rows = []
    for element in _elements(page):
        stats = element.get("totalShareStatistics") or {}
        row: dict[str, Any] = {
            "organization_urn": element.get("organizationalEntity"),
            "date": day_of((element.get("timeRange") or {}).get("start")),
        }
        for name in SHARE_FIELDS:
            value = stats.get(name)
            if name == "engagement":
                row["engagement"] = optional_number(SOURCE, "statistics", name, value)
            else:
                row[_snake(name)] = _count(name, value)
        row.update(new_metrics(stats, SHARE_FIELDS))  # a statistic LinkedIn adds is kept
        rows.append(row)
    return rows


def parse_follower_gains(page: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per DAY element with organic and paid gains (negative when unfollows win)."""
    rows = []
    for element in _elements(page):
        gains = element.get("followerGains") or {}
        rows.append(
            {
                "organization_urn": element.get("organizationalEntity"),
                "date": day_of((element.get("timeRange") or {}).get("start")),
                "organic_follower_gain": _count(
                    "organicFollowerGain", gains.get("organicFollowerGain")
                )
                or 0,
                "paid_follower_gain": _count("paidFollowerGain", gains.get("paidFollowerGain"))
                or 0,
            }
        )
    return rows


def has_next(page: dict[str, Any]) -> bool:
    links = (page.get("paging") or {}).get("links") or []
    return any(isinstance(link, dict) and link.get("rel") == "next" for link in links)


def _elements(page: dict[str, Any]) -> list[dict[str, Any]]:
    elements = page.get("elements")
    if not isinstance(elements, list):
        raise SchemaError(SOURCE, "statistics", "response has no elements array", value=page)
    return elements


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


class LinkedInClient(HttpClient):
    """Versioned LinkedIn REST client for organization statistics."""

    source = SOURCE

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        retry: RetryPolicy | None = None,
        page_size: int = PAGE_SIZE,
        today: date | None = None,
    ) -> None:
        register_secret(access_token)
        super().__init__(
            base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
            },
            retry=retry,
        )
        self.version = version
        self.page_size = page_size
        self.today = today or datetime.now(UTC).date()

    @property
    def api_version(self) -> str:
        """The pinned version (the connector framework's name for it)."""
        return self.version

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        if response.status_code == 429:
            message = provider_message(response)
            # APPLICATION/MEMBER DAY limits reset at 00:00 UTC: backing off cannot help.
            return RetryDecision(
                retry=True,
                wait_hint=parse_retry_after(response.headers.get("Retry-After")),
                quota_exhausted=" DAY " in f" {message} ",
            )
        return super().retry_decision(response)

    def _get(self, path: str, query: str) -> dict[str, Any]:
        # Built by hand: requests would percent-encode the Rest.li tuple's ( : , characters.
        try:
            return self.get_json(f"{path}?{query}")
        except SourceError as exc:
            fixes = {
                401: "renew LINKEDIN_ACCESS_TOKEN (3-legged token of a Page administrator)",
                403: "the token needs rw_organization_admin (or r_organization_admin) and the "
                "member must be an ADMINISTRATOR of the organization in LINKEDIN_ORGANIZATION_IDS",
                426: "the LinkedIn-Version is sunset or missing: set LINKEDIN_API_VERSION to a "
                "current YYYYMM",
                429: "the daily quota resets at 00:00 UTC; rerun the range after that",
            }
            if exc.fix or exc.status not in fixes:
                raise
            if exc.status == 429 and not isinstance(exc, QuotaExhaustedError):
                fixes[429] = (
                    "LinkedIn kept throttling (MINUTE limit) through every retry: rerun later"
                )
            raise type(exc)(
                SOURCE,
                exc.endpoint,
                "request refused",
                status=exc.status,
                provider_message=exc.provider_message,
                fix=fixes[exc.status],
            ) from None

    def _statistics(self, resource: str, urn: str, start: date, end: date) -> list[dict[str, Any]]:
        """Every element for ``start..end`` in <=90-day calls, paging by start/count."""
        elements: list[dict[str, Any]] = []
        for chunk_start, chunk_end in day_chunks(start, end, MAX_RANGE_DAYS):
            offset = 0
            previous: list[dict[str, Any]] = []
            while True:
                page = self._get(
                    f"/rest/{resource}",
                    f"q=organizationalEntity&organizationalEntity={quote(urn, safe='')}"
                    f"&timeIntervals={time_intervals(chunk_start, chunk_end)}"
                    f"&start={offset}&count={self.page_size}",
                )
                batch = _elements(page)
                check_page_moved(SOURCE, f"GET /rest/{resource}", "start", offset, batch, previous)
                previous = batch
                elements.extend(batch)
                progress.current().add(pages=1, rows=len(batch))
                if len(batch) < self.page_size or not has_next(page):
                    break
                offset += self.page_size
        return elements

    def share_statistics(
        self, organization_id: str, start: date, end: date
    ) -> list[dict[str, Any]]:
        urn = organization_urn(organization_id)
        page = {
            "elements": self._statistics("organizationalEntityShareStatistics", urn, start, end)
        }
        return parse_share_statistics(page)

    def network_size(self, organization_id: str) -> int:
        urn = organization_urn(organization_id)
        body = self._get(
            f"/rest/networkSizes/{quote(urn, safe='')}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER"
        )
        size = body.get("firstDegreeSize")
        if isinstance(size, bool) or not isinstance(size, int):
            raise SchemaError(
                SOURCE, "networkSizes", "firstDegreeSize missing or not an integer", value=body
            )
        return size

    def follower_statistics(
        self, organization_id: str, start: date, end: date
    ) -> list[dict[str, Any]]:
        """Daily gains for ``start..end`` plus ``followers_end_of_day`` rebuilt from the snapshot.

        Gains are pulled from ``start`` through today; an omitted day gained 0. Days whose later
        gains fall outside the 12-month history get ``followers_end_of_day`` None.
        """
        urn = organization_urn(organization_id)
        horizon = self.today - timedelta(days=HISTORY_DAYS - 1)
        first = max(start, horizon)
        gains_rows = (
            parse_follower_gains(
                {
                    "elements": self._statistics(
                        "organizationalEntityFollowerStatistics", urn, first, self.today
                    )
                }
            )
            if first <= self.today
            else []
        )
        total = self.network_size(organization_id)
        gains = {horizon + timedelta(days=i): 0 for i in range((self.today - horizon).days + 1)}
        by_day = {}
        for row in gains_rows:
            gains[row["date"]] = row["organic_follower_gain"] + row["paid_follower_gain"]
            by_day[row["date"]] = row
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        days = [d for d in days if d <= self.today]
        followers = reconstruct_followers(total, gains, days, self.today)
        return [
            {
                "organization_urn": urn,
                "date": day,
                "organic_follower_gain": by_day.get(day, {}).get("organic_follower_gain", 0),
                "paid_follower_gain": by_day.get(day, {}).get("paid_follower_gain", 0),
                "followers_end_of_day": followers[day],
                "network_size": total,
            }
            for day in days
            if day >= horizon
        ]
