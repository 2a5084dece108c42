"""ZendeskClient against the emulator, the export rate limiter, and real-format pages
(api-notes/zendesk.md: the OpenAPI cursor-export example with the official ticket_metrics values,
and the assembled satisfaction-ratings page)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sources.emulators.server import Fault
from sources.emulators.zendesk import DEMO_API_TOKEN, DEMO_EMAIL, DEMO_SUBDOMAIN
from sources.http import RetryPolicy, SchemaError, SourceError
from sources.ratelimit import RateLimiter
from sources.timezones import epoch_seconds
from sources.zendesk import ZendeskClient, parse_export_page, parse_rating

UTC_ZONE = ZoneInfo("UTC")
START = epoch_seconds(date(2025, 3, 3), UTC_ZONE)

EXPORT_PAGE = {
    "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8",
    "after_url": "https://{subdomain}.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8",
    "before_cursor": None,
    "before_url": None,
    "end_of_stream": True,
    "tickets": [
        {
            "assignee_id": 235323,
            "created_at": "2009-07-20T22:55:29Z",
            "id": 35436,
            "priority": "high",
            "satisfaction_rating": {"comment": "Great support!", "id": 1234, "score": "good"},
            "status": "open",
            "subject": "Help, my printer is on fire!",
            "type": "incident",
            "updated_at": "2011-05-05T10:38:52Z",
            "via": {"channel": "web"},
            "metric_set": {
                "id": 33,
                "ticket_id": 35436,
                "reopens": 55,
                "replies": 322,
                "reply_time_in_minutes": {"business": 737, "calendar": 2391},
                "first_resolution_time_in_minutes": {"business": 737, "calendar": 2391},
                "full_resolution_time_in_minutes": {"business": 737, "calendar": 2391},
                "solved_at": None,
                "created_at": "2009-07-20T22:55:29Z",
                "updated_at": "2011-05-05T10:38:52Z",
            },
        }
    ],
}
RATING = {
    "id": 35437,
    "url": "https://company.zendesk.com/api/v2/satisfaction_ratings/35437.json",
    "assignee_id": 135,
    "group_id": 44,
    "requester_id": 9912,
    "ticket_id": 215,
    "score": "bad",
    "comment": "Took three days to get a reply",
    "reason": "The issue took too long to resolve",
    "reason_id": 1001,
    "created_at": "2024-09-01T19:40:05Z",
    "updated_at": "2024-09-02T08:12:44Z",
}


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(stack, *, limiter: RateLimiter, retry: RetryPolicy | None = None, page: int = 1000):
    return ZendeskClient(
        DEMO_SUBDOMAIN,
        DEMO_EMAIL,
        DEMO_API_TOKEN,
        base_url=stack.server.base_url,
        retry=retry,
        export_limiter=limiter,
        export_page_size=page,
    )


@pytest.fixture
def clock(stack) -> FakeClock:
    fake = FakeClock()
    stack.zendesk.clock = fake  # the emulator's 10-per-minute window runs on the same clock
    return fake


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_ticket_id_that_is_not_an_integer_is_a_schema_error_naming_the_field() -> None:
    page = copy.deepcopy(EXPORT_PAGE)
    page["tickets"][0]["id"] = "ZD-35436"
    with pytest.raises(SchemaError, match=r"\[zendesk\].*field=id.*ZD-35436"):
        parse_export_page(page, UTC_ZONE)
    with pytest.raises(SchemaError, match=r"\[zendesk\].*field=id"):
        parse_rating({**RATING, "id": None}, UTC_ZONE)


def test_a_metric_count_sent_as_text_is_a_schema_error_naming_the_field() -> None:
    page = copy.deepcopy(EXPORT_PAGE)
    page["tickets"][0]["metric_set"]["replies"] = "two"
    with pytest.raises(SchemaError, match=r"\[zendesk\].*field=replies.*two"):
        parse_export_page(page, UTC_ZONE)


def test_the_export_example_parses_metrics_in_calendar_and_business_minutes() -> None:
    page = parse_export_page(EXPORT_PAGE, UTC_ZONE)
    assert page.end_of_stream and page.after_cursor == "MTU3NjYxMzUzOS4wfHw0Njd8"
    (ticket,) = page.tickets
    assert (ticket["reply_minutes_calendar"], ticket["reply_minutes_business"]) == (2391, 737)
    assert ticket["solved_at"] is None
    assert ticket["satisfaction_score"] == "good"
    assert ticket["created_day"] == date(2009, 7, 20)
    assert (
        ticket["created_day"]
        != parse_export_page(EXPORT_PAGE, ZoneInfo("Europe/Oslo")).tickets[0]["created_day"]
    )


def test_a_metric_not_reached_yet_is_null_not_zero() -> None:
    page = copy.deepcopy(EXPORT_PAGE)
    page["tickets"][0]["metric_set"]["reply_time_in_minutes"] = {"calendar": None, "business": None}
    (ticket,) = parse_export_page(page, UTC_ZONE).tickets
    assert ticket["reply_minutes_calendar"] is None and ticket["reply_minutes_business"] is None


def test_metric_sets_sideloaded_at_the_top_level_are_matched_by_ticket_id() -> None:
    page = copy.deepcopy(EXPORT_PAGE)
    page["metric_sets"] = [page["tickets"][0].pop("metric_set")]
    (ticket,) = parse_export_page(page, UTC_ZONE).tickets
    assert ticket["reply_minutes_calendar"] == 2391


def test_a_rating_keeps_its_score_and_day_but_not_its_comment_text() -> None:
    row = parse_rating(RATING, UTC_ZONE)
    assert (row["score"], row["rated_day"], row["has_comment"]) == ("bad", date(2024, 9, 1), True)
    assert "Took three days" not in str(row)
    with pytest.raises(SchemaError, match="score"):
        parse_rating({**RATING, "score": "received"}, UTC_ZONE)  # a query value, never a score


def test_the_export_pages_to_end_of_stream_and_keeps_the_last_cursor(stack, clock) -> None:
    stack.zendesk.now = lambda: at(2025, 3, 6)
    client = make_client(
        stack, limiter=RateLimiter(10, 60, clock=clock, sleep=clock.sleep), page=40
    )
    pages = list(client.export_tickets(UTC_ZONE, start_time=START))
    assert len(pages) > 2
    assert [p.end_of_stream for p in pages] == [False] * (len(pages) - 1) + [True]
    assert pages[-1].after_cursor  # still present on the last page: where the next run resumes
    ids = [t["id"] for p in pages for t in p.tickets]
    assert len(ids) == len(set(ids))


def test_resuming_from_the_cursor_streams_only_tickets_changed_since(stack, clock) -> None:
    limiter = RateLimiter(10, 60, clock=clock, sleep=clock.sleep)
    client = make_client(stack, limiter=limiter)
    stack.zendesk.now = lambda: at(2025, 3, 4, 9)
    first = list(client.export_tickets(UTC_ZONE, start_time=START))
    before = {t["id"]: t for p in first for t in p.tickets}
    cursor = first[-1].after_cursor
    stack.zendesk.now = lambda: at(2025, 3, 4, 9)
    assert [t for p in client.export_tickets(UTC_ZONE, cursor=cursor) for t in p.tickets] == []
    stack.zendesk.now = lambda: at(2025, 3, 12)
    later = {t["id"]: t for p in client.export_tickets(UTC_ZONE, cursor=cursor) for t in p.tickets}
    assert later and set(later) - set(before)  # new tickets
    changed = set(before) & set(later)
    assert any(before[i]["status"] != later[i]["status"] for i in changed)  # new, open -> closed
    assert all(later[i]["updated_at"] > before[i]["updated_at"] for i in changed)


def test_the_client_keeps_to_ten_export_requests_a_minute(stack, clock) -> None:
    stack.zendesk.now = lambda: at(2025, 3, 10)
    client = make_client(
        stack, limiter=RateLimiter(10, 60, clock=clock, sleep=clock.sleep), page=20
    )
    pages = list(client.export_tickets(UTC_ZONE, start_time=START))
    assert len(pages) > 20
    assert stack.zendesk.export_requests == len(pages)  # the emulator never had to say 429
    assert clock.now >= 60 * ((len(pages) - 1) // 10)
    assert client.export_limiter.waited == pytest.approx(sum(clock.sleeps))


def test_a_429_is_retried_after_its_retry_after_seconds(stack, clock) -> None:
    stack.zendesk.now = lambda: at(2025, 3, 10)
    retry = RetryPolicy(max_attempts=5, max_delay=120, sleep=clock.sleep)
    client = make_client(stack, limiter=RateLimiter(1000, 60, clock=clock), retry=retry, page=20)
    pages = list(client.export_tickets(UTC_ZONE, start_time=START))  # no client-side limit
    assert pages[-1].end_of_stream
    assert clock.sleeps and all(s == int(s) and 1 <= s <= 61 for s in clock.sleeps)  # Retry-After


def test_a_retry_after_header_on_any_zendesk_429_is_honoured(stack, clock) -> None:
    stack.server.inject(
        Fault(
            path="/api/v2/satisfaction_ratings", status=429, body=b"", headers={"Retry-After": "37"}
        )
    )
    stack.zendesk.now = lambda: at(2025, 3, 10)
    waits: list[float] = []
    client = make_client(
        stack, limiter=RateLimiter(10, 60), retry=RetryPolicy(max_delay=60, sleep=waits.append)
    )
    ratings = client.satisfaction_ratings(START, START + 3 * 86400, UTC_ZONE)
    assert ratings and waits == [37.0]


def test_ratings_page_until_has_more_is_false_with_every_score(stack) -> None:
    stack.zendesk.now = lambda: at(2025, 3, 20)
    client = make_client(stack, limiter=RateLimiter(10, 60))
    ratings = client.satisfaction_ratings(START, START + 7 * 86400, UTC_ZONE)
    assert len(ratings) > 100  # more than one page of 100
    assert len({r["id"] for r in ratings}) == len(ratings)
    assert {r["score"] for r in ratings} == {"good", "bad", "offered"}


def test_wrong_credentials_fail_with_zendesks_message_and_no_token(stack) -> None:
    client = ZendeskClient(
        DEMO_SUBDOMAIN,
        DEMO_EMAIL,
        "wrong-token-123456",
        base_url=stack.server.base_url,
        retry=RetryPolicy(max_attempts=1),
    )
    with pytest.raises(SourceError) as caught:
        list(client.export_tickets(UTC_ZONE, start_time=START))
    assert caught.value.status == 401
    assert "Couldn't authenticate you" in str(caught.value)
    assert "wrong-token-123456" not in str(caught.value)


def test_the_limiter_allows_max_calls_per_period_and_sleeps_the_rest() -> None:
    fake = FakeClock()
    limiter = RateLimiter(3, 10, clock=fake, sleep=fake.sleep)
    waits = [limiter.acquire() for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(10)
    assert fake.now == pytest.approx(20)
    with pytest.raises(ValueError):
        RateLimiter(0, 1)
