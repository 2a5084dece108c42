"""WordPress REST client against the emulator, its parsing, and the production-cost file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import requests

from sources.content_costs import parse_costs
from sources.emulators import company as co
from sources.emulators.server import Fault
from sources.emulators.social_content import DEMO_WORDPRESS_PASSWORD, DEMO_WORDPRESS_USER
from sources.http import SchemaError, SourceError
from sources.wordpress import WordPressClient, parse_comments, parse_posts

TODAY = date(2025, 3, 20)
POSTS = r"/wp-json/wp/v2/posts"


@pytest.fixture
def client(stack, fast_retry) -> WordPressClient:
    stack.social.set_today(TODAY)
    return WordPressClient(
        stack.server.base_url,
        username=DEMO_WORDPRESS_USER,
        app_password=DEMO_WORDPRESS_PASSWORD,
        retry=fast_retry,
        per_page=20,
    )


def published() -> list[co.BlogPost]:
    return [p for p in co.blog_posts() if p.published <= TODAY]


def test_posts_page_until_x_wp_totalpages_and_never_past_it(stack, client) -> None:
    posts = client.posts()
    assert [p["post_id"] for p in posts] == [p.post_id for p in published()]
    pages = -(-len(published()) // 20)
    assert stack.server.count(POSTS) == pages  # no request for a page that does not exist


def test_asking_past_the_last_page_is_wordpress_400(stack) -> None:
    response = requests.get(f"{stack.server.base_url}{POSTS}", params={"page": 99}, timeout=5)
    assert response.status_code == 400
    assert response.json()["code"] == "rest_post_invalid_page_number"


def test_without_the_total_pages_header_a_short_page_ends_paging(stack, client) -> None:
    stack.server.inject(
        Fault(
            path=POSTS,
            status=200,
            body=[{"id": 1, "link": "https://x.example/a/", "date_gmt": "2025-01-01T00:00:00"}],
        )
    )
    assert [p["post_id"] for p in client.posts()] == [1]
    assert stack.server.count(POSTS) == 1


def test_posts_parse_path_title_and_utc_publish_time() -> None:
    rows = parse_posts(
        [
            {
                "id": 7,
                "date_gmt": "2025-03-02T09:00:00",
                "modified_gmt": "2025-03-03T10:00:00",
                "link": "https://www.northwind.example/blog/whats-new/?utm=x",
                "slug": "whats-new",
                "status": "publish",
                "title": {"rendered": "What&#8217;s new &amp; next"},
            }
        ]
    )
    assert rows[0]["title"] == "What\u2019s new & next"
    assert rows[0]["path"] == "/blog/whats-new/"
    assert rows[0]["published_at"] == datetime(2025, 3, 2, 9, 0)


def test_an_id_that_is_not_an_integer_is_a_schema_error_naming_the_field() -> None:
    post = {"id": "post-7", "link": "https://x.example/a/", "date_gmt": "2025-03-02T09:00:00"}
    with pytest.raises(SchemaError, match=r"\[wordpress\].*field=id.*post-7"):
        parse_posts([post])
    comment = {"id": 3, "post": {"id": 7}, "date_gmt": "2025-03-02T09:00:00"}
    with pytest.raises(SchemaError, match=r"\[wordpress\].*field=post"):
        parse_comments([comment])


def test_comments_of_a_window_match_the_company(client) -> None:
    comments = client.comments(date(2025, 3, 1), date(2025, 3, 3))
    expected = [c for d in (1, 2, 3) for c in co.comments_on(date(2025, 3, d))]
    assert sorted(c["comment_id"] for c in comments) == sorted(c.comment_id for c in expected)


def test_a_wrong_application_password_is_401_not_retried_and_not_logged(stack, fast_retry) -> None:
    client = WordPressClient(
        stack.server.base_url,
        username="kpi-reader",
        app_password="wrong pass word 123",
        retry=fast_retry,
    )
    with pytest.raises(SourceError, match="invalid application password") as caught:
        client.posts()
    assert caught.value.status == 401
    assert stack.server.count(POSTS) == 1
    assert "wrong pass word 123" not in str(caught.value)


def test_a_503_with_retry_after_is_retried(stack, client, fast_retry) -> None:
    stack.server.inject(
        Fault(path=POSTS, status=503, body={"code": "busy"}, headers={"Retry-After": "2"})
    )
    assert len(client.posts()) == len(published())
    assert fast_retry.waits == [2.0]


# --------------------------------------------------------------------------------------------------
# The production-cost file
# --------------------------------------------------------------------------------------------------
def test_cost_rows_parse_as_decimals_and_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "content_costs.csv"
    path.write_text(
        "url,cost,currency,published_date,title\n"
        "https://www.northwind.example/blog/kpi-guide/,850.00,usd,,\n"
        "/blog/ebook,1200.5,EUR,2025-03-04,The ebook\n"
        "/blog/bad-cost,12,50,USD,,\n"
        "# a comment line\n"
        "/blog/no-currency,300,US Dollar,,\n"
        "/blog/bad-date,300,USD,04/03/2025,\n"
    )
    parsed = parse_costs(path)
    assert [(r["path"], str(r["cost"]), r["currency"]) for r in parsed.rows] == [
        ("/blog/kpi-guide/", "850.00", "USD"),
        ("/blog/ebook", "1200.5", "EUR"),
    ]
    assert parsed.rows[1]["published_date"] == date(2025, 3, 4)
    assert [e.split(": ")[0] for e in parsed.errors] == [
        f"{path}:4",
        f"{path}:6",
        f"{path}:7",
    ]
    assert "ISO 4217" in parsed.errors[1]


def test_a_cost_file_without_the_required_columns_says_which(tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text("page,amount\n/blog/a,10\n")
    parsed = parse_costs(path)
    assert parsed.rows == []
    assert "url, cost, currency" in parsed.errors[0]
