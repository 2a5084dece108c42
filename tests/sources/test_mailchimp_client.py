"""MailchimpClient against the emulator, and parse_report on real-format Mailchimp pages.

The page fixtures are Example 1 (Mailchimp's documented sample, as embedded in Telegraf) and
Example 2 (a real captured report's counts and rates) from shared/api-notes/mailchimp.md.
"""

from __future__ import annotations

import copy
import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sources.emulators.mailchimp import DEMO_API_KEY
from sources.emulators.server import Fault
from sources.http import SchemaError, SourceError
from sources.mailchimp import (
    FIELDS,
    MailchimpClient,
    data_center_url,
    parse_report,
    parse_reports_page,
)

REPORTS = r"/3\.0/reports$"
AS_OF = datetime(2025, 3, 20, tzinfo=UTC)

# --------------------------------------------------------------------------------------------------
# Real-format pages (shared/api-notes/mailchimp.md)
# --------------------------------------------------------------------------------------------------
EXAMPLE_1 = {
    "reports": [
        {
            "id": "42694e9e57",
            "campaign_title": "Freddie's Jokes Vol. 1",
            "type": "regular",
            "emails_sent": 200,
            "abuse_reports": 0,
            "unsubscribed": 2,
            "send_time": "2015-09-15T19:05:51+00:00",
            "bounces": {"hard_bounces": 0, "soft_bounces": 2, "syntax_errors": 0},
            "forwards": {"forwards_count": 0, "forwards_opens": 0},
            "opens": {
                "opens_total": 186,
                "unique_opens": 100,
                "open_rate": 42,
                "last_open": "2015-09-15T19:15:47+00:00",
            },
            "clicks": {
                "clicks_total": 42,
                "unique_clicks": 400,
                "unique_subscriber_clicks": 42,
                "click_rate": 42,
                "last_click": "2015-09-15T19:15:47+00:00",
            },
            "facebook_likes": {"recipient_likes": 5, "unique_likes": 8, "facebook_likes": 42},
            "industry_stats": {
                "type": "Social Networks and Online Communities",
                "open_rate": 0.17076777144396,
                "click_rate": 0.027431311866951,
                "bounce_rate": 0.0063767751251474,
                "unopen_rate": 0.82285545343089,
                "unsub_rate": 0.001436957032815,
                "abuse_rate": 0.00021111996110887,
            },
            "list_stats": {"sub_rate": 10, "unsub_rate": 20, "open_rate": 42, "click_rate": 42},
            "timeseries": [
                {
                    "timestamp": "2015-09-15T19:00:00+00:00",
                    "emails_sent": 198,
                    "unique_opens": 0,
                    "recipients_clicks": 0,
                },
                {
                    "timestamp": "2015-09-15T20:00:00+00:00",
                    "emails_sent": 2,
                    "unique_opens": 0,
                    "recipients_clicks": 0,
                },
            ],
            "share_report": {
                "share_url": "http://usX.vip-reports.net/reports/summary?u=xxxx&id=xxxx",
                "share_password": "freddielikesjokes",
            },
            "delivery_status": {"enabled": False},
            "_links": [
                {
                    "rel": "self",
                    "href": "https://usX.api.mailchimp.com/3.0/reports/42694e9e57",
                    "method": "GET",
                }
            ],
        }
    ],
    "_links": [
        {"rel": "self", "href": "https://usX.api.mailchimp.com/3.0/reports", "method": "GET"}
    ],
    "total_items": 1,
}

EXAMPLE_2 = {
    "id": "388025b232",
    "campaign_title": "Weekly digest 2025-05-22",
    "type": "regular",
    "list_id": "ab6c0d6df6",
    "list_is_active": True,
    "list_name": "Newsletter",
    "subject_line": "This week's top stories",
    "preview_text": "",
    "emails_sent": 500,
    "abuse_reports": 0,
    "unsubscribed": 0,
    "send_time": "2025-05-22T12:53:04+00:00",
    "bounces": {"hard_bounces": 19, "soft_bounces": 8, "syntax_errors": 0},
    "forwards": {"forwards_count": 0, "forwards_opens": 0},
    "opens": {
        "opens_total": 26,
        "proxy_excluded_opens": 19,
        "unique_opens": 23,
        "proxy_excluded_unique_opens": 18,
        "open_rate": 0.048625792811839326,
        "proxy_excluded_open_rate": 0.03805496828752643,
        "last_open": "2025-05-22T13:04:11+00:00",
    },
    "clicks": {
        "clicks_total": 8,
        "unique_clicks": 8,
        "unique_subscriber_clicks": 4,
        "click_rate": 0.008456659619450317,
        "last_click": "2025-05-22T13:01:37+00:00",
    },
    "list_stats": {"sub_rate": 4.2, "unsub_rate": 0.3, "open_rate": 27.81, "click_rate": 2.9},
    "ecommerce": {
        "total_orders": 3,
        "total_spent": 212.4,
        "total_revenue": 212.4,
        "currency_code": "USD",
    },
    "delivery_status": {
        "enabled": True,
        "can_cancel": False,
        "status": "delivered",
        "emails_sent": 500,
        "emails_canceled": 0,
    },
    "_links": [],
}


@pytest.fixture
def client(stack, fast_retry) -> MailchimpClient:
    stack.mailchimp.now = lambda: AS_OF
    return MailchimpClient(
        DEMO_API_KEY, base_url=stack.server.base_url, retry=fast_retry, page_size=2
    )


def problem(status: int, title: str, detail: str) -> dict:
    return {
        "type": "https://mailchimp.com/developer/marketing/docs/errors/",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "3b4dcb40",
    }


# --------------------------------------------------------------------------------------------------
# Parsing real-format pages
# --------------------------------------------------------------------------------------------------
def test_per_campaign_rates_equal_mailchimps_own_open_and_click_rate():
    row = parse_report(EXAMPLE_2)

    assert row["delivered"] == 500 - 19 - 8 - 0 == 473
    assert row["unique_opens"] / row["delivered"] == EXAMPLE_2["opens"]["open_rate"]
    assert row["unique_subscriber_clicks"] / row["delivered"] == EXAMPLE_2["clicks"]["click_rate"]
    # Not emails_sent, and not unique_clicks: those give other numbers.
    assert row["unique_opens"] / row["emails_sent"] != pytest.approx(row["reported_open_rate"])
    assert row["unique_clicks"] / row["delivered"] != pytest.approx(row["reported_click_rate"])


def test_counts_are_kept_and_bounces_add_hard_soft_and_syntax():
    row = parse_report(EXAMPLE_2)

    assert row["campaign_id"] == "388025b232" and row["list_id"] == "ab6c0d6df6"
    assert row["emails_sent"] == 500 and row["bounces"] == 27
    assert (row["hard_bounces"], row["soft_bounces"], row["syntax_errors"]) == (19, 8, 0)
    assert row["proxy_excluded_unique_opens"] == 18
    assert row["send_time"] == datetime(2025, 5, 22, 12, 53, 4)  # naive UTC
    assert row["send_date"] == date(2025, 5, 22)


def test_ecommerce_revenue_is_a_decimal_in_major_units_with_its_currency():
    row = parse_report(EXAMPLE_2)

    assert row["orders"] == 3
    assert row["revenue"] == Decimal("212.4") and isinstance(row["revenue"], Decimal)
    assert row["currency_code"] == "USD"


def test_a_campaign_without_ecommerce_has_null_orders_not_zero():
    (report,), total = parse_reports_page(EXAMPLE_1)
    row = parse_report(report)
    empty = parse_report({**EXAMPLE_2, "ecommerce": {}})

    assert total == 1
    assert row["orders"] is None and row["revenue"] is None and row["currency_code"] is None
    assert empty["orders"] is None and empty["revenue"] is None


def test_the_documented_sample_parses_its_counts_and_keeps_its_placeholder_rates_aside():
    (report,), _ = parse_reports_page(EXAMPLE_1)
    row = parse_report(report)

    assert row["delivered"] == 198 and row["unique_opens"] == 100
    assert row["unique_subscriber_clicks"] == 42 and row["unsubscribed"] == 2
    assert row["proxy_excluded_unique_opens"] is None  # absent in the 2015 sample: not 0
    assert row["reported_open_rate"] == 42.0  # the doc's placeholder; never used as a KPI


def test_the_send_day_follows_the_reporting_time_zone():
    late = {**EXAMPLE_2, "send_time": "2025-05-22T23:40:04+00:00"}

    assert parse_report(late)["send_date"] == date(2025, 5, 22)
    assert parse_report(late, "Europe/Oslo")["send_date"] == date(2025, 5, 23)


def test_a_count_that_is_not_an_integer_raises_schema_error():
    broken = copy.deepcopy(EXAMPLE_2)
    broken["opens"]["unique_opens"] = "23"

    with pytest.raises(SchemaError) as info:
        parse_report(broken)

    assert info.value.field == "opens.unique_opens" and info.value.value == "23"


def test_a_rate_sent_as_text_raises_schema_error_naming_the_field():
    broken = copy.deepcopy(EXAMPLE_2)
    broken["opens"]["open_rate"] = "4.8%"

    with pytest.raises(SchemaError) as info:
        parse_report(broken)

    assert info.value.field == "opens.open_rate" and info.value.value == "4.8%"


def test_a_count_mailchimp_adds_to_a_count_object_is_kept():
    report = copy.deepcopy(EXAMPLE_2)
    report["opens"]["machine_opens"] = 17

    assert parse_report(report)["opens_machine_opens"] == 17
    assert not [k for k in parse_report(EXAMPLE_2) if k.startswith("opens_") and k != "opens_total"]


def test_a_missing_required_count_raises_schema_error_naming_the_field():
    broken = copy.deepcopy(EXAMPLE_2)
    del broken["clicks"]["unique_subscriber_clicks"]

    with pytest.raises(SchemaError, match="lacks a required field") as info:
        parse_report(broken)

    assert info.value.field == "clicks.unique_subscriber_clicks"


# --------------------------------------------------------------------------------------------------
# Data center and auth
# --------------------------------------------------------------------------------------------------
def test_the_data_center_comes_from_the_key_suffix():
    assert data_center_url("0123456789abcdef-us21") == "https://us21.api.mailchimp.com"
    assert MailchimpClient("abc123-us6").base_url == "https://us6.api.mailchimp.com"


def test_a_key_without_a_data_center_suffix_is_rejected_with_the_fix():
    with pytest.raises(SourceError) as info:
        MailchimpClient("0123456789abcdef")

    assert info.value.field == "MAILCHIMP_API_KEY"
    assert "MAILCHIMP_BASE_URL" in str(info.value)


def test_a_wrong_key_fails_once_with_mailchimps_title_and_the_key_redacted(stack, fast_retry):
    wrong = "ffffffffffffffffffffffffffffffff-us21"
    client = MailchimpClient(wrong, base_url=stack.server.base_url, retry=fast_retry)

    with pytest.raises(SourceError) as info:
        client.account()

    assert info.value.status == 401
    assert "Your API key may be invalid" in str(info.value)
    assert wrong not in str(info.value)
    assert stack.server.count(r"/3\.0/") == 1 and fast_retry.waits == []


def test_a_key_of_another_data_center_is_told_so(stack, fast_retry):
    client = MailchimpClient(
        "0123456789abcdef0123456789abcdef-us6", base_url=stack.server.base_url, retry=fast_retry
    )

    with pytest.raises(SourceError, match="different datacenter"):
        client.account()


# --------------------------------------------------------------------------------------------------
# Paging and filtering
# --------------------------------------------------------------------------------------------------
def test_reports_are_paged_by_offset_until_total_items(stack, client):
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    expected = [c.id for c in stack.email.campaigns_between(start, end)]

    reports = list(client.reports(start, end))

    assert [r["id"] for r in reports] == expected
    assert len(expected) >= 9
    assert stack.server.count(REPORTS) == math.ceil(len(expected) / 2)
    assert "total_items" in FIELDS.split(",")


def test_paging_stops_at_an_empty_page_when_total_items_is_missing(stack, client):
    start, end = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    expected = [c.id for c in stack.email.campaigns_between(start, end)]
    pages = math.ceil(len(expected) / 2)
    stack.server.inject(
        Fault(
            path=REPORTS,
            kind="transform",
            times=pages + 1,
            transform=lambda body: {k: v for k, v in body.items() if k != "total_items"},
        )
    )

    reports = list(client.reports(start, end))

    assert [r["id"] for r in reports] == expected
    assert stack.server.count(REPORTS) == pages + 1  # the last request found no reports


def test_a_report_repeated_across_pages_is_yielded_once(stack, client):
    start, end = datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    expected = [c.id for c in stack.email.campaigns_between(start, end)]
    first_page: list = []

    def shift(body: dict) -> dict:  # a campaign finished sending: the list moved by one
        if not first_page:
            first_page.extend(body["reports"])
            return body
        return {**body, "reports": first_page[-1:] + body["reports"][:1]}

    stack.server.inject(Fault(path=REPORTS, kind="transform", times=2, transform=shift))

    ids = [r["id"] for r in client.reports(start, end)]

    assert len(ids) == len(set(ids))
    assert set(ids) <= set(expected)


def test_only_campaigns_sent_in_the_window_are_returned(stack, client):
    rows = client.campaign_rows(date(2025, 3, 4), date(2025, 3, 5))

    assert [r["campaign_title"] for r in rows] == [
        "Weekly digest 2025-03-04",
        "Product news 2025-03-04",
    ]
    assert {r["send_date"] for r in rows} == {date(2025, 3, 4)}


def test_a_send_late_in_the_utc_evening_belongs_to_the_next_day_in_oslo(stack, client):
    rows = client.campaign_rows(date(2025, 3, 5), date(2025, 3, 6), "Europe/Oslo")

    assert [r["campaign_title"] for r in rows] == ["Product news 2025-03-04"]
    assert rows[0]["send_date"] == date(2025, 3, 5)


def test_totals_grow_after_the_send_and_a_later_pull_sees_more(stack, client):
    stack.mailchimp.now = lambda: datetime(2025, 3, 4, 18, tzinfo=UTC)
    early = client.campaign_rows(date(2025, 3, 4), date(2025, 3, 5))[0]
    stack.mailchimp.now = lambda: AS_OF
    later = client.campaign_rows(date(2025, 3, 4), date(2025, 3, 5))[0]

    assert early["campaign_id"] == later["campaign_id"]
    assert early["delivered"] == later["delivered"]
    assert 0 < early["unique_opens"] < later["unique_opens"]


# --------------------------------------------------------------------------------------------------
# Throttling and errors
# --------------------------------------------------------------------------------------------------
def test_a_too_many_connections_429_is_retried_then_succeeds(stack, client, fast_retry):
    stack.server.inject(
        Fault(
            path=REPORTS,
            status=429,
            body=problem(
                429,
                "TooManyRequests",
                "You have exceeded the limit of 10 simultaneous connections.",
            ),
        )
    )

    rows = client.campaign_rows(date(2025, 3, 4), date(2025, 3, 5))

    assert len(rows) == 2
    assert len(fast_retry.waits) == 1
    assert stack.server.count(REPORTS) == 2


def test_persistent_429s_give_up_with_mailchimps_detail(stack, client, fast_retry):
    stack.server.inject(
        Fault(
            path=REPORTS,
            status=429,
            times=10,
            body=problem(
                429,
                "TooManyRequests",
                "You have exceeded the limit of 10 simultaneous connections.",
            ),
        )
    )

    with pytest.raises(SourceError) as info:
        client.campaign_rows(date(2025, 3, 4), date(2025, 3, 5))

    assert info.value.source == "mailchimp" and info.value.status == 429
    assert "10 simultaneous connections" in str(info.value)
    assert "/3.0/reports" in str(info.value)
    assert stack.server.count(REPORTS) == fast_retry.max_attempts


def test_a_count_over_1000_is_refused_by_the_api_and_capped_by_the_client(stack, fast_retry):
    client = MailchimpClient(
        DEMO_API_KEY, base_url=stack.server.base_url, retry=fast_retry, page_size=5000
    )

    assert client.page_size == 1000
    assert list(client.reports(datetime(2025, 3, 1, tzinfo=UTC), AS_OF))
