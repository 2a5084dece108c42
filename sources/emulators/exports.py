"""Files the demo company "drops" for the file-based sources: mention exports and content costs.

Mention exports come in three shapes real social-listening tools produce: a Brandwatch-style CSV
(report preamble, ``Query Name``, ``Date`` as ``YYYY-MM-DD HH:MM:SS.0``, ``Expanded Urls``), a
Talkwalker-style NDJSON (``{"data": {...}}``, ``published`` in epoch ms) and a plain CSV
(``timestamp,source,text,url,matched_brand,linked_url``).
"""

from __future__ import annotations

import csv
import io
import json
from calendar import monthrange
from datetime import UTC, date, timedelta
from pathlib import Path

from sources.emulators.company import Mention, blog_posts, mentions_on

SHAPES = ("brandwatch", "talkwalker", "plain")
MALFORMED_LINE = '{"data": {"url": "https://twitter.example/post/broken", "published": '


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def render_export(shape: str, mentions: list[Mention], *, malformed: bool = False) -> str:
    """One export file's text in ``shape``; ``malformed`` adds one broken line in the middle."""
    if shape == "talkwalker":
        lines = [
            json.dumps(
                {
                    "data": {
                        "id": m.mention_id,
                        "url": m.url,
                        "published": int(m.at.replace(tzinfo=UTC).timestamp() * 1000),
                        "title": m.text[:40],
                        "content": m.text,
                        "source_type": m.source,
                        "keyword": m.brand,
                        "links": [m.linked_url] if m.linked_url else [],
                    }
                }
            )
            for m in mentions
        ]
        if malformed:
            lines.insert(len(lines) // 2, MALFORMED_LINE)
        return "\n".join(lines) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if shape == "brandwatch":
        out.write("Report:,Northwind vs competitors\nBrandwatch export\n\n")
        writer.writerow(
            [
                "Query Id",
                "Query Name",
                "Date",
                "Title",
                "Url",
                "Domain",
                "Page Type",
                "Full Text",
                "Expanded Urls",
                "Resource Id",
            ]
        )
        for m in mentions:
            writer.writerow(
                [
                    1998,
                    f"{m.brand} - brand",
                    m.at.strftime("%Y-%m-%d %H:%M:%S.0"),
                    m.text[:40],
                    m.url,
                    f"{m.source}.example",
                    m.source,
                    m.text,
                    m.linked_url or "",
                    m.mention_id,
                ]
            )
    else:
        writer.writerow(["timestamp", "source", "text", "url", "matched_brand", "linked_url"])
        for m in mentions:
            writer.writerow(
                [
                    m.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    m.source,
                    m.text,
                    m.url,
                    m.brand,
                    m.linked_url or "",
                ]
            )
    text = out.getvalue()
    if malformed:
        lines = text.splitlines()
        lines.insert(len(lines) // 2, '2025-01-01T00:00:00Z,twitter,"unterminated')
        text = "\n".join(lines) + "\n"
    return text


def write_mention_exports(
    directory: Path, start: date, end: date, *, malformed: bool = True
) -> list[Path]:
    """One file per calendar month of ``start..end``, rotating through the export shapes.

    A file is rewritten only when its content changed (so its checksum stays stable).
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    month = start.replace(day=1)
    index = 0
    while month <= end:
        last = month.replace(day=monthrange(month.year, month.month)[1])
        days = [d for d in _days(max(month, start), min(last, end))]
        shape = SHAPES[(month.year * 12 + month.month) % len(SHAPES)]
        suffix = "ndjson" if shape == "talkwalker" else "csv"
        path = directory / f"{shape}_{month:%Y-%m}.{suffix}"
        mentions = [m for d in days for m in mentions_on(d)]
        text = render_export(shape, mentions, malformed=malformed and shape == "talkwalker")
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
        month = last + timedelta(days=1)
        index += 1
    return written


def write_costs_file(path: Path, through: date) -> Path:
    """The editable production-cost CSV for every post published by ``through``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["url", "cost", "currency", "published_date", "title"])
    for post in blog_posts():
        if post.published <= through:
            writer.writerow([post.url, f"{post.cost:.2f}", post.currency, "", ""])
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != out.getvalue():
        path.write_text(out.getvalue())
    return path
