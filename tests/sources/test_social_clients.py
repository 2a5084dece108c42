"""Meta Graph (Pages, Instagram) and LinkedIn clients: parsing real-format pages and the emulators.

LinkedIn pages are Examples 1-3 of shared/api-notes/linkedin_pages.md; the Graph error bodies are
the Airbyte fixtures quoted in shared/api-notes/meta_ads.md (Graph-wide error envelope and codes).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import requests

from sources.emulators import company as co
from sources.emulators.linkedin import day_limit_fault, minute_limit_fault
from sources.emulators.meta_graph import throttle_fault
from sources.emulators.server import Fault
from sources.emulators.social_content import DEMO_LINKEDIN_TOKEN, DEMO_META_TOKEN
from sources.http import QuotaExhaustedError, SchemaError, SourceError, redact
from sources.linkedin import (
    LinkedInClient,
    parse_follower_gains,
    parse_share_statistics,
    time_intervals,
)
from sources.meta_graph import (
    MetaGraphClient,
    insights_day,
    parse_time_series,
    parse_total_values,
    reconstruct_followers,
)

TODAY = date(2025, 3, 20)
PAGE, INSTAGRAM, ORG = "104000000000001", "17841400000000001", "2414183"
ACCOUNTS = {a.platform: a for a in co.SOCIAL_ACCOUNTS}


@pytest.fixture
def meta(stack, fast_retry) -> MetaGraphClient:
    stack.social.set_today(TODAY)
    return MetaGraphClient(
        DEMO_META_TOKEN, base_url=stack.server.base_url, retry=fast_retry, today=TODAY
    )


@pytest.fixture
def linkedin(stack, fast_retry) -> LinkedInClient:
    stack.social.set_today(TODAY)
    return LinkedInClient(
        DEMO_LINKEDIN_TOKEN, base_url=stack.server.base_url, retry=fast_retry, today=TODAY
    )


# --------------------------------------------------------------------------------------------------
# Meta Graph: parsing
# --------------------------------------------------------------------------------------------------
PAGE_INSIGHTS = {
    "data": [
        {
            "name": "page_media_view",
            "period": "day",
            "values": [
                {"value": 5992, "end_time": "2025-03-02T08:00:00+0000"},
                {"value": 4617, "end_time": "2025-03-10T07:00:00+0000"},
            ],
            "title": "Daily Media Views",
            "description": "Daily: the number of times your content was played or displayed.",
            "id": "104000000000001/insights/page_media_view/day",
        }
    ],
    "paging": {
        "previous": "https://graph.facebook.com/v27.0/104000000000001/insights?since=1740556800",
        "next": "https://graph.facebook.com/v27.0/104000000000001/insights?since=1741420800",
    },
}


def test_daily_page_values_belong_to_the_pacific_day_that_ends_at_end_time() -> None:
    rows = parse_time_series(PAGE_INSIGHTS)
    # 08:00 UTC is Pacific midnight in winter (PST), 07:00 UTC after the March DST change (PDT)
    assert [(r["date"], r["value"]) for r in rows] == [
        (date(2025, 3, 1), 5992),
        (date(2025, 3, 9), 4617),
    ]
    assert insights_day("2025-07-02T07:00:00+0000") == date(2025, 7, 1)


def test_total_value_metrics_parse_and_a_time_series_answer_is_a_schema_error() -> None:
    page = {
        "data": [
            {"name": "reach", "period": "day", "total_value": {"value": 3796}, "id": "x"},
            {"name": "website_clicks", "period": "day", "total_value": {"value": 34}, "id": "y"},
        ]
    }
    assert parse_total_values(page) == {"reach": 3796, "website_clicks": 34}
    with pytest.raises(SchemaError, match="total_value"):
        parse_total_values(PAGE_INSIGHTS)


def test_a_breakdown_value_where_a_number_is_expected_is_a_schema_error() -> None:
    page = {
        "data": [
            {
                "name": "page_media_view",
                "values": [{"value": {"a": 1}, "end_time": "2025-03-02T08:00:00+0000"}],
            }
        ]
    }
    with pytest.raises(SchemaError, match="page_media_view"):
        parse_time_series(page)


def test_followers_are_rebuilt_backwards_from_todays_total_and_later_gains() -> None:
    gains = {date(2025, 3, 2): 5, date(2025, 3, 3): -2, date(2025, 3, 4): 4}
    days = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3), date(2025, 3, 4)]
    assert reconstruct_followers(1000, gains, days, date(2025, 3, 4)) == {
        date(2025, 3, 1): 993,
        date(2025, 3, 2): 998,
        date(2025, 3, 3): 996,
        date(2025, 3, 4): 1000,
    }
    # a later day's gain is unknown: never guess
    assert reconstruct_followers(1000, {date(2025, 3, 4): 4}, days[:2], date(2025, 3, 4)) == {
        date(2025, 3, 1): None,
        date(2025, 3, 2): None,
    }


# --------------------------------------------------------------------------------------------------
# Meta Graph: against the emulator
# --------------------------------------------------------------------------------------------------
def test_page_days_match_the_company_and_use_a_page_token(stack, meta) -> None:
    rows = meta.page_days(PAGE, date(2025, 3, 1), date(2025, 3, 7))
    account = ACCOUNTS["facebook"]
    assert [r["date"] for r in rows] == [date(2025, 3, 1) + timedelta(days=i) for i in range(7)]
    for row in rows:
        day = co.social_day(account, row["date"])
        assert row["page_media_view"] == day.impressions
        assert row["page_total_media_view_unique"] == day.reach
        assert row["page_follows"] == day.followers
        assert row["page_follows_gain"] == day.follower_gain  # the first day too
    token = meta._page_tokens[PAGE]
    assert redact(f"token {token}") == "token ***"


def test_insights_paging_next_is_never_followed_one_request_per_90_days(stack, meta) -> None:
    meta.page_days(PAGE, date(2024, 11, 1), date(2025, 2, 28))  # 120 days + the day before
    assert stack.server.count(rf"/{PAGE}/insights") == 2
    assert stack.server.count(rf"/{PAGE}$") == 1  # the Page token, fetched once


def test_instagram_days_are_one_request_per_day_plus_followers(stack, meta) -> None:
    rows = meta.instagram_days(INSTAGRAM, date(2025, 3, 1), date(2025, 3, 5))
    assert stack.server.count(rf"/{INSTAGRAM}/insights") == 5 + 1
    account = ACCOUNTS["instagram"]
    for row in rows:
        day = co.social_day(account, row["date"])
        assert (row["views"], row["reach"], row["website_clicks"]) == (
            day.impressions,
            day.reach,
            day.link_clicks,
        )
        assert row["follower_count"] == day.follower_gain
    growth = rows[-1]["followers_end_of_day"] - rows[0]["followers_end_of_day"]
    assert growth == day.followers - co.social_day(account, date(2025, 3, 1)).followers


def test_instagram_followers_older_than_30_days_are_null_not_guessed(meta) -> None:
    rows = meta.instagram_days(INSTAGRAM, date(2025, 2, 10), date(2025, 2, 20))
    # gains are kept from today - 30 (Feb 18): Feb 17 is the first day they fully cover
    assert [r["followers_end_of_day"] is None for r in rows] == [True] * 7 + [False] * 4


@pytest.mark.parametrize("code", [4, 17, 613, 80001])
def test_a_graph_throttle_in_http_400_is_retried(stack, meta, fast_retry, code) -> None:
    stack.server.inject(throttle_fault(code=code, path=rf"/{INSTAGRAM}/insights"))
    meta.instagram_day(INSTAGRAM, date(2025, 3, 3))
    assert stack.server.count(rf"/{INSTAGRAM}/insights") == 2
    assert len(fast_retry.waits) == 1


def test_the_regain_access_header_sets_the_wait(stack, meta, fast_retry) -> None:
    stack.server.inject(throttle_fault(code=80001, minutes=1, path=r"/insights"))
    meta.instagram_day(INSTAGRAM, date(2025, 3, 3))
    assert fast_retry.waits == [fast_retry.max_delay]  # 60 s asked, capped by the policy


def test_a_throttle_longer_than_the_retry_budget_fails_fast(stack, meta) -> None:
    stack.server.inject(throttle_fault(code=80001, minutes=45, times=5, path=r"/insights"))
    with pytest.raises(QuotaExhaustedError, match="too many calls") as caught:
        meta.instagram_day(INSTAGRAM, date(2025, 3, 3))
    assert stack.server.count(r"/insights") == 1
    assert "rerun the range later" in str(caught.value)
    assert "quota exhausted" in str(caught.value)  # not a "request refused" like a bad id


def test_an_expired_token_is_not_retried_and_says_how_to_fix_it(stack, meta) -> None:
    body = {
        "error": {
            "message": "Error validating access token: Session has expired on Friday, 18-Aug",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
        }
    }
    stack.server.inject(Fault(path=r"/insights", status=400, body=body, times=3))
    with pytest.raises(SourceError) as caught:
        meta.instagram_day(INSTAGRAM, date(2025, 3, 3))
    assert stack.server.count(r"/insights") == 1
    assert "Session has expired" in str(caught.value)
    assert "META_ACCESS_TOKEN" in str(caught.value)


def test_a_deprecated_metric_names_the_metric_lists_to_update(stack, meta) -> None:
    response = requests.get(
        f"{stack.server.base_url}/{meta.version}/{INSTAGRAM}/insights",
        params={"metric": "impressions", "period": "day", "since": 1, "until": 2},
        headers={"Authorization": f"Bearer {DEMO_META_TOKEN}"},
        timeout=5,
    )
    stack.server.inject(Fault(path=r"/insights", status=400, body=response.json()))
    with pytest.raises(SourceError, match="INSTAGRAM_METRICS"):
        meta.instagram_day(INSTAGRAM, date(2025, 3, 3))


def test_a_wrong_token_is_a_graph_190_error(stack, fast_retry) -> None:
    client = MetaGraphClient("EAAwrong-token-000", base_url=stack.server.base_url, retry=fast_retry)
    with pytest.raises(SourceError, match="Invalid OAuth access token") as caught:
        client.page_token(PAGE)
    assert "EAAwrong-token-000" not in str(caught.value)


def test_a_500_code_1_is_retried(stack, meta, fast_retry) -> None:
    body = {
        "error": {
            "message": "Please reduce the amount of data you're asking for, then retry your request",
            "code": 1,
        }
    }
    fault = Fault(path=r"/insights", status=500, body=body)
    stack.server.inject(fault)
    day = date(2025, 3, 3)
    reach = meta.instagram_day(INSTAGRAM, day)["reach"]
    assert fault.times == 0  # the 500 was answered, then the retry got the day
    assert stack.server.count(rf"/{INSTAGRAM}/insights") == 2
    assert len(fast_retry.waits) == 1
    assert reach == co.social_day(ACCOUNTS["instagram"], day).reach


# --------------------------------------------------------------------------------------------------
# LinkedIn: parsing the api-notes examples
# --------------------------------------------------------------------------------------------------
EXAMPLE_1 = {
    "elements": [
        {
            "totalShareStatistics": {
                "uniqueImpressionsCount": 36430528,
                "shareCount": 0,
                "engagement": 0.029,
                "clickCount": 1999920,
                "likeCount": 0,
                "impressionCount": 67703905,
                "commentCount": 0,
            },
            "organizationalEntity": "urn:li:organization:1337",
        }
    ]
}
EXAMPLE_2 = json.loads(
    """{
  "paging": {"start": 0, "count": 10, "links": []},
  "elements": [
    {"organizationalEntity": "urn:li:organization:2414183",
     "timeRange": {"start": 1725148800000, "end": 1725235200000},
     "totalShareStatistics": {"impressionCount": 500, "uniqueImpressionsCount": 410,
       "clickCount": 12, "likeCount": 30, "commentCount": 4, "shareCount": 2, "engagement": 0.096}},
    {"organizationalEntity": "urn:li:organization:2414183",
     "timeRange": {"start": 1725235200000, "end": 1725321600000},
     "totalShareStatistics": {"impressionCount": 131, "clickCount": 3, "likeCount": 5,
       "commentCount": 0, "shareCount": 0, "engagement": 0.061068702290076333}}
  ]
}"""
)
EXAMPLE_3 = {
    "paging": {"start": 0, "count": 10, "links": []},
    "elements": [
        {
            "organizationalEntity": "urn:li:organization:2414183",
            "timeRange": {"start": 1725148800000, "end": 1725235200000},
            "followerGains": {"organicFollowerGain": 14, "paidFollowerGain": 3},
        },
        {
            "organizationalEntity": "urn:li:organization:2414183",
            "timeRange": {"start": 1725235200000, "end": 1725321600000},
            "followerGains": {"organicFollowerGain": -2, "paidFollowerGain": 0},
        },
    ],
}


def test_daily_share_statistics_parse_with_utc_days_and_missing_reach_as_null() -> None:
    rows = parse_share_statistics(EXAMPLE_2)
    assert [r["date"] for r in rows] == [date(2024, 9, 1), date(2024, 9, 2)]
    assert rows[0]["unique_impressions_count"] == 410
    assert rows[1]["unique_impressions_count"] is None  # missing is not 0


def test_a_statistic_linkedin_adds_is_kept_as_a_column() -> None:
    page = json.loads(json.dumps(EXAMPLE_2))
    page["elements"][0]["totalShareStatistics"]["videoViewCount"] = 42
    rows = parse_share_statistics(page)
    assert rows[0]["video_view_count"] == 42
    assert "video_view_count" not in rows[1]
    assert rows[0]["engagement"] == pytest.approx((12 + 30 + 4 + 2) / 500)  # a 0..1 fraction
    assert rows[1]["impression_count"] == 131


def test_follower_gains_parse_including_a_net_loss() -> None:
    rows = parse_follower_gains(EXAMPLE_3)
    assert [(r["organic_follower_gain"], r["paid_follower_gain"]) for r in rows] == [
        (14, 3),
        (-2, 0),
    ]


def test_a_lifetime_answer_without_time_ranges_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="epoch milliseconds"):
        parse_share_statistics(EXAMPLE_1)


def test_a_count_sent_as_a_string_is_a_schema_error() -> None:
    page = json.loads(json.dumps(EXAMPLE_2))
    page["elements"][0]["totalShareStatistics"]["clickCount"] = "12"
    with pytest.raises(SchemaError, match="clickCount"):
        parse_share_statistics(page)


def test_an_engagement_rate_sent_as_text_is_a_schema_error() -> None:
    page = json.loads(json.dumps(EXAMPLE_2))
    page["elements"][0]["totalShareStatistics"]["engagement"] = "9.6%"
    with pytest.raises(SchemaError, match=r"\[linkedin\].*field=engagement"):
        parse_share_statistics(page)


def test_the_restli_tuple_is_sent_unencoded_and_the_urn_encoded() -> None:
    tuple_ = time_intervals(date(2024, 9, 1), date(2024, 9, 2))
    assert tuple_ == "(timeRange:(start:1725148800000,end:1725321600000),timeGranularityType:DAY)"
    url = (
        "https://api.linkedin.com/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        f"&organizationalEntity=urn%3Ali%3Aorganization%3A2414183&timeIntervals={tuple_}"
    )
    prepared = requests.Request("GET", url).prepare().url
    assert "timeIntervals=(timeRange:(start:1725148800000,end:" in prepared
    assert "urn%3Ali%3Aorganization%3A2414183" in prepared


# --------------------------------------------------------------------------------------------------
# LinkedIn: against the emulator
# --------------------------------------------------------------------------------------------------
def test_share_statistics_match_the_company(linkedin) -> None:
    rows = linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 10))
    account = ACCOUNTS["linkedin"]
    assert len(rows) == 10
    for row in rows:
        day = co.social_day(account, row["date"])
        assert row["impression_count"] == day.impressions
        assert row["unique_impressions_count"] == day.reach
        assert row["click_count"] == day.link_clicks


def test_paging_stops_on_a_short_page(stack, linkedin) -> None:
    linkedin.page_size = 4
    rows = linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 10))
    assert len(rows) == 10
    assert stack.server.count(r"/rest/organizationalEntityShareStatistics") == 3


def test_paging_stops_when_there_is_no_next_link_even_on_a_full_page(stack, linkedin) -> None:
    linkedin.page_size = 4
    rows = linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 8))
    assert len(rows) == 8
    assert stack.server.count(r"/rest/organizationalEntityShareStatistics") == 2


def test_end_of_day_followers_are_rebuilt_from_network_size_and_gains(linkedin) -> None:
    rows = linkedin.follower_statistics(ORG, date(2025, 3, 1), date(2025, 3, 10))
    account = ACCOUNTS["linkedin"]
    assert [row["date"] for row in rows] == [
        date(2025, 3, 1) + timedelta(days=i) for i in range(10)
    ]
    for row in rows:
        day = co.social_day(account, row["date"])
        assert row["followers_end_of_day"] == day.followers
        assert row["organic_follower_gain"] + row["paid_follower_gain"] == day.follower_gain


def test_statistics_older_than_twelve_months_do_not_exist(linkedin) -> None:
    old = TODAY - timedelta(days=400)
    assert linkedin.share_statistics(ORG, old, old + timedelta(days=5)) == []
    assert linkedin.follower_statistics(ORG, old, old + timedelta(days=5)) == []


def test_the_application_day_throttle_fails_fast(stack, linkedin) -> None:
    stack.server.inject(day_limit_fault(times=5))
    with pytest.raises(QuotaExhaustedError, match="APPLICATION DAY") as caught:
        linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 2))
    assert stack.server.count(r"/rest/") == 1
    assert "00:00 UTC" in str(caught.value)


def test_a_minute_throttle_is_retried(stack, linkedin, fast_retry) -> None:
    stack.server.inject(minute_limit_fault())
    assert len(linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 2))) == 2
    assert len(fast_retry.waits) == 1


def test_a_429_with_retry_after_waits_as_long_as_it_says(stack, linkedin, fast_retry) -> None:
    throttle = minute_limit_fault()
    throttle.headers = {"Retry-After": "3"}
    stack.server.inject(throttle)
    assert len(linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 2))) == 2
    assert fast_retry.waits == [3.0]


def test_a_missing_version_header_is_426_with_the_fix(linkedin) -> None:
    linkedin.session.headers.pop("LinkedIn-Version")
    with pytest.raises(SourceError, match="LINKEDIN_API_VERSION") as caught:
        linkedin.share_statistics(ORG, date(2025, 3, 1), date(2025, 3, 2))
    assert caught.value.status == 426


def test_an_organization_the_member_does_not_administer_is_403(linkedin) -> None:
    with pytest.raises(SourceError, match="ADMINISTRATOR") as caught:
        linkedin.share_statistics("999", date(2025, 3, 1), date(2025, 3, 2))
    assert "Not enough permissions" in str(caught.value)


def test_a_revoked_token_is_401_and_never_logged(stack, fast_retry) -> None:
    client = LinkedInClient(
        "AQVrevoked-token-1234", base_url=stack.server.base_url, retry=fast_retry
    )
    with pytest.raises(SourceError, match="LINKEDIN_ACCESS_TOKEN") as caught:
        client.network_size(ORG)
    assert caught.value.status == 401
    assert "AQVrevoked-token-1234" not in str(caught.value)
