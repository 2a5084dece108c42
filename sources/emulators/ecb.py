"""ECB Data Portal emulator: ``GET /service/data/EXR/D.{CURS}.EUR.SP00.A`` in ``csvdata`` format.

As the real API, an empty currency dimension (``D..EUR.SP00.A``) answers every currency published.

Rates are a deterministic random walk per currency; no observations on weekends and on the TARGET
holidays (1 Jan, Good Friday and Easter Monday are skipped for simplicity, 1 May, 25-26 Dec).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from sources.emulators.company import EPOCH, unit_noise
from sources.emulators.server import EmulatorServer, Request, Response

PATH = r"/service/data/EXR/D\.(?P<currencies>[A-Z+]*)\.EUR\.SP00\.A"
BASE_RATES = {"USD": 1.085, "NOK": 11.62, "SEK": 11.31, "GBP": 0.856, "JPY": 161.4, "KWD": 0.334}
HEADER = (
    "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,"
    "OBS_CONF,TITLE,UNIT,UNIT_MULT"
)
HOLIDAYS = {(1, 1), (5, 1), (12, 25), (12, 26)}


def is_publication_day(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS


def rate(currency: str, day: date) -> float:
    """Units of ``currency`` per euro on ``day`` (smooth drift plus daily noise)."""
    base = BASE_RATES[currency]
    t = (day - EPOCH).days
    drift = 0.03 * math.sin(t / 97 + len(currency)) + 0.01 * math.sin(t / 13)
    jitter = (unit_noise("fx", currency, day.isoformat()) - 0.5) * 0.004
    decimals = 2 if currency == "JPY" else 4
    return round(base * (1 + drift + jitter), decimals)


class EcbEmulator:
    def __init__(self, today: date | None = None) -> None:
        self._today = today

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", PATH, self.data)

    def data(self, request: Request) -> Response:
        asked = request.match.group("currencies") if request.match else ""
        currencies = asked.split("+") if asked else sorted(BASE_RATES)
        unknown = [c for c in currencies if c not in BASE_RATES]
        if unknown or request.arg("format") != "csvdata":
            return Response(
                400, f"Bad request: {unknown or request.arg('format')}", content_type="text/plain"
            )
        today = self._today or date.today()
        start = date.fromisoformat(request.arg("startPeriod") or today.isoformat())
        end = min(date.fromisoformat(request.arg("endPeriod") or today.isoformat()), today)
        lines = [HEADER]
        day = start
        while day <= end:
            if is_publication_day(day):
                for cur in currencies:
                    lines.append(
                        f"EXR.D.{cur}.EUR.SP00.A,D,{cur},EUR,SP00,A,{day.isoformat()},"
                        f"{rate(cur, day)},A,F,{cur}/EUR,{cur},0"
                    )
            day += timedelta(days=1)
        if len(lines) == 1:
            return Response(404, "No results found.", content_type="text/plain")
        return Response(200, "\n".join(lines) + "\n", content_type="text/csv")
