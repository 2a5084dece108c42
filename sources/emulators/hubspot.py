"""HubSpot emulator: CRM v3 search for contacts and deals, deal pipelines, account details.

Search answers ``{"total", "results", "paging": {"next": {"after"}}}`` with every property a string
(``""`` for an empty amount, null for no close date), ISO UTC timestamps with milliseconds,
requested-but-unknown properties silently absent, ``paging`` omitted on the last page and HTTP 400
for a page past ``search_cap`` (10,000) results. Auth is a private-app bearer token. Rate limits
answer 429 with ``policyName`` when configured: ``secondly_limit`` search requests per second
(by the injectable ``clock``) and ``daily_limit`` requests per day.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sources.emulators.company import CUSTOM_PIPELINE, DEAL_STAGES, BusinessActivity, Contact, Deal
from sources.emulators.server import EmulatorServer, Request, Response

SEARCH = r"/crm/v3/objects/(?P<object>contacts|deals)/search"
DEMO_ACCESS_TOKEN = "pat-na1-5b2c6d1e-demo-emulator-token"
PORTAL_ID = 44412345
MODIFIED = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
MAX_SEARCH_LIMIT = 200


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> Response:
    return Response(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
    )


def iso_ms(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass
class HubSpotEmulator:
    activity: BusinessActivity
    tokens: set[str] = field(default_factory=lambda: {DEMO_ACCESS_TOKEN})
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    company_currency: str = "USD"
    search_cap: int = 10_000
    secondly_limit: int | None = None
    daily_limit: int | None = None
    clock: Callable[[], float] = time.monotonic
    search_requests: int = 0
    _recent: list[float] = field(default_factory=list)
    _today_requests: int = 0

    def register(self, server: EmulatorServer) -> None:
        server.route("POST", SEARCH, self.search)
        server.route("GET", r"/crm/v3/pipelines/deals", self.pipelines)
        server.route("GET", r"/account-info/v3/details", self.account)

    # Auth and limits ------------------------------------------------------------------------
    def _guard(self, request: Request, search: bool = False) -> Response | None:
        header = request.header("authorization") or ""
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            return hubspot_error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        self._today_requests += 1
        if self.daily_limit is not None and self._today_requests > self.daily_limit:
            return hubspot_error(
                429, "You have reached your daily limit.", "RATE_LIMITS", policyName="DAILY"
            )
        if search and self.secondly_limit is not None:
            now = self.clock()
            self._recent = [t for t in self._recent if now - t < 1.0]
            if len(self._recent) >= self.secondly_limit:
                return hubspot_error(
                    429,
                    "You have reached your secondly limit.",
                    "RATE_LIMITS",
                    policyName="SECONDLY",
                )
            self._recent.append(now)
        return None

    # Reference endpoints --------------------------------------------------------------------
    def account(self, request: Request) -> Response:
        if denied := self._guard(request):
            return denied
        return Response(
            body={
                "portalId": PORTAL_ID,
                "accountType": "STANDARD",
                "timeZone": "US/Eastern",
                "companyCurrency": self.company_currency,
                "additionalCurrencies": ["EUR", "GBP"],
                "utcOffset": "-05:00",
                "utcOffsetMilliseconds": -18000000,
                "uiDomain": "app.hubspot.com",
                "dataHostingLocation": "na1",
            }
        )

    def pipelines(self, request: Request) -> Response:
        if denied := self._guard(request):
            return denied
        labels = {"default": "Sales Pipeline", CUSTOM_PIPELINE: "Partner Pipeline"}
        results = []
        for pipeline, (open_stage, won, lost) in DEAL_STAGES.items():
            stages = [
                (open_stage, "Qualified to buy", "false", "0.4"),
                (won, "Closed won", "true", "1.0"),
                (lost, "Closed lost", "true", "0.0"),
            ]
            results.append(
                {
                    "id": pipeline,
                    "label": labels[pipeline],
                    "displayOrder": len(results),
                    "archived": False,
                    "stages": [
                        {
                            "id": sid,
                            "label": label,
                            "displayOrder": i,
                            "archived": False,
                            "metadata": {"isClosed": closed, "probability": probability},
                        }
                        for i, (sid, label, closed, probability) in enumerate(stages)
                    ],
                }
            )
        return Response(body={"results": results})

    # Search ---------------------------------------------------------------------------------
    def search(self, request: Request) -> Response:
        if denied := self._guard(request, search=True):
            return denied
        self.search_requests += 1
        object_type = request.match.group("object") if request.match else "contacts"
        try:
            body = request.json()
            low, high = self._window(body, MODIFIED[object_type])
            limit = int(body.get("limit", 10))
            offset = int(body.get("after") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            return hubspot_error(
                400, f"There was a problem with the request: {exc}", "VALIDATION_ERROR"
            )
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            return hubspot_error(
                400, f"limit must be between 1 and {MAX_SEARCH_LIMIT}", "VALIDATION_ERROR"
            )
        if offset >= self.search_cap:
            return hubspot_error(
                400,
                f"There was a problem with the request. Paging beyond {self.search_cap} results is not supported.",
                "VALIDATION_ERROR",
            )
        now = self.now()
        objects = (
            self._contacts(low, high, now)
            if object_type == "contacts"
            else self._deals(low, high, now)
        )
        wanted = list(body.get("properties") or [])
        page = objects[offset : offset + limit]
        render = self._contact_json if object_type == "contacts" else self._deal_json
        payload: dict[str, Any] = {
            "total": len(objects),
            "results": [render(o, now, wanted) for o in page],
        }
        if offset + limit < len(objects):
            payload["paging"] = {"next": {"after": str(offset + limit)}}
        return Response(body=payload)

    @staticmethod
    def _window(body: dict[str, Any], prop: str) -> tuple[datetime, datetime]:
        low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        for group in body.get("filterGroups") or []:
            for flt in group.get("filters") or []:
                if flt["propertyName"] != prop:
                    raise ValueError(f"the emulator filters on {prop} only")
                moment = datetime.fromtimestamp(int(flt["value"]) / 1000, UTC)
                if flt["operator"] == "GTE":
                    low = moment
                elif flt["operator"] == "LT":
                    high = moment
                else:
                    raise ValueError(f"unsupported operator {flt['operator']}")
        if low.year == 1:
            raise ValueError("a lower bound (GTE) on the modified date is required")
        return low, high

    def _contacts(self, low: datetime, high: datetime, now: datetime) -> list[Contact]:
        last = min(high, now).date()
        found = [
            c
            for day in _days(low.date() - timedelta(days=21), last)
            for c in self.activity.contacts_on(day)
            if c.created <= now and low <= c.last_modified(now) < high
        ]
        return sorted(found, key=lambda c: (c.last_modified(now), int(c.id)))

    def _deals(self, low: datetime, high: datetime, now: datetime) -> list[Deal]:
        first = low.date() - timedelta(days=1)
        last = min(high, now).date()
        candidates = [
            d
            for day in _days(first, last + timedelta(days=61))
            for d in self.activity.deals_closing_on(day)
        ]
        candidates += [
            d for day in _days(first, last) for d in self.activity.open_deals_created_on(day)
        ]
        found = [d for d in candidates if d.created <= now and low <= d.last_modified(now) < high]
        return sorted(found, key=lambda d: (d.last_modified(now), int(d.id)))

    @staticmethod
    def _pick(
        properties: dict[str, str | None], wanted: list[str], defaults: tuple[str, ...]
    ) -> dict[str, Any]:
        return {k: v for k, v in properties.items() if k in wanted or k in defaults}

    def _contact_json(self, contact: Contact, now: datetime, wanted: list[str]) -> dict[str, Any]:
        modified = iso_ms(contact.last_modified(now))
        properties = {
            "createdate": iso_ms(contact.created),
            "lastmodifieddate": modified,
            "hs_object_id": contact.id,
            "lifecyclestage": contact.stage(now),
            "hs_analytics_source": contact.source,
        }
        return {
            "id": contact.id,
            "properties": self._pick(
                properties, wanted, ("createdate", "lastmodifieddate", "hs_object_id")
            ),
            "createdAt": iso_ms(contact.created),
            "updatedAt": modified,
            "archived": False,
        }

    def _deal_json(self, deal: Deal, now: datetime, wanted: list[str]) -> dict[str, Any]:
        modified = iso_ms(deal.last_modified(now))
        properties = {
            "amount": str(deal.amount) if deal.amount is not None else "",
            "closedate": iso_ms(deal.closes) if deal.is_closed(now) else None,
            "createdate": iso_ms(deal.created),
            "deal_currency_code": deal.currency,
            "dealstage": deal.stage(now),
            "hs_lastmodifieddate": modified,
            "hs_object_id": deal.id,
            "pipeline": deal.pipeline,
        }
        return {
            "id": deal.id,
            "properties": self._pick(
                properties, wanted, ("createdate", "hs_lastmodifieddate", "hs_object_id")
            ),
            "createdAt": iso_ms(deal.created),
            "updatedAt": modified,
            "archived": False,
        }
