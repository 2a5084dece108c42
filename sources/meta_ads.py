"""Meta (Facebook) Marketing API: ``act_{id}/insights`` at level=campaign, time_increment=1.

Every number in an insights row is a JSON string; pages are followed through ``paging.next`` until
it is absent (never by counting rows). Throttling arrives as HTTP 400 with error codes 4, 17, 613
or 80000-80014 and usage headers: it is backed off (``estimated_time_to_regain_access``), not failed.
Long ranges go through the asynchronous report job (POST, poll ``report_run_id``, page its insights).

Conversions: Meta reports one purchase under several action types (``omni_purchase`` is its
cross-channel de-duplicated count, ``purchase`` the same total, ``offsite_conversion.fb_pixel_purchase``
the pixel's share). :func:`count_conversions` counts each real conversion once; see its docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
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
    paginate_cursor,
    register_secret,
)

SOURCE = "meta_ads"
DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = api_versions.META_ADS.default
DEFAULT_CONVERSION_ACTION_TYPES = (
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
)
ASYNC_THRESHOLD_DAYS = 30  # ranges longer than this use the async report job
PAGE_LIMIT = 500
INSIGHTS_FIELDS = (
    "account_id",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "spend",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
)
THROTTLE_CODES = frozenset({4, 17, 613, *range(80000, 80015)})
# Prefixes under which Meta reports the same standard event; stripped to find an action's family.
# Order = precedence when several aliases of one family are reported: the first present counts.
ALIAS_PREFIXES = (
    "omni_",
    "",
    "offsite_conversion.fb_pixel_",
    "onsite_web_app_",
    "onsite_web_",
    "onsite_conversion.",
    "app_custom_event.fb_mobile_",
    "web_in_store_",
)
# Business-use-case throttles last minutes, not seconds: a longer budget than the HTTP default.
DEFAULT_META_RETRY = RetryPolicy(
    max_attempts=8, base_delay=5.0, max_delay=900.0, max_total_wait=1800.0
)


def normalize_account_id(raw: str) -> str:
    """``act_123`` / ``123`` -> ``123``."""
    text = raw.strip().removeprefix("act_")
    if not text.isdigit():
        raise SourceError(
            SOURCE,
            "settings",
            "an ad account id is digits, with or without act_",
            field="META_AD_ACCOUNT_IDS",
            value=raw,
            fix="copy the id from Ads Manager (Account overview), e.g. act_798085168510957",
        )
    return text


# --------------------------------------------------------------------------------------------------
# Conversion de-duplication
# --------------------------------------------------------------------------------------------------
def action_family(action_type: str) -> tuple[str, int]:
    """The standard event an action type reports and its precedence (lower wins).

    ``omni_purchase`` -> (purchase, 0); ``purchase`` -> (purchase, 1);
    ``offsite_conversion.fb_pixel_purchase`` -> (purchase, 2). Unknown shapes are their own family.
    """
    for rank, prefix in enumerate(ALIAS_PREFIXES):
        if prefix and action_type.startswith(prefix):
            return action_type[len(prefix) :], rank
    return action_type, ALIAS_PREFIXES.index("")


def count_conversions(
    actions: Iterable[dict[str, Any]] | None, conversion_types: Iterable[str]
) -> tuple[Decimal, list[str]]:
    """Sum of the configured action types, each real conversion counted once.

    Rule: configured types are matched exactly. Types that are aliases of one standard event (same
    family after stripping ``omni_`` / ``offsite_conversion.fb_pixel_`` / ``onsite_web_`` / ... )
    report the same conversions, so per family only ONE is counted: ``omni_*`` when present (Meta's
    cross-channel de-duplicated count), else the bare event (``purchase``), else the pixel event,
    else the other channel-specific ones. Distinct families (purchase, lead, ...) add up.
    The ``value`` key is used (the account's attribution setting), never the per-window keys.
    Works the same for ``action_values`` (money). Returns the total and the types counted.
    """
    wanted = {t.strip() for t in conversion_types if t.strip()}
    best: dict[str, tuple[int, str, Decimal]] = {}
    for action in actions or []:
        action_type = str(action.get("action_type") or "")
        if action_type not in wanted:
            continue
        value = _decimal(action.get("value"), f"actions[{action_type}].value")
        family, rank = action_family(action_type)
        if family not in best or rank < best[family][0]:
            best[family] = (rank, action_type, value)
    total = sum((v for _, _, v in best.values()), Decimal(0))
    return total, sorted(t for _, t, _ in best.values())


# --------------------------------------------------------------------------------------------------
# Pure parsing
# --------------------------------------------------------------------------------------------------
def _decimal(raw: Any, where: str) -> Decimal:
    if raw is None or raw == "":
        return Decimal(0)
    if not isinstance(raw, str | int):
        raise SchemaError(SOURCE, "insights", "number is not a string", field=where, value=raw)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise SchemaError(SOURCE, "insights", "not a number", field=where, value=raw) from None
    if not value.is_finite():
        raise SchemaError(SOURCE, "insights", "not a finite number", field=where, value=raw)
    return value


def _int(row: dict[str, Any], key: str) -> int:
    value = _decimal(row.get(key), key)
    if value != value.to_integral_value():
        raise SchemaError(SOURCE, "insights", "count is not an integer", field=key, value=row[key])
    return int(value)


def parse_insights_row(row: dict[str, Any], conversion_types: Iterable[str]) -> dict[str, Any]:
    """One campaign-day insights row (all numbers strings) -> a typed record."""
    try:
        day = date.fromisoformat(row["date_start"])
        stop = date.fromisoformat(row.get("date_stop") or row["date_start"])
    except (KeyError, TypeError, ValueError):
        raise SchemaError(
            SOURCE,
            "insights",
            "date_start missing or not YYYY-MM-DD",
            field="date_start",
            value=row.get("date_start"),
        ) from None
    if stop != day:
        raise SchemaError(
            SOURCE,
            "insights",
            "a row spans several days: time_increment=1 was not honoured",
            field="date_stop",
            value=f"{day}..{stop}",
        )
    if not row.get("campaign_id"):
        raise SchemaError(
            SOURCE, "insights", "row without campaign_id", field="campaign_id", value=row
        )
    types = list(conversion_types)
    conversions, counted = count_conversions(row.get("actions"), types)
    value, _ = count_conversions(row.get("action_values"), types)
    return {
        "account_id": str(row.get("account_id") or ""),
        "account_currency": row.get("account_currency"),
        "campaign_id": str(row["campaign_id"]),
        "campaign_name": row.get("campaign_name"),
        "date": day,
        "impressions": _int(row, "impressions"),
        "clicks": _int(row, "clicks"),  # all clicks (likes, expands, ...)
        "inline_link_clicks": _int(row, "inline_link_clicks"),  # clicks to the destination
        "spend": _decimal(row.get("spend"), "spend"),  # account currency, major units
        "conversions": float(conversions),
        "conversion_value": value,
        "conversion_action_types": ",".join(counted) or None,
    }


def parse_insights_page(
    page: dict[str, Any], conversion_types: Iterable[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows of one page and the ``paging.next`` URL (``None``: the last page)."""
    data = page.get("data")
    if not isinstance(data, list):
        raise SchemaError(
            SOURCE, "insights", "page has no data array", field="data", value=str(page)
        )
    types = list(conversion_types)
    rows = [parse_insights_row(row, types) for row in data]
    return rows, (page.get("paging") or {}).get("next") or None


def throttle_wait(
    headers: requests.structures.CaseInsensitiveDict | dict[str, str],
) -> float | None:
    """Seconds Meta's usage headers ask to wait: BUC ``estimated_time_to_regain_access`` (minutes),
    else ``X-Ad-Account-Usage`` ``reset_time_duration`` (seconds); ``None`` when they say nothing."""
    minutes = 0.0
    raw = headers.get("X-Business-Use-Case-Usage") or headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        for entries in usage.values() if isinstance(usage, dict) else []:
            for entry in entries or []:
                minutes = max(minutes, float(entry.get("estimated_time_to_regain_access") or 0))
    except (ValueError, TypeError, AttributeError):
        pass
    if minutes > 0:
        return minutes * 60
    raw = headers.get("X-Ad-Account-Usage") or headers.get("x-ad-account-usage")
    try:
        reset = float((json.loads(raw) if raw else {}).get("reset_time_duration") or 0)
    except (ValueError, TypeError, AttributeError):
        reset = 0
    return reset or None


def _error(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------
class MetaAdsClient(HttpClient):
    """Campaign x day insights per ad account, sync for short ranges, async report jobs for long."""

    source = SOURCE

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        conversion_action_types: Iterable[str] = DEFAULT_CONVERSION_ACTION_TYPES,
        async_threshold_days: int = ASYNC_THRESHOLD_DAYS,
        poll_interval: float = 5.0,
        max_poll_wait: float = 1800.0,
        page_limit: int = PAGE_LIMIT,
        retry: RetryPolicy | None = None,
    ) -> None:
        register_secret(access_token)
        super().__init__(
            base_url,
            headers={"Authorization": f"Bearer {access_token}"},
            retry=retry or DEFAULT_META_RETRY,
        )
        self.api_version = api_version
        self.conversion_action_types = [t.strip() for t in conversion_action_types if t.strip()]
        self.async_threshold_days = async_threshold_days
        self.poll_interval = poll_interval
        self.max_poll_wait = max_poll_wait
        self.page_limit = page_limit
        self.throttled = 0
        self._last_throttle_wait: float | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """:meth:`HttpClient.request`, with a clear message when a throttle outlasts the budget."""
        try:
            return super().request(method, path, **kwargs)
        except QuotaExhaustedError as exc:
            minutes = (self._last_throttle_wait or 0) / 60
            raise QuotaExhaustedError(
                SOURCE,
                exc.endpoint,
                "rate-limit quota exhausted: Meta throttles this app/ad account for about "
                f"{minutes:.0f} min (usage headers), longer than the retry budget of "
                f"{self.retry.max_total_wait / 60:.0f} min; not waiting",
                status=exc.status,
                provider_message=exc.provider_message,
                fix="re-run later; spread backfills over several runs or ask for a higher "
                "ads_management access tier",
            ) from None

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """Throttle codes (HTTP 400 or 403) back off on the usage headers; a wait longer than the
        whole retry budget fails fast as quota exhausted. Transient errors are retried."""
        error = _error(response)
        code = error.get("code")
        if isinstance(code, int) and code in THROTTLE_CODES:
            self.throttled += 1
            hint = throttle_wait(response.headers)
            self._last_throttle_wait = hint
            too_long = hint is not None and hint > self.retry.max_total_wait
            return RetryDecision(retry=not too_long, wait_hint=hint, quota_exhausted=too_long)
        if error.get("is_transient") is True:
            return RetryDecision(retry=True)
        return super().retry_decision(response)

    def _path(self, suffix: str) -> str:
        return f"/{self.api_version}/{suffix}"

    def _params(self, start: date, end: date) -> dict[str, str]:
        return {
            "level": "campaign",
            "time_increment": "1",
            "time_range": json.dumps({"since": start.isoformat(), "until": end.isoformat()}),
            "fields": ",".join(INSIGHTS_FIELDS),
            "limit": str(self.page_limit),
        }

    def account(self, account_id: str) -> dict[str, Any]:
        """The ad account's name, currency and time zone (``GET act_{id}``)."""
        account_id = normalize_account_id(account_id)
        body = self.get_json(
            self._path(f"act_{account_id}"),
            params={"fields": "account_id,name,currency,timezone_name"},
        )
        return {
            "account_id": account_id,
            "name": body.get("name"),
            "currency": body.get("currency"),
            "timezone_name": body.get("timezone_name"),
        }

    def insights(self, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """Campaign x day rows for ``start..end`` inclusive; days without delivery are absent."""
        account_id = normalize_account_id(account_id)
        if (end - start).days + 1 > self.async_threshold_days:
            return self.insights_async(account_id, start, end)
        return self._pages(self._path(f"act_{account_id}/insights"), self._params(start, end))

    def _pages(self, path: str, params: dict[str, str] | None) -> list[dict[str, Any]]:
        """Follow ``paging.next`` until it is absent (short pages are not the end)."""

        def fetch(next_url: str | None) -> tuple[list[dict[str, Any]], str | None]:
            page = self.get_json(next_url) if next_url else self.get_json(path, params=params)
            return parse_insights_page(page, self.conversion_action_types)

        endpoint = f"GET {self.base_url}{path}"
        return [
            row for page in paginate_cursor(fetch, source=SOURCE, endpoint=endpoint) for row in page
        ]

    def insights_async(self, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """The async report job: POST insights, poll the report run, page its insights."""
        account_id = normalize_account_id(account_id)
        created = self.post_json(
            self._path(f"act_{account_id}/insights"), data=self._params(start, end)
        )
        run_id = str(created.get("report_run_id") or "")
        if not run_id:
            raise SchemaError(
                SOURCE,
                f"POST act_{account_id}/insights",
                "no report_run_id in the answer",
                field="report_run_id",
                value=created,
            )
        waited = 0.0
        while True:
            status = self.get_json(self._path(run_id))
            state = status.get("async_status")
            if state == "Job Completed" and int(status.get("async_percent_completion") or 0) == 100:
                break
            if state in ("Job Failed", "Job Skipped"):
                raise SourceError(
                    SOURCE,
                    f"GET {self._path(run_id)}",
                    f"async insights job {run_id} ended as {state!r}",
                    provider_message=str(status),
                    fix="re-run the partition; for very long ranges split the backfill",
                )
            if waited >= self.max_poll_wait:
                raise SourceError(
                    SOURCE,
                    f"GET {self._path(run_id)}",
                    f"async insights job {run_id} not complete after {waited:.0f}s "
                    f"({state}, {status.get('async_percent_completion')}%)",
                    fix="re-run later or split the range",
                )
            progress.current().wait(
                self.poll_interval, self.retry.sleep, f"async report {run_id}: {state}"
            )
            waited += self.poll_interval
        return self._pages(self._path(f"{run_id}/insights"), {"limit": str(self.page_limit)})
