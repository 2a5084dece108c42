"""The fault suite's harness: one entry per connector, the same scenarios for every one of them.

A connector registers a :class:`FaultTarget`: how to pull a fixed window from its emulator and load
it into its raw table, and the shape of its own throttle, quota and schema-drift faults. The suite
(tests/connectors/test_faults.py) runs every scenario against every target and prints a summary table.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta

import duckdb

from pipelines.connectors.fx import TABLE as FX_TABLE
from pipelines.connectors.ga4 import TABLES as GA4_TABLES
from pipelines.connectors.ga4 import extract
from pipelines.connectors.ingest import arrow_table
from pipelines.warehouse.raw_loader import replace_keys, replace_window
from sources.ecb import EcbClient
from sources.emulators.ecb import HEADER as ECB_HEADER
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack
from sources.ga4 import GA4Client
from sources.http import RetryPolicy
from tests import (
    fault_targets,
    fault_targets_seo_email,
)
from tests.fault_base import (
    END,
    REPEATED_CURSOR,
    START,
    FaultTarget,
    Loaded,
    offset_ignored,
    standard_transient,
)

__all__ = ["END", "RESULTS", "START", "TARGETS", "FaultTarget", "Loaded", "Outcome", "summary"]


# --- GA4 -------------------------------------------------------------------------------------------
def _ga4_load(
    stack: EmulatorStack, retry: RetryPolicy, con: duckdb.DuckDBPyConnection, timeout: float
) -> int:
    client = GA4Client(
        str(stack.service_account),
        base_url=stack.server.base_url,
        retry=retry,
        timeout=timeout,
        page_size=7,  # several pages per report, so faults land mid-stream
    )
    properties = ["250000001"]
    pulled = extract(client, properties, START, END - timedelta(days=1), "generate_lead")
    rows = 0
    for name in ("traffic", "leads", "landing_pages"):
        rows += replace_window(
            con,
            GA4_TABLES[name],
            arrow_table(pulled.rows[name]),
            account_ids=properties,
            start=START,
            end=END,
            run_id="faults",
        ).rows_inserted
    return rows


def _ga4_type_change(page: dict) -> dict:
    page = copy.deepcopy(page)
    if page.get("rows"):
        page["rows"][-1]["metricValues"][0]["value"] = "n/a"
    return page


def _ga4_new_metric(page: dict) -> dict:
    page = copy.deepcopy(page)
    page["metricHeaders"].append({"name": "averageSessionDuration", "type": "TYPE_SECONDS"})
    for row in page.get("rows") or []:
        row["metricValues"].append({"value": "61.5"})
    return page


GA4_RUN = r":runReport"
GA4 = FaultTarget(
    source="ga4",
    path=GA4_RUN,
    table=GA4_TABLES["traffic"],
    load=_ga4_load,
    transient=standard_transient(
        GA4_RUN,
        Fault(
            GA4_RUN,
            status=429,
            body={
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "Exhausted concurrent requests quota for a property.",
                }
            },
        ),
    ),
    fatal={
        "malformed JSON": [Fault(GA4_RUN, kind="malformed")],
        "truncated page": [Fault(GA4_RUN, kind="truncate")],
        "type change in a field": [Fault(GA4_RUN, kind="transform", transform=_ga4_type_change)],
        **offset_ignored(GA4_RUN, "offset"),
    },
    quota=[
        Fault(
            GA4_RUN,
            status=429,
            times=10,
            body={
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "Exhausted property tokens per day for a property.",
                }
            },
        )
    ],
    new_field=_ga4_new_metric,
    new_field_column="average_session_duration",
    new_field_value=61.5,  # sent as the string "61.5", typed by its header as a number
)


# --- FX (ECB) -------------------------------------------------------------------------------------
def _fx_load(
    stack: EmulatorStack, retry: RetryPolicy, con: duckdb.DuckDBPyConnection, timeout: float
) -> int:
    client = EcbClient(stack.server.base_url, retry=retry, read_timeout=timeout)
    rates = client.rates(["USD", "NOK"], START, END - timedelta(days=1))
    data = [{**r, "_account_id": "ECB", "_partition_date": r["rate_date"]} for r in rates]
    return replace_keys(
        con, FX_TABLE, arrow_table(data), keys=["currency", "rate_date"], run_id="faults"
    ).rows_inserted


FX_PATH = r"/service/data/EXR/"
# A valid document whose rate is text: the CSV equivalent of a field changing type.
_FX_RATE_AS_TEXT = (
    ECB_HEADER + "\nEXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2025-03-03,n/a,A,F,USD/EUR,USD,0\n"
)
FX = FaultTarget(
    source="fx",
    path=FX_PATH,
    table=FX_TABLE,
    load=_fx_load,
    transient=standard_transient(
        FX_PATH, Fault(FX_PATH, status=503, body="Service Unavailable", times=2)
    ),
    fatal={
        "an HTML error page instead of CSV": [
            Fault(FX_PATH, status=200, body="<html><body>Maintenance</body></html>")
        ],
        "truncated page": [Fault(FX_PATH, kind="truncate")],
        "type change in a field": [Fault(FX_PATH, status=200, body=_FX_RATE_AS_TEXT)],
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

TARGETS: list[FaultTarget] = [
    GA4,
    FX,
    *fault_targets_seo_email.TARGETS,
    *fault_targets.discovered(),
]


@dataclass
class Outcome:
    source: str
    scenario: str
    survived: bool
    rows_lost: int


RESULTS: list[Outcome] = []


def summary() -> str:
    """The table the suite prints at the end (n/a: rows that cannot happen for that API, each with
    its reason in the target's ``not_applicable``)."""
    if not RESULTS:
        return ""
    na = {t.source: len(t.not_applicable) for t in TARGETS}
    lines = [
        f"{'source':14} {'faults injected':>16} {'runs survived':>14} {'rows lost':>10} {'n/a':>4}"
    ]
    for source in dict.fromkeys(r.source for r in RESULTS):
        mine = [r for r in RESULTS if r.source == source]
        lines.append(
            f"{source:14} {len(mine):>16} {sum(r.survived for r in mine):>14} "
            f"{sum(r.rows_lost for r in mine):>10} {na.get(source, 0):>4}"
        )
    lines.append(
        f"{'total':14} {len(RESULTS):>16} {sum(r.survived for r in RESULTS):>14} "
        f"{sum(r.rows_lost for r in RESULTS):>10} {sum(na.values()):>4}"
    )
    return "\n".join([*lines, *ROWS_LOST_NOTE])


# What the "rows lost" column can and cannot show, printed under the table.
ROWS_LOST_NOTE = (
    "rows lost: rows of the clean load missing afterwards. After a fatal fault it is 0 by",
    "construction (the window is pulled in full before the write transaction opens, so a failing",
    "pull never writes); that an interrupted write keeps the old rows is proven by",
    "tests/warehouse/test_raw_loader.py and tests/warehouse/test_postgres_warehouse.py (failed inserts, killed processes).",
)
