"""Fault target: Mailchimp (Marketing API /3.0/reports).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import mailchimp
from sources.emulators.server import Fault
from tests.fault_base import (
    FaultTarget,
    malformed_and_truncated,
    offset_ignored,
    source_load,
    standard_transient,
)


def _two_pages(client: Any) -> None:
    client.page_size = 1  # the window's two campaigns come on two pages


def _mailchimp_report(transform: Any) -> Any:
    def apply(page: dict[str, Any]) -> dict[str, Any]:
        page = copy.deepcopy(page)
        for report in page.get("reports") or []:
            transform(report)
        return page

    return apply


def _mailchimp_count_as_text(report: dict[str, Any]) -> None:
    report["emails_sent"] = f"{report['emails_sent']:,}"  # "1,204": a formatted string


def _mailchimp_rate_as_text(report: dict[str, Any]) -> None:
    report["opens"]["open_rate"] = "4.8%"


def _mailchimp_new_count(report: dict[str, Any]) -> None:
    report["opens"]["machine_opens"] = 17


MAILCHIMP_REPORTS = r"/3\.0/reports"
TARGET = FaultTarget(
    source="mailchimp",
    not_applicable={
        "exhausted daily quota": "Mailchimp has no daily quota, only 10 simultaneous connections (the throttle above)",
    },
    path=MAILCHIMP_REPORTS,
    table=mailchimp.SOURCE.table("campaigns").table,
    load=source_load(mailchimp.SOURCE, _two_pages),
    transient=standard_transient(
        MAILCHIMP_REPORTS,
        Fault(  # problem+json, no Retry-After (api-notes/mailchimp.md)
            MAILCHIMP_REPORTS,
            status=429,
            body={
                "type": "https://mailchimp.com/developer/marketing/docs/errors/",
                "title": "TooManyRequests",
                "status": 429,
                "detail": "You have exceeded the limit of 10 simultaneous connections.",
                "instance": "3b4dcb40",
            },
        ),
    ),
    fatal={
        **malformed_and_truncated(MAILCHIMP_REPORTS),
        "type change in a field": [
            Fault(
                MAILCHIMP_REPORTS,
                kind="transform",
                transform=_mailchimp_report(_mailchimp_count_as_text),
            )
        ],
        "type change in a rate": [
            Fault(
                MAILCHIMP_REPORTS,
                kind="transform",
                transform=_mailchimp_report(_mailchimp_rate_as_text),
            )
        ],
        **offset_ignored(MAILCHIMP_REPORTS, "offset"),
    },
    quota=None,
    new_field=_mailchimp_report(_mailchimp_new_count),
    new_field_column="opens_machine_opens",
    new_field_value=17,
    volatile=("report_as_of",),  # the moment of the pull: reports are lifetime-cumulative
)
