"""LinkedIn Community Management API emulator: organization share and follower statistics.

Checks the bearer token, ``LinkedIn-Version`` (missing or sunset: 426) and
``X-Restli-Protocol-Version: 2.0.0``; parses the Rest.li tuple ``timeIntervals``; answers one
element per UTC DAY bucket (epoch ms, ``end`` exclusive) within the rolling 12 months, omits
``uniqueImpressionsCount`` on some days, pages by ``start``/``count`` with ``paging.links``, and
answers 429 ``APPLICATION DAY limit`` once ``calls_per_day`` is spent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from sources.emulators.company import SOCIAL_ACCOUNTS, SocialAccount, social_day
from sources.emulators.server import EmulatorServer, Fault, Request, Response

ORG = "urn:li:organization:"
_INTERVALS = re.compile(
    r"^\(timeRange:\(start:(?P<start>\d+),end:(?P<end>\d+)\),timeGranularityType:(?P<g>DAY|MONTH)\)$"
)
DAY_LIMIT_MESSAGE = (
    "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
)


def li_error(status: int, code: str, message: str, service_code: int) -> Response:
    return Response(
        status,
        {"status": status, "serviceErrorCode": service_code, "code": code, "message": message},
    )


def day_limit_fault(times: int = 1) -> Fault:
    """The APPLICATION DAY throttle (does not clear until 00:00 UTC)."""
    return Fault(
        path=r"/rest/",
        status=429,
        times=times,
        body={
            "status": 429,
            "serviceErrorCode": 101,
            "code": "TOO_MANY_REQUESTS",
            "message": DAY_LIMIT_MESSAGE,
        },
    )


def minute_limit_fault(times: int = 1) -> Fault:
    """A short-window 429 that may be retried."""
    return Fault(
        path=r"/rest/",
        status=429,
        times=times,
        body={
            "status": 429,
            "serviceErrorCode": 101,
            "code": "TOO_MANY_REQUESTS",
            "message": "Resource level throttle APPLICATION MINUTE limit for calls to this resource is reached.",
        },
    )


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass
class LinkedInEmulator:
    access_token: str
    accounts: tuple[SocialAccount, ...] = SOCIAL_ACCOUNTS
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    calls_per_day: int = 100_000
    calls_made: int = 0

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", r"/rest/organizationalEntityShareStatistics", self.share_statistics)
        server.route(
            "GET", r"/rest/organizationalEntityFollowerStatistics", self.follower_statistics
        )
        server.route("GET", r"/rest/networkSizes/(?P<urn>[^/]+)", self.network_size)

    def _organization(self, urn: str | None) -> SocialAccount | None:
        if not urn or not urn.startswith(ORG):
            return None
        org_id = urn.removeprefix(ORG)
        return next(
            (a for a in self.accounts if a.platform == "linkedin" and a.account_id == org_id), None
        )

    def _check(
        self, request: Request, urn: str | None
    ) -> tuple[SocialAccount | None, Response | None]:
        auth = request.header("Authorization") or ""
        if auth != f"Bearer {self.access_token}":
            return None, li_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        version = request.header("LinkedIn-Version")
        if not version:
            return None, li_error(
                426,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by "
                "adding the LinkedIn-Version header.",
                0,
            )
        if not re.fullmatch(r"\d{6}(\.\d{2})?", version):
            return None, li_error(400, "INVALID_VERSION", f"Invalid version: {version}", 0)
        today = self.today()
        oldest = f"{today.year - 1}{today.month:02d}"
        if version[:6] < oldest:
            return None, li_error(
                426, "NONEXISTENT_VERSION", f"Requested version {version} is not active", 0
            )
        if request.header("X-Restli-Protocol-Version") != "2.0.0":
            return None, li_error(
                400, "ILLEGAL_ARGUMENT", "Rest.li 2.0.0 protocol is required for this resource", 0
            )
        self.calls_made += 1
        if self.calls_made > self.calls_per_day:
            return None, li_error(429, "TOO_MANY_REQUESTS", DAY_LIMIT_MESSAGE, 101)
        account = self._organization(urn)
        if account is None:
            return None, li_error(
                403, "ACCESS_DENIED", f"Not enough permissions to access: organization {urn}", 100
            )
        return account, None

    def _buckets(self, request: Request) -> list[date] | Response:
        raw = request.arg("timeIntervals")
        match = _INTERVALS.match(raw or "")
        if request.arg("q") != "organizationalEntity" or not match:
            return li_error(
                400, "ILLEGAL_ARGUMENT", f"Invalid query parameter timeIntervals: {raw}", 0
            )
        start = datetime.fromtimestamp(int(match["start"]) / 1000, tz=UTC).date()
        end = datetime.fromtimestamp(int(match["end"]) / 1000, tz=UTC).date()  # exclusive
        today = self.today()
        oldest = today - timedelta(days=364)
        return [
            start + timedelta(days=i)
            for i in range((end - start).days)
            if oldest <= start + timedelta(days=i) <= today
        ]

    def _page(self, request: Request, elements: list[dict[str, Any]]) -> Response:
        start = int(request.arg("start") or 0)
        count = int(request.arg("count") or 10)
        page = elements[start : start + count]
        links = []
        if start + count < len(elements):
            links.append(
                {
                    "rel": "next",
                    "type": "application/json",
                    "href": f"{request.path}?start={start + count}&count={count}",
                }
            )
        return Response(
            body={"paging": {"start": start, "count": count, "links": links}, "elements": page}
        )

    def share_statistics(self, request: Request) -> Response:
        urn = request.arg("organizationalEntity")
        account, denied = self._check(request, urn)
        if denied:
            return denied
        assert account is not None
        buckets = self._buckets(request)
        if isinstance(buckets, Response):
            return buckets
        elements = []
        for day in buckets:
            d = social_day(account, day)
            clicks = d.link_clicks or 0
            stats: dict[str, Any] = {
                "impressionCount": d.impressions,
                "clickCount": clicks,
                "likeCount": d.likes,
                "commentCount": d.comments,
                "shareCount": d.shares,
                "engagement": (clicks + d.likes + d.comments + d.shares) / d.impressions,
            }
            if d.reach is not None:
                stats["uniqueImpressionsCount"] = d.reach
            elements.append(
                {
                    "organizationalEntity": urn,
                    "timeRange": {"start": _ms(day), "end": _ms(day + timedelta(days=1))},
                    "totalShareStatistics": stats,
                }
            )
        return self._page(request, elements)

    def follower_statistics(self, request: Request) -> Response:
        urn = request.arg("organizationalEntity")
        account, denied = self._check(request, urn)
        if denied:
            return denied
        assert account is not None
        buckets = self._buckets(request)
        if isinstance(buckets, Response):
            return buckets
        elements = []
        for day in buckets:
            gain = social_day(account, day).follower_gain
            if gain == 0:
                continue  # days without activity are omitted
            paid = max(0, gain // 5) if gain > 0 else 0
            elements.append(
                {
                    "organizationalEntity": urn,
                    "timeRange": {"start": _ms(day), "end": _ms(day + timedelta(days=1))},
                    "followerGains": {"organicFollowerGain": gain - paid, "paidFollowerGain": paid},
                }
            )
        return self._page(request, elements)

    def network_size(self, request: Request) -> Response:
        urn = unquote(request.match.group("urn")) if request.match else ""
        account, denied = self._check(request, urn)
        if denied:
            return denied
        assert account is not None
        if request.arg("edgeType") not in ("COMPANY_FOLLOWED_BY_MEMBER", "CompanyFollowedByMember"):
            return li_error(400, "ILLEGAL_ARGUMENT", "edgeType is required", 0)
        return Response(body={"firstDegreeSize": social_day(account, self.today()).followers})
