"""GA4 Data API v1beta emulator: ``POST /v1beta/properties/{id}:runReport``.

Answers like the real API: every metric value a string typed by ``metricHeaders[].type``, ``date``
as ``YYYYMMDD``, offset paging with ``rowCount``, no ``rows`` key for an empty report,
``propertyQuota`` when asked, google.rpc.Status error bodies, and a per-property token budget whose
exhaustion answers 429 ``RESOURCE_EXHAUSTED``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sources.emulators.company import (
    CHANNEL_GROUPS,
    LANDING_PAGES,
    Company,
    page_day,
    page_paths,
)
from sources.emulators.google_auth import GoogleAuth
from sources.emulators.server import EmulatorServer, Request, Response

RUN_REPORT = r"/v1beta/properties/(?P<property>[^/:]+):runReport"
MAX_LIMIT = 250_000
DEFAULT_LIMIT = 10_000
MAX_METRICS = 10

# Metric name -> header type. Channel-level values come from Company.channel_day.
METRIC_TYPES = {
    "sessions": "TYPE_INTEGER",
    "engagedSessions": "TYPE_INTEGER",
    "screenPageViews": "TYPE_INTEGER",
    "userEngagementDuration": "TYPE_SECONDS",
    "keyEvents": "TYPE_FLOAT",
    "purchaseRevenue": "TYPE_CURRENCY",
    "newUsers": "TYPE_INTEGER",
    "totalUsers": "TYPE_INTEGER",
    "eventCount": "TYPE_INTEGER",
}
_FIELD = {
    "sessions": "sessions",
    "engagedSessions": "engaged_sessions",
    "screenPageViews": "screen_page_views",
    "userEngagementDuration": "user_engagement_duration",
    "keyEvents": "key_events",
    "purchaseRevenue": "purchase_revenue",
    "newUsers": "new_users",
    "totalUsers": "total_users",
}
SUPPORTED_DIMENSIONS = (
    ("date", "sessionDefaultChannelGroup"),
    ("date", "landingPage"),
    ("date", "pagePath"),
    ("date",),
    (),
)


def google_error(code: int, status: str, message: str) -> Response:
    return Response(code, {"error": {"code": code, "message": message, "status": status}})


def _parse_date(text: str, today: date) -> date:
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if m := re.fullmatch(r"(\d+)daysAgo", text):
        return today - timedelta(days=int(m.group(1)))
    return date.fromisoformat(text)


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class PropertySettings:
    currency_code: str = "USD"
    time_zone: str = "America/New_York"
    tokens_per_day: int = 200_000
    tokens_consumed: int = 0
    subject_to_thresholding: bool = False


@dataclass
class GA4Emulator:
    company: Company
    auth: GoogleAuth
    lead_event: str = "generate_lead"
    properties: dict[str, PropertySettings] = field(default_factory=dict)
    today: Callable[[], date] = date.today

    def __post_init__(self) -> None:
        for property_id in self.company.property_ids:
            self.properties.setdefault(property_id, PropertySettings())

    def register(self, server: EmulatorServer) -> None:
        server.route("POST", RUN_REPORT, self.run_report)

    def run_report(self, request: Request) -> Response:
        if denied := self.auth.check(request):
            return denied
        property_id = request.match.group("property") if request.match else ""
        settings = self.properties.get(property_id)
        if settings is None:
            return google_error(
                403,
                "PERMISSION_DENIED",
                "User does not have sufficient permissions for this property. To learn more about "
                "Property ID, see https://developers.google.com/analytics/devguides/reporting/"
                "data/v1/property-id.",
            )
        if settings.tokens_consumed >= settings.tokens_per_day:
            return google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Exhausted property tokens per day for a property. To learn more, see "
                "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas",
            )
        try:
            body = request.json()
            return self._report(property_id, settings, body)
        except (ValueError, KeyError, TypeError) as exc:
            return google_error(400, "INVALID_ARGUMENT", f"Invalid request: {exc}")

    def _report(self, property_id: str, settings: PropertySettings, body: dict) -> Response:
        dims = tuple(d["name"] for d in body.get("dimensions", []))
        metrics = [m["name"] for m in body.get("metrics", [])]
        if dims not in SUPPORTED_DIMENSIONS:
            return google_error(400, "INVALID_ARGUMENT", f"Unsupported dimensions {list(dims)}")
        if not metrics or len(metrics) > MAX_METRICS:
            return google_error(
                400, "INVALID_ARGUMENT", "Requests are allowed up to 10 metrics and at least 1."
            )
        unknown = [m for m in metrics if m not in METRIC_TYPES]
        if unknown:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                f"Field {unknown[0]} is not a valid metric. For a list of valid dimensions and "
                "metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
                "api-schema",
            )
        (date_range,) = body["dateRanges"]
        today = self.today()
        start = _parse_date(date_range["startDate"], today)
        end = min(_parse_date(date_range["endDate"], today), today)
        event_filter = self._event_filter(body.get("dimensionFilter"))
        rows = self._rows(property_id, dims, metrics, start, end, event_filter)
        limit = min(int(body.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
        offset = int(body.get("offset") or 0)
        page = rows[offset : offset + limit]
        settings.tokens_consumed += 1 + len(rows) // 1000
        payload: dict[str, Any] = {
            "dimensionHeaders": [{"name": d} for d in dims],
            "metricHeaders": [{"name": m, "type": METRIC_TYPES[m]} for m in metrics],
            "metadata": {"currencyCode": settings.currency_code, "timeZone": settings.time_zone},
            "kind": "analyticsData#runReport",
        }
        if settings.subject_to_thresholding:
            payload["metadata"]["subjectToThresholding"] = True
        if rows:  # an empty report has neither rows nor rowCount
            payload["rows"] = [
                {
                    "dimensionValues": [{"value": v} for v in dim_values],
                    "metricValues": [{"value": _fmt(v)} for v in metric_values],
                }
                for dim_values, metric_values in page
            ]
            payload["rowCount"] = len(rows)
        if body.get("returnPropertyQuota"):
            remaining = max(settings.tokens_per_day - settings.tokens_consumed, 0)
            payload["propertyQuota"] = {
                "tokensPerDay": {"consumed": settings.tokens_consumed, "remaining": remaining},
                "tokensPerHour": {"consumed": 1, "remaining": 39_999},
                "concurrentRequests": {"consumed": 0, "remaining": 10},
                "serverErrorsPerProjectPerHour": {"consumed": 0, "remaining": 10},
                "potentiallyThresholdedRequestsPerHour": {"consumed": 0, "remaining": 120},
                "tokensPerProjectPerHour": {"consumed": 1, "remaining": 13_999},
            }
        return Response(body=payload)

    @staticmethod
    def _event_filter(spec: dict | None) -> str | None:
        if not spec:
            return None
        flt = spec["filter"]
        if flt["fieldName"] != "eventName":
            raise ValueError(f"unsupported filter field {flt['fieldName']}")
        return flt["stringFilter"]["value"]

    def _rows(
        self,
        property_id: str,
        dims: tuple[str, ...],
        metrics: list[str],
        start: date,
        end: date,
        event_filter: str | None,
    ) -> list[tuple[list[str], list[Any]]]:
        if dims == ():
            if start > end:
                return []
            values = [
                self.company.users_in_range(property_id, start, end)
                if m == "totalUsers"
                else sum(
                    self._day_total(property_id, d, m, event_filter) for d in _days(start, end)
                )
                for m in metrics
            ]
            return [([], values)]
        rows = []
        for day in _days(start, end):
            ymd = day.strftime("%Y%m%d")
            if dims == ("date",):
                values = [self._day_total(property_id, day, m, event_filter) for m in metrics]
                rows.append(([ymd], values))
            elif dims[1] == "sessionDefaultChannelGroup":
                for channel in CHANNEL_GROUPS:
                    values = [
                        self._channel_metric(property_id, day, channel, m, event_filter)
                        for m in metrics
                    ]
                    if any(values):
                        rows.append(([ymd, channel], values))
            elif dims[1] == "pagePath":
                rows.extend(self._page_rows(property_id, day, ymd, metrics, event_filter))
            else:
                for page in LANDING_PAGES:
                    totals = self.company.landing_page_day(property_id, day, page)
                    values = [totals.get(m, 0) for m in metrics]
                    if any(values):
                        rows.append(([ymd, page], values))
        return rows

    def _page_rows(
        self, property_id: str, day: date, ymd: str, metrics: list[str], event_filter: str | None
    ) -> list[tuple[list[str], list[Any]]]:
        rows = []
        scale = self.company.property_scale.get(property_id, 1.0)
        for path in page_paths(day):
            numbers = page_day(property_id, day, path, scale)
            values = [
                (numbers["leads"] if event_filter == self.lead_event else 0)
                if m == "eventCount"
                else numbers.get(m, 0)
                for m in metrics
            ]
            if any(values):
                rows.append(([ymd, path], values))
        return rows

    def _channel_metric(
        self, property_id: str, day: date, channel: str, metric: str, event_filter: str | None
    ) -> Any:
        cd = self.company.channel_day(property_id, day, channel)
        if metric == "eventCount":
            return cd.leads if event_filter == self.lead_event else 0
        value = getattr(cd, _FIELD[metric])
        return value if metric != "keyEvents" else float(value)

    def _day_total(self, property_id: str, day: date, metric: str, event_filter: str | None) -> Any:
        if metric == "totalUsers":
            return self.company.users_in_range(property_id, day, day)
        values = [
            self._channel_metric(property_id, day, c, metric, event_filter) for c in CHANNEL_GROUPS
        ]
        return sum(values, Decimal(0)) if metric == "purchaseRevenue" else sum(values)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
