"""ECB euro foreign exchange reference rates, from the ECB Data Portal SDMX REST API.

``GET {FX_BASE_URL}/service/data/EXR/D.{CUR1+CUR2}.EUR.SP00.A?startPeriod=&endPeriod=&format=csvdata``
returns one CSV row per currency and business day: ``OBS_VALUE`` units of ``CURRENCY`` per euro;
an empty currency dimension (``D..EUR.SP00.A``) returns every currency the ECB publishes.
No rates are published on weekends and TARGET holidays; a query with no observations answers 404
"No results found.", which means an empty result, not an error.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from sources.http import HttpClient, SchemaError

SOURCE = "fx"
DEFAULT_BASE_URL = "https://data-api.ecb.europa.eu"
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_rates_csv(text: str) -> list[dict[str, object]]:
    """Rows ``{currency, rate_date, units_per_eur}`` from an SDMX ``csvdata`` body.

    The body ends with a line break; one that does not, or a row with fewer fields than the header,
    was cut off in transit and would turn a rate like 11.7085 into 11.7 without a word.
    """
    if text and not text.endswith("\n"):
        raise SchemaError(SOURCE, "EXR csvdata", "page ends mid-line: truncated", value=text[-40:])
    reader = csv.DictReader(io.StringIO(text))
    missing = {"CURRENCY", "TIME_PERIOD", "OBS_VALUE"} - set(reader.fieldnames or [])
    if missing:
        raise SchemaError(
            SOURCE,
            "EXR csvdata",
            "CSV header lacks required columns",
            field=",".join(sorted(missing)),
            value=(reader.fieldnames or [])[:8],
        )
    rows = []
    for line, record in enumerate(reader, start=2):
        if None in record.values():
            raise SchemaError(
                SOURCE,
                "EXR csvdata",
                f"line {line} has fewer fields than the header: truncated",
                value=record,
            )
        if not record["OBS_VALUE"]:
            continue  # a published gap (NaN observation)
        try:
            rows.append(
                {
                    "currency": record["CURRENCY"],
                    "rate_date": date.fromisoformat(record["TIME_PERIOD"]),
                    "units_per_eur": Decimal(record["OBS_VALUE"]),
                }
            )
        except (ValueError, InvalidOperation):
            raise SchemaError(
                SOURCE,
                "EXR csvdata",
                f"line {line} does not parse",
                field="TIME_PERIOD/OBS_VALUE",
                value=f"{record['TIME_PERIOD']}/{record['OBS_VALUE']}",
            ) from None
    return rows


class EcbClient(HttpClient):
    """Daily reference rates against the euro for a set of currencies."""

    source = SOURCE

    def __init__(self, base_url: str = DEFAULT_BASE_URL, **kwargs: object) -> None:
        super().__init__(base_url, headers={"Accept": "text/csv"}, **kwargs)  # type: ignore[arg-type]

    def rates(self, currencies: list[str], start: date, end: date) -> list[dict[str, object]]:
        """Observations for ``currencies`` (EUR excluded: it is 1 by definition) in ``start..end``."""
        wanted = sorted({c.upper() for c in currencies} - {"EUR"})
        bad = [c for c in wanted if not _CURRENCY.match(c)]
        if bad:
            raise SchemaError(
                SOURCE,
                "EXR",
                "not an ISO 4217 currency code",
                field="currency",
                value=bad[0],
                fix="currency codes come from the sources' rows; check the source that wrote it",
            )
        if not wanted:
            return []
        return self._fetch("+".join(wanted), start, end)

    def all_rates(self, start: date, end: date) -> list[dict[str, object]]:
        """Observations of every currency the ECB publishes in ``start..end`` (one request)."""
        return self._fetch("", start, end)

    def _fetch(self, currencies: str, start: date, end: date) -> list[dict[str, object]]:
        path = f"/service/data/EXR/D.{currencies}.EUR.SP00.A"
        params = {
            "startPeriod": start.isoformat(),
            "endPeriod": end.isoformat(),
            "format": "csvdata",
        }
        response = self.request("GET", path, params=params, allow_status=(404,))
        if response.status_code == 404:
            return []
        return parse_rates_csv(response.text)
