"""Every source the project ships, declared once each (see :mod:`pipelines.connectors.framework`)."""

from __future__ import annotations

from pipelines.connectors import (
    backlinks,
    content_costs,
    fx,
    ga4,
    google_ads,
    hubspot,
    linkedin,
    mailchimp,
    marketing_costs,
    mentions,
    meta_ads,
    meta_graph,
    pagespeed,
    search_console,
    stripe,
    wordpress,
    zendesk,
)
from pipelines.connectors.framework import Source

SOURCES: tuple[Source, ...] = (
    ga4.SOURCE,
    fx.SOURCE,
    mailchimp.SOURCE,
    search_console.SOURCE,
    pagespeed.SOURCE,
    backlinks.SOURCE,
    meta_graph.SOURCE,
    linkedin.SOURCE,
    mentions.SOURCE,
    wordpress.SOURCE,
    content_costs.SOURCE,
    stripe.SOURCE,
    hubspot.SOURCE,
    zendesk.SOURCE,
    google_ads.SOURCE,
    meta_ads.SOURCE,
    marketing_costs.SOURCE,
)


def source(name: str) -> Source:
    """The declaration of ``name``; a clear error listing the known ones otherwise."""
    for declared in SOURCES:
        if declared.name == name:
            return declared
    raise KeyError(f"unknown source {name!r}; known: {', '.join(s.name for s in SOURCES)}")
