"""PageSpeedClient against the emulator, and parse_run on the real-format PSI response.

The fixture is the recorded response (AutoWebPerf fakeRunResponse, trimmed) and the no-field-data
variants from shared/api-notes/pagespeed.md.
"""

from __future__ import annotations

import copy
from datetime import date

import duckdb
import pytest

from pipelines.connectors.ingest import arrow_table
from pipelines.connectors.pagespeed import SCHEMA, TABLE, keep_earlier_measurements
from pipelines.warehouse.raw_loader import replace_window
from sources.emulators.company import page_url
from sources.emulators.pagespeed import DEMO_API_KEY
from sources.emulators.server import Fault
from sources.http import SchemaError
from sources.pagespeed import PageSpeedClient, failed, parse_field_data, parse_run

RUN = r"/runPagespeed$"
GOOD = [page_url("/"), page_url("/pricing")]
BROKEN = page_url("/gone")

RECORDED = {
    "captchaResult": "CAPTCHA_NOT_NEEDED",
    "kind": "pagespeedonline#result",
    "id": "https://developers.google.com/",
    "loadingExperience": {
        "id": "https://developers.google.com/",
        "metrics": {
            "LARGEST_CONTENTFUL_PAINT_MS": {
                "percentile": 3610,
                "distributions": [
                    {"min": 2500, "max": 4000, "proportion": 0.24342440183268282},
                    {"min": 0, "max": 2500, "proportion": 0.55002168297603571},
                    {"min": 4000, "proportion": 0.2065539151912815},
                ],
                "category": "AVERAGE",
            },
            "CUMULATIVE_LAYOUT_SHIFT_SCORE": {
                "percentile": 14,
                "distributions": [
                    {"min": 0, "max": 10, "proportion": 0.61887353615465646},
                    {"min": 10, "max": 25, "proportion": 0.19936179441105398},
                    {"min": 25, "proportion": 0.18176466943428962},
                ],
                "category": "AVERAGE",
            },
        },
        "overall_category": "AVERAGE",
        "initial_url": "https://developers.google.com/",
    },
    "lighthouseResult": {
        "requestedUrl": "https://developers.google.com/",
        "finalUrl": "https://developers.google.com/",
        "lighthouseVersion": "6.0.0",
        "fetchTime": "2020-05-28T12:30:58.151Z",
        "runWarnings": [],
        "configSettings": {
            "emulatedFormFactor": "desktop",
            "locale": "en-US",
            "onlyCategories": ["performance"],
            "channel": "lr",
        },
        "audits": {
            "cumulative-layout-shift": {
                "id": "cumulative-layout-shift",
                "title": "Cumulative Layout Shift",
                "score": 0.94,
                "scoreDisplayMode": "numeric",
                "displayValue": "0.081",
                "details": {
                    "type": "debugdata",
                    "items": [{"finalLayoutShiftTraceEventFound": True}],
                },
                "numericValue": 0.08149930187082273,
            },
            "largest-contentful-paint": {
                "id": "largest-contentful-paint",
                "title": "Largest Contentful Paint",
                "score": 0.75,
                "scoreDisplayMode": "numeric",
                "displayValue": "1.8 s",
                "numericValue": 1812.5,
            },
        },
        "categories": {
            "performance": {
                "id": "performance",
                "title": "Performance",
                "score": 0.93,
                "auditRefs": [
                    {"id": "first-contentful-paint", "weight": 15, "group": "metrics"},
                    {"id": "largest-contentful-paint", "weight": 25, "group": "metrics"},
                    {"id": "cumulative-layout-shift", "weight": 5, "group": "metrics"},
                ],
            }
        },
        "timing": {"total": 8171.35},
    },
    "analysisUTCTimestamp": "2020-05-28T12:30:58.151Z",
}


@pytest.fixture
def client(stack, fast_retry) -> PageSpeedClient:
    return PageSpeedClient(DEMO_API_KEY, base_url=stack.server.base_url, retry=fast_retry)


# --------------------------------------------------------------------------------------------------
# Parsing the recorded response
# --------------------------------------------------------------------------------------------------
def test_lab_values_come_from_numeric_values_in_ms_and_the_score_stays_0_to_1():
    row = parse_run(RECORDED)

    assert row["status"] == "ok" and row["error"] is None
    assert row["performance_score"] == 0.93
    assert row["lcp_ms"] == 1812.5  # numericValue, never the localized displayValue "1.8 s"
    assert row["cls"] == pytest.approx(0.08149930187082273)
    assert row["fcp_ms"] is None and row["tbt_ms"] is None  # audits absent: NULL, not 0
    assert row["lighthouse_version"] == "6.0.0"
    assert str(row["analysis_utc_timestamp"]) == "2020-05-28 12:30:58.151000"


def test_crux_field_values_are_read_and_the_cls_percentile_is_scaled_down_by_100():
    row = parse_run(RECORDED)

    assert row["field_lcp_ms"] == 3610.0
    assert row["field_cls"] == 0.14  # "percentile": 14 means CLS 0.14
    assert row["field_inp_ms"] is None
    assert row["field_category"] == "AVERAGE" and row["field_origin_fallback"] is False


@pytest.mark.parametrize(
    "experience",
    [
        None,
        {"id": "https://developers.google.com/", "initial_url": "https://developers.google.com/"},
        {
            **RECORDED["loadingExperience"],
            "id": "https://developers.google.com",
            "origin_fallback": True,
        },
    ],
    ids=["absent", "no-metrics", "origin-fallback"],
)
def test_without_url_level_field_data_field_values_are_null(experience):
    payload = copy.deepcopy(RECORDED)
    if experience is None:
        del payload["loadingExperience"]
    else:
        payload["loadingExperience"] = experience

    field = parse_field_data(payload)
    row = parse_run(payload)

    assert field["field_lcp_ms"] is None and field["field_cls"] is None
    assert row["status"] == "ok" and row["lcp_ms"] == 1812.5


def test_a_lighthouse_runtime_error_is_a_failed_run_not_a_zero_score():
    payload = copy.deepcopy(RECORDED)
    payload["lighthouseResult"]["categories"]["performance"]["score"] = None
    payload["lighthouseResult"]["runtimeError"] = {
        "code": "NO_FCP",
        "message": "The page did not paint any content.",
    }

    row = parse_run(payload)

    assert row["status"] == "failed" and row["performance_score"] is None
    assert "did not paint" in row["error"]


def test_a_score_sent_as_text_is_a_schema_error_not_a_score_of_90():
    payload = copy.deepcopy(RECORDED)
    payload["lighthouseResult"]["categories"]["performance"]["score"] = "90"
    with pytest.raises(SchemaError, match=r"categories\.performance\.score"):
        parse_run(payload)


def test_a_response_without_lighthouse_result_raises_schema_error():
    with pytest.raises(SchemaError, match="no lighthouseResult"):
        parse_run({"kind": "pagespeedonline#result"})


# --------------------------------------------------------------------------------------------------
# Against the emulator
# --------------------------------------------------------------------------------------------------
def test_every_url_is_measured_mobile_and_desktop(stack, client):
    measurements = client.measure(GOOD)

    assert [(m.url, m.strategy) for m in measurements] == [
        (GOOD[0], "mobile"),
        (GOOD[0], "desktop"),
        (GOOD[1], "mobile"),
        (GOOD[1], "desktop"),
    ]
    assert all(m.ok for m in measurements)
    mobile, desktop = measurements[0].row, measurements[1].row
    assert mobile["lcp_ms"] > desktop["lcp_ms"]
    assert mobile["field_lcp_ms"] is not None  # the home page has URL-level CrUX data
    assert stack.server.count(RUN) == 4


def test_a_failing_url_is_recorded_failed_and_does_not_fail_the_others(stack, client, fast_retry):
    measurements = client.measure([GOOD[0], BROKEN, GOOD[1]])

    status = {(m.url, m.strategy): m.ok for m in measurements}
    assert status == {
        (GOOD[0], "mobile"): True,
        (GOOD[0], "desktop"): True,
        (BROKEN, "mobile"): False,
        (BROKEN, "desktop"): False,
        (GOOD[1], "mobile"): True,
        (GOOD[1], "desktop"): True,
    }
    broken = next(m for m in measurements if m.url == BROKEN)
    assert "ERRORED_DOCUMENT_REQUEST" in broken.row["error"]
    assert broken.row["lcp_ms"] is None and broken.row["performance_score"] is None
    assert stack.server.count(RUN) == 6 and fast_retry.waits == []  # a 400 is not retried


def test_per_origin_500_throttling_is_retried_a_bounded_number_of_times(stack, client, fast_retry):
    message = "Unable to process request. Please wait a while and try again."
    body = {"error": {"code": 500, "message": message, "status": "INTERNAL"}}
    stack.server.inject(Fault(path=RUN, status=500, times=1, body=body))

    first = client.measure(GOOD[:1])
    assert all(m.ok for m in first) and len(fast_retry.waits) == 1

    stack.server.inject(Fault(path=RUN, status=500, times=fast_retry.max_attempts, body=body))
    second = client.measure(GOOD[:1])

    assert [m.ok for m in second] == [False, True]  # mobile gave up, desktop still measured
    assert message in second[0].row["error"]


def test_a_spent_daily_quota_stops_calling_and_fails_the_remaining_urls(stack, client, fast_retry):
    stack.pagespeed.queries_per_day = 1

    measurements = client.measure(GOOD)

    assert [m.ok for m in measurements] == [True, False, False, False]
    assert all("Queries per day" in m.row["error"] for m in measurements[1:])
    assert stack.server.count(RUN) == 2 and fast_retry.waits == []


def test_an_invalid_key_fails_the_runs_with_the_key_redacted(stack, fast_retry):
    key = "AIzaSyWrong-key-0000000000"
    client = PageSpeedClient(key, base_url=stack.server.base_url, retry=fast_retry)

    measurements = client.measure(GOOD[:1])

    assert not any(m.ok for m in measurements)
    assert "API key not valid" in measurements[0].row["error"]
    assert key not in measurements[0].row["error"]


def test_a_url_failing_on_a_rerun_keeps_the_days_earlier_measurement() -> None:
    day = date(2025, 3, 5)
    con = duckdb.connect()

    def row(url: str, strategy: str, status: str, score: float | None) -> dict:
        values = {"status": status, "performance_score": score, "error": None}
        base = failed("[pagespeed] boom") if status == "failed" else {}
        return {**base, **values, "url": url, "strategy": strategy}

    def stamp(rows: list[dict]) -> list[dict]:
        return [{**r, "_account_id": r["url"], "_partition_date": day} for r in rows]

    rerun = arrow_table(
        stamp([row(GOOD[0], "mobile", "failed", None), row(GOOD[1], "mobile", "failed", None)]),
        SCHEMA,
    )
    assert keep_earlier_measurements(con, rerun).equals(rerun)  # no table yet: nothing to keep

    first = stamp([row(GOOD[0], "mobile", "ok", 0.9), row(GOOD[1], "mobile", "failed", None)])
    replace_window(
        con,
        TABLE,
        arrow_table(first, SCHEMA),
        account_ids=GOOD,
        start=day,
        end=date(2025, 3, 6),
        run_id="r1",
    )
    kept = keep_earlier_measurements(con, rerun).to_pylist()
    assert [(r["url"], r["status"], r["performance_score"]) for r in kept] == [
        (GOOD[0], "ok", 0.9),  # the earlier good measurement, not the rerun's failure
        (GOOD[1], "failed", None),  # nothing good before: the failure is recorded
    ]
