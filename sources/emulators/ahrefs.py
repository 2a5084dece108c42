"""Ahrefs API v3 emulator: ``GET /v3/site-explorer/backlinks-stats``.

Bearer-token auth, ``target``/``date``/``mode`` query parameters, a ``{"metrics": {...}}`` body with
live and all-time backlinks and referring domains, ``{"error": ...}`` bodies, and an API-units
budget whose exhaustion answers 403 (the demo's own limit; Ahrefs bills units per request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sources.emulators.company import SITE_DOMAIN, SeoPresence
from sources.emulators.server import EmulatorServer, Request, Response

STATS_PATH = r"/v3/site-explorer/backlinks-stats"
DEMO_TOKEN = "ahrefs-demo-token-0123456789"
UNITS_PER_REQUEST = 50
MODES = {"exact", "prefix", "domain", "subdomains"}


def error(status: int, message: str) -> Response:
    return Response(status, {"error": message})


@dataclass
class AhrefsEmulator:
    seo: SeoPresence
    token: str = DEMO_TOKEN
    target: str = SITE_DOMAIN
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    units_remaining: int = 1_000_000

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", STATS_PATH, self.backlinks_stats)

    def backlinks_stats(self, request: Request) -> Response:
        if (request.header("authorization") or "") != f"Bearer {self.token}":
            return error(401, "Unauthorized: invalid or missing API key")
        if self.units_remaining < UNITS_PER_REQUEST:
            return error(403, "API units limit reached for this subscription period")
        target = request.arg("target")
        mode = request.arg("mode", "subdomains")
        raw_date = request.arg("date")
        if not target or not raw_date:
            return error(400, "missing required parameter: " + ("target" if not target else "date"))
        if mode not in MODES:
            return error(400, f"invalid mode: {mode}")
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            return error(400, f"invalid date: {raw_date}")
        if day > self.today():
            return error(400, f"date is in the future: {raw_date}")
        self.units_remaining -= UNITS_PER_REQUEST
        if target.removeprefix("www.").rstrip("/") != self.target:
            metrics = {"live": 0, "all_time": 0, "live_refdomains": 0, "all_time_refdomains": 0}
        else:
            s = self.seo.backlinks(day)
            metrics = {
                "live": s.live,
                "all_time": s.all_time,
                "live_refdomains": s.live_refdomains,
                "all_time_refdomains": s.all_time_refdomains,
            }
        return Response(body={"metrics": metrics})
