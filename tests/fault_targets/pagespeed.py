"""Fault target: PageSpeed Insights (runPagespeed; a failed URL is recorded, the run goes on).

The ``load`` is the source's own extract and load (:func:`tests.fault_base.source_load`).
"""

from __future__ import annotations

import copy
from typing import Any

from pipelines.connectors import pagespeed
from sources.emulators.server import Fault
from tests.fault_base import (
    REPEATED_CURSOR,
    FaultTarget,
    malformed_and_truncated,
    source_load,
    standard_transient,
)


def _psi_lcp_as_text(payload: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["lighthouseResult"]["audits"]["largest-contentful-paint"]["numericValue"] = "2.1 s"
    return payload


def _psi_score_as_text(payload: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["lighthouseResult"]["categories"]["performance"]["score"] = "90"
    return payload


PSI_RUN = r"/pagespeedonline/v5/runPagespeed"
TARGET = FaultTarget(
    source="pagespeed",
    not_applicable={
        REPEATED_CURSOR: "one URL per call, answered by one whole report: no pagination",
        "new field": "a response is a whole Lighthouse report whose audits change with every release; the connector reads named audits, so a new audit is not a new column of a row",
    },
    path=PSI_RUN,
    table=pagespeed.TABLE,
    # The suite's fixed window stands for "yesterday": measured whatever the real date is.
    load=source_load(
        pagespeed.SOURCE,
        settings={"PAGESPEED_MAX_AGE_DAYS": "36500"},
        failures=pagespeed.FAILED_RUNS,
    ),
    transient=standard_transient(
        PSI_RUN,
        Fault(  # per-origin throttling: a 500 (api-notes/pagespeed.md), retried
            PSI_RUN,
            status=500,
            body={
                "error": {
                    "code": 500,
                    "message": "Unable to process request. Please wait a while and try again.",
                    "errors": [
                        {
                            "message": "Unable to process request. Please wait a while and try "
                            "again.",
                            "domain": "global",
                            "reason": "backendError",
                        }
                    ],
                    "status": "INTERNAL",
                }
            },
            times=2,
        ),
    ),
    fatal={
        **malformed_and_truncated(PSI_RUN),
        "type change in a field": [Fault(PSI_RUN, kind="transform", transform=_psi_lcp_as_text)],
        "type change in a score": [Fault(PSI_RUN, kind="transform", transform=_psi_score_as_text)],
    },
    quota=[
        Fault(
            PSI_RUN,
            times=10,
            status=429,
            body={
                "error": {
                    "code": 429,
                    "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                    "day' of service 'pagespeedonline.googleapis.com' for consumer "
                    "'project_number:123456789012'.",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
        )
    ],
    isolates_failures=True,
)
