"""Google Analytics 4 Data API v1beta client, on the official ``google-analytics-data`` library.

Uses the REST transport so the endpoint can point at the local emulator (``GA4_BASE_URL``) and
service-account credentials (their ``token_uri`` is respected when the library asks for a token).
Every metric value arrives as a string; :func:`parse_report_page` types it by its header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import requests

from sources.http import (
    RETRYABLE_STATUSES,
    QuotaExhaustedError,
    RetryableStatus,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    call_with_retries,
    log,
    paginate_offset,
    parse_retry_after,
    provider_message,
    register_secret,
    snake_case,
)

SOURCE = "ga4"
API_VERSION = "v1beta"
DEFAULT_BASE_URL = "https://analyticsdata.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/analytics.readonly",)
PAGE_SIZE = 100_000

# Session metrics per day x channel group; leads come from a separate, event-filtered report.
TRAFFIC_DIMENSIONS = ("date", "sessionDefaultChannelGroup")
TRAFFIC_METRICS = (
    "sessions",
    "engagedSessions",
    "screenPageViews",
    "userEngagementDuration",
    "keyEvents",
    "purchaseRevenue",
    "newUsers",
)
LANDING_PAGE_DIMENSIONS = ("date", "landingPage")
LANDING_PAGE_METRICS = (
    "sessions",
    "engagedSessions",
    "screenPageViews",
    "userEngagementDuration",
    "keyEvents",
    "purchaseRevenue",
)

# Page-level views for content (date x pagePath); its leads come from an event-filtered report.
PAGE_DIMENSIONS = ("date", "pagePath")
PAGE_METRICS = ("screenPageViews", "userEngagementDuration")

_INTEGER_TYPES = {"TYPE_INTEGER"}
_DECIMAL_TYPES = {"TYPE_CURRENCY"}
_QUOTA_RESET = re.compile(r"Exhausted .*tokens per (day|hour)", re.IGNORECASE)


@dataclass
class ReportMetadata:
    """Report-level facts GA4 sends beside the rows; stored with every row of the report."""

    currency_code: str | None = None
    time_zone: str | None = None
    data_loss_from_other_row: bool = False
    subject_to_thresholding: bool = False
    sampled: bool = False
    row_count: int | None = None
    property_quota: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: ReportMetadata) -> None:
        self.currency_code = self.currency_code or other.currency_code
        self.time_zone = self.time_zone or other.time_zone
        self.data_loss_from_other_row |= other.data_loss_from_other_row
        self.subject_to_thresholding |= other.subject_to_thresholding
        self.sampled |= other.sampled
        self.property_quota = other.property_quota or self.property_quota


@dataclass
class Report:
    rows: list[dict[str, Any]]
    metadata: ReportMetadata


def parse_metric(name: str, metric_type: str, raw: Any) -> int | float | Decimal | None:
    """Type a GA4 metric string by its header type (integers, decimals for money, floats)."""
    if raw is None or raw == "":
        return None
    text = str(raw)
    try:
        if metric_type in _INTEGER_TYPES:
            return int(text)
        if metric_type in _DECIMAL_TYPES:
            return Decimal(text)
        return float(text)
    except (ValueError, InvalidOperation):
        raise SchemaError(
            SOURCE,
            "runReport",
            f"metric value does not parse as {metric_type}",
            field=name,
            value=raw,
            fix="check the metric's type in metricHeaders; the API changed the field's type",
        ) from None


def parse_dimension(name: str, raw: Any) -> Any:
    """Dimension values are strings; ``date`` is ``YYYYMMDD`` in the property's time zone."""
    if name == "date":
        text = str(raw)
        if not re.fullmatch(r"\d{8}", text):
            raise SchemaError(SOURCE, "runReport", "date is not YYYYMMDD", field="date", value=raw)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return raw


def parse_report_page(page: dict[str, Any]) -> tuple[list[dict[str, Any]], ReportMetadata]:
    """Turn one runReport response (JSON field names) into typed rows and its metadata."""
    dimensions = [h["name"] for h in page.get("dimensionHeaders") or []]
    metrics = [(h["name"], h.get("type", "TYPE_FLOAT")) for h in page.get("metricHeaders") or []]
    rows: list[dict[str, Any]] = []
    for index, row in enumerate(page.get("rows") or []):
        dim_values = row.get("dimensionValues") or []
        metric_values = row.get("metricValues") or []
        if len(dim_values) != len(dimensions) or len(metric_values) != len(metrics):
            raise SchemaError(
                SOURCE,
                "runReport",
                f"row {index} has {len(dim_values)}/{len(metric_values)} values for "
                f"{len(dimensions)} dimensions/{len(metrics)} metrics",
                field="rows",
                value=row,
            )
        record: dict[str, Any] = {}
        for name, value in zip(dimensions, dim_values, strict=True):
            record[snake_case(name)] = parse_dimension(name, value.get("value"))
        for (name, metric_type), value in zip(metrics, metric_values, strict=True):
            record[snake_case(name)] = parse_metric(name, metric_type, value.get("value"))
        rows.append(record)
    meta = page.get("metadata") or {}
    row_count = page.get("rowCount")
    metadata = ReportMetadata(
        currency_code=meta.get("currencyCode") or None,
        time_zone=meta.get("timeZone") or None,
        data_loss_from_other_row=bool(meta.get("dataLossFromOtherRow")),
        subject_to_thresholding=bool(meta.get("subjectToThresholding")),
        sampled=bool(meta.get("samplingMetadatas")),
        row_count=int(row_count) if row_count not in (None, "") else None,
        property_quota=page.get("propertyQuota") or {},
    )
    return rows, metadata


def iso_weeks(start: date, end: date) -> list[tuple[date, date]]:
    """ISO weeks (Monday..Sunday) overlapping ``start..end`` inclusive."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        weeks.append((monday, monday + timedelta(days=6)))
        monday += timedelta(days=7)
    return weeks


def months(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar months overlapping ``start..end`` inclusive."""
    first = start.replace(day=1)
    result = []
    while first <= end:
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        result.append((first, nxt - timedelta(days=1)))
        first = nxt
    return result


def _raise_for_foreign_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """requests hook: an error answer that is not a google.rpc.Status body (a proxy's HTML 503,
    a bare string) would crash the library's parser; raise it as a plain HTTP status instead."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        raise RetryableStatus(response)


def _classify(exc: BaseException) -> RetryDecision:
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    if isinstance(exc, RetryableStatus):
        status = exc.response.status_code
        return RetryDecision(
            retry=status in RETRYABLE_STATUSES,
            wait_hint=parse_retry_after(exc.response.headers.get("Retry-After")),
        )
    if isinstance(exc, gexc.GoogleAPICallError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        hint = parse_retry_after(headers.get("Retry-After")) if headers else None
        if exc.code == 429:
            return RetryDecision(
                retry=True, wait_hint=hint, quota_exhausted=bool(_QUOTA_RESET.search(exc.message))
            )
        retryable = (
            gexc.InternalServerError,
            gexc.BadGateway,
            gexc.ServiceUnavailable,
            gexc.GatewayTimeout,
            gexc.DeadlineExceeded,
        )
        return RetryDecision(retry=isinstance(exc, retryable), wait_hint=hint)
    if isinstance(exc, requests.ConnectionError | requests.Timeout | auth_exc.TransportError):
        return RetryDecision(retry=True)
    return RetryDecision(retry=False)


class GA4Client:
    """Runs GA4 reports for one or more properties with paging, retries and typed parsing."""

    def __init__(
        self,
        credentials_path: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        # The SDK (grpc, protobuf) is imported when a client is made, not when the code location
        # loads: it is a tenth of the run contract's start-up.
        from google.analytics.data_v1beta import BetaAnalyticsDataClient
        from google.api_core.client_options import ClientOptions
        from google.oauth2 import service_account

        try:
            info = json.loads(Path(credentials_path).read_text())
            register_secret(info.get("private_key"), info.get("private_key_id"))
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=list(SCOPES)
            )
        except (OSError, ValueError, KeyError) as exc:
            raise SourceError(
                SOURCE,
                "credentials",
                f"cannot read the service-account file: {type(exc).__name__}",
                field="GOOGLE_APPLICATION_CREDENTIALS",
                value=credentials_path,
                fix="point GOOGLE_APPLICATION_CREDENTIALS at a service-account JSON key file",
            ) from None
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.page_size = page_size
        self.requests_made = 0
        self._client = BetaAnalyticsDataClient(
            credentials=credentials,
            transport="rest",
            client_options=ClientOptions(api_endpoint=self.base_url),
        )
        # The REST transport's requests session is not exposed publicly; hooking it is the only
        # way to see error answers the library cannot parse.
        session = getattr(self._client.transport, "_session", None)
        if session is not None:
            session.hooks["response"].append(_raise_for_foreign_error)

    def endpoint(self, property_id: str) -> str:
        return f"POST {self.base_url}/{API_VERSION}/properties/{property_id}:runReport"

    def _call(self, property_id: str, body: dict[str, Any]) -> dict[str, Any]:
        from google.analytics.data_v1beta.types import RunReportRequest, RunReportResponse

        request = RunReportRequest(mapping={"property": f"properties/{property_id}", **body})

        def attempt() -> dict[str, Any]:
            self.requests_made += 1
            response = self._client.run_report(request=request, retry=None, timeout=self.timeout)
            return RunReportResponse.to_dict(
                response, preserving_proto_field_name=False, use_integers_for_enums=False
            )

        def describe(exc: BaseException, attempts: int) -> SourceError:
            decision = _classify(exc)
            status = getattr(exc, "code", None)
            message = getattr(exc, "message", None) or str(exc)
            if isinstance(exc, RetryableStatus):
                status, message = exc.response.status_code, provider_message(exc.response)
            if decision.quota_exhausted:
                return QuotaExhaustedError(
                    SOURCE,
                    self.endpoint(property_id),
                    "GA4 property quota exhausted until its reset; not retrying",
                    status=status,
                    provider_message=message,
                    fix="wait for the hourly/daily token refill or narrow the partition range",
                )
            return SourceError(
                SOURCE,
                self.endpoint(property_id),
                f"runReport failed after {attempts} attempt(s) ({type(exc).__name__})",
                status=status if isinstance(status, int) else None,
                provider_message=message,
            )

        def on_retry(exc: BaseException, attempts: int, delay: float) -> None:
            log.warning(
                "ga4: property %s attempt %d failed (%s); retrying in %.1fs",
                property_id,
                attempts,
                type(exc).__name__,
                delay,
            )

        return call_with_retries(
            attempt, classify=_classify, policy=self.retry, describe=describe, on_retry=on_retry
        )

    def run_report(self, property_id: str, body: dict[str, Any]) -> Report:
        """Run a report to its last page (offset paging until ``rowCount``)."""
        metadata = ReportMetadata()

        def fetch(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            page = self._call(
                property_id,
                {**body, "limit": self.page_size, "offset": offset, "return_property_quota": True},
            )
            rows, page_meta = parse_report_page(page)
            metadata.merge(page_meta)
            metadata.row_count = page_meta.row_count
            return rows, page_meta.row_count

        pages = paginate_offset(
            fetch, page_size=self.page_size, source=SOURCE, endpoint=self.endpoint(property_id)
        )
        rows = [row for page in pages for row in page]
        if metadata.row_count is not None and rows and len(rows) != metadata.row_count:
            raise SchemaError(
                SOURCE,
                self.endpoint(property_id),
                f"received {len(rows)} rows but rowCount is {metadata.row_count}",
                field="rowCount",
                value=metadata.row_count,
            )
        return Report(rows=rows, metadata=metadata)

    # Reports the pipeline uses ---------------------------------------------------------------
    def traffic(self, property_id: str, start: date, end: date) -> Report:
        """Sessions and engagement per day x default channel group."""
        return self.run_report(property_id, _body(start, end, TRAFFIC_DIMENSIONS, TRAFFIC_METRICS))

    def leads(self, property_id: str, start: date, end: date, event_name: str) -> Report:
        """Count of the lead event per day x channel group."""
        body = _body(start, end, TRAFFIC_DIMENSIONS, ("eventCount",))
        body["dimension_filter"] = _event_filter(event_name)
        return self.run_report(property_id, body)

    def landing_pages(self, property_id: str, start: date, end: date) -> Report:
        """Sessions landing on each page per day (content KPIs)."""
        return self.run_report(
            property_id, _body(start, end, LANDING_PAGE_DIMENSIONS, LANDING_PAGE_METRICS)
        )

    def pages(self, property_id: str, start: date, end: date) -> Report:
        """Views and engagement time per page path per day (content pages are picked in dbt)."""
        return self.run_report(property_id, _body(start, end, PAGE_DIMENSIONS, PAGE_METRICS))

    def page_leads(self, property_id: str, start: date, end: date, event_name: str) -> Report:
        """Count of the lead event per page path per day (the page the event fired on)."""
        body = _body(start, end, PAGE_DIMENSIONS, ("eventCount",))
        body["dimension_filter"] = _event_filter(event_name)
        return self.run_report(property_id, body)

    def users(
        self, property_id: str, start: date, end: date
    ) -> Iterator[tuple[str, date, date, Report]]:
        """``totalUsers`` for each day, ISO week and month touching the window (unique counts)."""
        daily = self.run_report(property_id, _body(start, end, ("date",), ("totalUsers",)))
        for row in daily.rows:
            single = Report(rows=[{"total_users": row["total_users"]}], metadata=daily.metadata)
            yield "day", row["date"], row["date"], single
        for grain, periods in (("week", iso_weeks(start, end)), ("month", months(start, end))):
            for period_start, period_end in periods:
                report = self.run_report(
                    property_id, _body(period_start, period_end, (), ("totalUsers",))
                )
                yield grain, period_start, period_end, report


def _body(
    start: date, end: date, dimensions: tuple[str, ...], metrics: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "date_ranges": [{"start_date": start.isoformat(), "end_date": end.isoformat()}],
        "dimensions": [{"name": name} for name in dimensions],
        "metrics": [{"name": name} for name in metrics],
        "keep_empty_rows": False,
    }


def _event_filter(event_name: str) -> dict[str, Any]:
    return {
        "filter": {
            "field_name": "eventName",
            "string_filter": {"match_type": "EXACT", "value": event_name},
        }
    }
