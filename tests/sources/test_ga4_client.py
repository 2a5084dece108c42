"""GA4Client against the emulator stack, and parse_report_page on real-format GA4 pages.

The page fixtures are Example 1 (verbatim Airbyte fixture), Example 2 and the empty variant from
shared/api-notes/ga4.md.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from datetime import date
from decimal import Decimal

import google.auth.transport.requests
import pytest
from google.auth import exceptions as auth_exc
from google.oauth2 import service_account

from sources.emulators.google_auth import write_demo_service_account
from sources.emulators.server import Fault
from sources.ga4 import (
    SCOPES,
    GA4Client,
    iso_weeks,
    months,
    parse_report_page,
)
from sources.http import QuotaExhaustedError, SchemaError, SourceError

PROPERTY = "250000001"
OTHER_PROPERTY = "250000002"
START, END = date(2025, 3, 1), date(2025, 3, 7)
RUN_REPORT = r":runReport"

# --------------------------------------------------------------------------------------------------
# Real-format pages (shared/api-notes/ga4.md)
# --------------------------------------------------------------------------------------------------
EXAMPLE_1 = {
    "dimensionHeaders": [
        {"name": "date"},
        {"name": "deviceCategory"},
        {"name": "operatingSystem"},
        {"name": "browser"},
    ],
    "metricHeaders": [
        {"name": "totalUsers", "type": "TYPE_INTEGER"},
        {"name": "newUsers", "type": "TYPE_INTEGER"},
        {"name": "sessions", "type": "TYPE_INTEGER"},
        {"name": "sessionsPerUser", "type": "TYPE_FLOAT"},
        {"name": "averageSessionDuration", "type": "TYPE_SECONDS"},
        {"name": "screenPageViews", "type": "TYPE_INTEGER"},
        {"name": "screenPageViewsPerSession", "type": "TYPE_FLOAT"},
        {"name": "bounceRate", "type": "TYPE_FLOAT"},
    ],
    "rows": [
        {
            "dimensionValues": [
                {"value": "20220731"},
                {"value": "desktop"},
                {"value": "Macintosh"},
                {"value": "Chrome"},
            ],
            "metricValues": [
                {"value": "344"},
                {"value": "169"},
                {"value": "420"},
                {"value": "1.2209302325581395"},
                {"value": "194.76313766428572"},
                {"value": "614"},
                {"value": "1.4619047619047618"},
                {"value": "0.47857142857142859"},
            ],
        },
        {
            "dimensionValues": [
                {"value": "20220731"},
                {"value": "desktop"},
                {"value": "Windows"},
                {"value": "Chrome"},
            ],
            "metricValues": [
                {"value": "322"},
                {"value": "211"},
                {"value": "387"},
                {"value": "1.2018633540372672"},
                {"value": "249.21595714211884"},
                {"value": "669"},
                {"value": "1.7286821705426356"},
                {"value": "0.42377260981912146"},
            ],
        },
    ],
    "rowCount": 54,
    "metadata": {"currencyCode": "USD", "timeZone": "America/Los_Angeles"},
    "kind": "analyticsData#runReport",
}

EXAMPLE_2 = {
    "dimensionHeaders": [
        {"name": "date"},
        {"name": "sessionDefaultChannelGroup"},
        {"name": "landingPage"},
    ],
    "metricHeaders": [
        {"name": "sessions", "type": "TYPE_INTEGER"},
        {"name": "totalUsers", "type": "TYPE_INTEGER"},
        {"name": "newUsers", "type": "TYPE_INTEGER"},
        {"name": "engagedSessions", "type": "TYPE_INTEGER"},
        {"name": "bounceRate", "type": "TYPE_FLOAT"},
        {"name": "screenPageViews", "type": "TYPE_INTEGER"},
        {"name": "averageSessionDuration", "type": "TYPE_SECONDS"},
        {"name": "keyEvents", "type": "TYPE_FLOAT"},
        {"name": "totalRevenue", "type": "TYPE_CURRENCY"},
    ],
    "rows": [
        {
            "dimensionValues": [{"value": "20240901"}, {"value": "Organic Search"}, {"value": "/"}],
            "metricValues": [
                {"value": "412"},
                {"value": "377"},
                {"value": "290"},
                {"value": "268"},
                {"value": "0.34951456310679613"},
                {"value": "1031"},
                {"value": "143.27912621359224"},
                {"value": "19"},
                {"value": "1874.5"},
            ],
        },
        {
            "dimensionValues": [
                {"value": "20240901"},
                {"value": "Paid Search"},
                {"value": "/pricing"},
            ],
            "metricValues": [
                {"value": "158"},
                {"value": "149"},
                {"value": "131"},
                {"value": "97"},
                {"value": "0.38607594936708861"},
                {"value": "301"},
                {"value": "96.118987341772155"},
                {"value": "7"},
                {"value": "612"},
            ],
        },
        {
            "dimensionValues": [{"value": "20240901"}, {"value": "Direct"}, {"value": "(not set)"}],
            "metricValues": [
                {"value": "23"},
                {"value": "23"},
                {"value": "11"},
                {"value": "0"},
                {"value": "1"},
                {"value": "0"},
                {"value": "0"},
                {"value": "0"},
                {"value": "0"},
            ],
        },
    ],
    "rowCount": 3,
    "metadata": {"currencyCode": "USD", "timeZone": "America/New_York"},
    "propertyQuota": {
        "tokensPerDay": {"consumed": 12, "remaining": 199843},
        "tokensPerHour": {"consumed": 12, "remaining": 39955},
        "concurrentRequests": {"consumed": 0, "remaining": 10},
        "serverErrorsPerProjectPerHour": {"consumed": 0, "remaining": 10},
        "potentiallyThresholdedRequestsPerHour": {"consumed": 0, "remaining": 120},
        "tokensPerProjectPerHour": {"consumed": 12, "remaining": 13955},
    },
    "kind": "analyticsData#runReport",
}

EMPTY_PAGE = {
    "dimensionHeaders": [{"name": "date"}],
    "metricHeaders": [{"name": "activeUsers", "type": "TYPE_INTEGER"}],
    "metadata": {"currencyCode": "EUR", "timeZone": "Europe/Warsaw"},
    "kind": "analyticsData#runReport",
}


def google_error(code: int, status: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


@pytest.fixture
def client(stack, fast_retry) -> GA4Client:
    return GA4Client(
        str(stack.service_account), base_url=stack.server.base_url, retry=fast_retry, page_size=10
    )


# --------------------------------------------------------------------------------------------------
# Parsing real-format pages
# --------------------------------------------------------------------------------------------------
def test_metrics_are_typed_by_their_header_type():
    rows, metadata = parse_report_page(EXAMPLE_2)

    first = rows[0]
    assert first["date"] == date(2024, 9, 1)
    assert first["session_default_channel_group"] == "Organic Search"
    assert first["landing_page"] == "/"
    assert first["sessions"] == 412 and type(first["sessions"]) is int
    assert first["engaged_sessions"] == 268 and type(first["engaged_sessions"]) is int
    assert first["key_events"] == 19.0 and type(first["key_events"]) is float  # TYPE_FLOAT "19"
    assert first["total_revenue"] == Decimal("1874.5")
    assert isinstance(first["total_revenue"], Decimal)
    assert first["average_session_duration"] == pytest.approx(143.27912621359224)
    assert type(first["average_session_duration"]) is float
    assert [r["total_revenue"] for r in rows] == [Decimal("1874.5"), Decimal("612"), Decimal("0")]
    assert metadata.currency_code == "USD" and metadata.time_zone == "America/New_York"
    assert metadata.row_count == 3
    assert metadata.property_quota["tokensPerDay"] == {"consumed": 12, "remaining": 199843}


def test_bounce_rate_stays_a_fraction_between_0_and_1():
    rows, _ = parse_report_page(EXAMPLE_2)

    rates = [r["bounce_rate"] for r in rows]
    assert rates == pytest.approx([0.34951456310679613, 0.38607594936708861, 1.0])
    assert all(type(rate) is float and 0 <= rate <= 1 for rate in rates)
    first = rows[0]  # bounceRate = 1 - engagedSessions / sessions, not a percentage
    assert first["bounce_rate"] == pytest.approx(1 - first["engaged_sessions"] / first["sessions"])


def test_key_events_follow_the_header_when_a_property_reports_them_as_integers():
    page = copy.deepcopy(EXAMPLE_2)
    page["metricHeaders"][7]["type"] = "TYPE_INTEGER"

    rows, _ = parse_report_page(page)

    assert rows[0]["key_events"] == 19 and type(rows[0]["key_events"]) is int


def test_long_float_strings_parse_as_floats():
    rows, metadata = parse_report_page(EXAMPLE_1)

    assert len(rows) == 2
    first = rows[0]
    assert first == {
        "date": date(2022, 7, 31),
        "device_category": "desktop",
        "operating_system": "Macintosh",
        "browser": "Chrome",
        "total_users": 344,
        "new_users": 169,
        "sessions": 420,
        "sessions_per_user": pytest.approx(1.2209302325581395),
        "average_session_duration": pytest.approx(194.76313766428572),
        "screen_page_views": 614,
        "screen_page_views_per_session": pytest.approx(1.4619047619047618),
        "bounce_rate": pytest.approx(0.47857142857142859),
    }
    assert type(first["bounce_rate"]) is float
    assert math.isclose(first["bounce_rate"], float("0.47857142857142859"))
    # rowCount is the total over all pages, not the rows on this page
    assert metadata.row_count == 54
    assert metadata.time_zone == "America/Los_Angeles"


def test_an_empty_report_without_rows_or_row_count_parses_to_zero_rows():
    rows, metadata = parse_report_page(EMPTY_PAGE)

    assert rows == []
    assert metadata.row_count is None
    assert metadata.currency_code == "EUR" and metadata.time_zone == "Europe/Warsaw"


def test_a_metric_value_that_does_not_match_its_type_raises_schema_error():
    page = copy.deepcopy(EXAMPLE_2)
    page["rows"][1]["metricValues"][0]["value"] = "n/a"

    with pytest.raises(SchemaError) as info:
        parse_report_page(page)

    assert info.value.source == "ga4"
    assert info.value.field == "sessions" and info.value.value == "n/a"


def test_a_date_not_in_yyyymmdd_raises_schema_error():
    page = copy.deepcopy(EXAMPLE_2)
    page["rows"][0]["dimensionValues"][0]["value"] = "2024-09-01"

    with pytest.raises(SchemaError) as info:
        parse_report_page(page)

    assert info.value.field == "date" and info.value.value == "2024-09-01"


def test_a_row_with_missing_values_raises_schema_error():
    page = copy.deepcopy(EXAMPLE_2)
    del page["rows"][2]["metricValues"][-1]

    with pytest.raises(SchemaError, match="row 2 has 3/8 values for 3 dimensions/9 metrics"):
        parse_report_page(page)


# --------------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------------
def test_a_report_is_paged_to_its_last_row(stack, fast_retry):
    single = GA4Client(
        str(stack.service_account), base_url=stack.server.base_url, retry=fast_retry
    ).traffic(PROPERTY, START, END)
    assert stack.server.count(RUN_REPORT) == 1
    total = len(single.rows)
    assert total > 30

    paged_client = GA4Client(
        str(stack.service_account), base_url=stack.server.base_url, retry=fast_retry, page_size=10
    )
    paged = paged_client.traffic(PROPERTY, START, END)

    pages = math.ceil(total / 10)
    assert pages >= 4
    assert stack.server.count(RUN_REPORT) == 1 + pages
    assert paged_client.requests_made == pages
    assert paged.rows == single.rows
    assert paged.metadata.row_count == total
    assert {row["date"] for row in paged.rows} == {date(2025, 3, d) for d in range(1, 8)}


def test_an_empty_range_is_one_request_and_zero_rows(stack, client):
    stack.ga4.today = lambda: date(2025, 3, 5)  # the window lies after "today": clamped to nothing

    report = client.traffic(PROPERTY, date(2025, 3, 10), date(2025, 3, 12))

    assert report.rows == []
    assert not report.metadata.row_count  # absent on the wire (0 once through the protobuf)
    assert report.metadata.currency_code == "USD"
    assert stack.server.count(RUN_REPORT) == 1


def test_each_property_reports_in_its_own_currency_and_time_zone(client):
    report = client.traffic(OTHER_PROPERTY, START, START)

    assert report.rows
    assert report.metadata.currency_code == "EUR"
    assert report.metadata.time_zone == "Europe/Oslo"


# --------------------------------------------------------------------------------------------------
# Throttling, quota and errors
# --------------------------------------------------------------------------------------------------
def test_a_concurrent_requests_429_is_retried_then_succeeds(stack, client, fast_retry):
    expected = client.traffic(PROPERTY, START, START).rows
    before = stack.server.count(RUN_REPORT)
    stack.server.inject(
        Fault(
            path=RUN_REPORT,
            kind="http",
            status=429,
            body=google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Exhausted concurrent requests quota for a property. Retry shortly.",
            ),
        )
    )

    report = client.traffic(PROPERTY, START, START)

    assert report.rows == expected
    assert stack.server.count(RUN_REPORT) - before == 2
    assert len(fast_retry.waits) == 1


def test_a_429_retry_after_header_is_honoured(stack, client, fast_retry):
    stack.server.inject(
        Fault(
            path=RUN_REPORT,
            kind="http",
            status=429,
            headers={"Retry-After": "3"},
            body=google_error(429, "RESOURCE_EXHAUSTED", "Too many concurrent requests."),
        )
    )

    assert client.traffic(PROPERTY, START, START).rows
    assert fast_retry.waits == [3.0]


def test_exhausted_daily_tokens_fail_fast_with_quota_exhausted_error(stack, client, fast_retry):
    settings = stack.ga4.properties[PROPERTY]
    settings.tokens_consumed = settings.tokens_per_day

    with pytest.raises(QuotaExhaustedError) as info:
        client.traffic(PROPERTY, START, END)

    assert stack.server.count(RUN_REPORT) == 1
    assert fast_retry.waits == []
    error = info.value
    assert error.source == "ga4" and error.status == 429
    assert f"properties/{PROPERTY}:runReport" in str(error)
    assert "Exhausted property tokens per day" in str(error)


def test_exhausted_hourly_tokens_fail_fast_with_quota_exhausted_error(stack, client, fast_retry):
    stack.server.inject(
        Fault(
            path=RUN_REPORT,
            kind="http",
            status=429,
            times=10,
            body=google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Exhausted property tokens per hour for a project per property. Refresh in 26 "
                "minutes. To learn more, see "
                "https://developers.google.com/analytics/devguides/reporting/data/v1/quotas",
            ),
        )
    )

    with pytest.raises(QuotaExhaustedError, match="tokens per hour"):
        client.traffic(PROPERTY, START, END)
    assert stack.server.count(RUN_REPORT) == 1


def test_5xx_on_every_attempt_raises_source_error_with_endpoint_status_and_message(
    stack, client, fast_retry
):
    stack.server.inject(
        Fault(
            path=RUN_REPORT,
            kind="http",
            status=503,
            times=10,
            body=google_error(503, "UNAVAILABLE", "The service is currently unavailable."),
        )
    )

    with pytest.raises(SourceError) as info:
        client.traffic(PROPERTY, START, END)

    error = info.value
    text = str(error)
    assert not isinstance(error, QuotaExhaustedError)
    assert stack.server.count(RUN_REPORT) == fast_retry.max_attempts == 4
    assert error.source == "ga4" and text.startswith("[ga4]")
    assert f"POST {stack.server.base_url}/v1beta/properties/{PROPERTY}:runReport" in text
    assert error.status == 503 and "status=503" in text
    assert "The service is currently unavailable." in text


def test_a_dropped_connection_is_retried(stack, client, fast_retry):
    stack.server.inject(Fault(path=RUN_REPORT, kind="drop"))

    assert client.traffic(PROPERTY, START, START).rows
    assert stack.server.count(RUN_REPORT) == 2
    assert len(fast_retry.waits) == 1


def test_a_read_timeout_is_retried(stack, fast_retry, caplog):
    # The stall outlasts the timeout whatever the load; a slow answer to a retry only adds one.
    client = GA4Client(
        str(stack.service_account),
        base_url=stack.server.base_url,
        retry=fast_retry,
        timeout=2.0,
    )
    stack.server.inject(Fault(path=RUN_REPORT, kind="timeout", delay=8.0))
    caplog.set_level(logging.WARNING, logger="kpi_pipeline.sources")

    assert client.traffic(PROPERTY, START, START).rows
    assert stack.server.count(RUN_REPORT) == len(fast_retry.waits) + 1 >= 2
    assert "attempt 1 failed (ReadTimeout)" in caplog.records[0].getMessage()


def test_an_unknown_property_fails_with_403_permission_denied_and_is_not_retried(
    stack, client, fast_retry
):
    with pytest.raises(SourceError) as info:
        client.traffic("999999999", START, END)

    error = info.value
    assert not isinstance(error, QuotaExhaustedError)
    assert stack.server.count(RUN_REPORT) == 1
    assert fast_retry.waits == []
    assert error.source == "ga4" and error.status == 403
    assert "properties/999999999:runReport" in str(error)
    assert "status=403" in str(error)
    # google-api-core keeps the message but drops the google.rpc status name (PERMISSION_DENIED);
    # the exception class it maps 403 to and the provider's text are what reach the operator.
    assert "Forbidden" in str(error)
    assert "does not have sufficient permissions for this property" in str(error)


def test_a_changed_metric_type_raises_schema_error_naming_the_field_and_value(stack, client):
    def sessions_become_text(page: dict) -> dict:
        index = [h["name"] for h in page["metricHeaders"]].index("sessions")
        page["rows"][2]["metricValues"][index]["value"] = "n/a"
        return page

    stack.server.inject(Fault(path=RUN_REPORT, kind="transform", transform=sessions_become_text))

    with pytest.raises(SchemaError) as info:
        client.traffic(PROPERTY, START, START)

    error = info.value
    assert error.source == "ga4"
    assert error.field == "sessions" and error.value == "n/a"
    assert "field=sessions" in str(error) and "'n/a'" in str(error)
    assert "TYPE_INTEGER" in str(error)


@pytest.mark.parametrize("kind", ["malformed", "truncate"])
def test_a_broken_page_fails_clearly(stack, client, fast_retry, kind):
    stack.server.inject(Fault(path=RUN_REPORT, kind=kind, times=10))

    with pytest.raises(SourceError) as info:
        client.traffic(PROPERTY, START, END)

    error = info.value
    assert error.source == "ga4"
    assert f"properties/{PROPERTY}:runReport" in str(error)
    assert "JSON" in str(error)
    assert 1 <= stack.server.count(RUN_REPORT) <= fast_retry.max_attempts


def test_a_row_count_that_disagrees_with_the_rows_received_raises_schema_error(stack, client):
    def inflate_row_count(page: dict) -> dict:
        page["rowCount"] += 5
        return page

    stack.server.inject(
        Fault(path=RUN_REPORT, kind="transform", transform=inflate_row_count, times=10)
    )

    with pytest.raises(SchemaError) as info:
        client.traffic(PROPERTY, START, START)
    assert info.value.field == "rowCount"


# --------------------------------------------------------------------------------------------------
# Unique users
# --------------------------------------------------------------------------------------------------
def test_users_are_reported_per_day_week_and_month_as_unique_counts(client):
    week_start, week_end = date(2025, 3, 3), date(2025, 3, 9)  # Monday .. Sunday

    periods = list(client.users(PROPERTY, week_start, week_end))

    days = [(s, e, r) for grain, s, e, r in periods if grain == "day"]
    weeks = [(s, e, r) for grain, s, e, r in periods if grain == "week"]
    months_ = [(s, e, r) for grain, s, e, r in periods if grain == "month"]
    assert [s for s, e, _ in days] == [date(2025, 3, d) for d in range(3, 10)]
    assert all(s == e for s, e, _ in days)
    assert [(s, e) for s, e, _ in weeks] == [(week_start, week_end)]
    assert [(s, e) for s, e, _ in months_] == [(date(2025, 3, 1), date(2025, 3, 31))]

    daily = [r.rows[0]["total_users"] for _, _, r in days]
    (week,) = [r.rows[0]["total_users"] for _, _, r in weeks]
    (month,) = [r.rows[0]["total_users"] for _, _, r in months_]
    assert all(type(v) is int and v > 0 for v in [*daily, week, month])
    assert max(daily) < week < sum(daily)  # returning visitors are counted once a week
    assert week < month


def test_period_helpers_cover_the_window_with_iso_weeks_and_calendar_months():
    assert iso_weeks(date(2025, 3, 1), date(2025, 3, 10)) == [
        (date(2025, 2, 24), date(2025, 3, 2)),
        (date(2025, 3, 3), date(2025, 3, 9)),
        (date(2025, 3, 10), date(2025, 3, 16)),
    ]
    assert months(date(2024, 12, 30), date(2025, 2, 1)) == [
        (date(2024, 12, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
    ]


# --------------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------------
def test_service_account_token_requests_go_to_its_token_uri(stack):
    credentials = service_account.Credentials.from_service_account_file(
        str(stack.service_account), scopes=list(SCOPES)
    )

    credentials.refresh(google.auth.transport.requests.Request())

    assert credentials.token and credentials.token.startswith("ya29.emulator-")
    assert credentials.valid
    assert stack.auth.token_requests == 1


def test_the_token_endpoint_rejects_an_untrusted_service_account(stack, tmp_path):
    stranger = write_demo_service_account(
        tmp_path / "stranger.json", stack.server.base_url + "/token"
    )
    credentials = service_account.Credentials.from_service_account_file(
        str(stranger), scopes=list(SCOPES)
    )

    with pytest.raises(auth_exc.RefreshError, match="invalid_grant"):
        credentials.refresh(google.auth.transport.requests.Request())
    assert stack.auth.token_requests == 1


def test_the_client_authenticates_with_self_signed_jwts(stack, client):
    client.traffic(PROPERTY, START, START)

    assert stack.auth.self_signed_requests > 0
    assert stack.auth.self_signed_requests == stack.server.count(RUN_REPORT)


def test_a_client_with_an_untrusted_key_is_refused_with_401_and_not_retried(
    stack, tmp_path, fast_retry
):
    stranger = write_demo_service_account(
        tmp_path / "stranger.json", stack.server.base_url + "/token"
    )
    client = GA4Client(str(stranger), base_url=stack.server.base_url, retry=fast_retry)

    with pytest.raises(SourceError) as info:
        client.traffic(PROPERTY, START, START)

    assert info.value.status == 401
    assert client.requests_made == 1  # our retry loop gives up at once ...
    assert fast_retry.waits == []
    # ... though google-auth's session itself refreshes credentials and resends twice on a 401
    assert stack.server.count(RUN_REPORT) == 3
    assert "invalid authentication credentials" in str(info.value)


def test_a_missing_credentials_file_names_google_application_credentials(tmp_path):
    missing = tmp_path / "nowhere" / "sa.json"

    with pytest.raises(SourceError) as info:
        GA4Client(str(missing))

    error = info.value
    assert error.source == "ga4"
    assert error.field == "GOOGLE_APPLICATION_CREDENTIALS"
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(error)
    assert str(missing) in str(error)


def test_an_unreadable_credentials_file_names_google_application_credentials(tmp_path):
    broken = tmp_path / "sa.json"
    broken.write_text('{"type": "service_account"')

    with pytest.raises(SourceError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        GA4Client(str(broken))


def test_the_private_key_never_appears_in_an_error(stack, client):
    info = json.loads(stack.service_account.read_text())
    stack.server.inject(
        Fault(
            path=RUN_REPORT,
            kind="http",
            status=400,
            body=google_error(400, "INVALID_ARGUMENT", f"bad key id {info['private_key_id']}"),
        )
    )

    with pytest.raises(SourceError) as info_:
        client.traffic(PROPERTY, START, START)

    assert "bad key id ***" in str(info_.value)
    assert info["private_key_id"] not in str(info_.value)
