"""Zendesk Support client: incremental cursor ticket export, ticket metrics, satisfaction ratings.

The export (``/api/v2/incremental/tickets/cursor.json``) starts once from ``start_time`` (epoch
seconds, at least a minute in the past) and then resumes from ``after_cursor``; it ends when
``end_of_stream`` is true, with ``after_cursor`` still present: that cursor is persisted so the
next run continues where this one stopped. A ticket appears again every time it is updated (the
latest state wins downstream). ``include=metric_sets`` carries each ticket's metrics:
``reply_time_in_minutes`` is ``{calendar, business}``, both null until the first reply (not 0).
The export is limited to 10 requests per minute (client-side limiter); a 429 carries
``Retry-After`` in seconds, which is honoured. Satisfaction ratings use cursor paging
(``page[size]``, ``meta.has_more``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import requests

from sources.http import (
    RETRYABLE_STATUSES,
    HttpClient,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    integer_id,
    optional_integer,
    paginate_cursor,
    parse_retry_after,
    register_secret,
)
from sources.ratelimit import RateLimiter
from sources.timezones import local_day, naive_utc, parse_iso

SOURCE = "zendesk"
EXPORT = "/api/v2/incremental/tickets/cursor.json"
RATINGS = "/api/v2/satisfaction_ratings.json"
EXPORT_REQUESTS_PER_MINUTE = 10
EXPORT_PAGE_SIZE = 1000
LIST_PAGE_SIZE = 100
SCORES = ("offered", "unoffered", "good", "bad")


def default_base_url(subdomain: str) -> str:
    return f"https://{subdomain}.zendesk.com"


def _minutes(metric_set: dict[str, Any] | None, name: str, kind: str) -> int | None:
    """``metric_set[name][kind]``; null means "not yet" and stays NULL."""
    if not metric_set:
        return None
    value = (metric_set.get(name) or {}).get(kind)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(
            SOURCE, EXPORT, "metric is not a number of minutes", field=f"{name}.{kind}", value=value
        )
    return int(value)


def _time(ticket: dict[str, Any], name: str, endpoint: str = EXPORT) -> Any:
    try:
        return parse_iso(ticket.get(name))
    except ValueError:
        raise SchemaError(
            SOURCE, endpoint, "not an ISO-8601 timestamp", field=name, value=ticket.get(name)
        ) from None


def parse_ticket(
    ticket: dict[str, Any], tz: ZoneInfo, metric_sets: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One exported ticket (with its ``metric_set``) -> one raw row."""
    created = _time(ticket, "created_at")
    if created is None or "id" not in ticket:
        raise SchemaError(
            SOURCE,
            EXPORT,
            "ticket lacks id or created_at",
            field="id/created_at",
            value=ticket.get("id"),
        )
    metrics = ticket.get("metric_set") or (metric_sets or {}).get(ticket["id"])
    rating = ticket.get("satisfaction_rating") or {}
    solved = _time(metrics or {}, "solved_at")
    return {
        "id": integer_id(SOURCE, EXPORT, "id", ticket["id"]),
        "created_at": naive_utc(created),
        "created_day": local_day(created, tz),
        "updated_at": naive_utc(_time(ticket, "updated_at")),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "ticket_type": ticket.get("type"),
        "via_channel": (ticket.get("via") or {}).get("channel"),
        "reply_minutes_calendar": _minutes(metrics, "reply_time_in_minutes", "calendar"),
        "reply_minutes_business": _minutes(metrics, "reply_time_in_minutes", "business"),
        "first_resolution_minutes_calendar": _minutes(
            metrics, "first_resolution_time_in_minutes", "calendar"
        ),
        "full_resolution_minutes_calendar": _minutes(
            metrics, "full_resolution_time_in_minutes", "calendar"
        ),
        "replies": optional_integer(SOURCE, EXPORT, "replies", (metrics or {}).get("replies")),
        "reopens": optional_integer(SOURCE, EXPORT, "reopens", (metrics or {}).get("reopens")),
        "solved_at": naive_utc(solved),
        "has_metrics": metrics is not None,
        "satisfaction_score": rating.get("score") if isinstance(rating, dict) else None,
        "time_zone": tz.key,
    }


def parse_rating(rating: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """One satisfaction rating -> one raw row (the comment text is not kept: it is free text)."""
    created = _time(rating, "created_at", RATINGS)
    score = rating.get("score")
    if created is None or score not in SCORES:
        raise SchemaError(
            SOURCE,
            RATINGS,
            "rating lacks created_at or has an unknown score",
            field="score",
            value=score,
        )
    return {
        "id": integer_id(SOURCE, RATINGS, "id", rating.get("id")),
        "ticket_id": optional_integer(SOURCE, RATINGS, "ticket_id", rating.get("ticket_id")),
        "score": score,
        "created_at": naive_utc(created),
        "rated_day": local_day(created, tz),
        "updated_at": naive_utc(_time(rating, "updated_at", RATINGS)),
        "reason": rating.get("reason"),
        "has_comment": bool(rating.get("comment")),
        "time_zone": tz.key,
    }


@dataclass
class ExportPage:
    tickets: list[dict[str, Any]]
    after_cursor: str | None
    end_of_stream: bool


def parse_export_page(page: Any, tz: ZoneInfo) -> ExportPage:
    if (
        not isinstance(page, dict)
        or not isinstance(page.get("tickets"), list)
        or "end_of_stream" not in page
    ):
        raise SchemaError(
            SOURCE,
            EXPORT,
            "not an incremental export page",
            field="tickets/end_of_stream",
            value=str(page),
        )
    # Sideloaded metric sets may also come as a top-level list keyed by ticket_id.
    metric_sets = {
        m.get("ticket_id"): m for m in page.get("metric_sets") or [] if isinstance(m, dict)
    }
    return ExportPage(
        [parse_ticket(t, tz, metric_sets) for t in page["tickets"]],
        page.get("after_cursor") or None,
        bool(page["end_of_stream"]),
    )


class ZendeskClient(HttpClient):
    """API-token client (HTTP Basic ``{email}/token:{api_token}``) for one Zendesk account."""

    source = SOURCE

    def __init__(
        self,
        subdomain: str,
        email: str,
        api_token: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        export_limiter: RateLimiter | None = None,
        export_page_size: int = EXPORT_PAGE_SIZE,
    ) -> None:
        register_secret(api_token)
        super().__init__(
            base_url or default_base_url(subdomain), auth=(f"{email}/token", api_token), retry=retry
        )
        self.subdomain = subdomain
        self.export_limiter = export_limiter or RateLimiter(EXPORT_REQUESTS_PER_MINUTE, 60.0)
        self.export_page_size = export_page_size

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """Retry 429 after ``Retry-After`` seconds (the body is not a stable schema) and 5xx."""
        hint = parse_retry_after(response.headers.get("Retry-After"))
        return RetryDecision(retry=response.status_code in RETRYABLE_STATUSES, wait_hint=hint)

    def export_tickets(
        self, tz: ZoneInfo, *, start_time: int | None = None, cursor: str | None = None
    ) -> Iterator[ExportPage]:
        """Pages of the ticket export from ``cursor`` (or ``start_time`` the first time) to the
        end of the stream. The last page's ``after_cursor`` is where the next run resumes."""
        if cursor is None and start_time is None:
            raise ValueError("the export needs a cursor or a start_time")
        while True:
            params: dict[str, Any] = {"include": "metric_sets", "per_page": self.export_page_size}
            if cursor:
                params["cursor"] = cursor
            else:
                params["start_time"] = start_time
            self.export_limiter.acquire()
            page = parse_export_page(self.get_json(EXPORT, params=params), tz)
            yield page
            if page.end_of_stream:
                return
            if not page.after_cursor or page.after_cursor == cursor:
                raise SchemaError(
                    SOURCE,
                    EXPORT,
                    "end_of_stream is false but the cursor did not advance",
                    field="after_cursor",
                    value=page.after_cursor,
                )
            cursor = page.after_cursor

    def satisfaction_ratings(
        self, start_time: int, end_time: int, tz: ZoneInfo
    ) -> list[dict[str, Any]]:
        """Ratings created in ``[start_time, end_time)`` (epoch seconds), every score."""

        def fetch(after: str | None) -> tuple[list[dict[str, Any]], str | None]:
            params: dict[str, Any] = {
                "start_time": start_time,
                "end_time": end_time,
                "page[size]": LIST_PAGE_SIZE,
            }
            if after:
                params["page[after]"] = after
            page = self.get_json(RATINGS, params=params)
            if not isinstance(page, dict) or not isinstance(page.get("satisfaction_ratings"), list):
                raise SchemaError(
                    SOURCE,
                    RATINGS,
                    "no satisfaction_ratings list",
                    field="satisfaction_ratings",
                    value=str(page),
                )
            meta = page.get("meta") or {}
            rows = [parse_rating(r, tz) for r in page["satisfaction_ratings"]]
            return rows, (meta.get("after_cursor") if meta.get("has_more") else None)

        return [
            r
            for rows in paginate_cursor(fetch, source=SOURCE, endpoint=f"GET {RATINGS}")
            for r in rows
        ]
