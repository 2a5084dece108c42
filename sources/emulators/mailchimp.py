"""Mailchimp Marketing API 3.0 emulator: ``GET /3.0/``, ``/3.0/reports``, ``/3.0/reports/{id}``.

Answers like the real API: HTTP Basic auth with the API key as password (or ``apikey KEY``), the
key's ``-usN`` suffix must match the data center, offset paging with ``count`` (max 1000) and
``total_items``, ``since_send_time``/``before_send_time`` filters, the ``fields`` sparse fieldset,
lifetime-cumulative totals as of "now", rates 0-1 over delivered emails, ``list_stats`` rates 0-100,
and problem+json error bodies.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sources.emulators.company import Campaign, EmailProgram
from sources.emulators.server import EmulatorServer, Request, Response

DEMO_API_KEY = "0123456789abcdef0123456789abcdef-us21"
ACCOUNT_ID = "8d3a3db4d97663a9074efcc16"
MAX_COUNT = 1000
_ERRORS = "https://mailchimp.com/developer/marketing/docs/errors/"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """Mailchimp's problem+json error envelope."""
    body = {"type": _ERRORS, "title": title, "status": status, "detail": detail}
    body.update(extra, instance="3b4dcb40-emulator")
    return Response(status, body, content_type="application/problem+json; charset=utf-8")


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace(" ", "+").replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class MailchimpEmulator:
    program: EmailProgram
    api_key: str = DEMO_API_KEY
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    first_day: datetime = datetime(2024, 1, 1, tzinfo=UTC)

    @property
    def data_center(self) -> str:
        return self.api_key.rsplit("-", 1)[-1]

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", r"/3\.0/?", self.root)
        server.route("GET", r"/3\.0/reports/?", self.reports)
        server.route("GET", r"/3\.0/reports/(?P<id>[0-9a-f]+)", self.report)

    # Auth -----------------------------------------------------------------------------------
    def _denied(self, request: Request) -> Response | None:
        header = request.header("authorization") or ""
        key = ""
        if header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[1]
            except (ValueError, IndexError):
                key = ""
        elif header.lower().startswith("apikey "):
            key = header[7:]
        if not key:
            return problem(
                401,
                "API Key Missing",
                "Your request did not include an API key.",
            )
        if key != self.api_key:
            if key.rsplit("-", 1)[-1] != self.data_center:
                return problem(
                    401,
                    "Wrong Datacenter",
                    f"The API key provided is linked to a different datacenter "
                    f"(this is {self.data_center}).",
                )
            return problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return None

    # Routes ---------------------------------------------------------------------------------
    def root(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        return Response(
            body={
                "account_id": ACCOUNT_ID,
                "login_id": "99374",
                "account_name": "Acme Analytics",
                "email": "marketing@example.com",
                "role": "owner",
                "_links": [],
            }
        )

    def reports(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        try:
            count = int(request.arg("count", "10") or 10)
            offset = int(request.arg("offset", "0") or 0)
            since = request.arg("since_send_time")
            before = request.arg("before_send_time")
            start = _parse_time(since) if since else self.first_day
            end = _parse_time(before) if before else self.now()
        except ValueError as exc:
            return problem(
                400,
                "Invalid Resource",
                f"The resource submitted could not be validated: {exc}",
                errors=[{"field": "", "message": str(exc)}],
            )
        if count > MAX_COUNT or count < 0 or offset < 0:
            return problem(
                400,
                "Invalid Resource",
                "The resource submitted could not be validated. For field-specific details, "
                "see the 'errors' array.",
                errors=[{"field": "count", "message": "Must be less than or equal to 1000."}],
            )
        kind = request.arg("type")
        now = self.now()
        campaigns = [
            c
            for c in self.program.campaigns_between(start, min(end, now))
            if kind in (None, "regular")
        ]
        page = campaigns[offset : offset + count]
        body = {
            "reports": [self._report(c, now) for c in page],
            "total_items": len(campaigns),
            "_links": [{"rel": "self", "href": "/3.0/reports", "method": "GET"}],
        }
        return Response(body=_sparse(body, request.arg("fields")))

    def report(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        wanted = request.match.group("id") if request.match else ""
        now = self.now()
        for campaign in self.program.campaigns_between(self.first_day, now):
            if campaign.id == wanted:
                return Response(body=self._report(campaign, now))
        return problem(404, "Resource Not Found", "The requested resource could not be found.")

    def _report(self, c: Campaign, now: datetime) -> dict[str, Any]:
        t = self.program.totals(c, now)
        delivered = c.delivered
        ecommerce: dict[str, Any] = {}
        if t.orders is not None:
            ecommerce = {
                "total_orders": t.orders,
                "total_spent": float(t.revenue or 0),
                "total_revenue": float(t.revenue or 0),
                "currency_code": "USD",
            }
        return {
            "id": c.id,
            "campaign_title": c.title,
            "type": "regular",
            "list_id": c.list_id,
            "list_is_active": True,
            "list_name": "Newsletter",
            "subject_line": c.title,
            "preview_text": "",
            "emails_sent": c.emails_sent,
            "abuse_reports": t.abuse_reports,
            "unsubscribed": t.unsubscribed,
            "send_time": _iso(c.send_time),
            "bounces": {
                "hard_bounces": c.hard_bounces,
                "soft_bounces": c.soft_bounces,
                "syntax_errors": c.syntax_errors,
            },
            "forwards": {"forwards_count": t.forwards, "forwards_opens": t.forwards_opens},
            "opens": {
                "opens_total": t.opens_total,
                "proxy_excluded_opens": round(t.opens_total * 0.7),
                "unique_opens": t.unique_opens,
                "proxy_excluded_unique_opens": t.proxy_excluded_unique_opens,
                "open_rate": t.unique_opens / delivered if delivered else 0,
                "proxy_excluded_open_rate": (
                    t.proxy_excluded_unique_opens / delivered if delivered else 0
                ),
                "last_open": _iso(now),
            },
            "clicks": {
                "clicks_total": t.clicks_total,
                "unique_clicks": t.unique_clicks,
                "unique_subscriber_clicks": t.unique_subscriber_clicks,
                "click_rate": t.unique_subscriber_clicks / delivered if delivered else 0,
                "last_click": _iso(now),
            },
            "industry_stats": {
                "type": "Software and Web App",
                "open_rate": 0.2165,
                "click_rate": 0.0238,
                "bounce_rate": 0.0081,
                "unopen_rate": 0.7835,
                "unsub_rate": 0.0019,
                "abuse_rate": 0.0001,
            },
            "list_stats": {
                "sub_rate": 4.2,
                "unsub_rate": 0.3,
                "open_rate": 38.9,
                "click_rate": 4.7,
            },
            "ecommerce": ecommerce,
            "delivery_status": {"enabled": False},
            "_links": [],
        }


def _sparse(body: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Apply Mailchimp's ``fields`` filter (``reports.id,total_items``), one nesting level."""
    if not fields:
        return body
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    top = {f for f in wanted if "." not in f}
    nested: dict[str, set[str]] = {}
    for f in wanted:
        if "." in f:
            head, tail = f.split(".", 1)
            nested.setdefault(head, set()).add(tail.split(".")[0])
    result: dict[str, Any] = {}
    for key, value in body.items():
        if key in top:
            result[key] = value
        elif key in nested and isinstance(value, list):
            result[key] = [{k: v for k, v in item.items() if k in nested[key]} for item in value]
    return result
