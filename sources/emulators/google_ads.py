"""Google Ads API emulator: ``POST /v{N}/customers/{id}/googleAds:searchStream``.

Speaks the REST transcoding: a JSON array of batches (``results``, ``fieldMask``, ``requestId``,
``queryResourceConsumption`` in the last), lowerCamelCase fields, int64 as strings, doubles as
numbers, campaign-days whose metrics are all zero omitted. Checks the bearer token (refresh-token
grant at the shared token endpoint), the ``developer-token`` and, for client accounts reached
through the manager, the ``login-customer-id`` header. A daily operations budget per developer token
answers 429 ``RESOURCE_EXHAUSTED`` with ``quotaErrorDetails.retryDelay`` like the real API.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sources.emulators.company import AdCampaign, AdsProgram
from sources.emulators.google_auth import GoogleAuth
from sources.emulators.server import EmulatorServer, Request, Response

SEARCH_STREAM = r"/(?P<version>v\d+)/customers/(?P<customer>[^/]+)/googleAds:searchStream"
SUPPORTED_VERSIONS = {"v23", "v24", "v25", "v26"}  # served on 2026-12-02 (v22 sunset 2026-10-07)
DEMO_DEVELOPER_TOKEN = "emulatorDevToken0123456"  # 22 characters like a real one
DEMO_CLIENT_ID = "1000000000-emulator.apps.googleusercontent.com"
DEMO_CLIENT_SECRET = "GOCSPX-emulator-client-secret"
DEMO_REFRESH_TOKEN = "1//0eRfRsh-dEm0-9fQ2xLw7Hs4VbK8zTq"  # shaped like a real one, fake
DEMO_MANAGER_ID = "1112223333"
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(
    r"segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'", re.IGNORECASE
)
CUSTOMER_FIELDS = {"id", "descriptive_name", "currency_code", "time_zone"}
CAMPAIGN_FIELDS = {"id", "name", "status"}
METRIC_FIELDS = {"impressions", "clicks", "cost_micros", "conversions", "conversions_value"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def ads_failure(
    code: int, status: str, error_code: dict[str, str], message: str, **details: Any
) -> Response:
    """The google.rpc.Status envelope with a GoogleAdsFailure detail, as the REST API sends it."""
    error: dict[str, Any] = {"errorCode": error_code, "message": message}
    if details:
        error["details"] = details
    return Response(
        code,
        {
            "error": {
                "code": code,
                "message": {
                    429: "Resource has been exhausted (e.g. check quota).",
                    401: "Request is missing required authentication credential.",
                    403: "The caller does not have permission",
                }.get(code, "Request contains an invalid argument."),
                "status": status,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                        "errors": [error],
                        "requestId": secrets.token_urlsafe(16),
                    }
                ],
            }
        },
    )


def quota_error(retry_seconds: int, *, daily: bool = True) -> dict[str, Any]:
    """The 429 body for the daily quota (``RESOURCE_EXHAUSTED``) or a short-term limit
    (``RESOURCE_TEMPORARILY_EXHAUSTED``); tests inject it as a fault."""
    kind = "RESOURCE_EXHAUSTED" if daily else "RESOURCE_TEMPORARILY_EXHAUSTED"
    rate = "Number of operations for basic access" if daily else "Requests per customer per second"
    return ads_failure(
        429,
        "RESOURCE_EXHAUSTED",
        {"quotaError": kind},
        f"Too many requests. Retry in {retry_seconds} seconds.",
        quotaErrorDetails={
            "rateScope": "DEVELOPER" if daily else "ACCOUNT",
            "rateName": rate,
            "retryDelay": f"{retry_seconds}s",
        },
    ).body


@dataclass
class GoogleAdsEmulator:
    ads: AdsProgram
    auth: GoogleAuth
    developer_token: str = DEMO_DEVELOPER_TOKEN
    manager_id: str = DEMO_MANAGER_ID
    batch_size: int = 10_000
    operations_per_day: int = 15_000
    operations: int = 0
    today: Callable[[], date] = date.today
    customers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.customers = self.customers or self.ads.account_ids("google_ads")

    def register(self, server: EmulatorServer) -> None:
        self.auth.trust_refresh_token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN)
        server.route("POST", SEARCH_STREAM, self.search_stream)

    def search_stream(self, request: Request) -> Response:
        match = request.match
        assert match is not None
        if match.group("version") not in SUPPORTED_VERSIONS:
            return Response(
                404, "<html><body>Error 404 (Not Found)</body></html>", content_type="text/html"
            )
        if denied := self.auth.check(request):
            return denied
        if request.header("developer-token") != self.developer_token:
            return ads_failure(
                401,
                "UNAUTHENTICATED",
                {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
                "The developer token is not valid.",
            )
        customer = match.group("customer")
        if not re.fullmatch(r"\d{10}", customer):
            return ads_failure(
                400,
                "INVALID_ARGUMENT",
                {"requestError": "INVALID_CUSTOMER_ID"},
                f"Invalid customer ID '{customer}'.",
            )
        if customer not in self.customers or request.header("login-customer-id") != self.manager_id:
            return ads_failure(
                403,
                "PERMISSION_DENIED",
                {"authorizationError": "USER_PERMISSION_DENIED"},
                "User doesn't have permission to access customer. Note: If you're accessing a "
                "client customer, the manager's customer id must be set in the 'login-customer-id' "
                "header. See https://developers.google.com/google-ads/api/docs/concepts/"
                "call-structure#cid",
            )
        if self.operations >= self.operations_per_day:
            now = datetime.now(UTC)
            reset = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            return Response(429, quota_error(int((reset - now).total_seconds()) + 1))
        self.operations += 1
        try:
            query = str(request.json()["query"])
        except (ValueError, KeyError, TypeError):
            return ads_failure(
                400, "INVALID_ARGUMENT", {"requestError": "BAD_REQUEST"}, "query missing"
            )
        return self._answer(customer, query)

    def _answer(self, customer: str, query: str) -> Response:
        parsed = _QUERY.match(query)
        if not parsed:
            return ads_failure(
                400,
                "INVALID_ARGUMENT",
                {"queryError": "UNEXPECTED_END_OF_QUERY"},
                "Error in query.",
            )
        fields = [f.strip() for f in parsed.group("fields").split(",")]
        resource = parsed.group("resource").lower()
        for name in fields:
            prefix, _, attr = name.partition(".")
            allowed = {
                "customer": CUSTOMER_FIELDS,
                "campaign": CAMPAIGN_FIELDS if resource == "campaign" else set(),
                "metrics": METRIC_FIELDS if resource == "campaign" else set(),
                "segments": {"date"} if resource == "campaign" else set(),
            }.get(prefix, set())
            if attr not in allowed:
                return ads_failure(
                    400,
                    "INVALID_ARGUMENT",
                    {"queryError": "UNRECOGNIZED_FIELD"},
                    f"Error in SELECT clause: unrecognized field '{name}'.",
                )
        if resource == "customer":
            rows = [self._row(customer, None, None, fields)]
        elif resource == "campaign":
            between = _BETWEEN.search(parsed.group("where") or "")
            if not between or "segments.date" not in fields:
                return ads_failure(
                    400,
                    "INVALID_ARGUMENT",
                    {"queryError": "PROHIBITED_FIELD_COMBINATION_IN_SELECT_CLAUSE"},
                    "The emulator serves campaign x segments.date with a BETWEEN date filter.",
                )
            start, end = (date.fromisoformat(g) for g in between.groups())
            rows = self._campaign_rows(customer, start, min(end, self.today()), fields)
        else:
            return ads_failure(
                400,
                "INVALID_ARGUMENT",
                {"queryError": "INVALID_RESOURCE_NAME_IN_FROM_CLAUSE"},
                f"Error in FROM clause: invalid resource name '{resource}'.",
            )
        return Response(body=self._batches(rows, fields))

    def _campaign_rows(
        self, customer: str, start: date, end: date, fields: list[str]
    ) -> list[dict[str, Any]]:
        rows = []
        day = start
        while day <= end:
            for campaign in self.ads.campaigns_of(customer):
                ad_day = self.ads.campaign_day(campaign, day)
                if ad_day.is_empty:  # all selected metrics zero: not returned when segmented
                    continue
                rows.append(self._row(customer, campaign, (day, ad_day), fields))
            day += timedelta(days=1)
        return rows

    def _row(
        self,
        customer: str,
        campaign: AdCampaign | None,
        measured: tuple[date, Any] | None,
        fields: list[str],
    ) -> dict[str, Any]:
        account = self.ads.accounts[customer]
        values: dict[str, dict[str, Any]] = {
            "customer": {
                "resourceName": f"customers/{customer}",
                "id": customer,
                "descriptiveName": account.name,
                "currencyCode": account.currency,
                "timeZone": account.time_zone,
            }
        }
        if campaign is not None and measured is not None:
            day, ad = measured
            values["campaign"] = {
                "resourceName": f"customers/{customer}/campaigns/{campaign.campaign_id}",
                "id": campaign.campaign_id,
                "name": campaign.name,
                "status": campaign.status,
            }
            values["metrics"] = {
                "impressions": str(ad.impressions),
                "clicks": str(ad.clicks),
                "costMicros": str(int(ad.spend * 1_000_000)),
                "conversions": float(ad.conversions),
                "conversionsValue": float(ad.conversion_value),
            }
            values["segments"] = {"date": day.isoformat()}
        row: dict[str, dict[str, Any]] = {}
        for name in fields:
            prefix, _, attr = name.partition(".")
            target = row.setdefault(prefix, {})
            if "resourceName" in values[prefix]:
                target["resourceName"] = values[prefix]["resourceName"]
            target[camel(attr)] = values[prefix][camel(attr)]
        return row

    def _batches(self, rows: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
        mask = ",".join(".".join([p, camel(a)]) for p, _, a in (f.partition(".") for f in fields))
        request_id = secrets.token_urlsafe(16)
        chunks = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        batches: list[dict[str, Any]] = [
            {"results": chunk, "fieldMask": mask, "requestId": request_id} for chunk in chunks
        ] or [{"fieldMask": mask, "requestId": request_id}]
        batches[-1]["queryResourceConsumption"] = str(40 + 3 * len(rows))
        return batches
