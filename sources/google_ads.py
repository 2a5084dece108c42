"""Google Ads API over REST (no SDK): ``customers/{id}/googleAds:searchStream`` with GAQL.

Auth is the installed-app / web OAuth flow every Google Ads integration uses: a long-lived refresh
token is exchanged at ``GOOGLE_OAUTH_TOKEN_URL`` for a one-hour access token, sent with the
``developer-token`` and (through a manager account) ``login-customer-id`` headers.

The answer to searchStream is a JSON **array of batches**; int64 fields (impressions, clicks,
costMicros, ids) are JSON strings, doubles (conversions, conversionsValue) JSON numbers. A body that
does not close its array (a stream cut off mid-way) or an element carrying ``error`` fails the pull:
a partial stream would silently load part of the window.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import requests

from sources import api_versions, progress
from sources.http import (
    HttpClient,
    QuotaExhaustedError,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    parse_retry_after,
    register_secret,
)

SOURCE = "google_ads"
DEFAULT_BASE_URL = "https://googleads.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_API_VERSION = api_versions.GOOGLE_ADS.default
SCOPE = "https://www.googleapis.com/auth/adwords"
MICROS = Decimal(1_000_000)

CAMPAIGN_DAY_FIELDS = (
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "segments.date",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)
CUSTOMER_FIELDS = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
)
_CUSTOMER_ID = re.compile(r"^\d{10}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")
_DAILY_QUOTA = (
    "RESOURCE_EXHAUSTED"  # QuotaError for the daily bucket; short-term is *_TEMPORARILY_*
)


def normalize_customer_id(raw: str) -> str:
    """``123-456-7890`` / ``1234567890`` / ``customers/1234567890`` -> ``1234567890``."""
    text = raw.strip().removeprefix("customers/").replace("-", "").replace(" ", "")
    if not _CUSTOMER_ID.match(text):
        raise SourceError(
            SOURCE,
            "settings",
            "a customer id is 10 digits (dashes allowed)",
            field="GOOGLE_ADS_CUSTOMER_IDS",
            value=raw,
            fix="copy the id shown top right in the Google Ads UI, e.g. 123-456-7890",
        )
    return text


def campaign_day_query(start: date, end: date) -> str:
    """GAQL for campaign x day over ``start..end`` inclusive."""
    return (
        f"SELECT {', '.join(CAMPAIGN_DAY_FIELDS)} FROM campaign "
        f"WHERE segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"
    )


# --------------------------------------------------------------------------------------------------
# Pure parsing
# --------------------------------------------------------------------------------------------------
def parse_stream_body(text: str, endpoint: str = "searchStream") -> list[dict[str, Any]]:
    """The batches of a searchStream body; a truncated array or an ``error`` element fails."""
    try:
        body = json.loads(text)
    except ValueError:
        raise SchemaError(
            SOURCE,
            endpoint,
            "searchStream response is not a complete JSON array (stream cut off); nothing loaded",
            value=text[-120:],
            fix="re-run the partition; if it keeps happening, narrow the partition range",
        ) from None
    if not isinstance(body, list):
        raise SchemaError(
            SOURCE,
            endpoint,
            "searchStream must answer a JSON array of batches",
            field="(body)",
            value=str(body),
        )
    for index, batch in enumerate(body):
        if not isinstance(batch, dict):
            raise SchemaError(SOURCE, endpoint, f"batch {index} is not an object", value=batch)
        if "error" in batch:
            error = batch["error"] if isinstance(batch["error"], dict) else {}
            raise SourceError(
                SOURCE,
                endpoint,
                f"the stream failed at batch {index} ({error.get('status', 'error')}); "
                "nothing loaded",
                status=error.get("code") if isinstance(error.get("code"), int) else None,
                provider_message=error_summary({"error": error}) or str(batch["error"]),
                fix="re-run the partition; a stream that fails part-way is never loaded in part",
            )
    return body


def _int64(container: dict[str, Any], key: str, where: str) -> int:
    """int64 arrives as a JSON string of digits (``"336"``); absent means the proto default 0."""
    raw = container.get(key)
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise SchemaError(
            SOURCE, "searchStream", "int64 field is not a string", field=where, value=raw
        )
    text = str(raw)
    if not re.fullmatch(r"-?\d+", text):
        raise SchemaError(
            SOURCE, "searchStream", "int64 field is not an integer", field=where, value=raw
        )
    return int(text)


def _double(container: dict[str, Any], key: str, where: str) -> float:
    """double arrives as a JSON number (``4.5``); absent means 0."""
    raw = container.get(key)
    if raw is None:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise SchemaError(
            SOURCE, "searchStream", "double field is not a finite number", field=where, value=raw
        )
    return float(raw)


def _money(container: dict[str, Any], key: str, where: str) -> Decimal:
    """A double holding money (``conversionsValue``): the decimal the JSON number spells."""
    return Decimal(repr(_double(container, key, where)))


def parse_campaign_row(row: dict[str, Any]) -> dict[str, Any]:
    """One GoogleAdsRow (lowerCamelCase JSON) -> a typed campaign-day record."""
    customer = row.get("customer") or {}
    campaign = row.get("campaign") or {}
    metrics = row.get("metrics") or {}
    segments = row.get("segments") or {}
    try:
        day = date.fromisoformat(segments["date"])
    except (KeyError, TypeError, ValueError):
        raise SchemaError(
            SOURCE,
            "searchStream",
            "segments.date missing or not YYYY-MM-DD",
            field="segments.date",
            value=segments.get("date"),
        ) from None
    if not campaign.get("id"):
        raise SchemaError(
            SOURCE, "searchStream", "row without campaign.id", field="campaign.id", value=row
        )
    cost_micros = _int64(metrics, "costMicros", "metrics.costMicros")
    return {
        "customer_id": str(customer.get("id") or ""),
        "currency_code": customer.get("currencyCode"),
        "time_zone": customer.get("timeZone"),
        "campaign_id": str(_int64(campaign, "id", "campaign.id")),
        "campaign_name": campaign.get("name"),
        "campaign_status": campaign.get("status"),
        "date": day,
        "impressions": _int64(metrics, "impressions", "metrics.impressions"),
        "clicks": _int64(metrics, "clicks", "metrics.clicks"),
        "cost_micros": cost_micros,
        "cost": Decimal(cost_micros) / MICROS,  # account currency, major units, exact
        "conversions": _double(metrics, "conversions", "metrics.conversions"),
        "conversions_value": _money(metrics, "conversionsValue", "metrics.conversionsValue"),
    }


def parse_campaign_batches(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every result row of every batch (a lone summaryRow batch has no ``results``)."""
    return [parse_campaign_row(row) for batch in batches for row in batch.get("results") or []]


def error_summary(body: Any) -> str | None:
    """``errorCode`` and message of a GoogleAdsFailure (the useful part of the error envelope)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    parts = [str(error.get("status") or error.get("code") or "")]
    for detail in error.get("details") or []:
        for item in detail.get("errors") or [] if isinstance(detail, dict) else []:
            code = item.get("errorCode") or {}
            parts.append(", ".join(f"{k}={v}" for k, v in code.items()))
            if item.get("message"):
                parts.append(item["message"])
    if len(parts) == 1 and error.get("message"):
        parts.append(error["message"])
    return ": ".join(p for p in parts if p)


@dataclass
class QuotaInfo:
    """What a 429 body says: which QuotaError, how long to wait, which rate."""

    quota_error: str | None = None
    retry_delay: float | None = None
    rate_name: str | None = None


def parse_quota_error(body: Any) -> QuotaInfo:
    """``quotaErrorDetails.retryDelay`` (``"40591s"``) and ``errorCode.quotaError`` from a 429."""
    info = QuotaInfo()
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return info
    for detail in body["error"].get("details") or []:
        for item in (detail.get("errors") if isinstance(detail, dict) else None) or []:
            info.quota_error = (item.get("errorCode") or {}).get("quotaError") or info.quota_error
            details = (item.get("details") or {}).get("quotaErrorDetails") or {}
            info.rate_name = details.get("rateName") or info.rate_name
            match = _DURATION.match(str(details.get("retryDelay") or ""))
            if match:
                info.retry_delay = float(match.group(1))
    return info


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# OAuth refresh-token flow
# --------------------------------------------------------------------------------------------------
class RefreshTokenAuth:
    """Exchanges a refresh token for access tokens at the token URL; caches each until near expiry."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        retry: RetryPolicy | None = None,
        clock: Any = time.time,
    ) -> None:
        register_secret(client_secret, refresh_token)
        self.token_url = token_url
        self._form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self._http = HttpClient(token_url, source=SOURCE, retry=retry)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def token(self) -> str:
        if self._token and self._clock() < self._expires_at - 60:
            return self._token
        response = self._http.request(
            "POST", self.token_url, data=self._form, allow_status=(400, 401)
        )
        body = _json_or_none(response) or {}
        if response.status_code != 200 or not body.get("access_token"):
            raise SourceError(
                SOURCE,
                f"POST {self.token_url}",
                "the OAuth token endpoint refused the refresh token",
                status=response.status_code,
                provider_message=f"{body.get('error')}: {body.get('error_description', '')}",
                fix="create a new refresh token for GOOGLE_ADS_CLIENT_ID (scope adwords) and set "
                "GOOGLE_ADS_REFRESH_TOKEN; check GOOGLE_ADS_CLIENT_SECRET",
            )
        self._token = body["access_token"]
        register_secret(self._token)
        self._expires_at = self._clock() + float(body.get("expires_in") or 3600)
        self.tokens_fetched += 1
        return self._token

    def invalidate(self) -> None:
        self._token = None


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------
class GoogleAdsClient(HttpClient):
    """searchStream per customer with OAuth, developer token, manager login and quota handling."""

    source = SOURCE

    def __init__(
        self,
        *,
        developer_token: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        login_customer_id: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        api_version: str = DEFAULT_API_VERSION,
        retry: RetryPolicy | None = None,
    ) -> None:
        register_secret(developer_token)
        super().__init__(base_url, headers={"developer-token": developer_token}, retry=retry)
        if login_customer_id:
            self.session.headers["login-customer-id"] = normalize_customer_id(login_customer_id)
        self.api_version = api_version
        self.auth = RefreshTokenAuth(
            token_url, client_id, client_secret, refresh_token, retry=retry
        )
        self._last_quota = QuotaInfo()

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """429: wait the body's ``retryDelay``; the daily bucket (or a wait beyond the retry
        budget) is a quota reset, not a burst: fail fast."""
        if response.status_code != 429:
            return super().retry_decision(response)
        info = parse_quota_error(_json_or_none(response))
        self._last_quota = info
        hint = info.retry_delay
        if hint is None:
            hint = parse_retry_after(response.headers.get("Retry-After"))
        daily = info.quota_error == _DAILY_QUOTA or (
            hint is not None and hint > self.retry.max_total_wait
        )
        return RetryDecision(retry=not daily, wait_hint=hint, quota_exhausted=daily)

    def endpoint(self, customer_id: str) -> str:
        return f"/{self.api_version}/customers/{customer_id}/googleAds:searchStream"

    def search_stream(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        """All batches of one GAQL query for one customer (refreshing the token once on a 401)."""
        customer_id = normalize_customer_id(customer_id)
        path = self.endpoint(customer_id)
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.auth.token()}"}
            try:
                response = self.request(
                    "POST",
                    path,
                    json={"query": query},
                    headers=headers,
                    allow_status=(400, 401, 403, 404),
                )
            except QuotaExhaustedError as exc:
                quota = self._last_quota
                raise QuotaExhaustedError(
                    SOURCE,
                    exc.endpoint,
                    "the developer token's daily operations quota is exhausted; not retrying "
                    "until it resets"
                    + (
                        f" (Google says retry in {quota.retry_delay:.0f}s)"
                        if quota.retry_delay
                        else ""
                    ),
                    status=429,
                    provider_message=f"{quota.rate_name or ''} {exc.provider_message or ''}".strip(),
                    fix="wait for the daily reset, narrow the partition range, or apply for "
                    "Standard access for the developer token",
                ) from None
            if response.status_code == 401 and attempt == 1:
                self.auth.invalidate()  # an access token revoked or expired early
                continue
            if response.status_code >= 400:
                raise self._request_error(response, path)
            batches = parse_stream_body(response.text, f"POST {path}")
            progress.current().add(
                pages=len(batches), rows=sum(len(b.get("results") or []) for b in batches)
            )
            return batches
        raise AssertionError("unreachable")

    def _request_error(self, response: requests.Response, path: str) -> SourceError:
        body = _json_or_none(response)
        summary = error_summary(body) or response.text
        fixes = {
            400: "the GAQL query or customer id was rejected; check the API version "
            "(GOOGLE_ADS_API_VERSION) and the customer id",
            401: "the access token was rejected; check GOOGLE_ADS_REFRESH_TOKEN and the OAuth client",
            403: "check GOOGLE_ADS_DEVELOPER_TOKEN (approved access level) and that "
            "GOOGLE_ADS_LOGIN_CUSTOMER_ID is the manager account linked to this customer",
            404: "unknown endpoint: check GOOGLE_ADS_BASE_URL and GOOGLE_ADS_API_VERSION",
        }
        return SourceError(
            SOURCE,
            f"POST {path}",
            "searchStream failed",
            status=response.status_code,
            provider_message=summary,
            fix=fixes.get(response.status_code),
        )

    def customer(self, customer_id: str) -> dict[str, Any]:
        """The account's name, currency and time zone (known even for days without delivery)."""
        query = f"SELECT {', '.join(CUSTOMER_FIELDS)} FROM customer"
        batches = self.search_stream(customer_id, query)
        rows = [row for batch in batches for row in batch.get("results") or []]
        if not rows:
            raise SchemaError(
                SOURCE,
                self.endpoint(customer_id),
                "the customer query returned no row",
                field="customer",
                value=customer_id,
            )
        info = rows[0].get("customer") or {}
        return {
            "customer_id": normalize_customer_id(customer_id),
            "descriptive_name": info.get("descriptiveName"),
            "currency_code": info.get("currencyCode"),
            "time_zone": info.get("timeZone"),
        }

    def campaign_days(self, customer_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """Campaign x day rows for ``start..end`` inclusive. Omitted campaign-days are zero."""
        batches = self.search_stream(customer_id, campaign_day_query(start, end))
        return parse_campaign_batches(batches)
