"""PageSpeed Insights API v5 emulator: ``GET /pagespeedonline/v5/runPagespeed``.

Answers like the real API: an API key in ``key``, one URL and ``strategy`` per call, the
``lighthouseResult`` with ``categories.performance.score`` 0-1 and audits whose ``numericValue`` is
in ms, URL-level CrUX ``loadingExperience`` only for pages with enough traffic (absent, or an
``origin_fallback`` for the others; CLS percentile x100), a 400 "Lighthouse returned error" for
pages that cannot be loaded, and a 429 per-day quota in Google's envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sources.emulators.company import PAGE_LCP_MS, SITE_URL, SeoPresence
from sources.emulators.server import EmulatorServer, Request, Response

RUN_PATH = r"/pagespeedonline/v5/runPagespeed"
DEMO_API_KEY = "AIzaSyDemo-pagespeed-emulator-key"
_CATEGORY = {
    "LARGEST_CONTENTFUL_PAINT_MS": (2500, 4000),
    "FIRST_CONTENTFUL_PAINT_MS": (1800, 3000),
    "CUMULATIVE_LAYOUT_SHIFT_SCORE": (10, 25),
    "INTERACTION_TO_NEXT_PAINT": (200, 500),
}


def google_error(code: int, message: str, reason: str, status: str) -> Response:
    return Response(
        code,
        {
            "error": {
                "code": code,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": status,
            }
        },
    )


def _category(name: str, value: float) -> str:
    good, poor = _CATEGORY[name]
    return "FAST" if value <= good else "AVERAGE" if value <= poor else "SLOW"


@dataclass
class PageSpeedEmulator:
    seo: SeoPresence
    api_key: str = DEMO_API_KEY
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    queries_per_day: int = 25_000
    queries_made: int = 0

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", RUN_PATH, self.run)

    def run(self, request: Request) -> Response:
        key = request.arg("key")
        if key != self.api_key:
            return google_error(
                400,
                "API key not valid. Please pass a valid API key.",
                "badRequest",
                "INVALID_ARGUMENT",
            )
        if self.queries_made >= self.queries_per_day:
            message = (
                "Quota exceeded for quota metric 'Queries' and limit 'Queries per day' of service "
                "'pagespeedonline.googleapis.com' for consumer 'project_number:123456789012'."
            )
            return google_error(429, message, "rateLimitExceeded", "RESOURCE_EXHAUSTED")
        self.queries_made += 1
        url = request.arg("url") or ""
        strategy = (request.arg("strategy") or "desktop").lower()
        if strategy not in ("mobile", "desktop"):
            return google_error(
                400, f"Invalid value at 'strategy' ({strategy})", "badRequest", "INVALID_ARGUMENT"
            )
        parts = urlsplit(url)
        site = urlsplit(SITE_URL)
        path = parts.path or "/"
        if parts.netloc == site.netloc and path not in PAGE_LCP_MS:
            return google_error(
                400,
                "Lighthouse returned error: ERRORED_DOCUMENT_REQUEST. Lighthouse was unable to "
                "reliably load the page you requested. Make sure you are testing the correct URL "
                "and that the server is properly responding to all requests. (Status code: 404)",
                "lighthouseUserError",
                "INVALID_ARGUMENT",
            )
        if parts.netloc != site.netloc:
            return google_error(
                400,
                "Lighthouse returned error: FAILED_DOCUMENT_REQUEST. Lighthouse was unable to "
                "reliably load the page you requested. Make sure you are testing the correct URL "
                "and that the server is properly responding to all requests. (Details: "
                "net::ERR_CONNECTION_FAILED)",
                "lighthouseUserError",
                "INVALID_ARGUMENT",
            )
        return Response(body=self._result(url, path, strategy, self.today()))

    def _result(self, url: str, path: str, strategy: str, day: date) -> dict[str, Any]:
        run = self.seo.page_speed(path, strategy, day)
        stamp = f"{day.isoformat()}T06:12:31.482Z"

        def audit(audit_id: str, title: str, value: float, display: str) -> dict[str, Any]:
            return {
                "id": audit_id,
                "title": title,
                "score": None,
                "scoreDisplayMode": "numeric",
                "displayValue": display,
                "numericValue": value,
                "numericUnit": "unitless"
                if audit_id == "cumulative-layout-shift"
                else "millisecond",
            }

        result: dict[str, Any] = {
            "captchaResult": "CAPTCHA_NOT_NEEDED",
            "kind": "pagespeedonline#result",
            "id": url,
            "lighthouseResult": {
                "requestedUrl": url,
                "finalUrl": url,
                "lighthouseVersion": "12.2.1",
                "fetchTime": stamp,
                "runWarnings": [],
                "configSettings": {
                    "emulatedFormFactor": strategy,
                    "formFactor": strategy,
                    "locale": "en-US",
                    "onlyCategories": ["performance"],
                    "channel": "lr",
                },
                "audits": {
                    "largest-contentful-paint": audit(
                        "largest-contentful-paint",
                        "Largest Contentful Paint",
                        run.lcp_ms,
                        f"{run.lcp_ms / 1000:.1f}\u00a0s",
                    ),
                    "first-contentful-paint": audit(
                        "first-contentful-paint",
                        "First Contentful Paint",
                        run.fcp_ms,
                        f"{run.fcp_ms / 1000:.1f}\u00a0s",
                    ),
                    "total-blocking-time": audit(
                        "total-blocking-time",
                        "Total Blocking Time",
                        run.tbt_ms,
                        f"{run.tbt_ms:,.0f}\u00a0ms",
                    ),
                    "cumulative-layout-shift": audit(
                        "cumulative-layout-shift",
                        "Cumulative Layout Shift",
                        run.cls,
                        f"{run.cls:.3f}",
                    ),
                },
                "categories": {
                    "performance": {
                        "id": "performance",
                        "title": "Performance",
                        "score": run.performance_score,
                        "auditRefs": [
                            {"id": "largest-contentful-paint", "weight": 25, "group": "metrics"}
                        ],
                    }
                },
                "timing": {"total": 9321.4},
            },
            "analysisUTCTimestamp": stamp,
        }
        if run.field:
            result["loadingExperience"] = {
                "id": url,
                "metrics": {
                    name: {
                        "percentile": value,
                        "distributions": [
                            {"min": 0, "max": _CATEGORY[name][0], "proportion": 0.78},
                            {
                                "min": _CATEGORY[name][0],
                                "max": _CATEGORY[name][1],
                                "proportion": 0.15,
                            },
                            {"min": _CATEGORY[name][1], "proportion": 0.07},
                        ],
                        "category": _category(name, value),
                    }
                    for name, value in run.field.items()
                },
                "overall_category": "AVERAGE",
                "initial_url": url,
            }
        elif run.origin_fallback:
            result["loadingExperience"] = {
                "id": site_origin(url),
                "metrics": {
                    "LARGEST_CONTENTFUL_PAINT_MS": {
                        "percentile": 2900,
                        "distributions": [],
                        "category": "AVERAGE",
                    }
                },
                "overall_category": "AVERAGE",
                "initial_url": url,
                "origin_fallback": True,
            }
        return result


def site_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
