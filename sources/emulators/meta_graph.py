"""Meta Graph API emulator: Page insights, Instagram account insights, Page tokens.

``GET /{version}/{page-id}?fields=access_token`` issues a Page token; ``GET /{version}/{page-id}/
insights`` needs it and answers daily values stamped with the Pacific end of day; Instagram
``/{ig-id}/insights`` answers ``total_value`` metrics for a range and ``follower_count`` as a 30-day
time series; ``/{ig-id}?fields=followers_count`` is the live total. Errors use Graph's
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` envelope; throttles are
HTTP 400 with code 4/17/613/800xx (see :func:`throttle_fault`).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sources.emulators.company import SOCIAL_ACCOUNTS, SocialAccount, social_day
from sources.emulators.server import EmulatorServer, Fault, Request, Response

VERSION = r"/(?P<version>v\d+\.\d+)"
PACIFIC = ZoneInfo("America/Los_Angeles")
PAGE_METRICS = {
    "page_media_view": "impressions",
    "page_total_media_view_unique": "reach",
    "page_post_engagements": "engagements",
    "page_follows": "followers",
}
IG_TOTAL_METRICS = {
    "views": "impressions",
    "reach": "reach",
    "total_interactions": "engagements",
    "website_clicks": "link_clicks",
}


def graph_error(
    status: int, message: str, code: int, kind: str = "OAuthException", subcode: int | None = None
) -> Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_hex(8)
    return Response(status, {"error": error})


def throttle_fault(
    code: int = 80001, minutes: int = 0, times: int = 1, path: str = r"/insights"
) -> Fault:
    """A Graph throttle: HTTP 400, the code in the body, usage in X-Business-Use-Case-Usage."""
    usage = {
        "104000000000001": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 60,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return Fault(
        path=path,
        status=400,
        times=times,
        body={
            "error": {
                "message": f"(#{code}) There have been too many calls. Wait a bit and try again.",
                "type": "OAuthException",
                "code": code,
                "error_subcode": 2446079,
                "fbtrace_id": "this_is_fake_response",
            }
        },
        headers={
            "X-Business-Use-Case-Usage": json.dumps(usage),
            "X-App-Usage": json.dumps({"call_count": 100, "total_time": 25, "total_cputime": 25}),
        },
    )


def _moment(value: str | None, name: str) -> datetime:
    if value is None:
        raise ValueError(f"{name} is required")
    if re.fullmatch(r"\d+", value):
        return datetime.fromtimestamp(int(value), tz=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def end_time(day: date) -> str:
    """The Pacific midnight that ends ``day``, in UTC, as Graph writes it."""
    nxt = day + timedelta(days=1)
    moment = datetime(nxt.year, nxt.month, nxt.day, tzinfo=PACIFIC).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class MetaGraphEmulator:
    access_token: str
    accounts: tuple[SocialAccount, ...] = SOCIAL_ACCOUNTS
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    page_tokens: dict[str, str] = field(default_factory=dict)
    versions_seen: list[str] = field(default_factory=list)

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", VERSION + r"/(?P<node>\d+)/insights", self.insights)
        server.route("GET", VERSION + r"/(?P<node>\d+)", self.node)

    def _account(self, node: str) -> SocialAccount | None:
        return next(
            (a for a in self.accounts if a.account_id == node and a.platform != "linkedin"), None
        )

    def _token(self, request: Request) -> str | None:
        auth = request.header("Authorization") or ""
        return auth.removeprefix("Bearer ").strip() if auth else request.arg("access_token")

    def _auth(self, request: Request, account: SocialAccount | None) -> Response | None:
        # Meta serves a call to an expired version with the oldest available one: never an error.
        self.versions_seen.append(request.match.group("version") if request.match else "")
        token = self._token(request)
        if not token:
            return graph_error(
                400,
                "An active access token must be used to query information about the current user.",
                2500,
            )
        valid = {self.access_token, *self.page_tokens.values()}
        if token not in valid:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if account is None:
            node = request.match.group("node") if request.match else ""
            return graph_error(
                400,
                f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation. Please read the "
                "Graph API documentation at https://developers.facebook.com/docs/graph-api",
                100,
                "GraphMethodException",
                33,
            )
        return None

    def _usage(self, response: Response) -> Response:
        response.headers["X-App-Usage"] = json.dumps(
            {"call_count": 3, "total_time": 2, "total_cputime": 1}
        )
        return response

    # GET /{node}?fields=... --------------------------------------------------------------------
    def node(self, request: Request) -> Response:
        node = request.match.group("node") if request.match else ""
        account = self._account(node)
        if denied := self._auth(request, account):
            return denied
        assert account is not None
        fields = (request.arg("fields") or "id").split(",")
        body: dict[str, Any] = {"id": node}
        if "access_token" in fields and account.platform == "facebook":
            token = self.page_tokens.setdefault(node, "EAAPage" + secrets.token_hex(16))
            body["access_token"] = token
        if "followers_count" in fields and account.platform == "instagram":
            body["followers_count"] = social_day(account, self.today()).followers
        return self._usage(Response(body=body))

    # GET /{node}/insights -------------------------------------------------------------------------
    def insights(self, request: Request) -> Response:
        node = request.match.group("node") if request.match else ""
        account = self._account(node)
        if denied := self._auth(request, account):
            return denied
        assert account is not None
        try:
            since = _moment(request.arg("since"), "since")
            until = _moment(request.arg("until"), "until")
        except ValueError as exc:
            return graph_error(400, f"(#100) {exc}", 100)
        metrics = [m for m in (request.arg("metric") or "").split(",") if m]
        if not metrics:
            return graph_error(
                400,
                "(#100) No metric was specified to be fetched. Please specify one or more metrics "
                "to be fetched and try again.",
                3001,
                subcode=1504028,
            )
        if request.arg("period") != "day":
            return graph_error(
                400, "(#100) period must be one of day, week, days_28, lifetime", 100
            )
        if account.platform == "facebook":
            if self._token(request) != self.page_tokens.get(node):
                return graph_error(
                    400, "(#190) This method must be called with a Page Access Token", 190
                )
            return self._page(request, account, metrics, since, until)
        return self._instagram(request, account, metrics, since, until)

    def _days(self, since: datetime, until: datetime) -> list[date]:
        first, last = since.date(), until.date() - timedelta(days=1)
        last = min(last, self.today() - timedelta(days=1))  # today is not reported yet
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def _page(
        self,
        request: Request,
        account: SocialAccount,
        metrics: list[str],
        since: datetime,
        until: datetime,
    ) -> Response:
        unknown = [m for m in metrics if m not in PAGE_METRICS]
        if unknown:
            return graph_error(400, "(#100) The value must be a valid insights metric", 100)
        if (until - since).days > 90:
            return graph_error(
                400,
                "(#100) There cannot be more than 90 days (7776000 s) between since and until",
                100,
            )
        days = self._days(since, until)
        data = []
        for metric in metrics:
            attr = PAGE_METRICS[metric]
            data.append(
                {
                    "name": metric,
                    "period": "day",
                    "values": [
                        {"value": getattr(social_day(account, d), attr), "end_time": end_time(d)}
                        for d in days
                    ],
                    "title": metric.replace("_", " ").title(),
                    "description": f"Daily: {metric}",
                    "id": f"{account.account_id}/insights/{metric}/day",
                }
            )
        return self._usage(
            Response(body={"data": data, "paging": self._paging(request, since, until)})
        )

    def _instagram(
        self,
        request: Request,
        account: SocialAccount,
        metrics: list[str],
        since: datetime,
        until: datetime,
    ) -> Response:
        if metrics == ["follower_count"]:
            today = self.today()
            oldest = today - timedelta(days=30)
            days = [d for d in self._days(since, until) if d >= oldest]
            data = [
                {
                    "name": "follower_count",
                    "period": "day",
                    "values": [
                        {"value": social_day(account, d).follower_gain, "end_time": end_time(d)}
                        for d in days
                    ],
                    "title": "Follower Count",
                    "description": "The number of new followers on each day.",
                    "id": f"{account.account_id}/insights/follower_count/day",
                }
            ]
            return self._usage(
                Response(body={"data": data, "paging": self._paging(request, since, until)})
            )
        unknown = [m for m in metrics if m not in IG_TOTAL_METRICS]
        if unknown:
            return graph_error(
                400,
                f"(#100) metric[0] must be one of the following values: {', '.join(IG_TOTAL_METRICS)}, "
                "follower_count",
                100,
            )
        if request.arg("metric_type") != "total_value":
            return graph_error(
                400,
                "(#100) The following metrics (views, total_interactions, website_clicks) should be "
                "specified with parameter metric_type=total_value",
                100,
            )
        days = self._days(since, until)
        data = []
        for metric in metrics:
            attr = IG_TOTAL_METRICS[metric]
            data.append(
                {
                    "name": metric,
                    "period": "day",
                    "title": metric.replace("_", " ").title(),
                    "description": f"Total {metric}",
                    "total_value": {
                        "value": sum(getattr(social_day(account, d), attr) for d in days)
                    },
                    "id": f"{account.account_id}/insights/{metric}/day",
                }
            )
        return self._usage(Response(body={"data": data}))

    @staticmethod
    def _paging(request: Request, since: datetime, until: datetime) -> dict[str, str]:
        """Graph's insights paging: previous/next *time ranges*, present even on the last one."""
        span = until - since

        def link(a: datetime, b: datetime) -> str:
            return (
                f"https://graph.facebook.com{request.path}?metric={request.arg('metric')}"
                f"&period=day&since={int(a.timestamp())}&until={int(b.timestamp())}"
            )

        return {"previous": link(since - span, since), "next": link(until, until + span)}
