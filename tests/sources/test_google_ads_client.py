"""GoogleAdsClient against the emulator, and the searchStream parsers on real-format bodies.

The body fixtures are the example response and the real 429 body (PipedreamHQ/pipedream#21554)
from shared/api-notes/google_ads.md.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from sources.emulators import google_ads as emulator
from sources.emulators.google_auth import TOKEN_PATH
from sources.emulators.server import Fault
from sources.google_ads import (
    GoogleAdsClient,
    normalize_customer_id,
    parse_campaign_batches,
    parse_quota_error,
    parse_stream_body,
)
from sources.http import QuotaExhaustedError, RetryPolicy, SchemaError, SourceError

US, DE = "4815162342", "7020304050"
START, END = date(2025, 3, 1), date(2025, 3, 7)  # Saturday .. Friday
STREAM = r"googleAds:searchStream$"

EXAMPLE = [
    {
        "results": [
            {
                "customer": {
                    "resourceName": "customers/2121450128",
                    "id": "2121450128",
                    "currencyCode": "USD",
                    "timeZone": "America/Los_Angeles",
                },
                "campaign": {
                    "resourceName": "customers/2121450128/campaigns/9935249409",
                    "id": "9935249409",
                    "name": "Search - Brand - US",
                    "status": "ENABLED",
                },
                "metrics": {
                    "impressions": "336",
                    "clicks": "84",
                    "costMicros": "60720000",
                    "conversions": 4.5,
                    "conversionsValue": 612.25,
                },
                "segments": {"date": "2024-09-01"},
            },
            {
                "customer": {
                    "resourceName": "customers/2121450128",
                    "id": "2121450128",
                    "currencyCode": "USD",
                    "timeZone": "America/Los_Angeles",
                },
                "campaign": {
                    "resourceName": "customers/2121450128/campaigns/9935260113",
                    "id": "9935260113",
                    "name": "PMax - Catalog",
                    "status": "ENABLED",
                },
                "metrics": {
                    "impressions": "12873",
                    "clicks": "0",
                    "costMicros": "1250000",
                    "conversions": 0.0,
                    "conversionsValue": 0.0,
                },
                "segments": {"date": "2024-09-01"},
            },
        ],
        "fieldMask": "customer.id,customer.currencyCode,customer.timeZone,campaign.id,"
        "campaign.name,campaign.status,segments.date,metrics.impressions,metrics.clicks,"
        "metrics.costMicros,metrics.conversions,metrics.conversionsValue",
        "requestId": "xN_KaZRHZuU6Rlgt3cM2uQ",
        "queryResourceConsumption": "412",
    }
]
REAL_429 = {
    "error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                "errors": [
                    {
                        "errorCode": {"quotaError": "RESOURCE_EXHAUSTED"},
                        "message": "Too many requests. Retry in 40591 seconds.",
                        "details": {
                            "quotaErrorDetails": {
                                "rateScope": "DEVELOPER",
                                "rateName": "Number of operations for basic access",
                                "retryDelay": "40591s",
                            }
                        },
                    }
                ],
                "requestId": "xN_KaZRHZuU6Rlgt3cM2uQ",
            }
        ],
    }
}


# --------------------------------------------------------------------------------------------------
# Parsing real-format bodies
# --------------------------------------------------------------------------------------------------
def test_cost_micros_become_exact_decimal_major_units_and_int64_strings_become_ints() -> None:
    first, second = parse_campaign_batches(parse_stream_body(json.dumps(EXAMPLE)))
    assert first["cost"] == Decimal("60.72")
    assert first["cost_micros"] == 60_720_000
    assert first["impressions"] == 336 and first["clicks"] == 84
    assert first["conversions"] == 4.5  # a double: fractional under data-driven attribution
    assert first["conversions_value"] == Decimal("612.25")  # not micros
    assert first["campaign_id"] == "9935249409"
    assert first["currency_code"] == "USD" and first["time_zone"] == "America/Los_Angeles"
    assert first["date"] == date(2024, 9, 1)
    assert float(first["cost"] / first["clicks"]) == pytest.approx(
        0.7228571
    )  # the notes' CPC check
    assert second["cost"] == Decimal("1.25") and second["clicks"] == 0


def test_a_stream_cut_off_before_the_array_closes_fails_the_pull() -> None:
    text = json.dumps(EXAMPLE)
    with pytest.raises(SchemaError, match="stream cut off"):
        parse_stream_body(text[: len(text) // 2])


def test_an_array_element_carrying_error_fails_the_pull() -> None:
    body = [
        *copy.deepcopy(EXAMPLE),
        {"error": {"code": 500, "status": "INTERNAL", "message": "boom"}},
    ]
    with pytest.raises(SourceError, match=r"failed at batch 1 \(INTERNAL\).*boom"):
        parse_stream_body(json.dumps(body))


def test_an_object_instead_of_the_batch_array_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="JSON array of batches"):
        parse_stream_body(json.dumps(EXAMPLE[0]))


def test_a_lone_summary_row_batch_and_an_empty_answer_give_no_rows() -> None:
    body = [*EXAMPLE, {"summaryRow": {"metrics": {"clicks": "84"}}, "requestId": "x"}]
    assert len(parse_campaign_batches(parse_stream_body(json.dumps(body)))) == 2
    assert parse_campaign_batches(parse_stream_body('[{"fieldMask": "campaign.id"}]')) == []


@pytest.mark.parametrize(
    ("metric", "value"),
    [("impressions", 3.5), ("clicks", "12x"), ("conversions", "4.5"), ("conversionsValue", "NaN")],
)
def test_a_metric_of_the_wrong_json_type_is_rejected_naming_it(metric: str, value: object) -> None:
    body = copy.deepcopy(EXAMPLE)
    body[0]["results"][0]["metrics"][metric] = value
    with pytest.raises(SchemaError, match=f"metrics.{metric}"):
        parse_campaign_batches(parse_stream_body(json.dumps(body)))


def test_the_real_429_body_gives_the_daily_quota_and_its_retry_delay() -> None:
    info = parse_quota_error(REAL_429)
    assert info.quota_error == "RESOURCE_EXHAUSTED"
    assert info.retry_delay == 40591.0
    assert info.rate_name == "Number of operations for basic access"


def test_customer_ids_accept_dashes_and_reject_other_shapes() -> None:
    assert normalize_customer_id("481-516-2342") == "4815162342"
    assert normalize_customer_id("customers/4815162342") == "4815162342"
    with pytest.raises(SourceError, match=r"GOOGLE_ADS_CUSTOMER_IDS.*'48151623'"):
        normalize_customer_id("48151623")


# --------------------------------------------------------------------------------------------------
# The client against the emulator
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def waits() -> list[float]:
    return []


def make_client(stack, waits: list[float], **overrides: object) -> GoogleAdsClient:
    base = stack.server.base_url
    settings = {
        "developer_token": emulator.DEMO_DEVELOPER_TOKEN,
        "client_id": emulator.DEMO_CLIENT_ID,
        "client_secret": emulator.DEMO_CLIENT_SECRET,
        "refresh_token": emulator.DEMO_REFRESH_TOKEN,
        "login_customer_id": "111-222-3333",
        "base_url": base,
        "token_url": base + TOKEN_PATH,
        "retry": RetryPolicy(max_attempts=4, max_delay=120, max_total_wait=300, sleep=waits.append),
        **overrides,
    }
    return GoogleAdsClient(**settings)  # type: ignore[arg-type]


def expected_rows(stack, customer: str) -> dict[tuple[str, date], tuple[int, int, Decimal]]:
    rows = {}
    day = START
    while day <= END:
        for campaign in stack.ads.campaigns_of(customer):
            ad = stack.ads.campaign_day(campaign, day)
            if not ad.is_empty:
                rows[(campaign.campaign_id, day)] = (ad.impressions, ad.clicks, ad.spend)
        day += timedelta(days=1)
    return rows


def test_every_batch_of_the_stream_is_read_and_matches_the_company(stack, waits) -> None:
    stack.google_ads.batch_size = 4  # 21 rows -> 6 batches in one response
    rows = make_client(stack, waits).campaign_days(US, START, END)
    assert stack.server.count(STREAM) == 1
    assert {
        (r["campaign_id"], r["date"]): (r["impressions"], r["clicks"], r["cost"]) for r in rows
    } == expected_rows(stack, US)
    assert {r["currency_code"] for r in rows} == {"USD"}


def test_campaign_days_without_delivery_are_not_returned(stack, waits) -> None:
    rows = make_client(stack, waits).campaign_days(DE, START, END)
    assert {r["date"] for r in rows} == {START + timedelta(days=i) for i in range(2, 7)}  # Mon-Fri


def test_the_customer_query_gives_currency_and_time_zone(stack, waits) -> None:
    info = make_client(stack, waits).customer("702-030-4050")
    assert info == {
        "customer_id": DE,
        "descriptive_name": "Acme DE",
        "currency_code": "EUR",
        "time_zone": "Europe/Berlin",
    }


def test_a_truncated_stream_fails_and_returns_nothing(stack, waits) -> None:
    stack.server.inject(Fault(path=STREAM, kind="truncate"))
    with pytest.raises(SchemaError, match="stream cut off"):
        make_client(stack, waits).campaign_days(US, START, END)


def test_an_error_element_in_the_stream_fails_the_pull(stack, waits) -> None:
    error = {
        "error": {"code": 503, "status": "UNAVAILABLE", "message": "The service is unavailable."}
    }
    stack.server.inject(Fault(path=STREAM, kind="transform", transform=lambda body: [*body, error]))
    with pytest.raises(SourceError, match="UNAVAILABLE"):
        make_client(stack, waits).campaign_days(US, START, END)


def test_a_short_term_429_waits_the_retry_delay_from_the_body_then_succeeds(stack, waits) -> None:
    stack.server.inject(Fault(path=STREAM, status=429, body=emulator.quota_error(7, daily=False)))
    rows = make_client(stack, waits).campaign_days(US, START, END)
    assert len(rows) == len(expected_rows(stack, US))
    assert waits == [7.0]  # the body's retryDelay, not a guess
    assert stack.server.count(STREAM) == 2


def test_daily_quota_exhaustion_fails_fast_with_a_clear_message(stack, waits) -> None:
    stack.google_ads.operations_per_day = 1
    client = make_client(stack, waits)
    client.customer(US)
    with pytest.raises(QuotaExhaustedError) as caught:
        client.campaign_days(US, START, END)
    message = str(caught.value)
    assert "daily operations quota is exhausted" in message
    assert "Number of operations for basic access" in message
    assert "Google says retry in" in message
    assert waits == []  # no waiting, no hammering
    assert stack.server.count(STREAM) == 2


def test_the_access_token_comes_from_the_refresh_token_and_is_reused(stack, waits) -> None:
    client = make_client(stack, waits)
    client.campaign_days(US, START, END)
    client.campaign_days(DE, START, END)
    assert client.auth.tokens_fetched == 1
    stack.auth.revoke_access_tokens()  # an access token that stopped working: refresh once
    client.campaign_days(US, START, START)
    assert client.auth.tokens_fetched == 2


def test_a_revoked_refresh_token_fails_naming_the_setting_without_leaking_it(stack, waits) -> None:
    secret = "1//0revoked-refresh-token-value"
    with pytest.raises(SourceError) as caught:
        make_client(stack, waits, refresh_token=secret).campaign_days(US, START, END)
    assert "invalid_grant" in str(caught.value)
    assert "GOOGLE_ADS_REFRESH_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)


def test_a_client_account_without_the_manager_login_header_is_refused_with_the_fix(
    stack, waits
) -> None:
    with pytest.raises(SourceError) as caught:
        make_client(stack, waits, login_customer_id=None).campaign_days(US, START, END)
    assert caught.value.status == 403
    assert "USER_PERMISSION_DENIED" in str(caught.value)
    assert "GOOGLE_ADS_LOGIN_CUSTOMER_ID" in str(caught.value)


def test_a_wrong_developer_token_is_refused_and_never_printed(stack, waits) -> None:
    token = "wrongDeveloperToken000"
    with pytest.raises(SourceError) as caught:
        make_client(stack, waits, developer_token=token).campaign_days(US, START, END)
    assert "DEVELOPER_TOKEN_INVALID" in str(caught.value)
    assert token not in str(caught.value)


def test_the_api_version_is_pinned_and_configurable(stack, waits) -> None:
    make_client(stack, waits, api_version="v25").campaign_days(US, START, START)
    assert stack.server.count(r"^/v25/customers/4815162342/googleAds:searchStream$") == 1
    with pytest.raises(SourceError, match="GOOGLE_ADS_API_VERSION"):
        make_client(stack, waits, api_version="v9").campaign_days(US, START, START)
