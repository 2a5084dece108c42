"""Mentions exported by a social-listening tool (CSV or NDJSON files dropped into ``MENTIONS_DIR``).

Accepted files: ``*.csv`` (comma, semicolon or tab separated, UTF-8 with or without BOM, report
preamble lines before the header are skipped) and ``*.ndjson`` / ``*.jsonl`` (one JSON object per
line; an object wrapped as ``{"data": {...}}`` is unwrapped). Column names are matched ignoring
case, spaces and punctuation; the first present alias wins:

| field | aliases | required |
|---|---|---|
| timestamp | timestamp, date, datetime, date_time, created_at, created_time, published_at, published, publish_date, time, date_utc, date_gmt | yes |
| source | source, platform, network, page_type, source_type, media_type, channel, site, domain | no |
| text | text, content, snippet, message, full_text, body, title, mention, mention_text | text or url |
| url | url, link, permalink, mention_url, post_url | text or url |
| matched brand | matched_brand, brand, keyword, matched_keyword, query, query_name, search_term, topic, keywords | no (else the text is searched) |
| linked url | linked_url, expanded_url(s), links, shared_url, article_url (the first URL) | no |
| id | id, mention_id, resource_id, guid | no (else a hash of timestamp, url and text) |

Timestamps: ISO 8601 (an offset or ``Z`` is honoured; none means UTC), ``YYYY-MM-DD HH:MM[:SS]``
(UTC), a bare ``YYYY-MM-DD``, or epoch seconds / milliseconds. Day-first forms such as
``03/04/2025`` are ambiguous and rejected.

A malformed line is reported as ``file:line: reason`` and skipped; the rest of the file loads.
Which mention belongs to the brand or a competitor is decided in dbt from ``SOV_BRAND`` and
``SOV_COMPETITORS``, so changing them re-classifies history without reloading files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SUFFIXES = (".csv", ".ndjson", ".jsonl")
ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp",
        "date",
        "datetime",
        "date_time",
        "created_at",
        "created_time",
        "published_at",
        "published",
        "publish_date",
        "time",
        "date_utc",
        "date_gmt",
    ),
    "source": (
        "source",
        "platform",
        "network",
        "page_type",
        "source_type",
        "media_type",
        "channel",
        "site",
        "domain",
    ),
    "text": (
        "text",
        "content",
        "snippet",
        "message",
        "full_text",
        "body",
        "title",
        "mention",
        "mention_text",
    ),
    "url": ("url", "link", "permalink", "mention_url", "post_url"),
    "matched_brand": (
        "matched_brand",
        "brand",
        "keyword",
        "matched_keyword",
        "query",
        "query_name",
        "search_term",
        "topic",
        "keywords",
    ),
    "linked_url": (
        "linked_url",
        "expanded_url",
        "expanded_urls",
        "links",
        "shared_url",
        "article_url",
    ),
    "mention_id": ("id", "mention_id", "resource_id", "guid"),
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\d{9,13}(\.\d+)?$")
MAX_TEXT = 2000


def normalize(name: str) -> str:
    """``Published At`` / ``published-at`` / ``PUBLISHED_AT`` -> ``published_at``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def resolve_columns(by_normal: dict[str, str]) -> dict[str, str]:
    """Our field -> the file's column (given normalized name -> column), first alias present."""
    found: dict[str, str] = {}
    for target, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_normal and by_normal[alias] not in found.values():
                found[target] = by_normal[alias]
                break
    return found


def parse_timestamp(value: Any) -> datetime:
    """A mention time as a naive UTC datetime; raises ValueError with the reason."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        text = str(value or "").strip()
    if not text:
        raise ValueError("timestamp is empty")
    if _NUMBER.match(text):
        seconds = float(text) / (1000 if len(text.split(".")[0]) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
    if _ISO_DATE.match(text):
        return datetime.fromisoformat(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not ISO 8601 or epoch seconds") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def mention_key(record: dict[str, Any]) -> str:
    """The export's own id, else a hash of what identifies a mention."""
    if record.get("mention_id"):
        return str(record["mention_id"])
    basis = "|".join(str(record.get(k) or "") for k in ("mentioned_at", "url", "text", "source"))
    return "h:" + hashlib.sha256(basis.encode()).hexdigest()[:24]


@dataclass
class ParsedFile:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def dates(self) -> tuple[date, date] | None:
        days = [r["mention_date"] for r in self.rows]
        return (min(days), max(days)) if days else None


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(directory: Path) -> list[Path]:
    """Export files in ``directory`` (not recursive), in name order."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def parse_file(path: Path, time_zone: str = "UTC") -> ParsedFile:
    """Every mention of one export file; malformed lines become ``file:line: reason`` errors."""
    zone = ZoneInfo(time_zone)
    result = ParsedFile(path.name)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix.lower() == ".csv":
        records = _csv_records(path.name, text, result.errors)
    else:
        records = _ndjson_records(path.name, text, result.errors)
    for line, record in records:
        try:
            result.rows.append(_row(record, line, zone))
        except ValueError as exc:
            result.errors.append(f"{path.name}:{line}: {exc}")
    return result


def _row(record: dict[str, Any], line: int, zone: ZoneInfo) -> dict[str, Any]:
    mentioned_at = parse_timestamp(record.get("timestamp"))
    url = _text(record.get("url"))
    body = _text(record.get("text"))
    if not url and not body:
        raise ValueError("neither url nor text")
    linked = record.get("linked_url")
    if isinstance(linked, str):
        linked = re.split(r"[\s,]+", linked.strip())
    if isinstance(linked, list):
        linked = next((str(u) for u in linked if u), None)
    row = {
        "mention_id": _text(record.get("mention_id")),
        "mentioned_at": mentioned_at,
        "mention_date": mentioned_at.replace(tzinfo=UTC).astimezone(zone).date(),
        "source": (_text(record.get("source")) or "unknown").lower(),
        "url": url,
        "linked_url": _text(linked),
        "text": body[:MAX_TEXT] if body else None,
        "matched_brand": _text(record.get("matched_brand")),
        "line": line,
    }
    row["mention_key"] = mention_key(row)
    return row


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


def _csv_records(name: str, text: str, errors: list[str]) -> list[tuple[int, dict[str, Any]]]:
    lines = text.splitlines()
    header_index, delimiter = _find_header(lines)
    if header_index is None:
        errors.append(f"{name}:1: no header row with a timestamp and a url or text column")
        return []
    reader = csv.reader(io.StringIO("\n".join(lines[header_index:])), delimiter=delimiter)
    header = next(reader)
    columns = resolve_columns({normalize(h): h for h in header})
    index = {target: header.index(column) for target, column in columns.items()}
    records = []
    for values in reader:
        line = header_index + reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            errors.append(f"{name}:{line}: {len(values)} fields where the header has {len(header)}")
            continue
        records.append((line, {target: values[i] for target, i in index.items()}))
    return records


def _find_header(lines: list[str]) -> tuple[int | None, str]:
    """The first line (of the first 30) that names a timestamp and a url or text column."""
    for i, line in enumerate(lines[:30]):
        for delimiter in (",", ";", "\t"):
            if delimiter not in line:
                continue
            names = next(csv.reader([line], delimiter=delimiter))
            found = resolve_columns({normalize(n): n for n in names})
            if "timestamp" in found and ("url" in found or "text" in found):
                return i, delimiter
    return None, ","


def _ndjson_records(name: str, text: str, errors: list[str]) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{name}:{line_number}: not valid JSON ({exc.msg})")
            continue
        if isinstance(obj, dict) and set(obj) == {"data"} and isinstance(obj["data"], dict):
            obj = obj["data"]
        if not isinstance(obj, dict):
            errors.append(f"{name}:{line_number}: a JSON {type(obj).__name__}, not an object")
            continue
        columns = resolve_columns({normalize(k): k for k in obj})
        if "timestamp" not in columns:
            errors.append(f"{name}:{line_number}: no timestamp field")
            continue
        records.append((line_number, {target: obj[key] for target, key in columns.items()}))
    return records
