"""WordPress REST API (``/wp-json/wp/v2``): the content inventory (posts) and its comments.

Collections page with ``page``/``per_page`` (max 100) and announce their size in the
``X-WP-Total`` and ``X-WP-TotalPages`` headers; asking past the last page is a 400
``rest_post_invalid_page_number``, so paging stops at ``X-WP-TotalPages`` (or, where a proxy strips
the header, at the first short page). Errors are ``{"code", "message", "data": {"status"}}``.
Public sites need no auth; an Application Password (HTTP Basic) reads private installs.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests

from sources.http import (
    HttpClient,
    RetryPolicy,
    SchemaError,
    check_page_moved,
    integer_id,
    register_secret,
)

SOURCE = "wordpress"
API_PATH = "/wp-json/wp/v2"
PER_PAGE = 100
POST_FIELDS = "id,date_gmt,modified_gmt,link,slug,status,title"
COMMENT_FIELDS = "id,post,date_gmt,status"


def total_pages(response: requests.Response) -> int | None:
    raw = response.headers.get("X-WP-TotalPages")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SchemaError(
            SOURCE, response.url, "X-WP-TotalPages is not an integer", value=raw
        ) from None


def parse_gmt(value: Any, field: str) -> datetime:
    """``date_gmt`` (``2025-03-01T09:12:00``, no offset: it is UTC) as a naive UTC datetime."""
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise SchemaError(
            SOURCE, "posts/comments", "not an ISO date-time", field=field, value=value
        ) from None


def url_path(link: str) -> str:
    """The path of a permalink (``https://site/blog/x/`` -> ``/blog/x/``)."""
    return urlsplit(link).path or "/"


def parse_posts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        title = item.get("title")
        rendered = title.get("rendered") if isinstance(title, dict) else title
        if "id" not in item or "link" not in item:
            raise SchemaError(SOURCE, "posts", "post without id or link", value=item)
        rows.append(
            {
                "post_id": integer_id(SOURCE, "posts", "id", item["id"]),
                "link": item["link"],
                "path": url_path(item["link"]),
                "slug": item.get("slug"),
                "status": item.get("status"),
                "title": html.unescape(rendered or ""),
                "published_at": parse_gmt(item.get("date_gmt"), "date_gmt"),
                "modified_at": parse_gmt(
                    item.get("modified_gmt") or item.get("date_gmt"), "modified_gmt"
                ),
            }
        )
    return rows


def parse_comments(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "comment_id": integer_id(SOURCE, "comments", "id", item.get("id")),
            "post_id": integer_id(SOURCE, "comments", "post", item.get("post")),
            "status": item.get("status"),
            "commented_at": parse_gmt(item.get("date_gmt"), "date_gmt"),
        }
        for item in items
    ]


class WordPressClient(HttpClient):
    """Reads posts and comments of one WordPress site."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        app_password: str | None = None,
        retry: RetryPolicy | None = None,
        per_page: int = PER_PAGE,
    ) -> None:
        auth = None
        if username and app_password:
            register_secret(app_password)
            auth = (username, app_password)
        super().__init__(base_url, auth=auth, retry=retry)
        self.per_page = per_page

    def collection(self, resource: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Pages of a collection until ``X-WP-TotalPages`` (or a short page without it)."""
        page = 1
        previous: list[dict[str, Any]] = []
        while True:
            response = self.request(
                "GET",
                f"{API_PATH}/{resource}",
                params={**params, "per_page": self.per_page, "page": page},
            )
            items = self.parse_json(response, f"{API_PATH}/{resource}")
            if not isinstance(items, list):
                raise SchemaError(
                    SOURCE, f"{API_PATH}/{resource}", "expected a JSON array", value=items
                )
            check_page_moved(SOURCE, f"GET {API_PATH}/{resource}", "page", page, items, previous)
            previous = items
            yield items
            pages = total_pages(response)
            if (pages is not None and page >= pages) or (
                pages is None and len(items) < self.per_page
            ):
                return
            page += 1

    def posts(self) -> list[dict[str, Any]]:
        """Every published post (the inventory is small: re-read whole on each run)."""
        params = {"orderby": "id", "order": "asc", "status": "publish", "_fields": POST_FIELDS}
        return [row for items in self.collection("posts", params) for row in parse_posts(items)]

    def comments(self, start: date, end: date) -> list[dict[str, Any]]:
        """Approved comments posted ``start..end`` (UTC days, inclusive)."""
        params = {
            "orderby": "id",
            "order": "asc",
            "after": f"{start.isoformat()}T00:00:00",
            "before": f"{(end + timedelta(days=1)).isoformat()}T00:00:00",
            "_fields": COMMENT_FIELDS,
        }
        rows = [r for items in self.collection("comments", params) for r in parse_comments(items)]
        low = datetime(start.year, start.month, start.day, tzinfo=UTC).replace(tzinfo=None)
        high = low + timedelta(days=(end - start).days + 1)
        return [r for r in rows if low <= r["commented_at"] < high]
