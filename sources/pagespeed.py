"""PageSpeed Insights API v5 client: ``GET /pagespeedonline/v5/runPagespeed``.

One call per URL and strategy (mobile, desktop), performance category only. Lab values come from
the Lighthouse audits' ``numericValue`` (ms; never the localized ``displayValue``); field values
from the URL-level CrUX ``loadingExperience`` when present and not an origin fallback (CLS
percentile is x100 on the wire). A URL that fails is returned as a failed measurement instead of
failing the others; a spent daily quota stops the remaining calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from sources.http import (
    HttpClient,
    QuotaExhaustedError,
    RetryDecision,
    RetryPolicy,
    SchemaError,
    SourceError,
    optional_number,
    provider_message,
    redact,
    register_secret,
)

SOURCE = "pagespeed"
DEFAULT_BASE_URL = "https://www.googleapis.com"
RUN_PATH = "/pagespeedonline/v5/runPagespeed"
STRATEGIES = ("mobile", "desktop")
LAB_AUDITS = {
    "lcp_ms": "largest-contentful-paint",
    "fcp_ms": "first-contentful-paint",
    "tbt_ms": "total-blocking-time",
    "cls": "cumulative-layout-shift",
}
FIELD_METRICS = {
    "field_lcp_ms": "LARGEST_CONTENTFUL_PAINT_MS",
    "field_fcp_ms": "FIRST_CONTENTFUL_PAINT_MS",
    "field_inp_ms": "INTERACTION_TO_NEXT_PAINT",  # no _MS suffix on the wire
    "field_cls": "CUMULATIVE_LAYOUT_SHIFT_SCORE",  # percentile x100
}
_DAILY_QUOTA = re.compile(r"per day", re.IGNORECASE)
# PSI is slow and throttles per origin with 500s: a few attempts, then the URL is failed for today.
DEFAULT_RETRY = RetryPolicy(max_attempts=3, base_delay=20.0, max_delay=120.0, max_total_wait=240.0)


def _audit_value(audits: dict[str, Any], audit_id: str) -> float | None:
    value = (audits.get(audit_id) or {}).get("numericValue")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(
            SOURCE,
            RUN_PATH,
            "audit numericValue is not a number",
            field=f"audits.{audit_id}.numericValue",
            value=value,
        )
    return float(value)


def parse_field_data(payload: dict[str, Any]) -> dict[str, Any]:
    """URL-level CrUX percentiles; all None when absent, metric-less or an origin fallback."""
    experience = payload.get("loadingExperience") or {}
    metrics = experience.get("metrics") or {}
    usable = bool(metrics) and not experience.get("origin_fallback")
    row: dict[str, Any] = {name: None for name in FIELD_METRICS}
    row["field_category"] = experience.get("overall_category") if usable else None
    row["field_origin_fallback"] = bool(experience.get("origin_fallback"))
    if not usable:
        return row
    for name, key in FIELD_METRICS.items():
        percentile = (metrics.get(key) or {}).get("percentile")
        if percentile is None:
            continue
        row[name] = percentile / 100 if name == "field_cls" else float(percentile)
    return row


def parse_run(payload: dict[str, Any]) -> dict[str, Any]:
    """Lab and field values of one runPagespeed response (performance score 0-1)."""
    result = payload.get("lighthouseResult")
    if not isinstance(result, dict):
        raise SchemaError(SOURCE, RUN_PATH, "response has no lighthouseResult", value=payload)
    audits = result.get("audits") or {}
    performance = (result.get("categories") or {}).get("performance") or {}
    score = performance.get("score")
    row: dict[str, Any] = {
        "performance_score": optional_number(
            SOURCE, RUN_PATH, "categories.performance.score", score
        ),
        **{name: _audit_value(audits, audit) for name, audit in LAB_AUDITS.items()},
        **parse_field_data(payload),
        "lighthouse_version": result.get("lighthouseVersion"),
        "analysis_utc_timestamp": _timestamp(payload.get("analysisUTCTimestamp")),
    }
    runtime_error = result.get("runtimeError")
    if runtime_error or score is None or row["lcp_ms"] is None:
        message = (runtime_error or {}).get("message") or "Lighthouse returned no score or LCP"
        row.update(status="failed", error=redact(message)[:500])
    else:
        row.update(status="ok", error=None)
    return row


def _timestamp(text: Any) -> datetime | None:
    """``2020-05-28T12:30:58.151Z`` as a naive UTC datetime."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class Measurement:
    url: str
    strategy: str
    row: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.row["status"] == "ok"


class PageSpeedClient(HttpClient):
    """Runs PageSpeed Insights for a list of URLs."""

    source = SOURCE

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
    ) -> None:
        register_secret(api_key)
        super().__init__(base_url, read_timeout=180.0, retry=retry or DEFAULT_RETRY)
        self.api_key = api_key

    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """The daily query quota fails fast; per-100-seconds 429s and 500 throttling retry."""
        if response.status_code == 429 and _DAILY_QUOTA.search(provider_message(response)):
            return RetryDecision(retry=False, quota_exhausted=True)
        return super().retry_decision(response)

    def run(self, url: str, strategy: str) -> dict[str, Any]:
        payload = self.get_json(
            RUN_PATH,
            params={
                "url": url,
                "strategy": strategy,
                "category": "performance",
                "locale": "en",
                "key": self.api_key,
            },
        )
        return parse_run(payload)

    def measure(self, urls: list[str]) -> list[Measurement]:
        """Every URL x strategy once. A failing URL becomes a failed measurement; once the daily
        quota is spent the remaining ones are failed without calling the API."""
        measurements: list[Measurement] = []
        quota_error: str | None = None
        for url in urls:
            for strategy in STRATEGIES:
                if quota_error:
                    measurements.append(Measurement(url, strategy, failed(quota_error)))
                    continue
                try:
                    measurements.append(Measurement(url, strategy, self.run(url, strategy)))
                except QuotaExhaustedError as exc:
                    quota_error = str(exc)
                    measurements.append(Measurement(url, strategy, failed(quota_error)))
                except SourceError as exc:
                    measurements.append(Measurement(url, strategy, failed(str(exc))))
        return measurements


def failed(message: str) -> dict[str, Any]:
    """The row of a measurement that could not be taken (every value NULL, never 0)."""
    return {
        "performance_score": None,
        **dict.fromkeys(LAB_AUDITS),
        **dict.fromkeys(FIELD_METRICS),
        "field_category": None,
        "field_origin_fallback": False,
        "lighthouse_version": None,
        "analysis_utc_timestamp": None,
        "status": "failed",
        "error": redact(message)[:500],
    }
