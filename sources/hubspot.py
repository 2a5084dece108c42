"""HubSpot CRM v3 client: contacts and deals through the search API, modified-since windows.

Every property value is a string or null (``"amount": "500"``, ``""`` means no value); timestamps
are ISO-8601 UTC with milliseconds. Search pages with ``paging.next.after`` and stops when
``paging`` is absent; it cannot page past 10,000 results for one query, so a window whose
``total`` exceeds the cap is split in two until every part fits. Search has its own limit of
4 requests per second (client-side limiter). A 429 names its ``policyName``: SECONDLY and
TEN_SECONDLY_ROLLING are bursts (back off and retry), DAILY lasts until the portal's midnight
(fail fast).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import requests

from sources.http import (
    RETRYABLE_STATUSES,
    HttpClient,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    paginate_cursor,
    parse_retry_after,
    register_secret,
)
from sources.ratelimit import RateLimiter
from sources.timezones import local_day, naive_utc, parse_iso

SOURCE = "hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
SEARCH_RESULT_CAP = 10_000
SEARCH_PAGE_LIMIT = 200
SEARCH_REQUESTS_PER_SECOND = 4
# Contacts call their modification stamp `lastmodifieddate`; deals use `hs_lastmodifieddate`.
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
CONTACT_PROPERTIES = ("createdate", "lastmodifieddate", "lifecyclestage", "hs_analytics_source")
DEAL_PROPERTIES = (
    "amount",
    "closedate",
    "createdate",
    "dealstage",
    "pipeline",
    "deal_currency_code",
    "hs_lastmodifieddate",
)
BACKOFF_SECONDS = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}


def prop(obj: dict[str, Any], name: str) -> str | None:
    """A property's string value; ``""`` and absent are NULL (HubSpot drops unknown properties)."""
    value = (obj.get("properties") or {}).get(name)
    return None if value in (None, "") else str(value)


def parse_decimal(obj: dict[str, Any], name: str, endpoint: str) -> Decimal | None:
    text = prop(obj, name)
    if text is None:
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise SchemaError(
            SOURCE,
            endpoint,
            f"property {name} of object {obj.get('id')} is not a number",
            field=name,
            value=text,
            fix="HubSpot sends numbers as strings in major units; check the property's type",
        ) from None


def parse_time(obj: dict[str, Any], name: str, endpoint: str) -> datetime | None:
    text = prop(obj, name)
    try:
        return parse_iso(text)
    except ValueError:
        raise SchemaError(
            SOURCE, endpoint, f"property {name} is not an ISO timestamp", field=name, value=text
        ) from None


@dataclass(frozen=True)
class Stage:
    pipeline: str
    label: str
    is_closed: bool
    is_won: bool


def parse_pipelines(body: dict[str, Any]) -> dict[str, Stage]:
    """``/crm/v3/pipelines/deals`` -> stage id -> Stage. Won means closed with probability 1."""
    stages: dict[str, Stage] = {}
    for pipeline in body.get("results") or []:
        for stage in pipeline.get("stages") or []:
            meta = stage.get("metadata") or {}
            closed = str(meta.get("isClosed", "false")).lower() == "true"
            try:
                probability = float(meta.get("probability") or 0)
            except ValueError:
                probability = 0.0
            stages[str(stage["id"])] = Stage(
                str(pipeline.get("id")),
                str(stage.get("label")),
                closed,
                closed and probability >= 1,
            )
    return stages


def parse_contact(obj: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    endpoint = "contacts/search"
    created = parse_time(obj, "createdate", endpoint) or parse_iso(obj.get("createdAt"))
    if created is None:
        raise SchemaError(
            SOURCE, endpoint, "contact has no createdate", field="createdate", value=obj.get("id")
        )
    modified = parse_time(obj, "lastmodifieddate", endpoint) or parse_iso(obj.get("updatedAt"))
    return {
        "id": str(obj["id"]),
        "created_at": naive_utc(created),
        "created_day": local_day(created, tz),
        "last_modified_at": naive_utc(modified),
        "lifecycle_stage": prop(obj, "lifecyclestage"),
        "analytics_source": prop(obj, "hs_analytics_source"),
        "archived": bool(obj.get("archived", False)),
        "time_zone": tz.key,
    }


def parse_deal(
    obj: dict[str, Any], tz: ZoneInfo, stages: dict[str, Stage], default_currency: str
) -> dict[str, Any]:
    endpoint = "deals/search"
    created = parse_time(obj, "createdate", endpoint) or parse_iso(obj.get("createdAt"))
    if created is None:
        raise SchemaError(
            SOURCE, endpoint, "deal has no createdate", field="createdate", value=obj.get("id")
        )
    closed = parse_time(obj, "closedate", endpoint)
    modified = parse_time(obj, "hs_lastmodifieddate", endpoint) or parse_iso(obj.get("updatedAt"))
    stage_id = prop(obj, "dealstage")
    stage = stages.get(stage_id or "")
    currency = prop(obj, "deal_currency_code")
    return {
        "id": str(obj["id"]),
        "created_at": naive_utc(created),
        "created_day": local_day(created, tz),
        "closed_at": naive_utc(closed),
        "close_day": local_day(closed, tz) if closed else None,
        "last_modified_at": naive_utc(modified),
        "deal_stage": stage_id,
        "stage_label": stage.label if stage else None,
        "pipeline": prop(obj, "pipeline"),
        "is_closed": stage.is_closed if stage else None,
        "is_won": stage.is_won if stage else None,
        "amount": parse_decimal(obj, "amount", endpoint),
        "deal_currency_code": (currency or default_currency).upper(),
        "currency_is_portal_default": currency is None,
        "archived": bool(obj.get("archived", False)),
        "time_zone": tz.key,
    }


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class HubSpotClient(HttpClient):
    """Private-app (bearer) client for the CRM v3 search, pipelines and account-info APIs."""

    source = SOURCE

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        search_limiter: RateLimiter | None = None,
        result_cap: int = SEARCH_RESULT_CAP,
        page_limit: int = SEARCH_PAGE_LIMIT,
    ) -> None:
        register_secret(access_token)
        super().__init__(
            base_url,
            headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
            retry=retry,
        )
        self.limiter = search_limiter or RateLimiter(SEARCH_REQUESTS_PER_SECOND, 1.0)
        self.result_cap = result_cap
        self.page_limit = page_limit
        self.splits = 0

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """Back off by ``policyName``; a DAILY limit is exhausted until the portal's midnight."""
        hint = parse_retry_after(response.headers.get("Retry-After"))
        if response.status_code != 429:
            return RetryDecision(retry=response.status_code in RETRYABLE_STATUSES, wait_hint=hint)
        body = _error_body(response)
        policy = str(body.get("policyName") or "").upper()
        message = str(body.get("message") or "").lower()
        if policy == "DAILY" or "daily limit" in message:
            return RetryDecision(retry=False, quota_exhausted=True)
        if not policy:
            policy = "TEN_SECONDLY_ROLLING" if "ten_secondly" in message else "SECONDLY"
        return RetryDecision(
            retry=True, wait_hint=hint if hint is not None else BACKOFF_SECONDS.get(policy)
        )

    # Reference data -------------------------------------------------------------------------
    def account_details(self) -> dict[str, Any]:
        """``portalId``, ``companyCurrency`` (the default deal currency) and ``timeZone``."""
        body = self.get_json("/account-info/v3/details")
        if not isinstance(body, dict) or "portalId" not in body:
            raise SchemaError(
                SOURCE, "/account-info/v3/details", "no portalId", field="portalId", value=body
            )
        return body

    def deal_stages(self) -> dict[str, Stage]:
        return parse_pipelines(self.get_json("/crm/v3/pipelines/deals"))

    # Search ---------------------------------------------------------------------------------
    def _search_page(
        self,
        object_type: str,
        prop_name: str,
        lo_ms: int,
        hi_ms: int,
        properties: tuple[str, ...],
        after: str | None,
    ) -> dict[str, Any]:
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": prop_name, "operator": "GTE", "value": str(lo_ms)},
                        {"propertyName": prop_name, "operator": "LT", "value": str(hi_ms)},
                    ]
                }
            ],
            "sorts": [{"propertyName": prop_name, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": self.page_limit,
            "after": after or "0",
        }
        self.limiter.acquire()
        page = self.post_json(f"/crm/v3/objects/{object_type}/search", json=body)
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            raise SchemaError(
                SOURCE,
                f"{object_type}/search",
                "no results list",
                field="results",
                value=str(page),
            )
        return page

    def search(
        self, object_type: str, lo_ms: int, hi_ms: int, properties: tuple[str, ...]
    ) -> Iterator[dict[str, Any]]:
        """Objects modified in ``[lo_ms, hi_ms)`` (epoch ms). Splits windows over the 10k cap."""
        prop_name = MODIFIED_PROPERTY[object_type]
        first = self._search_page(object_type, prop_name, lo_ms, hi_ms, properties, None)
        total = int(first.get("total") or 0)
        if total > self.result_cap:
            if hi_ms - lo_ms <= 1:
                raise SourceError(
                    SOURCE,
                    f"POST /crm/v3/objects/{object_type}/search",
                    f"{total} objects share one millisecond of {prop_name}: the window cannot be split",
                    field=prop_name,
                    value=lo_ms,
                    fix="split by hs_object_id ranges instead",
                )
            self.splits += 1
            mid = (lo_ms + hi_ms) // 2
            yield from self.search(object_type, lo_ms, mid, properties)
            yield from self.search(object_type, mid, hi_ms, properties)
            return
        pages = [first]

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            page = (
                pages.pop()
                if pages
                else self._search_page(object_type, prop_name, lo_ms, hi_ms, properties, cursor)
            )
            nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
            return page["results"], (str(nxt) if nxt not in (None, "") else None)

        for results in paginate_cursor(fetch, source=SOURCE, endpoint=f"{object_type}/search"):
            yield from results

    def contacts_modified(self, lo_ms: int, hi_ms: int, tz: ZoneInfo) -> list[dict[str, Any]]:
        return [
            parse_contact(o, tz) for o in self.search("contacts", lo_ms, hi_ms, CONTACT_PROPERTIES)
        ]

    def deals_modified(
        self, lo_ms: int, hi_ms: int, tz: ZoneInfo, stages: dict[str, Stage], default_currency: str
    ) -> list[dict[str, Any]]:
        return [
            parse_deal(o, tz, stages, default_currency)
            for o in self.search("deals", lo_ms, hi_ms, DEAL_PROPERTIES)
        ]
