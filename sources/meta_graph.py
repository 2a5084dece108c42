"""Meta Graph API: Facebook Page insights and Instagram business account insights, per day.

Page insights (``GET /{version}/{page-id}/insights``, period ``day``) answer one value per metric
per day, stamped with ``end_time`` = the *end* of the day in Pacific time (``T08:00:00+0000`` or
``T07:00:00+0000``); :func:`insights_day` turns that back into the page's own day. Instagram's
``metric_type=total_value`` metrics answer one total for the ``since``..``until`` range, so they are
pulled one UTC day at a time. Insights ``paging.next`` always points at the *next time range*
(it never ends), so the client never follows it: it asks for exactly the days it needs.

Throttling arrives as HTTP 400/403 with ``error.code`` 4, 17, 32, 613 or 80000-80014 (never a
``Retry-After``); the wait comes from ``X-Business-Use-Case-Usage`` (minutes) when present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from sources import api_versions, progress
from sources.http import (
    HttpClient,
    QuotaExhaustedError,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    register_secret,
)

SOURCE = "meta_graph"
DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = api_versions.META_GRAPH.default
PACIFIC = ZoneInfo("America/Los_Angeles")
MAX_PAGE_RANGE_DAYS = 90  # "Only 90 days of insights can be viewed at one time"
INSTAGRAM_FOLLOWER_DAYS = 30  # follower_count: last 30 days only, today excluded

# Metric -> our base measure. page_media_view / page_total_media_view_unique replace the
# deprecated page_impressions / page_impressions_unique; page_follows replaces page_fans.
PAGE_METRICS = {
    "page_media_view": "impressions",
    "page_total_media_view_unique": "reach",
    "page_post_engagements": "engagements",
    "page_follows": "followers",
}
INSTAGRAM_METRICS = {  # metric_type=total_value, one request per day
    "views": "impressions",
    "reach": "reach",
    "total_interactions": "engagements",
    "website_clicks": "link_clicks",
}
THROTTLE_CODES = frozenset({4, 17, 32, 613})


def is_throttle_code(code: Any) -> bool:
    return isinstance(code, int) and (code in THROTTLE_CODES or 80000 <= code <= 80014)


def graph_error(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Graph error body (empty when the body is not one)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def regain_access_seconds(headers: Any) -> float | None:
    """Largest ``estimated_time_to_regain_access`` (minutes) in X-Business-Use-Case-Usage."""
    raw = headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in usage.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60 if minutes else None


def insights_day(end_time: str) -> date:
    """The day a daily insights value describes: the Pacific day that ends at ``end_time``."""
    try:
        moment = datetime.strptime(end_time, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        raise SchemaError(
            SOURCE, "insights", "end_time is not ISO 8601", field="end_time", value=end_time
        ) from None
    return (moment.astimezone(PACIFIC) - timedelta(days=1)).date()


def parse_value(metric: str, value: Any) -> int | None:
    """Insights values are JSON integers (0 may be absent: None); anything else is a schema error."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SchemaError(
            SOURCE,
            "insights",
            "metric value is not a number (a breakdown metric was asked as a total?)",
            field=metric,
            value=value,
        )
    try:
        return int(value)
    except ValueError:
        raise SchemaError(
            SOURCE, "insights", "metric value is not an integer", field=metric, value=value
        ) from None


def parse_time_series(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows ``{metric, date, value}`` from a period=day insights page (``values[].end_time``)."""
    data = page.get("data")
    if not isinstance(data, list):
        raise SchemaError(SOURCE, "insights", "response has no data array", value=page)
    rows = []
    for item in data:
        name = item.get("name")
        for point in item.get("values") or []:
            rows.append(
                {
                    "metric": name,
                    "period": item.get("period"),
                    "date": insights_day(point.get("end_time")),
                    "end_time": point.get("end_time"),
                    "value": parse_value(name, point.get("value")),
                }
            )
    return rows


def parse_total_values(page: dict[str, Any]) -> dict[str, int | None]:
    """``{metric: value}`` from a ``metric_type=total_value`` insights page."""
    data = page.get("data")
    if not isinstance(data, list):
        raise SchemaError(SOURCE, "insights", "response has no data array", value=page)
    result = {}
    for item in data:
        total = item.get("total_value")
        if not isinstance(total, dict):
            raise SchemaError(
                SOURCE,
                "insights",
                "metric has no total_value (asked without metric_type=total_value?)",
                field=item.get("name"),
                value=item,
            )
        result[item["name"]] = parse_value(item["name"], total.get("value"))
    return result


def reconstruct_followers(
    total_now: int, gains: dict[date, int], days: list[date], last_gain_day: date
) -> dict[date, int | None]:
    """End-of-day followers from today's total and the daily gains reported after each day.

    ``followers(d) = total_now - sum(gains after d up to last_gain_day)``. A day whose later gains
    are not all reported (older than the API keeps them) is None, never a guess.
    """
    result: dict[date, int | None] = {}
    for day in days:
        later = [day + timedelta(days=i) for i in range(1, (last_gain_day - day).days + 1)]
        if any(d not in gains for d in later):
            result[day] = None
        else:
            result[day] = total_now - sum(gains[d] for d in later)
    return result


def day_chunks(start: date, end: date, size: int) -> Iterator[tuple[date, date]]:
    """``start..end`` (inclusive) in inclusive chunks of at most ``size`` days."""
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + timedelta(days=size - 1))
        yield chunk_start, chunk_end
        chunk_start = chunk_end + timedelta(days=1)


def _unix(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class MetaGraphClient(HttpClient):
    """Graph API client for Page and Instagram insights with Meta's throttle rules."""

    source = SOURCE

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        version: str = DEFAULT_VERSION,
        retry: RetryPolicy | None = None,
        today: date | None = None,
    ) -> None:
        register_secret(access_token)
        super().__init__(base_url, headers={"Authorization": f"Bearer {access_token}"}, retry=retry)
        self.version = version
        self.today = today or datetime.now(UTC).date()
        self._page_tokens: dict[str, str] = {}

    @property
    def api_version(self) -> str:
        """The pinned version (the connector framework's name for it)."""
        return self.version

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        error = graph_error(response)
        code = error.get("code")
        if is_throttle_code(code):
            wait = regain_access_seconds(response.headers)
            if wait is not None and wait > self.retry.max_total_wait:
                return RetryDecision(retry=False, quota_exhausted=True)
            return RetryDecision(retry=True, wait_hint=wait or None)
        if code == 190:  # token expired or revoked: retrying cannot help
            return RetryDecision(retry=False)
        if code in (1, 2) or response.status_code >= 500:
            return RetryDecision(retry=True)
        return super().retry_decision(response)

    def _get(self, path: str, params: dict[str, Any], token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return self.get_json(f"/{self.version}{path}", params=params, headers=headers)
        except SourceError as exc:
            if exc.fix or exc.status not in (400, 401, 403):
                raise
            message = exc.provider_message or ""
            if isinstance(exc, QuotaExhaustedError):
                fix = (
                    "Meta throttles this app/Page longer than the retry budget "
                    "(X-Business-Use-Case-Usage estimated_time_to_regain_access): rerun the range later"
                )
            elif "(#100)" in message or "valid insights metric" in message:
                fix = (
                    "Meta renamed or deprecated a metric: check sources/meta_graph.py "
                    "PAGE_METRICS / INSTAGRAM_METRICS against the Graph changelog"
                )
            elif "access token" in message.lower() or "OAuthException" in message:
                fix = "renew META_ACCESS_TOKEN (read_insights, pages_read_engagement, instagram_manage_insights)"
            else:
                fix = "check META_PAGE_IDS / INSTAGRAM_ACCOUNT_IDS and the token's permissions"
            quota = isinstance(exc, QuotaExhaustedError)
            raise type(exc)(
                SOURCE,
                exc.endpoint,
                "quota exhausted: throttled past the retry budget" if quota else "request refused",
                status=exc.status,
                provider_message=exc.provider_message,
                fix=fix,
            ) from None

    # Facebook Pages --------------------------------------------------------------------------
    def page_token(self, page_id: str) -> str:
        """The Page access token (page insights need one); a system-user token can fetch it."""
        if page_id not in self._page_tokens:
            body = self._get(f"/{page_id}", {"fields": "access_token"})
            token = body.get("access_token") if isinstance(body, dict) else None
            if not token:
                raise SourceError(
                    SOURCE,
                    f"GET /{self.version}/{page_id}?fields=access_token",
                    "no Page access token returned: the token cannot act for this Page",
                    field="META_PAGE_IDS",
                    value=page_id,
                    fix="grant the system user the Page's ANALYZE task and pages_read_engagement",
                )
            register_secret(token)
            self._page_tokens[page_id] = token
        return self._page_tokens[page_id]

    def page_insights(self, page_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """Long rows ``{metric, date, value}`` for ``start..end`` (inclusive), the day before too.

        The extra day gives the first day's follower gain (``page_follows`` is a total).
        """
        token = self.page_token(page_id)
        rows: list[dict[str, Any]] = []
        for chunk_start, chunk_end in day_chunks(
            start - timedelta(days=1), end, MAX_PAGE_RANGE_DAYS
        ):
            page = self._get(
                f"/{page_id}/insights",
                {
                    "metric": ",".join(PAGE_METRICS),
                    "period": "day",
                    # the first end_time is since + 1 day: it carries the since day's data
                    "since": chunk_start.isoformat(),
                    "until": (chunk_end + timedelta(days=1)).isoformat(),
                },
                token,
            )
            parsed = parse_time_series(page)
            rows.extend(parsed)
            progress.current().add(
                pages=1, rows=len(parsed), days=(chunk_end - chunk_start).days + 1
            )
        return [r for r in rows if start - timedelta(days=1) <= r["date"] <= end]

    def page_days(self, page_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """One row per day: the PAGE_METRICS values and ``page_follows_gain`` (derived).

        ``page_follows`` is an end-of-day total; its gain needs the day before, pulled for that.
        Page-level link clicks no longer exist (page_consumptions was removed in March 2024).
        """
        by_day: dict[date, dict[str, Any]] = {}
        for row in self.page_insights(page_id, start, end):
            by_day.setdefault(row["date"], {})[row["metric"]] = row["value"]
        result = []
        for day in _days(start, end):
            values = by_day.get(day)
            if values is None:
                continue
            follows = values.get("page_follows")
            before = (by_day.get(day - timedelta(days=1)) or {}).get("page_follows")
            gain = None if follows is None or before is None else follows - before
            known = {m: values.get(m) for m in PAGE_METRICS}
            added = {m: v for m, v in values.items() if m not in PAGE_METRICS}  # kept, not dropped
            result.append({"date": day, **known, **added, "page_follows_gain": gain})
        return result

    # Instagram --------------------------------------------------------------------------------
    def instagram_day(self, account_id: str, day: date) -> dict[str, int | None]:
        """The total_value metrics of one UTC day."""
        page = self._get(
            f"/{account_id}/insights",
            {
                "metric": ",".join(INSTAGRAM_METRICS),
                "metric_type": "total_value",
                "period": "day",
                "since": _unix(day),
                "until": _unix(day + timedelta(days=1)),
            },
        )
        values = parse_total_values(page)
        progress.current().add(pages=1, rows=1, days=1)
        return values

    def instagram_follower_gains(self, account_id: str) -> dict[date, int]:
        """New followers per day for the last 30 days (the API keeps no more; today excluded)."""
        first = self.today - timedelta(days=INSTAGRAM_FOLLOWER_DAYS)
        page = self._get(
            f"/{account_id}/insights",
            {
                "metric": "follower_count",
                "period": "day",
                "since": _unix(first),
                "until": _unix(self.today),
            },
        )
        return {
            row["date"]: row["value"] or 0
            for row in parse_time_series(page)
            if row["metric"] == "follower_count"
        }

    def instagram_followers_now(self, account_id: str) -> int:
        body = self._get(f"/{account_id}", {"fields": "followers_count"})
        value = body.get("followers_count") if isinstance(body, dict) else None
        if not isinstance(value, int):
            raise SchemaError(
                SOURCE,
                f"GET /{self.version}/{account_id}",
                "followers_count missing (not an Instagram business or creator account?)",
                field="followers_count",
                value=value,
                fix="INSTAGRAM_ACCOUNT_IDS takes the Instagram business account id (17841...)",
            )
        return value

    def instagram_days(self, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
        """One row per UTC day before today: the INSTAGRAM_METRICS totals, ``follower_count``
        (new followers that day) and ``followers_end_of_day`` (derived from followers_count)."""
        days = [d for d in _days(start, end) if d < self.today]
        if not days:
            return []
        gains = self.instagram_follower_gains(account_id)
        total = self.instagram_followers_now(account_id)
        followers = reconstruct_followers(total, gains, days, self.today - timedelta(days=1))
        return [
            {
                "date": day,
                **self.instagram_day(account_id, day),
                "follower_count": gains.get(day),
                "followers_end_of_day": followers[day],
            }
            for day in days
        ]


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)
