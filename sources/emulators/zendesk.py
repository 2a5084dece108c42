"""Zendesk emulator: incremental cursor ticket export (with metric sets) and satisfaction ratings.

The export streams every ticket whose ``updated_at`` is after the position (``start_time`` the
first time, then the opaque ``cursor``), oldest change first, ``per_page`` at a time; the last page
says ``end_of_stream: true`` and still carries ``after_cursor``. A ticket that changes later is
streamed again. Export requests beyond ``export_rpm`` per 60 s (by the injectable ``clock``)
answer 429 with ``Retry-After`` and a plain-text body. Auth is HTTP Basic ``{email}/token:{token}``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sources.emulators.company import BusinessActivity, Ticket
from sources.emulators.server import EmulatorServer, Request, Response

EXPORT = r"/api/v2/incremental/tickets/cursor.json"
RATINGS = r"/api/v2/satisfaction_ratings.json"
DEMO_SUBDOMAIN = "kpidemo"
DEMO_EMAIL = "support-admin@kpidemo.example"
DEMO_API_TOKEN = "zd-demo-api-token-6wQ2mJ8rT"
MAX_PER_PAGE = 1000
MAX_PAGE_SIZE = 100
LIFETIME_DAYS = 21  # a demo ticket's last change happens within three weeks of its creation


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def encode_cursor(epoch: int, ticket_id: int) -> str:
    return base64.b64encode(f"{epoch}.0||{ticket_id}|".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    text = base64.b64decode(cursor.encode()).decode()
    epoch, _, rest = text.partition("||")
    return int(float(epoch)), int(rest.strip("|"))


def _minutes(calendar: int | None, business: int | None) -> dict[str, int | None]:
    return {"calendar": calendar, "business": business}


@dataclass
class ZendeskEmulator:
    activity: BusinessActivity
    subdomain: str = DEMO_SUBDOMAIN
    credentials: set[tuple[str, str]] = field(
        default_factory=lambda: {(DEMO_EMAIL, DEMO_API_TOKEN)}
    )
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    export_rpm: int | None = 10
    clock: Callable[[], float] = time.monotonic
    export_requests: int = 0
    _export_times: list[float] = field(default_factory=list)

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", EXPORT, self.export)
        server.route("GET", RATINGS, self.ratings)

    def _authenticate(self, request: Request) -> Response | None:
        header = request.header("authorization") or ""
        if header.startswith("Basic "):
            user, _, token = base64.b64decode(header[6:]).decode().partition(":")
            email, _, kind = user.partition("/")
            if kind == "token" and (email, token) in self.credentials:
                return None
        return Response(401, {"error": "Couldn't authenticate you"})

    # Export ---------------------------------------------------------------------------------
    def _throttled(self) -> Response | None:
        if self.export_rpm is None:
            return None
        now = self.clock()
        self._export_times = [t for t in self._export_times if now - t < 60]
        if len(self._export_times) >= self.export_rpm:
            retry = max(1, int(60 - (now - self._export_times[0])) + 1)
            return Response(429, "Too Many Requests", {"Retry-After": str(retry)}, "text/plain")
        self._export_times.append(now)
        return None

    def _tickets_since(self, position: tuple[int, int], now: datetime) -> list[Ticket]:
        start = datetime.fromtimestamp(position[0], UTC).date() - timedelta(days=LIFETIME_DAYS)
        found = []
        day: date = start
        while day <= now.date():
            for ticket in self.activity.tickets_on(day):
                if ticket.created > now:
                    continue
                key = (int(ticket.updated_at(now).timestamp()), ticket.id)
                if key > position:
                    found.append((key, ticket))
            day += timedelta(days=1)
        return [t for _, t in sorted(found, key=lambda pair: pair[0])]

    def export(self, request: Request) -> Response:
        if denied := self._authenticate(request):
            return denied
        if throttled := self._throttled():
            return throttled
        self.export_requests += 1
        now = self.now()
        try:
            per_page = min(int(request.arg("per_page", "1000") or 1000), MAX_PER_PAGE)
            if cursor := request.arg("cursor"):
                position = decode_cursor(cursor)
            elif request.arg("start_time") is not None:
                start_time = int(request.arg("start_time") or 0)
                if start_time > now.timestamp() - 60:
                    return Response(
                        422,
                        {
                            "error": "InvalidValue",
                            "description": "start_time must be more than one minute in the past",
                        },
                    )
                position = (start_time - 1, 2**62)  # every change at or after start_time
            else:
                return Response(
                    400,
                    {"error": "InvalidValue", "description": "start_time or cursor is required"},
                )
        except (ValueError, UnicodeDecodeError):
            return Response(400, {"error": "InvalidValue", "description": "Invalid cursor"})
        tickets = self._tickets_since(position, now)
        page = tickets[:per_page]
        last = (int(page[-1].updated_at(now).timestamp()), page[-1].id) if page else position
        after = encode_cursor(*last)
        host = f"https://{self.subdomain}.zendesk.com"
        with_metrics = "metric_sets" in (request.arg("include") or "")
        return Response(
            body={
                "tickets": [self._ticket_json(t, now, with_metrics) for t in page],
                "after_cursor": after,
                "after_url": f"{host}/api/v2/incremental/tickets/cursor.json?cursor={after}",
                "before_cursor": None,
                "before_url": None,
                "end_of_stream": len(tickets) <= per_page,
            }
        )

    def _ticket_json(self, ticket: Ticket, now: datetime, with_metrics: bool) -> dict[str, Any]:
        rating = ticket.rating_at(now)
        body: dict[str, Any] = {
            "id": ticket.id,
            "url": f"https://{self.subdomain}.zendesk.com/api/v2/tickets/{ticket.id}.json",
            "external_id": None,
            "via": {"channel": ticket.channel},
            "created_at": iso(ticket.created),
            "updated_at": iso(ticket.updated_at(now)),
            "type": "question",
            "subject": f"Question #{ticket.id % 1000}",
            "description": "(demo ticket)",
            "priority": ticket.priority,
            "status": ticket.status(now),
            "requester_id": 9_000_000 + ticket.id % 50_000,
            "assignee_id": 135 + ticket.id % 4,
            "group_id": 44,
            "organization_id": None,
            "tags": [ticket.channel],
            "custom_fields": [],
            "satisfaction_rating": (
                {"id": rating.id, "score": rating.score(now), "comment": None}
                if rating
                else {"score": "unoffered"}
            ),
        }
        if with_metrics:
            replied = ticket.is_replied(now)
            solved = ticket.solved is not None and now >= ticket.solved
            resolution = (
                round((ticket.solved - ticket.created).total_seconds() / 60) if solved else None  # type: ignore[operator]
            )
            body["metric_set"] = {
                "id": ticket.id + 7,
                "ticket_id": ticket.id,
                "created_at": iso(ticket.created),
                "updated_at": iso(ticket.updated_at(now)),
                "replies": 1 if replied else 0,
                "reopens": 0,
                "reply_time_in_minutes": _minutes(
                    ticket.reply_minutes if replied else None,
                    ticket.reply_business_minutes if replied else None,
                ),
                "first_resolution_time_in_minutes": _minutes(
                    resolution, None if resolution is None else resolution // 2
                ),
                "full_resolution_time_in_minutes": _minutes(
                    resolution, None if resolution is None else resolution // 2
                ),
                "solved_at": iso(ticket.solved) if solved else None,
                "initially_assigned_at": iso(ticket.created + timedelta(minutes=2)),
            }
        return body

    # Satisfaction ratings -------------------------------------------------------------------
    def ratings(self, request: Request) -> Response:
        if denied := self._authenticate(request):
            return denied
        now = self.now()
        try:
            start = int(request.arg("start_time") or 0)
            end = int(request.arg("end_time") or now.timestamp())
            size = int(request.arg("page[size]", "100") or 100)
            offset = int(base64.b64decode(request.arg("page[after]") or "MA==").decode())
        except ValueError:
            return Response(
                400,
                {"error": "InvalidPaginationParameter", "description": "invalid page parameters"},
            )
        if not 1 <= size <= MAX_PAGE_SIZE:
            return Response(
                400,
                {"error": "InvalidPaginationParameter", "description": "page[size] must be 1-100"},
            )
        ratings = []
        day = datetime.fromtimestamp(start, UTC).date() - timedelta(days=7)
        last = min(datetime.fromtimestamp(end, UTC), now).date()
        while day <= last:
            for ticket in self.activity.tickets_on(day):
                rating = ticket.rating_at(now)
                if rating and start <= rating.offered.timestamp() < end:
                    ratings.append((ticket, rating))
            day += timedelta(days=1)
        ratings.sort(key=lambda pair: pair[1].id)
        page = ratings[offset : offset + size]
        has_more = offset + size < len(ratings)
        after = base64.b64encode(str(offset + size).encode()).decode()
        host = f"https://{self.subdomain}.zendesk.com"
        return Response(
            body={
                "satisfaction_ratings": [
                    {
                        "id": r.id,
                        "url": f"{host}/api/v2/satisfaction_ratings/{r.id}.json",
                        "assignee_id": 135 + t.id % 4,
                        "group_id": 44,
                        "requester_id": 9_000_000 + t.id % 50_000,
                        "ticket_id": t.id,
                        "score": r.score(now),
                        "comment": "Thanks!" if r.score(now) == "good" else None,
                        "reason": None,
                        "reason_id": None,
                        "created_at": iso(r.offered),
                        "updated_at": iso(r.updated_at(now)),
                    }
                    for t, r in page
                ],
                "meta": {
                    "has_more": has_more,
                    "after_cursor": after if has_more else None,
                    "before_cursor": None,
                },
                "links": {
                    "next": f"{host}/api/v2/satisfaction_ratings.json?page%5Bafter%5D={after}"
                    if has_more
                    else None,
                    "prev": None,
                },
            }
        )
