"""Fault targets: Stripe, HubSpot, Zendesk.

Each ``load`` pulls the suite's window with the real client and loads it the way the source's
asset in pipelines/ does. The emulators answer as of ``AS_OF`` (pinned by the suite).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from pipelines import hubspot as hubspot_pipeline
from pipelines import stripe as stripe_pipeline
from pipelines import zendesk as zendesk_pipeline
from pipelines.coverage import sync_days
from pipelines.ingest import arrow_table
from pipelines.raw_loader import replace_keys, replace_window
from sources.emulators import hubspot as hubspot_emulator
from sources.emulators import stripe as stripe_emulator
from sources.emulators import zendesk as zendesk_emulator
from sources.emulators.server import Fault
from sources.emulators.stack import EmulatorStack
from sources.http import RetryPolicy
from sources.hubspot import SEARCH_REQUESTS_PER_SECOND, HubSpotClient
from sources.stripe import StripeClient
from sources.timezones import epoch_seconds
from sources.zendesk import EXPORT_REQUESTS_PER_MINUTE, ZendeskClient
from tests.fault_base import (
    END,
    START,
    FaultTarget,
    ReplayFirstPage,
    instant_limiter,
    malformed_and_truncated,
    short_timeout,
    standard_transient,
)

Con = duckdb.DuckDBPyConnection
TZ = ZoneInfo("UTC")


# --- Stripe ---------------------------------------------------------------------------------------
def _stripe_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = StripeClient(stripe_emulator.DEMO_API_KEY, base_url=stack.server.base_url, retry=retry)
    short_timeout(client, timeout)
    account = "default"
    rows = [
        {**row, "_account_id": account, "_partition_date": row["created_day"]}
        for row in client.charges(START, END, TZ)
    ]
    loaded = replace_window(
        con,
        stripe_pipeline.TABLES["charges"],
        arrow_table(rows, stripe_pipeline.CHARGES_SCHEMA),
        account_ids=[account],
        start=START,
        end=END,
        run_id="faults",
    ).rows_inserted
    first = [
        {**row, "_account_id": account} for row in client.first_charges_before(rows, START, TZ)
    ]
    loaded += replace_keys(
        con,
        stripe_pipeline.TABLES["customer_first_charges"],
        arrow_table(first, stripe_pipeline.FIRST_CHARGES_SCHEMA),
        keys=["_account_id", "customer"],
        run_id="faults",
    ).rows_inserted
    return loaded + _sync_days(con, stripe_pipeline.TABLES["sync_days"], account)


def _sync_days(con: Con, table: str, account: str) -> int:
    return replace_window(
        con,
        table,
        sync_days(account, START, END),
        account_ids=[account],
        start=START,
        end=END,
        run_id="faults",
    ).rows_inserted


def _stripe_amount_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for charge in page.get("data") or []:
        charge["amount"] = f"{charge['amount'] / 100:.2f}"  # "12.50": major units as text
    return page


def _stripe_more(page: dict[str, Any]) -> None:
    page["has_more"] = True


STRIPE_CHARGES = r"/v1/charges"
STRIPE = FaultTarget(
    source="stripe",
    not_applicable={
        "exhausted daily quota": "Stripe limits requests per second only (the throttle above): no daily quota",
        "new field": "a charge carries dozens of fields, personal data among them; the connector lands a reviewed set, so a field Stripe adds is reviewed before it is landed",
    },
    path=STRIPE_CHARGES,
    table=stripe_pipeline.TABLES["charges"],
    load=_stripe_load,
    transient=standard_transient(
        STRIPE_CHARGES,
        Fault(  # the documented error object (api-notes/stripe.md)
            STRIPE_CHARGES,
            status=429,
            times=2,
            body={
                "error": {
                    "code": "rate_limit",
                    "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                    "message": "Request rate limit exceeded. You can learn more about rate "
                    "limits here https://stripe.com/docs/rate-limits.",
                    "type": "invalid_request_error",
                }
            },
        ),
    ),
    fatal={
        **malformed_and_truncated(STRIPE_CHARGES),
        "type change in a field": [
            Fault(STRIPE_CHARGES, kind="transform", transform=_stripe_amount_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                STRIPE_CHARGES, kind="transform", times=50, transform=ReplayFirstPage(_stripe_more)
            )
        ],
    },
)


# --- HubSpot --------------------------------------------------------------------------------------
def _hubspot_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    client = HubSpotClient(
        hubspot_emulator.DEMO_ACCESS_TOKEN,
        base_url=stack.server.base_url,
        retry=retry,
        search_limiter=instant_limiter(SEARCH_REQUESTS_PER_SECOND, 1.0),
        page_limit=10,  # several search pages per object type
    )
    short_timeout(client, timeout)
    account = client.account_details()
    portal = str(account["portalId"])
    default_currency = str(account.get("companyCurrency") or "USD")
    stages = client.deal_stages()
    low = epoch_seconds(START, TZ) * 1000
    high = int(datetime.now(UTC).timestamp() * 1000)
    contacts = client.contacts_modified(low, high, TZ)
    deals = client.deals_modified(low, high, TZ, stages, default_currency)

    def stamp(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "_account_id": portal, "_partition_date": r["created_day"]} for r in rows]

    loaded = 0
    for name, rows, schema in (
        ("contacts", contacts, hubspot_pipeline.CONTACTS_SCHEMA),
        ("deals", deals, hubspot_pipeline.DEALS_SCHEMA),
    ):
        loaded += replace_keys(
            con,
            hubspot_pipeline.TABLES[name],
            arrow_table(stamp(rows), schema),
            keys=["_account_id", "id"],
            run_id="faults",
        ).rows_inserted
    return loaded + _sync_days(con, hubspot_pipeline.TABLES["sync_days"], portal)


def _hubspot_amount_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for obj in page.get("results") or []:
        properties = obj.get("properties") or {}
        for name in ("amount", "createdate"):
            if name in properties:
                properties[name] = "n/a"
    return page


def _hubspot_next(page: dict[str, Any]) -> None:
    after = ((page.get("paging") or {}).get("next") or {}).get("after") or "1"
    page["paging"] = {"next": {"after": after}}


HUBSPOT_SEARCH = r"/crm/v3/objects/\w+/search"
HUBSPOT_429 = {
    "status": "error",
    "errorType": "RATE_LIMIT",
    "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
    "requestId": "3d3e35b7-0dae-4b9f-a6e3-9c230cbcf8dd",
}
HUBSPOT = FaultTarget(
    source="hubspot",
    not_applicable={
        "new field": "search returns only the properties asked for by name (HubSpot drops unknown ones), so a property HubSpot adds never arrives unasked",
    },
    path=HUBSPOT_SEARCH,
    table=hubspot_pipeline.TABLES["contacts"],
    load=_hubspot_load,
    transient={
        **standard_transient(
            HUBSPOT_SEARCH,
            Fault(
                HUBSPOT_SEARCH,
                status=429,
                body={
                    **HUBSPOT_429,
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "policyName": "TEN_SECONDLY_ROLLING",
                },
            ),
        ),
        "provider throttle shape (search SECONDLY)": [
            Fault(
                HUBSPOT_SEARCH,
                status=429,
                times=2,
                body={
                    **HUBSPOT_429,
                    "message": "You have reached your secondly limit.",
                    "policyName": "SECONDLY",
                },
            )
        ],
    },
    fatal={
        **malformed_and_truncated(HUBSPOT_SEARCH),
        "type change in a field": [
            Fault(HUBSPOT_SEARCH, kind="transform", transform=_hubspot_amount_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                HUBSPOT_SEARCH, kind="transform", times=50, transform=ReplayFirstPage(_hubspot_next)
            )
        ],
    },
    quota=[  # the DAILY limit lasts until the portal's midnight
        Fault(
            HUBSPOT_SEARCH,
            status=429,
            times=10,
            body={
                **HUBSPOT_429,
                "message": "You have reached your daily limit.",
                "policyName": "DAILY",
            },
        )
    ],
)


# --- Zendesk --------------------------------------------------------------------------------------
def _zendesk_load(stack: EmulatorStack, retry: RetryPolicy, con: Con, timeout: float) -> int:
    account = zendesk_emulator.DEMO_SUBDOMAIN
    client = ZendeskClient(
        account,
        zendesk_emulator.DEMO_EMAIL,
        zendesk_emulator.DEMO_API_TOKEN,
        base_url=stack.server.base_url,
        retry=retry,
        export_limiter=instant_limiter(EXPORT_REQUESTS_PER_MINUTE, 60.0),
        export_page_size=100,  # several export pages for the window
    )
    short_timeout(client, timeout)
    # Every run takes the asset's restart path (no saved cursor, or a window before the first day
    # it covers): the export streams the whole window from start_time, so each scenario meets
    # the full stream. The cursor is saved afterwards as the asset saves it.
    start_time = min(epoch_seconds(START, TZ), int(datetime.now(UTC).timestamp()) - 120)
    streamed: list[dict[str, Any]] = []
    after_cursor = None
    for page in client.export_tickets(TZ, start_time=start_time):
        streamed.extend(page.tickets)
        after_cursor = page.after_cursor or after_cursor
    tickets = [
        {**t, "_account_id": account, "_partition_date": t["created_day"]}
        for t in zendesk_pipeline.latest_per_ticket(streamed)
    ]
    ratings = [
        {**r, "_account_id": account, "_partition_date": r["rated_day"]}
        for r in client.satisfaction_ratings(epoch_seconds(START, TZ), epoch_seconds(END, TZ), TZ)
    ]
    loaded = replace_keys(
        con,
        zendesk_pipeline.TABLES["tickets"],
        arrow_table(tickets, zendesk_pipeline.TICKETS_SCHEMA),
        keys=["_account_id", "id"],
        run_id="faults",
    ).rows_inserted
    loaded += replace_window(
        con,
        zendesk_pipeline.TABLES["satisfaction_ratings"],
        arrow_table(ratings, zendesk_pipeline.RATINGS_SCHEMA),
        account_ids=[account],
        start=START,
        end=END,
        run_id="faults",
    ).rows_inserted
    loaded += _sync_days(con, zendesk_pipeline.TABLES["sync_days"], account)
    state = {
        "_account_id": account,
        "after_cursor": after_cursor,
        "covered_from": START,
        "tickets_streamed": len(streamed),
    }
    replace_keys(
        con,
        zendesk_pipeline.STATE_TABLE,
        pa.Table.from_pylist([state], schema=zendesk_pipeline.STATE_SCHEMA),
        keys=["_account_id"],
        run_id="faults",
    )
    return loaded


def _zendesk_id_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for ticket in page.get("tickets") or []:
        ticket["id"] = f"ZD-{ticket['id']}"
    return page


def _zendesk_count_as_text(page: dict[str, Any]) -> dict[str, Any]:
    page = copy.deepcopy(page)
    for ticket in page.get("tickets") or []:
        if ticket.get("metric_set"):
            ticket["metric_set"]["replies"] = "two"
    return page


def _zendesk_not_the_end(page: dict[str, Any]) -> None:
    page["end_of_stream"] = False


ZENDESK_EXPORT = r"/api/v2/incremental/tickets/cursor\.json"
ZENDESK = FaultTarget(
    source="zendesk",
    not_applicable={
        "exhausted daily quota": "Zendesk limits requests per minute only (the 429 above): no daily quota",
        "new field": "tickets carry free text and personal data; the connector lands a reviewed set of fields, so a new one is reviewed first",
    },
    path=ZENDESK_EXPORT,
    table=zendesk_pipeline.TABLES["tickets"],
    load=_zendesk_load,
    transient=standard_transient(
        ZENDESK_EXPORT,
        # 429 with Retry-After in seconds and a plain-text body (api-notes/zendesk.md).
        Fault(ZENDESK_EXPORT, status=429, headers={"Retry-After": "37"}, body="Too Many Requests"),
    ),
    fatal={
        **malformed_and_truncated(ZENDESK_EXPORT),
        "type change in a field": [
            Fault(ZENDESK_EXPORT, kind="transform", transform=_zendesk_id_as_text)
        ],
        "type change in a count": [
            Fault(ZENDESK_EXPORT, kind="transform", transform=_zendesk_count_as_text)
        ],
        "repeated pagination cursor": [
            Fault(
                ZENDESK_EXPORT,
                kind="transform",
                times=50,
                transform=ReplayFirstPage(_zendesk_not_the_end),
            )
        ],
    },
)

TARGETS = [STRIPE, HUBSPOT, ZENDESK]
