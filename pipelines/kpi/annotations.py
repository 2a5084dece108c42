"""Team annotations (``config/annotations.yml``): known events shown on the dashboard's charts.

Validated against the KPI catalog; every error names the file, the line and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipelines.kpi.catalog import Catalog
from pipelines.lib.settings import PROJECT_ROOT, env

DEFAULT_ANNOTATIONS_PATH = "config/annotations.yml"
FIELDS = {"date", "to", "title", "note", "kpis"}


class AnnotationsError(ValueError):
    """The annotations file is invalid; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Annotation:
    start: date
    end: date
    title: str
    note: str
    kpis: tuple[str, ...]  # KPI ids or channels; empty: every KPI
    line: int

    def concerns(self, kpi_id: str) -> bool:
        return not self.kpis or kpi_id in self.kpis or kpi_id.split(".")[0] in self.kpis

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "title": self.title,
            "note": self.note,
            "kpis": list(self.kpis),
        }


def annotations_path() -> Path:
    """``KPI_ANNOTATIONS_PATH`` (default ``config/annotations.yml``, relative to the project root)."""
    path = Path(env("KPI_ANNOTATIONS_PATH", DEFAULT_ANNOTATIONS_PATH))
    return path if path.is_absolute() else PROJECT_ROOT / path


def _entry_lines(text: str) -> list[tuple[int, dict[str, int]]]:
    """(line of the entry, line of each field) for every item of the ``annotations:`` list."""
    root = yaml.compose(text)
    entries: list[tuple[int, dict[str, int]]] = []
    if not isinstance(root, yaml.MappingNode):
        return entries
    for key, value in root.value:
        if key.value == "annotations" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                fields = (
                    {k.value: k.start_mark.line + 1 for k, _ in item.value}
                    if isinstance(item, yaml.MappingNode)
                    else {}
                )
                entries.append((item.start_mark.line + 1, fields))
    return entries


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def parse_annotations(
    text: str, catalog: Catalog, origin: str = DEFAULT_ANNOTATIONS_PATH
) -> list[Annotation]:
    """Validate the YAML text of an annotations file against the catalog."""
    try:
        data = yaml.safe_load(text) or {}
        lines = _entry_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark else "?"
        raise AnnotationsError(f"{origin}:{line}: not valid YAML ({exc}); fix the syntax") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations") or [], list):
        raise AnnotationsError(f"{origin}:1: expected a mapping with an 'annotations:' list")
    channels = {k.channel for k in catalog.kpis}
    names = set(catalog.ids()) | channels
    return [
        _parse_entry(entry, *(lines[index] if index < len(lines) else (0, {})), names, origin)
        for index, entry in enumerate(data.get("annotations") or [])
    ]


def _parse_entry(
    entry: Any, line: int, field_lines: dict[str, int], names: set[str], origin: str
) -> Annotation:
    def fail(message: str, field: str | None = None) -> AnnotationsError:
        return AnnotationsError(f"{origin}:{field_lines.get(field or '', line)}: {message}")

    if not isinstance(entry, dict):
        raise fail("each annotation is a mapping with date and title (see the file's header)")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise fail(
            f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(FIELDS))}",
            unknown[0],
        )
    start = _day(entry.get("date"))
    if start is None:
        raise fail("date must be a day like 2026-03-02", "date")
    end = _day(entry["to"]) if entry.get("to") is not None else start
    if end is None or end < start:
        raise fail(f"to must be a day like 2026-03-09, not before date {start}", "to")
    title = str(entry.get("title") or "").strip()
    if not title:
        raise fail("title is missing; add a short label such as 'Spring campaign launch'")
    kpis = entry.get("kpis") or []
    if isinstance(kpis, str):
        kpis = [kpis]
    if not isinstance(kpis, list):
        raise fail("kpis must be a list of KPI ids or channels", "kpis")
    for name in kpis:
        if str(name) not in names:
            raise fail(
                f"kpis: {name!r} is neither a KPI id nor a channel of config/kpis.yml; use an id "
                "such as digital.bounce_rate or a channel such as paid_ads",
                "kpis",
            )
    return Annotation(
        start=start,
        end=end,
        title=title,
        note=str(entry.get("note") or "").strip(),
        kpis=tuple(str(k) for k in kpis),
        line=line,
    )


def load_annotations(catalog: Catalog, path: Path | None = None) -> list[Annotation]:
    """Read and validate the annotations file (``KPI_ANNOTATIONS_PATH``); none when it is absent."""
    path = path or annotations_path()
    if not path.exists():
        return []
    try:
        origin = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        origin = str(path)
    return parse_annotations(path.read_text(), catalog, origin)
