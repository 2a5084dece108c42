"""SearchConsoleClient against the emulator, and parse_rows on real-format Search Console pages.

The page fixtures are the example response, the fresh-data variant and the end-of-pagination page
from shared/api-notes/search_console.md.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from sources.emulators.company import SITE_URL
from sources.emulators.server import Fault
from sources.http import QuotaExhaustedError, SchemaError, SourceError
from sources.search_console import (
    QUERY_DIMENSIONS,
    SearchConsoleClient,
    first_incomplete_date,
    parse_rows,
    site_path,
)

QUERY = r"/searchAnalytics/query$"
DAY = date(2025, 3, 4)

# --------------------------------------------------------------------------------------------------
# Real-format pages (shared/api-notes/search_console.md)
# --------------------------------------------------------------------------------------------------
EXAMPLE = {
    "rows": [
        {
            "keys": [
                "2024-09-01",
                "acme widgets",
                "https://www.example.com/widgets/",
                "usa",
                "MOBILE",
            ],
            "clicks": 109.0,
            "impressions": 181.0,
            "ctr": 0.6022099447513812,
            "position": 1.0055248618784531,
        },
        {
            "keys": [
                "2024-09-01",
                "acme widgets",
                "https://www.example.com/widgets/",
                "usa",
                "DESKTOP",
            ],
            "clicks": 32.0,
            "impressions": 44.0,
            "ctr": 0.7272727272727273,
            "position": 1.0,
        },
        {
            "keys": [
                "2024-09-01",
                "blue widget price",
                "https://www.example.com/widgets/blue",
                "gbr",
                "TABLET",
            ],
            "clicks": 0.0,
            "impressions": 7.0,
            "ctr": 0.0,
            "position": 14.857142857142858,
        },
    ],
    "responseAggregationType": "byPage",
}
EXAMPLE_DIMENSIONS = ("date", "query", "page", "country", "device")
FRESH = {
    "rows": [
        {
            "keys": ["2024-09-08"],
            "clicks": 1520.0,
            "impressions": 48211.0,
            "ctr": 0.03152807450581818,
            "position": 11.23,
        },
        {
            "keys": ["2024-09-09"],
            "clicks": 388.0,
            "impressions": 12050.0,
            "ctr": 0.03219917012448133,
            "position": 11.9,
        },
    ],
    "responseAggregationType": "byProperty",
    "metadata": {"first_incomplete_date": "2024-09-09"},
}
END_PAGE = {"responseAggregationType": "byPage"}


def google_error(code: int, message: str, reason: str = "rateLimitExceeded") -> dict:
    return {
        "error": {
            "errors": [{"domain": "usageLimits", "reason": reason, "message": message}],
            "code": code,
            "message": message,
        }
    }


@pytest.fixture
def client(stack, fast_retry) -> SearchConsoleClient:
    stack.search_console.today = lambda: date(2025, 3, 20)
    return SearchConsoleClient(
        str(stack.service_account), base_url=stack.server.base_url, retry=fast_retry, page_size=5
    )


# --------------------------------------------------------------------------------------------------
# Parsing real-format pages
# --------------------------------------------------------------------------------------------------
def test_keys_follow_the_dimensions_and_double_counts_become_integers():
    rows = parse_rows(EXAMPLE, EXAMPLE_DIMENSIONS)

    first = rows[0]
    assert first["date"] == date(2024, 9, 1)  # YYYY-MM-DD with dashes
    assert first["query"] == "acme widgets"
    assert first["page"] == "https://www.example.com/widgets/"
    assert first["country"] == "usa" and first["device"] == "MOBILE"
    assert first["clicks"] == 109 and type(first["clicks"]) is int
    assert first["impressions"] == 181 and type(first["impressions"]) is int
    assert first["position"] == pytest.approx(1.0055248618784531)


def test_ctr_stays_a_fraction_and_position_is_weighted_by_impressions_when_combined():
    rows = parse_rows(EXAMPLE, EXAMPLE_DIMENSIONS)

    assert rows[0]["ctr"] == pytest.approx(109 / 181)
    assert all(0 <= r["ctr"] <= 1 for r in rows)
    widgets = [r for r in rows if r["query"] == "acme widgets"]
    weighted = sum(r["position"] * r["impressions"] for r in widgets) / sum(
        r["impressions"] for r in widgets
    )
    assert weighted == pytest.approx((1.0055248618784531 * 181 + 1.0 * 44) / 225)
    assert weighted != pytest.approx((1.0055248618784531 + 1.0) / 2)


def test_the_first_incomplete_date_is_read_in_either_casing():
    camel = {**FRESH, "metadata": {"firstIncompleteDate": "2024-09-09"}}

    assert first_incomplete_date(FRESH) == date(2024, 9, 9)
    assert first_incomplete_date(camel) == date(2024, 9, 9)
    assert first_incomplete_date(EXAMPLE) is None


def test_a_page_without_rows_is_the_end_not_an_error():
    assert parse_rows(END_PAGE, QUERY_DIMENSIONS) == []


def test_property_rows_grouped_by_date_parse_with_their_totals():
    rows = parse_rows(FRESH, ("date",))

    assert rows == [
        {
            "date": date(2024, 9, 8),
            "clicks": 1520,
            "impressions": 48211,
            "ctr": pytest.approx(0.03152807450581818),
            "position": 11.23,
        },
        {
            "date": date(2024, 9, 9),
            "clicks": 388,
            "impressions": 12050,
            "ctr": pytest.approx(0.03219917012448133),
            "position": 11.9,
        },
    ]


def test_rows_whose_keys_do_not_match_the_dimensions_raise_schema_error():
    with pytest.raises(SchemaError, match="row 0 has 5 keys") as info:
        parse_rows(EXAMPLE, QUERY_DIMENSIONS)

    assert info.value.field == "keys"


def test_a_metric_that_is_not_a_number_raises_schema_error():
    page = {"rows": [{**FRESH["rows"][0], "impressions": "48211"}]}

    with pytest.raises(SchemaError) as info:
        parse_rows(page, ("date",))

    assert info.value.field == "impressions"


def test_the_site_url_is_url_encoded_in_the_path():
    assert site_path("https://www.example.com/") == (
        "/webmasters/v3/sites/https%3A%2F%2Fwww.example.com%2F/searchAnalytics/query"
    )
    assert site_path("sc-domain:example.com").startswith("/webmasters/v3/sites/sc-domain%3A")


# --------------------------------------------------------------------------------------------------
# Paging, totals, freshness and auth against the emulator
# --------------------------------------------------------------------------------------------------
def test_query_rows_are_paged_by_start_row_until_a_short_page(stack, client):
    expected = stack.seo.search_rows(DAY)
    data = client.site_data(SITE_URL, DAY, DAY)

    got = {(r["query"], r["page"]): (r["clicks"], r["impressions"]) for r in data.query_rows}
    assert got == {(r.query, r.page): (r.clicks, r.impressions) for r in expected}
    assert len(expected) % 5 != 0
    # ceil(n / 5) query pages (the last one short) + 1 request for the property totals
    assert stack.server.count(QUERY) == math.ceil(len(expected) / 5) + 1
    assert all(
        "https%3A%2F%2Fwww.example.com%2F" in path
        for _, path in stack.server.requests
        if path.endswith("/query")
    )


def test_paging_stops_at_a_page_without_rows_when_the_last_page_is_full(stack, fast_retry):
    n = len(stack.seo.search_rows(DAY))
    stack.search_console.today = lambda: date(2025, 3, 20)
    client = SearchConsoleClient(
        str(stack.service_account), base_url=stack.server.base_url, retry=fast_retry, page_size=n
    )

    data = client.site_data(SITE_URL, DAY, DAY)

    assert len(data.query_rows) == n
    assert stack.server.count(QUERY) == 2 + 1  # a full page, an empty page, the totals


def test_one_request_per_day_and_property_totals_include_anonymized_queries(stack, client):
    data = client.site_data(SITE_URL, date(2025, 3, 1), date(2025, 3, 3))

    assert [t["date"] for t in data.totals] == [date(2025, 3, d) for d in (1, 2, 3)]
    for total in data.totals:
        from_rows = sum(r["impressions"] for r in data.query_rows if r["date"] == total["date"])
        assert total["impressions"] == stack.seo.search_total(total["date"]).impressions
        assert total["impressions"] > from_rows
    assert {r["date"] for r in data.query_rows} == {date(2025, 3, d) for d in (1, 2, 3)}


def test_fresh_days_come_with_the_first_incomplete_date(stack, client):
    stack.search_console.today = lambda: date(2025, 3, 6)

    data = client.site_data(SITE_URL, date(2025, 3, 2), date(2025, 3, 5))

    assert data.first_incomplete_date == date(2025, 3, 4)
    assert {t["date"] for t in data.totals} == {date(2025, 3, d) for d in (2, 3, 4, 5)}


def test_the_service_account_token_is_fetched_once_from_its_token_uri(stack, client):
    client.site_data(SITE_URL, date(2025, 3, 1), date(2025, 3, 2))

    assert stack.auth.token_requests == 1
    assert stack.server.count(r"^/token$") == 1


def test_a_rate_limit_429_is_retried_then_succeeds(stack, client, fast_retry):
    stack.server.inject(
        Fault(path=QUERY, status=429, body=google_error(429, "Rate Limit Exceeded"))
    )

    data = client.site_data(SITE_URL, DAY, DAY)

    assert data.query_rows and len(fast_retry.waits) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (403, "Search Analytics load quota exceeded."),
        (
            429,
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service "
            "'searchconsole.googleapis.com' for consumer 'project_number:123'.",
        ),
    ],
)
def test_spent_load_or_daily_quota_fails_fast(stack, client, fast_retry, status, message):
    stack.server.inject(
        Fault(
            path=QUERY, status=status, times=5, body=google_error(status, message, "quotaExceeded")
        )
    )

    with pytest.raises(QuotaExhaustedError) as info:
        client.site_data(SITE_URL, DAY, DAY)

    assert stack.server.count(QUERY) == 1 and fast_retry.waits == []
    assert info.value.source == "search_console" and message in str(info.value)


def test_a_property_the_account_cannot_see_fails_with_the_fix(stack, client, fast_retry):
    with pytest.raises(SourceError) as info:
        client.site_data("https://other.example.org/", DAY, DAY)

    assert info.value.status == 403 and fast_retry.waits == []
    assert "sufficient permission" in str(info.value)
    assert "add the service account as a user" in str(info.value)


def test_an_unreadable_credentials_file_names_the_setting(tmp_path):
    with pytest.raises(SourceError) as info:
        SearchConsoleClient(str(tmp_path / "missing.json"))

    assert info.value.field == "GOOGLE_APPLICATION_CREDENTIALS"
