"""WordPress REST API emulator: ``/wp-json/wp/v2/posts`` and ``/wp-json/wp/v2/comments``.

``page``/``per_page`` paging with ``X-WP-Total`` and ``X-WP-TotalPages``, 400
``rest_post_invalid_page_number`` past the last page, ``_fields`` filtering, ``after``/``before``
for comments, WordPress error bodies ``{"code", "message", "data": {"status"}}``, and HTTP Basic
(Application Password) checked whenever an ``Authorization`` header is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sources.emulators.company import blog_posts, comments_on
from sources.emulators.server import EmulatorServer, Request, Response

API = r"/wp-json/wp/v2"


def wp_error(status: int, code: str, message: str, **data: Any) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


@dataclass
class WordPressEmulator:
    username: str
    app_password: str
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", API + r"/posts", self.posts)
        server.route("GET", API + r"/comments", self.comments)

    def _auth(self, request: Request) -> Response | None:
        header = request.header("Authorization")
        if not header:
            return None  # public content needs no auth
        expected = base64.b64encode(f"{self.username}:{self.app_password}".encode()).decode()
        if header != f"Basic {expected}":
            return wp_error(
                401,
                "incorrect_password",
                "The provided password is an invalid application password.",
            )
        return None

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            per_page = int(request.arg("per_page") or 10)
            page = int(request.arg("page") or 1)
        except ValueError:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
        if not 1 <= per_page <= 100:
            return wp_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            )
        total = len(items)
        pages = (total + per_page - 1) // per_page
        if page > max(pages, 1):
            return wp_error(
                400,
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
            )
        fields = [f for f in (request.arg("_fields") or "").split(",") if f]
        chunk = items[(page - 1) * per_page : page * per_page]
        if fields:
            chunk = [{k: v for k, v in item.items() if k in fields} for item in chunk]
        if request.arg("order") == "desc":
            chunk = list(reversed(chunk))
        return Response(
            body=chunk, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        )

    def posts(self, request: Request) -> Response:
        if denied := self._auth(request):
            return denied
        status = request.arg("status") or "publish"
        if status != "publish" and not request.header("Authorization"):
            return wp_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): status",
                params={"status": "Status is forbidden."},
            )
        today = self.today()
        items = [
            {
                "id": post.post_id,
                "date": f"{post.published.isoformat()}T09:00:00",
                "date_gmt": f"{post.published.isoformat()}T09:00:00",
                "modified_gmt": f"{post.published.isoformat()}T09:00:00",
                "slug": post.path.rsplit("/", 1)[-1],
                "status": "publish",
                "type": "post",
                "link": post.url,
                "title": {"rendered": post.title.replace("'", "&#8217;")},
            }
            for post in blog_posts()
            if post.published <= today
        ]
        return self._paged(request, items)

    def comments(self, request: Request) -> Response:
        if denied := self._auth(request):
            return denied
        try:
            after = datetime.fromisoformat(request.arg("after") or "1970-01-01T00:00:00")
            before = datetime.fromisoformat(request.arg("before") or "2100-01-01T00:00:00")
        except ValueError:
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): after, before")
        first = max(after.date(), date(2023, 1, 1))
        last = min(before.date(), self.today())
        items = []
        day = first
        while day <= last:
            for comment in comments_on(day):
                if after < comment.at < before:
                    items.append(
                        {
                            "id": comment.comment_id,
                            "post": comment.post_id,
                            "date": comment.at.isoformat(timespec="seconds"),
                            "date_gmt": comment.at.isoformat(timespec="seconds"),
                            "status": "approved",
                            "type": "comment",
                        }
                    )
            day += timedelta(days=1)
        items.sort(key=lambda c: c["id"])
        return self._paged(request, items)
