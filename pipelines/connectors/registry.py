"""Every source the project ships, declared once each (see :mod:`pipelines.connectors.framework`)."""

from __future__ import annotations

from pipelines.connectors import (
    backlinks,
    fx,
    ga4,
    google_ads,
    mailchimp,
    meta_ads,
    pagespeed,
    search_console,
)
from pipelines.connectors.framework import Source

SOURCES: tuple[Source, ...] = (
    ga4.SOURCE,
    fx.SOURCE,
    mailchimp.SOURCE,
    search_console.SOURCE,
    pagespeed.SOURCE,
    backlinks.SOURCE,
    google_ads.SOURCE,
    meta_ads.SOURCE,
)


def source(name: str) -> Source:
    """The declaration of ``name``; a clear error listing the known ones otherwise."""
    for declared in SOURCES:
        if declared.name == name:
            return declared
    raise KeyError(f"unknown source {name!r}; known: {', '.join(s.name for s in SOURCES)}")
