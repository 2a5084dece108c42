"""Settings of the paid-ads sources (Google Ads, Meta Ads) and the marketing-costs file.

Resolved when a run starts, like ``pipelines.connectors.resources``; fields set here win over the environment
(tests use that). A source whose required settings are absent is *not configured*.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.lib.settings import PROJECT_ROOT, env

DEFAULT_MARKETING_COSTS_PATH = "config/marketing_costs.csv"


class MarketingCostsResource(dg.ConfigurableResource):
    """``MARKETING_COSTS_PATH``: the CSV of monthly costs no API reports (relative to the project)."""

    path: str | None = None

    def file(self) -> Path:
        p = Path(self.path or env("MARKETING_COSTS_PATH", DEFAULT_MARKETING_COSTS_PATH) or "")
        return p if p.is_absolute() else PROJECT_ROOT / p
