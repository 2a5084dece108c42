"""Search Console API emulator: ``POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query``.

Answers like the real API: OAuth bearer (service account) checked by the Google auth emulator,
the URL-encoded ``siteUrl``, ``keys[]`` in the order of ``dimensions``, clicks and impressions as
doubles (``109.0``), ``ctr`` 0-1, ``startRow``/``rowLimit`` paging (at most 25,000) with no ``rows``
key past the end, Pacific-time days, ``dataState=all`` adding partial recent days marked by
``metadata.first_incomplete_date``, property totals (grouped by ``date`` only) that include the
anonymized queries the query rows omit, and Google error envelopes (403 for a site the account
cannot see, 429 ``rateLimitExceeded``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from sources.emulators.company import SITE_URL, SearchRow, SeoPresence
from sources.emulators.google_auth import GoogleAuth
from sources.emulators.server import EmulatorServer, Request, Response

QUERY_PATH = r"/webmasters/v3/sites/(?P<site>[^/]+)/searchAnalytics/query"
PACIFIC = ZoneInfo("America/Los_Angeles")
MAX_ROW_LIMIT = 25_000
SUPPORTED_DIMENSIONS = (["date", "query", "page"], ["date"])
# Share of a partial day's data already processed, by days before "today" (Pacific).
PARTIAL = {1: 0.45, 2: 0.8}


def google_error(code: int, reason: str, message: str, status: str) -> Response:
    return Response(
        code,
        {
            "error": {
                "code": code,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": status,
            }
        },
    )


def _pacific_today() -> date:
    return datetime.now(PACIFIC).date()


def _double(value: int) -> float:
    return float(value)  # the wire format: 109.0


@dataclass
class SearchConsoleEmulator:
    seo: SeoPresence
    auth: GoogleAuth
    sites: tuple[str, ...] = (SITE_URL,)
    today: Callable[[], date] = field(default=_pacific_today)

    def register(self, server: EmulatorServer) -> None:
        server.route("POST", QUERY_PATH, self.query)

    def query(self, request: Request) -> Response:
        if denied := self.auth.check(request):
            return denied
        site = unquote(request.match.group("site")) if request.match else ""
        if site not in self.sites:
            return google_error(
                403,
                "forbidden",
                f"User does not have sufficient permission for site '{site}'. See also: "
                "https://support.google.com/webmasters/answer/2451999.",
                "PERMISSION_DENIED",
            )
        try:
            body = request.json()
            start = date.fromisoformat(body["startDate"])
            end = date.fromisoformat(body["endDate"])
            dimensions = [d.lower() for d in body.get("dimensions", [])]
            row_limit = int(body.get("rowLimit", 1000))
            start_row = int(body.get("startRow", 0))
            state = body.get("dataState", "final")
        except (KeyError, ValueError, TypeError) as exc:
            return google_error(400, "badRequest", f"Invalid request: {exc}", "INVALID_ARGUMENT")
        if dimensions not in SUPPORTED_DIMENSIONS:
            return google_error(
                400, "badRequest", f"Unsupported dimensions {dimensions}", "INVALID_ARGUMENT"
            )
        if not 1 <= row_limit <= MAX_ROW_LIMIT:
            return google_error(
                400,
                "badRequest",
                "Invalid value at 'row_limit': must be between 1 and 25000.",
                "INVALID_ARGUMENT",
            )
        today = self.today()
        last = today - timedelta(days=1 if state == "all" else 3)
        first_incomplete = today - timedelta(days=2)
        rows = self._rows(dimensions, start, min(end, last), today)
        payload: dict[str, Any] = {
            "responseAggregationType": "byProperty" if dimensions == ["date"] else "byPage"
        }
        page = rows[start_row : start_row + row_limit]
        if page:
            payload["rows"] = page
        if state == "all" and "date" in dimensions and first_incomplete <= min(end, last):
            payload["metadata"] = {"first_incomplete_date": first_incomplete.isoformat()}
        return Response(body=payload)

    def _rows(self, dimensions: list[str], start: date, end: date, today: date) -> list[dict]:
        rows: list[dict] = []
        day = start
        while day <= end:
            share = PARTIAL.get((today - day).days, 1.0)
            if dimensions == ["date"]:
                rows.append(_row([day.isoformat()], _partial(self.seo.search_total(day), share)))
            else:
                for r in self.seo.search_rows(day):
                    part = _partial(r, share)
                    if part.impressions:
                        rows.append(_row([day.isoformat(), r.query, r.page], part))
            day += timedelta(days=1)
        if dimensions != ["date"]:  # the API sorts by clicks, descending
            rows.sort(key=lambda r: (-r["clicks"], r["keys"]))
        return rows


def _partial(row: SearchRow, share: float) -> SearchRow:
    if share == 1.0:
        return row
    impressions = round(row.impressions * share)
    return SearchRow(
        row.query, row.page, min(round(row.clicks * share), impressions), impressions, row.position
    )


def _row(keys: list[str], r: SearchRow) -> dict[str, Any]:
    return {
        "keys": keys,
        "clicks": _double(r.clicks),
        "impressions": _double(r.impressions),
        "ctr": r.clicks / r.impressions if r.impressions else 0.0,
        "position": r.position,
    }
