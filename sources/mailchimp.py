"""Mailchimp Marketing API 3.0 client: campaign reports (``GET /3.0/reports``).

Basic auth with the API key as password; the host is ``https://{dc}.api.mailchimp.com`` where
``dc`` is the key's ``-usN`` suffix (``MAILCHIMP_BASE_URL`` overrides it). Reports are
lifetime-cumulative per campaign, so a report is stored with the moment it was pulled and the
pipeline re-pulls recent sends. Counts are kept; Mailchimp's own rates are kept only to reconcile.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from requests.auth import HTTPBasicAuth

from sources.http import (
    HttpClient,
    RetryPolicy,
    SchemaError,
    SourceError,
    new_metrics,
    optional_number,
    paginate_offset,
    register_secret,
)

SOURCE = "mailchimp"
API_VERSION = "3.0"
MAX_PAGE_SIZE = 1000
REPORT_FIELDS = (
    "id",
    "campaign_title",
    "type",
    "list_id",
    "send_time",
    "emails_sent",
    "abuse_reports",
    "unsubscribed",
    "bounces",
    "forwards",
    "opens",
    "clicks",
    "ecommerce",
)
# Every field Mailchimp documents in the count objects the report asks for (whether kept or not):
# a number beyond these is one Mailchimp added, kept as ``<object>_<name>``.
DOCUMENTED_COUNTS = {
    "opens": (
        "opens_total",
        "proxy_excluded_opens",
        "unique_opens",
        "proxy_excluded_unique_opens",
        "open_rate",
        "proxy_excluded_open_rate",
        "last_open",
    ),
    "clicks": (
        "clicks_total",
        "unique_clicks",
        "unique_subscriber_clicks",
        "click_rate",
        "last_click",
    ),
    "bounces": ("hard_bounces", "soft_bounces", "syntax_errors"),
    "forwards": ("forwards_count", "forwards_opens"),
}
# `total_items` must stay in the sparse fieldset or paging loses its end condition.
FIELDS = ",".join([*(f"reports.{f}" for f in REPORT_FIELDS), "total_items"])
_KEY = re.compile(r"^[0-9a-zA-Z]+-(?P<dc>[a-z]+[0-9]+)$")


def data_center_url(api_key: str) -> str:
    """``https://us21.api.mailchimp.com`` for a key ending in ``-us21``."""
    match = _KEY.match(api_key.strip())
    if not match:
        raise SourceError(
            SOURCE,
            "MAILCHIMP_API_KEY",
            "the API key has no data-center suffix (-usN)",
            field="MAILCHIMP_API_KEY",
            fix="copy the full key from Mailchimp (Account > Extras > API keys), e.g. "
            "'abc123...-us21', or set MAILCHIMP_BASE_URL",
        )
    return f"https://{match.group('dc')}.api.mailchimp.com"


def _count(report: dict[str, Any], path: str, *, required: bool = True) -> int | None:
    """An integer count at a dotted path; a missing optional count is None (not 0)."""
    value: Any = report
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        if required:
            raise SchemaError(
                SOURCE,
                "/3.0/reports",
                f"report {report.get('id')} lacks a required field",
                field=path,
                fix="keep the field in the `fields` parameter",
            )
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise SchemaError(
            SOURCE, "/3.0/reports", "count is not an integer", field=path, value=value
        )
    return int(value)


def _money(value: Any, campaign: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))  # JSON number in major units, e.g. 1874.5
    except InvalidOperation:
        raise SchemaError(
            SOURCE,
            "/3.0/reports",
            f"report {campaign}: revenue is not a number",
            field="ecommerce.total_revenue",
            value=value,
        ) from None


def parse_send_time(text: Any, campaign: str) -> datetime:
    """``2025-05-22T12:53:04+00:00`` as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise SchemaError(
            SOURCE,
            "/3.0/reports",
            f"report {campaign}: send_time is not ISO-8601",
            field="send_time",
            value=text,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_report(report: dict[str, Any], time_zone: str = "UTC") -> dict[str, Any]:
    """One campaign report as a flat row of counts (rates over delivered are recomputed later).

    ``send_date`` is the send day in ``time_zone`` (the reporting time zone). E-commerce counts are
    NULL, not 0, when the campaign has no e-commerce data (``ecommerce`` absent or ``{}``).
    """
    campaign = str(report.get("id") or "")
    if not campaign:
        raise SchemaError(SOURCE, "/3.0/reports", "report without id", field="id", value=report)
    sent_at = parse_send_time(report.get("send_time"), campaign)
    emails_sent = _count(report, "emails_sent") or 0
    hard = _count(report, "bounces.hard_bounces") or 0
    soft = _count(report, "bounces.soft_bounces") or 0
    syntax = _count(report, "bounces.syntax_errors", required=False) or 0
    ecommerce = report.get("ecommerce") or {}
    has_ecommerce = "total_orders" in ecommerce
    opens = report.get("opens") or {}
    clicks = report.get("clicks") or {}
    return {
        "campaign_id": campaign,
        "campaign_title": report.get("campaign_title"),
        "campaign_type": report.get("type"),
        "list_id": report.get("list_id"),
        "send_time": sent_at.replace(tzinfo=None),
        "send_date": sent_at.astimezone(ZoneInfo(time_zone)).date(),
        "emails_sent": emails_sent,
        "hard_bounces": hard,
        "soft_bounces": soft,
        "syntax_errors": syntax,
        "bounces": hard + soft + syntax,
        "delivered": emails_sent - hard - soft - syntax,
        "opens_total": _count(report, "opens.opens_total", required=False),
        "unique_opens": _count(report, "opens.unique_opens"),
        "proxy_excluded_unique_opens": _count(
            report, "opens.proxy_excluded_unique_opens", required=False
        ),
        "clicks_total": _count(report, "clicks.clicks_total", required=False),
        "unique_clicks": _count(report, "clicks.unique_clicks", required=False),
        "unique_subscriber_clicks": _count(report, "clicks.unique_subscriber_clicks"),
        "unsubscribed": _count(report, "unsubscribed"),
        "abuse_reports": _count(report, "abuse_reports", required=False),
        "forwards": _count(report, "forwards.forwards_count"),
        "forwards_opens": _count(report, "forwards.forwards_opens", required=False),
        "orders": _count(report, "ecommerce.total_orders") if has_ecommerce else None,
        "revenue": _money(ecommerce.get("total_revenue"), campaign) if has_ecommerce else None,
        "currency_code": ecommerce.get("currency_code") if has_ecommerce else None,
        # Mailchimp's own 0-1 rates over delivered: kept to reconcile, never used as KPIs.
        "reported_open_rate": _rate(opens, "opens.open_rate"),
        "reported_click_rate": _rate(clicks, "clicks.click_rate"),
        **{
            name: value
            for obj, known in DOCUMENTED_COUNTS.items()
            for name, value in new_metrics(report.get(obj), known, f"{obj}_").items()
        },
    }


def _rate(obj: dict[str, Any], path: str) -> float | None:
    return optional_number(SOURCE, "/3.0/reports", path, obj.get(path.split(".")[-1]))


def parse_reports_page(page: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """The reports of one ``/reports`` page and ``total_items`` (None when absent)."""
    if not isinstance(page, dict) or not isinstance(page.get("reports", []), list):
        raise SchemaError(SOURCE, "/3.0/reports", "page has no reports array", value=page)
    total = page.get("total_items")
    return list(page.get("reports") or []), (int(total) if total is not None else None)


@dataclass
class Account:
    account_id: str
    account_name: str | None


class MailchimpClient(HttpClient):
    """Campaign reports of one Mailchimp account."""

    source = SOURCE

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        register_secret(api_key)
        super().__init__(
            base_url or data_center_url(api_key),
            auth=HTTPBasicAuth("kpi-pipeline", api_key),
            read_timeout=120.0,
            retry=retry,
        )
        self.page_size = min(page_size, MAX_PAGE_SIZE)

    def account(self) -> Account:
        """``GET /3.0/``: the account the key belongs to (also proves the key works)."""
        body = self.get_json(f"/{API_VERSION}/")
        return Account(str(body.get("account_id") or ""), body.get("account_name"))

    def reports(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Raw reports of regular campaigns sent in ``[start, end)``, each once."""
        seen: set[str] = set()

        def fetch(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            page = self.get_json(
                f"/{API_VERSION}/reports",
                params={
                    "count": self.page_size,
                    "offset": offset,
                    "type": "regular",
                    "since_send_time": start.astimezone(UTC).isoformat(),
                    "before_send_time": end.astimezone(UTC).isoformat(),
                    "fields": FIELDS,
                },
            )
            return parse_reports_page(page)

        endpoint = f"GET /{API_VERSION}/reports"
        for page in paginate_offset(
            fetch, page_size=self.page_size, source=self.source, endpoint=endpoint
        ):
            for report in page:
                # total_items can move while campaigns are sending: never emit a report twice.
                if report.get("id") not in seen:
                    seen.add(report.get("id"))
                    yield report

    def campaign_rows(self, start: date, end: date, time_zone: str = "UTC") -> list[dict]:
        """Rows for campaigns sent on days ``[start, end)`` of ``time_zone``."""
        zone = ZoneInfo(time_zone)
        lo = datetime.combine(start, time(), zone)
        hi = datetime.combine(end, time(), zone)
        return [parse_report(r, time_zone) for r in self.reports(lo, hi)]
