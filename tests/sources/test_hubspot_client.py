"""HubSpotClient against the emulator, and parsing real-format pages (api-notes/hubspot.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from sources.emulators.hubspot import DEMO_ACCESS_TOKEN
from sources.emulators.server import Fault
from sources.http import QuotaExhaustedError, RetryPolicy, SourceError
from sources.hubspot import (
    SEARCH_RESULT_CAP,
    HubSpotClient,
    Stage,
    parse_contact,
    parse_deal,
    parse_pipelines,
)
from sources.ratelimit import RateLimiter

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2025, 3, 20, tzinfo=UTC)
LOW = int(datetime(2025, 3, 3, tzinfo=UTC).timestamp() * 1000)
HIGH = int(datetime(2025, 3, 5, tzinfo=UTC).timestamp() * 1000)
SEARCH = r"/crm/v3/objects/.*/search"

# Example 1 (dlt verified-sources fixture, verbatim) and Example 2 (assembled search page).
EXAMPLE_1 = {
    "results": [
        {
            "id": "6744192456",
            "properties": {
                "amount": "500",
                "closedate": None,
                "createdate": "2023-02-24T03:01:01.147Z",
                "dealname": "With Atul",
                "dealstage": "qualifiedtobuy",
                "hs_lastmodifieddate": "2023-02-24T03:01:01.711Z",
                "hs_object_id": "6744192456",
                "pipeline": "default",
            },
            "createdAt": "2023-02-24T03:01:01.147Z",
            "updatedAt": "2023-02-24T03:01:01.711Z",
            "archived": False,
        }
    ]
}
EXAMPLE_2 = {
    "total": 431,
    "results": [
        {
            "id": "18203911547",
            "properties": {
                "amount": "12500.50",
                "closedate": "2024-09-01T22:41:07.000Z",
                "createdate": "2024-07-15T09:12:44.318Z",
                "deal_currency_code": "EUR",
                "dealstage": "closedwon",
                "hs_lastmodifieddate": "2024-09-01T22:41:09.902Z",
                "hs_object_id": "18203911547",
                "pipeline": "default",
            },
            "createdAt": "2024-07-15T09:12:44.318Z",
            "updatedAt": "2024-09-01T22:41:09.902Z",
            "archived": False,
        },
        {
            "id": "18211640022",
            "properties": {
                "amount": "",
                "closedate": None,
                "createdate": "2024-09-01T13:05:00.071Z",
                "deal_currency_code": None,
                "dealstage": "1093114602",
                "hs_lastmodifieddate": "2024-09-01T13:05:02.556Z",
                "hs_object_id": "18211640022",
                "pipeline": "733941828",
            },
            "createdAt": "2024-09-01T13:05:00.071Z",
            "updatedAt": "2024-09-01T13:05:02.556Z",
            "archived": False,
        },
    ],
    "paging": {"next": {"after": "2"}},
}
STAGES = {
    "closedwon": Stage("default", "Closed won", True, True),
    "qualifiedtobuy": Stage("default", "Qualified", False, False),
    "1093114602": Stage("733941828", "Won (partner)", True, True),
}


@pytest.fixture
def retry_waits() -> tuple[RetryPolicy, list[float]]:
    waits: list[float] = []
    return RetryPolicy(max_attempts=4, max_delay=60, sleep=waits.append), waits


@pytest.fixture
def client(stack, retry_waits) -> HubSpotClient:
    stack.hubspot.now = lambda: NOW
    return HubSpotClient(
        DEMO_ACCESS_TOKEN,
        base_url=stack.server.base_url,
        retry=retry_waits[0],
        search_limiter=RateLimiter(1000, 1.0),
    )


def test_properties_are_strings_parsed_by_type_and_empty_string_is_null() -> None:
    (open_deal,) = [parse_deal(r, UTC_ZONE, STAGES, "USD") for r in EXAMPLE_1["results"]]
    assert open_deal["amount"] == Decimal("500")
    assert open_deal["closed_at"] is None and open_deal["is_won"] is False
    assert open_deal["deal_currency_code"] == "USD" and open_deal["currency_is_portal_default"]
    won, custom = [parse_deal(r, UTC_ZONE, STAGES, "USD") for r in EXAMPLE_2["results"]]
    assert won["amount"] == Decimal("12500.50") and won["deal_currency_code"] == "EUR"
    assert won["closed_at"] == datetime(2024, 9, 1, 22, 41, 7)
    assert won["is_won"] is True
    assert custom["amount"] is None  # "" is no value, not 0
    assert custom["is_won"] is True  # custom pipeline stage ids map through the pipelines API


def test_close_day_is_the_day_in_kpi_timezone() -> None:
    won = parse_deal(EXAMPLE_2["results"][0], ZoneInfo("Europe/Oslo"), STAGES, "USD")
    assert won["close_day"] == date(2024, 9, 2)  # 22:41 UTC is past midnight in Oslo


def test_a_contact_parses_created_time_stage_and_source() -> None:
    contact = parse_contact(
        {
            "id": "51",
            "properties": {
                "createdate": "2025-03-03T09:00:00.000Z",
                "lastmodifieddate": "2025-03-04T10:00:00.000Z",
                "lifecyclestage": "",
                "hs_analytics_source": "ORGANIC_SEARCH",
            },
        },
        UTC_ZONE,
    )
    assert contact["created_day"] == date(2025, 3, 3)
    assert contact["lifecycle_stage"] is None
    assert contact["analytics_source"] == "ORGANIC_SEARCH"


def test_pipelines_say_which_stages_are_won(client) -> None:
    stages = client.deal_stages()
    assert stages["closedwon"].is_won and not stages["closedlost"].is_won
    assert stages["closedlost"].is_closed and not stages["qualifiedtobuy"].is_closed
    assert stages["1093114602"].is_won
    assert parse_pipelines({"results": []}) == {}


def test_search_pages_with_after_until_paging_is_absent(client, stack) -> None:
    client.page_limit = 20
    contacts = client.contacts_modified(LOW, HIGH, UTC_ZONE)
    total = len(contacts)
    assert total > 40
    assert len({c["id"] for c in contacts}) == total
    assert stack.hubspot.search_requests == -(-total // 20)
    for c in contacts:
        assert LOW <= c["last_modified_at"].replace(tzinfo=UTC).timestamp() * 1000 < HIGH


def test_a_window_over_the_result_cap_is_split_until_each_part_fits(client, stack) -> None:
    stack.hubspot.search_cap = 60
    client.result_cap = 60
    client.page_limit = 50
    whole = client.contacts_modified(LOW, HIGH, UTC_ZONE)
    assert len(whole) > 60
    assert client.splits >= 1
    stack.hubspot.search_cap = 10_000
    reference = HubSpotClient(
        DEMO_ACCESS_TOKEN, base_url=stack.server.base_url, search_limiter=RateLimiter(1000, 1.0)
    ).contacts_modified(LOW, HIGH, UTC_ZONE)
    assert sorted(c["id"] for c in whole) == sorted(c["id"] for c in reference)


def test_the_emulator_refuses_to_page_past_ten_thousand_results(stack) -> None:
    assert SEARCH_RESULT_CAP == 10_000
    response = requests.post(
        f"{stack.server.base_url}/crm/v3/objects/contacts/search",
        headers={"Authorization": f"Bearer {DEMO_ACCESS_TOKEN}"},
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(LOW)}
                    ]
                }
            ],
            "limit": 200,
            "after": "10000",
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(("policy", "wait"), [("SECONDLY", 1.0), ("TEN_SECONDLY_ROLLING", 10.0)])
def test_burst_limits_back_off_by_policy_name_and_retry(
    client, stack, retry_waits, policy, wait
) -> None:
    stack.server.inject(
        Fault(
            path=SEARCH,
            status=429,
            body={
                "status": "error",
                "message": f"You have reached your {policy.lower()} limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
                "policyName": policy,
                "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd",
            },
        )
    )
    assert client.contacts_modified(LOW, HIGH, UTC_ZONE)
    assert retry_waits[1] == [wait]


def test_the_daily_limit_fails_fast_as_quota_exhausted(client, stack) -> None:
    stack.hubspot.daily_limit = 0
    with pytest.raises(QuotaExhaustedError, match="daily limit"):
        client.contacts_modified(LOW, HIGH, UTC_ZONE)
    assert client.requests_made == 1


def test_a_bad_token_fails_naming_hubspots_message_without_the_token(stack) -> None:
    token = "pat-na1-not-a-real-token-123456"
    bad = HubSpotClient(token, base_url=stack.server.base_url, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(SourceError) as caught:
        bad.account_details()
    assert caught.value.status == 401
    assert "Authentication credentials not found" in str(caught.value)
    assert token not in str(caught.value)


def test_the_search_limiter_spaces_requests_to_four_per_second(stack) -> None:
    clock = {"now": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    stack.hubspot.now = lambda: NOW
    client = HubSpotClient(
        DEMO_ACCESS_TOKEN,
        base_url=stack.server.base_url,
        search_limiter=RateLimiter(4, 1.0, clock=lambda: clock["now"], sleep=sleep),
        page_limit=10,
    )
    client.contacts_modified(LOW, HIGH, UTC_ZONE)
    requests_made = stack.hubspot.search_requests
    assert requests_made > 8
    assert clock["now"] >= (requests_made - 1) // 4  # never more than 4 in any second
