"""Fault target: FX (ECB Data Portal, every currency in one CSV document).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

from pipelines.connectors import fx
from sources.emulators.ecb import HEADER
from sources.emulators.server import Fault
from tests.fault_base import REPEATED_CURSOR, FaultTarget, source_load, standard_transient

PATH = r"/service/data/EXR/"
# A valid document whose rate is text: the CSV equivalent of a field changing type.
_RATE_AS_TEXT = (
    HEADER + "\nEXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2025-03-03,n/a,A,F,USD/EUR,USD,0\n"
)
TARGET = FaultTarget(
    source="fx",
    path=PATH,
    table=fx.SOURCE.table("rates").table,
    load=source_load(fx.SOURCE),
    transient=standard_transient(
        PATH, Fault(PATH, status=503, body="Service Unavailable", times=2)
    ),
    fatal={
        "an HTML error page instead of CSV": [
            Fault(PATH, status=200, body="<html><body>Maintenance</body></html>")
        ],
        "truncated page": [Fault(PATH, kind="truncate")],
        "type change in a field": [Fault(PATH, status=200, body=_RATE_AS_TEXT)],
    },
    not_applicable={
        "exhausted daily quota": "the ECB Data Portal is public and has no quota",
        "missing credentials": "the ECB Data Portal is public: no credentials to miss",
        "malformed JSON": "the API answers CSV, not JSON: its broken body is the HTML page above",
        REPEATED_CURSOR: "one CSV document per request: no pagination",
        "new field": "the SDMX CSV already carries a dozen columns (status, title, unit ...); the "
        "connector lands the rate's three by design",
    },
)
