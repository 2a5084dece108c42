"""MetaAdsClient against the emulator, and the insights parsers on real-format pages.

Page fixtures are Example 1 (the verbatim Airbyte fixture, trimmed to KPI fields) and Example 2
of shared/api-notes/meta_ads.md; the throttle and expired-token bodies are the Airbyte ones quoted
there.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from sources.emulators.meta_ads import DEMO_ACCESS_TOKEN, throttle_fault
from sources.emulators.server import Fault
from sources.http import QuotaExhaustedError, RetryPolicy, SchemaError, SourceError
from sources.meta_ads import (
    DEFAULT_CONVERSION_ACTION_TYPES,
    MetaAdsClient,
    count_conversions,
    normalize_account_id,
    parse_insights_page,
    throttle_wait,
)

US, NO = "798085168510957", "801234567890123"
START, END = date(2025, 3, 1), date(2025, 3, 7)
INSIGHTS = r"/act_\d+/insights$"
PURCHASE = list(DEFAULT_CONVERSION_ACTION_TYPES)

EXAMPLE_1 = {
    "data": [
        {
            "account_currency": "USD",
            "account_id": "798085168510957",
            "actions": [
                {
                    "action_type": "page_engagement",
                    "value": "10",
                    "1d_click": "10",
                    "7d_click": "10",
                    "28d_click": "10",
                },
                {
                    "action_type": "post_engagement",
                    "value": "10",
                    "1d_click": "10",
                    "7d_click": "10",
                    "28d_click": "10",
                },
            ],
            "ad_id": "23854695759200548",
            "adset_id": "23854404706320548",
            "campaign_id": "23854404676180548",
            "campaign_name": "zzzzzNew - AIA - Advertised Offers",
            "clicks": "9",
            "cpc": "1.594444",
            "cpm": "77.567568",
            "ctr": "4.864865",
            "date_start": "2023-06-01",
            "date_stop": "2023-06-01",
            "impressions": "185",
            "inline_link_clicks": "9",
            "spend": "14.35",
            "product_id": "5983858725075630",
        }
    ],
    "paging": {"cursors": {"before": "MAZDZD", "after": "NzIZD"}},
}
EXAMPLE_2 = {
    "data": [
        {
            "account_id": "798085168510957",
            "account_currency": "USD",
            "campaign_id": "23854404676180548",
            "campaign_name": "Prospecting - Broad - US",
            "impressions": "48211",
            "reach": "30977",
            "clicks": "1220",
            "spend": "612.48",
            "actions": [
                {"action_type": "link_click", "value": "903", "7d_click": "903"},
                {"action_type": "landing_page_view", "value": "655", "7d_click": "655"},
                {
                    "action_type": "offsite_conversion.fb_pixel_purchase",
                    "value": "14",
                    "7d_click": "12",
                    "1d_view": "2",
                },
                {"action_type": "omni_purchase", "value": "14", "7d_click": "12", "1d_view": "2"},
            ],
            "action_values": [
                {
                    "action_type": "offsite_conversion.fb_pixel_purchase",
                    "value": "1874.5",
                    "7d_click": "1602.5",
                    "1d_view": "272",
                },
                {
                    "action_type": "omni_purchase",
                    "value": "1874.5",
                    "7d_click": "1602.5",
                    "1d_view": "272",
                },
            ],
            "date_start": "2024-09-01",
            "date_stop": "2024-09-01",
        },
        {
            "account_id": "798085168510957",
            "account_currency": "USD",
            "campaign_id": "23854404676180999",
            "campaign_name": "Retargeting - 30d",
            "impressions": "3020",
            "reach": "1411",
            "clicks": "41",
            "spend": "38.07",
            "date_start": "2024-09-01",
            "date_stop": "2024-09-01",
        },
    ],
    "paging": {
        "cursors": {"before": "MAZDZD", "after": "MQZDZD"},
        "next": "https://graph.facebook.com/v27.0/act_798085168510957/insights?access_token=...&level=campaign&time_increment=1&limit=2&after=MQZDZD",
    },
}


# --------------------------------------------------------------------------------------------------
# Parsing real-format pages
# --------------------------------------------------------------------------------------------------
def test_every_number_is_parsed_from_its_string_and_a_page_without_next_is_the_last() -> None:
    (row,), next_url = parse_insights_page(EXAMPLE_1, PURCHASE)
    assert next_url is None  # cursors present, next absent: the last page
    assert row["impressions"] == 185 and row["clicks"] == 9 and row["inline_link_clicks"] == 9
    assert row["spend"] == Decimal("14.35")  # major units, not cents or micros
    assert row["date"] == date(2023, 6, 1)
    assert row["conversions"] == 0 and row["conversion_value"] == 0  # engagement is no conversion


def test_aliases_of_one_purchase_count_once_and_rows_without_actions_are_zero() -> None:
    (first, second), next_url = parse_insights_page(EXAMPLE_2, PURCHASE)
    assert next_url == EXAMPLE_2["paging"]["next"]
    assert first["conversions"] == 14  # omni_purchase and the pixel event are the same 14
    assert first["conversion_value"] == Decimal("1874.5")
    assert first["conversion_action_types"] == "omni_purchase"
    assert first["account_currency"] == "USD"
    assert second["conversions"] == 0 and second["conversion_value"] == 0
    assert second["conversion_action_types"] is None
    assert second["inline_link_clicks"] == 0  # absent field: zero


def test_dedup_prefers_omni_then_the_bare_event_then_the_pixel_and_adds_other_events() -> None:
    actions = [
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "12"},
        {"action_type": "purchase", "value": "15"},
        {"action_type": "omni_purchase", "value": "15"},
        {"action_type": "lead", "value": "4"},
        {"action_type": "offsite_conversion.fb_pixel_lead", "value": "4"},
        {"action_type": "link_click", "value": "900"},
    ]
    types = [*PURCHASE, "lead", "offsite_conversion.fb_pixel_lead"]
    assert count_conversions(actions, types) == (Decimal(19), ["lead", "omni_purchase"])
    assert count_conversions(actions[:2], types) == (Decimal(15), ["purchase"])
    assert count_conversions(actions[:1], types) == (
        Decimal(12),
        ["offsite_conversion.fb_pixel_purchase"],
    )
    # Only configured types count, matched exactly.
    assert count_conversions(actions, ["offsite_conversion.fb_pixel_purchase"])[0] == 12
    assert count_conversions(actions, ["add_to_cart"]) == (Decimal(0), [])
    assert count_conversions(None, PURCHASE) == (Decimal(0), [])


def test_a_row_spanning_several_days_or_a_non_number_is_rejected() -> None:
    page = copy.deepcopy(EXAMPLE_2)
    page["data"][1]["date_stop"] = "2024-09-02"
    with pytest.raises(SchemaError, match="time_increment=1"):
        parse_insights_page(page, PURCHASE)
    page = copy.deepcopy(EXAMPLE_2)
    page["data"][1]["spend"] = "38,07"
    with pytest.raises(SchemaError, match="spend"):
        parse_insights_page(page, PURCHASE)


def test_usage_headers_give_the_wait_in_seconds() -> None:
    buc = {
        "123": [{"type": "ads_insights", "call_count": 95, "estimated_time_to_regain_access": 3}]
    }
    assert throttle_wait({"X-Business-Use-Case-Usage": json.dumps(buc)}) == 180
    assert (
        throttle_wait(
            {"X-Ad-Account-Usage": '{"acc_id_util_pct": 100, "reset_time_duration": 100}'}
        )
        == 100
    )
    assert throttle_wait({"X-App-Usage": '{"call_count": 28, "total_time": 25}'}) is None
    assert throttle_wait({"X-Business-Use-Case-Usage": "not json"}) is None


def test_account_ids_accept_the_act_prefix() -> None:
    assert normalize_account_id("act_798085168510957") == US
    with pytest.raises(SourceError, match="META_AD_ACCOUNT_IDS"):
        normalize_account_id("acct-1")


# --------------------------------------------------------------------------------------------------
# The client against the emulator
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def waits() -> list[float]:
    return []


def make_client(stack, waits: list[float], **overrides: object) -> MetaAdsClient:
    settings = {
        "base_url": stack.server.base_url,
        "page_limit": 4,
        "poll_interval": 2.0,
        "retry": RetryPolicy(
            max_attempts=4, max_delay=900, max_total_wait=1200, sleep=waits.append
        ),
        **overrides,
    }
    token = settings.pop("access_token", DEMO_ACCESS_TOKEN)
    return MetaAdsClient(str(token), **settings)  # type: ignore[arg-type]


def expected(
    stack, account: str, start: date = START, end: date = END
) -> dict[tuple[str, date], tuple]:
    rows = {}
    day = start
    while day <= end:
        for campaign in stack.ads.campaigns_of(account):
            ad = stack.ads.campaign_day(campaign, day)
            if not ad.is_empty:
                rows[(campaign.campaign_id, day)] = (
                    ad.clicks,
                    ad.spend,
                    float(ad.conversions),
                    ad.conversion_value,
                )
        day += timedelta(days=1)
    return rows


def as_map(rows: list[dict]) -> dict[tuple[str, date], tuple]:
    return {
        (r["campaign_id"], r["date"]): (
            r["inline_link_clicks"],
            r["spend"],
            r["conversions"],
            r["conversion_value"],
        )
        for r in rows
    }


def test_pages_are_followed_through_paging_next_until_it_is_absent(stack, waits) -> None:
    rows = make_client(stack, waits).insights(US, START, END)  # 14 rows, a short first page
    assert as_map(rows) == expected(stack, US)
    assert len(rows) == 14
    assert stack.server.count(INSIGHTS) == 4  # 3 + 4 + 4 + 3 rows: a short page is not the end


def test_purchases_reported_under_three_aliases_are_counted_once(stack, waits) -> None:
    rows = make_client(stack, waits).insights(US, START, END)
    assert all(r["conversion_action_types"] in ("omni_purchase", None) for r in rows)
    assert sum(r["conversions"] for r in rows) == sum(v[2] for v in expected(stack, US).values())


def test_the_account_node_gives_currency_and_time_zone(stack, waits) -> None:
    assert make_client(stack, waits).account(f"act_{NO}") == {
        "account_id": NO,
        "name": "Acme Norge",
        "currency": "NOK",
        "timezone_name": "Europe/Oslo",
    }


@pytest.mark.parametrize("code", [4, 17, 613, 80000, 80004])
def test_throttling_as_http_400_backs_off_on_the_usage_header_then_succeeds(
    stack, waits, code
) -> None:
    stack.server.inject(throttle_fault(regain_minutes=2, code=code, account_id=US))
    client = make_client(stack, waits)
    rows = client.insights(US, START, START)
    assert as_map(rows) == expected(stack, US, START, START)
    assert waits == [120.0]  # estimated_time_to_regain_access is in minutes
    assert client.throttled == 1


def test_throttling_without_a_usage_hint_backs_off_exponentially(stack, waits) -> None:
    fault = throttle_fault(code=80000, times=2)
    fault.headers = {}
    stack.server.inject(fault)
    make_client(stack, waits).insights(US, START, START)
    assert len(waits) == 2 and all(0 < w <= 60 for w in waits)


def test_a_throttle_longer_than_the_retry_budget_fails_fast_naming_it(stack, waits) -> None:
    stack.server.inject(throttle_fault(regain_minutes=60, account_id=US))
    with pytest.raises(QuotaExhaustedError) as caught:
        make_client(stack, waits).insights(US, START, START)
    assert "about 60 min" in str(caught.value) and "too many calls" in str(caught.value)
    assert waits == []


def test_an_expired_token_is_not_retried_and_never_printed(stack, waits) -> None:
    token = "EAAGexpiredTokenValue0123456789"
    with pytest.raises(SourceError) as caught:
        make_client(stack, waits, access_token=token).insights(US, START, START)
    assert caught.value.status == 400
    assert "Invalid OAuth access token" in str(caught.value)
    assert token not in str(caught.value)
    assert stack.server.count(INSIGHTS) == 1 and waits == []


def test_a_long_range_uses_the_async_report_job(stack, waits) -> None:
    client = make_client(stack, waits, async_threshold_days=5, page_limit=25)
    rows = client.insights(US, START, END)  # 7 days > 5
    assert as_map(rows) == expected(stack, US)
    assert stack.meta_ads.sync_requests == 0
    assert stack.server.count(r"/\d+/insights$") == 1  # the report run's results
    assert waits == [2.0]  # one poll while "Job Running"


def test_a_failed_async_job_fails_the_pull_naming_the_run(stack, waits) -> None:
    stack.server.inject(
        Fault(
            path=r"/v27\.0/\d+$",
            status=200,
            body={"id": "1", "async_status": "Job Failed", "async_percent_completion": 10},
        )
    )
    with pytest.raises(SourceError, match="ended as 'Job Failed'"):
        make_client(stack, waits, async_threshold_days=1).insights(US, START, END)


def test_a_repeated_cursor_is_an_error_not_an_endless_loop(stack, waits) -> None:
    def loop(body: dict) -> dict:  # every page points at the same next page
        paging = body.get("paging") or {}
        if "next" in paging:
            paging["next"] = re.sub(r"after=[^&]+", "after=b2Zmc2V0OjI", paging["next"])
        return body

    stack.server.inject(Fault(path=INSIGHTS, kind="transform", transform=loop, times=3))
    with pytest.raises(SchemaError, match="cursor repeated"):
        make_client(stack, waits).insights(US, START, END)
