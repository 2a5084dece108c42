"""Google Search Console API client: ``searchAnalytics/query`` with a service account.

Days are Search Console's own (Pacific Time). Each day is one request grouped by
``date x query x page``, paged with ``startRow += rowLimit`` until a page comes back empty or
short (:meth:`SearchConsoleClient.site_pages` yields each page as received: its body, its row
count and its ``first_incomplete_date``, read from the page's outline without building its rows;
the connector lands the bytes and DuckDB parses them, see ``docs/connectors.md``); a second request per window gives the property's daily totals, which include the
anonymized queries that query rows leave out. ``dataState=all`` returns the fresh, still-changing
days too; ``metadata.first_incomplete_date`` (or ``firstIncompleteDate``) marks where they start.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import requests
from google.auth import exceptions as auth_exc
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import service_account

from sources import progress
from sources.http import (
    HttpClient,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    call_with_retries,
    check_page_moved,
    new_metrics,
    provider_message,
    register_secret,
)

SOURCE = "search_console"
DEFAULT_BASE_URL = "https://searchconsole.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/webmasters.readonly",)
TIME_ZONE = "America/Los_Angeles"
MAX_ROW_LIMIT = 25_000
QUERY_DIMENSIONS = ("date", "query", "page")
ROW_FIELDS = ("keys", "clicks", "impressions", "ctr", "position")
# Quota that only a reset refills: the daily project quota and the 10-minute/daily load quota.
_QUOTA_RESET = re.compile(r"load quota|per day|quota exceeded for quota metric", re.IGNORECASE)


def site_path(site_url: str) -> str:
    """``/webmasters/v3/sites/{siteUrl}/searchAnalytics/query`` with the site URL-encoded."""
    return f"/webmasters/v3/sites/{quote(site_url, safe='')}/searchAnalytics/query"


def first_incomplete_date(page: dict[str, Any]) -> date | None:
    """The first partial day; the API names it in snake_case or camelCase, so accept both."""
    meta = page.get("metadata") or {}
    raw = meta.get("first_incomplete_date") or meta.get("firstIncompleteDate")
    return date.fromisoformat(raw) if raw else None


def _number(row: dict[str, Any], name: str, index: int) -> float:
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(
            SOURCE,
            "searchAnalytics/query",
            f"row {index}: {name} is not a number",
            field=name,
            value=value,
        )
    return float(value)


def parse_rows(page: dict[str, Any], dimensions: tuple[str, ...]) -> list[dict[str, Any]]:
    """Typed rows of one response page: keys named by ``dimensions``; clicks and impressions are
    doubles on the wire (``109.0``) and become integers; ``ctr`` stays a 0-1 fraction."""
    rows = []
    for index, row in enumerate(page.get("rows") or []):  # no `rows` key: nothing matched
        keys = row.get("keys") or []
        if len(keys) != len(dimensions):
            raise SchemaError(
                SOURCE,
                "searchAnalytics/query",
                f"row {index} has {len(keys)} keys for dimensions {list(dimensions)}",
                field="keys",
                value=keys,
            )
        record: dict[str, Any] = dict(zip(dimensions, keys, strict=True))
        if "date" in record:
            try:
                record["date"] = date.fromisoformat(record["date"])
            except ValueError:
                raise SchemaError(
                    SOURCE,
                    "searchAnalytics/query",
                    "date key is not YYYY-MM-DD",
                    field="date",
                    value=record["date"],
                ) from None
        clicks, impressions = _number(row, "clicks", index), _number(row, "impressions", index)
        record.update(
            clicks=round(clicks),
            impressions=round(impressions),
            ctr=_number(row, "ctr", index),
            position=_number(row, "position", index),
        )
        record.update(new_metrics(row, ROW_FIELDS))  # a metric Google adds is kept
        rows.append(record)
    return rows


class _Metadata(msgspec.Struct):
    first_incomplete_date: str | None = None
    firstIncompleteDate: str | None = None  # the API names it in either casing


class _Outline(msgspec.Struct):
    """What paging needs of a page: its rows (left unparsed) and the freshness metadata."""

    rows: list[msgspec.Raw] = msgspec.field(default_factory=list)
    metadata: _Metadata | None = None


_OUTLINE = msgspec.json.Decoder(_Outline)


@dataclass(frozen=True)
class Page:
    """One ``searchAnalytics/query`` response page as received, its rows left unparsed."""

    body: bytes
    rows: int
    # The text of the page's ``rows`` array between its brackets, byte for byte as received.
    rows_json: memoryview
    first_incomplete_date: date | None
    # Numeric fields of the page's first row beyond ROW_FIELDS: metrics Google added, kept.
    new_fields: tuple[str, ...] = ()


def read_page(body: bytes, endpoint: str = "searchAnalytics/query") -> Page:
    """A page's outline (its rows' JSON text, first incomplete date, new fields), without
    parsing the rows: invalid JSON or a ``rows`` that is not a list raise :class:`SchemaError`."""
    try:
        outline = _OUTLINE.decode(body)
    except msgspec.DecodeError as exc:
        raise SchemaError(
            SOURCE,
            endpoint,
            f"response is not a valid searchAnalytics page ({exc})",
            value=body[:200].decode("utf-8", "replace"),
        ) from None
    meta = outline.metadata
    raw = meta and (meta.first_incomplete_date or meta.firstIncompleteDate)
    try:
        incomplete = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise SchemaError(
            SOURCE, endpoint, "first_incomplete_date is not YYYY-MM-DD", field="metadata", value=raw
        ) from None
    fields: tuple[str, ...] = ()
    text = memoryview(body)[0:0]
    if outline.rows:
        # The array runs from the first row's text to the last's: no other object text can come
        # before the first or after the last (JSON escapes the quotes of any string holding one).
        first_row, last_row = bytes(outline.rows[0]), bytes(outline.rows[-1])
        text = memoryview(body)[body.index(first_row) : body.rindex(last_row) + len(last_row)]
        first = json.loads(first_row)
        fields = tuple(
            name
            for name, value in (first.items() if isinstance(first, dict) else ())
            if name not in ROW_FIELDS
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        )
    return Page(body, len(outline.rows), text, incomplete, fields)


@dataclass
class SiteData:
    """What was pulled for one site and window."""

    query_rows: list[dict[str, Any]] = field(default_factory=list)
    totals: list[dict[str, Any]] = field(default_factory=list)
    first_incomplete_date: date | None = None


class SearchConsoleClient(HttpClient):
    """Search analytics of one or more Search Console properties."""

    source = SOURCE

    def __init__(
        self,
        credentials_path: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        page_size: int = MAX_ROW_LIMIT,
    ) -> None:
        try:
            info = json.loads(Path(credentials_path).read_text())
            register_secret(info.get("private_key"), info.get("private_key_id"))
            self.token_uri = str(info.get("token_uri") or "")
            self.credentials = service_account.Credentials.from_service_account_info(
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
        super().__init__(
            base_url, session=AuthorizedSession(self.credentials), read_timeout=120.0, retry=retry
        )
        self.page_size = min(page_size, MAX_ROW_LIMIT)
        self._token_transport = AuthRequest(requests.Session())

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """429 rate limits are retried; spent daily or load quota (429 or 403) fails at once."""
        if response.status_code in (403, 429) and _QUOTA_RESET.search(provider_message(response)):
            return RetryDecision(retry=False, quota_exhausted=True)
        return super().retry_decision(response)

    def _authorize(self) -> None:
        """Fetch an access token from the credentials' ``token_uri`` (retried like any call)."""
        if self.credentials.valid:
            return

        def classify(exc: BaseException) -> RetryDecision:
            return RetryDecision(retry=isinstance(exc, auth_exc.TransportError))

        def describe(exc: BaseException, attempts: int) -> SourceError:
            return SourceError(
                SOURCE,
                f"POST {self.token_uri}",
                f"service-account token request failed after {attempts} attempt(s)",
                provider_message=str(exc),
                fix="check GOOGLE_APPLICATION_CREDENTIALS (key not revoked, token_uri reachable)",
            )

        call_with_retries(
            lambda: self.credentials.refresh(self._token_transport),
            classify=classify,
            policy=self.retry,
            describe=describe,
        )

    def _post(self, site_url: str, body: dict[str, Any]) -> requests.Response:
        """One ``searchAnalytics/query`` call; 403 errors get the fix an operator needs."""
        self._authorize()
        try:
            # prettyPrint=false (a system parameter of every Google API): compact pages, fewer
            # bytes to receive, land and parse.
            return self.request(
                "POST", site_path(site_url), json=body, params={"prettyPrint": "false"}
            )
        except SourceError as exc:
            if exc.status != 403 or type(exc) is not SourceError:
                raise
            raise SourceError(
                SOURCE,
                exc.endpoint,
                "no access to the Search Console property",
                status=403,
                provider_message=exc.provider_message,
                fix=f"add the service account as a user of the property {site_url!r} (the exact "
                "property: https://www.example.com/ or sc-domain:example.com)",
            ) from None

    def query(self, site_url: str, body: dict[str, Any]) -> dict[str, Any]:
        """One ``searchAnalytics/query`` call, decoded."""
        return self.parse_json(self._post(site_url, body), site_path(site_url))

    def pages(self, site_url: str, body: dict[str, Any]) -> Iterator[Page]:
        """Every page of one query, as received, until a page comes back empty or short. A page
        without ``first_incomplete_date`` gets the one an earlier page of the query named."""
        start_row = 0
        previous: list[bytes] = []
        incomplete: date | None = None
        endpoint = site_path(site_url)
        while True:
            request = {**body, "rowLimit": self.page_size, "startRow": start_row}
            page = read_page(self._post(site_url, request).content, endpoint)
            incomplete = page.first_incomplete_date or incomplete
            current = [page.body] if page.rows else []
            check_page_moved(SOURCE, endpoint, "startRow", start_row, current, previous)
            previous = current
            progress.current().add(pages=1, rows=page.rows)
            yield dataclasses.replace(page, first_incomplete_date=incomplete)
            # The end: a page with no rows (no `rows` key), or one shorter than rowLimit.
            if page.rows < self.page_size:
                return
            start_row += self.page_size

    def site_pages(self, site_url: str, start: date, end: date) -> Iterator[tuple[str, Page]]:
        """``("queries", page)`` for the query x page rows, one request (and its pages) per day,
        then ``("totals", page)`` for the daily property totals, for days ``start..end``."""
        base = {"type": "web", "aggregationType": "auto", "dataState": "all"}
        day = start
        while day <= end:
            body = {
                **base,
                "startDate": day.isoformat(),
                "endDate": day.isoformat(),
                "dimensions": list(QUERY_DIMENSIONS),
            }
            for page in self.pages(site_url, body):
                yield "queries", page
            progress.current().add(days=1)
            day += timedelta(days=1)
        body = {
            **base,
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "dimensions": ["date"],
        }
        for page in self.pages(site_url, body):
            yield "totals", page

    def site_data(self, site_url: str, start: date, end: date) -> SiteData:
        """:meth:`site_pages` parsed into typed rows (:func:`parse_rows`)."""
        result = SiteData()
        for kind, page in self.site_pages(site_url, start, end):
            rows = parse_rows(
                json.loads(page.body), QUERY_DIMENSIONS if kind == "queries" else ("date",)
            )
            (result.query_rows if kind == "queries" else result.totals).extend(rows)
            result.first_incomplete_date = (
                page.first_incomplete_date or result.first_incomplete_date
            )
        return result
