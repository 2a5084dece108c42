"""KPI targets (``config/targets.yml``): parsing and validation, with errors that name the line.

The file is reviewed like code: every entry names a catalog KPI, the periods it covers (one
``period`` or a ``from``/``to`` range of periods of one grain), the target value and optional
tolerances. The validated targets become ``raw.kpi_targets`` (see ``targets_asset.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from pipelines.kpi.catalog import Catalog
from pipelines.lib.settings import PROJECT_ROOT, env

DEFAULT_TARGETS_PATH = "config/targets.yml"
FIELDS = {
    "kpi",
    "grain",
    "period",
    "from",
    "to",
    "segment",
    "target",
    "warn_tolerance",
    "error_tolerance",
    "owner",
    "note",
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class TargetsError(ValueError):
    """The targets file is invalid; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Target:
    kpi_id: str
    grain: str
    segment: str
    effective_from: date  # first day of the first period
    effective_to: date | None  # last day of the last period; None: open-ended
    target_value: float
    warn_tolerance: float
    error_tolerance: float
    tolerance_source: str  # "target" or "catalog"
    owner: str
    note: str
    line: int

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def targets_path() -> Path:
    """``KPI_TARGETS_PATH`` (relative to the project root), default ``config/targets.yml``."""
    path = Path(env("KPI_TARGETS_PATH", DEFAULT_TARGETS_PATH))
    return path if path.is_absolute() else PROJECT_ROOT / path


def parse_period(text: str) -> tuple[str, date, date]:
    """``2025-03`` (month), ``2025-W10`` (ISO week) or ``2025-03-05`` (day) as grain, first, last."""
    text = str(text).strip()
    if m := _MONTH.match(text):
        first = date(int(m[1]), int(m[2]), 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return "month", first, last
    if m := _WEEK.match(text):
        first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        return "week", first, first + timedelta(days=6)
    day = date.fromisoformat(text)
    return "day", day, day


def period_label(grain: str, start: date) -> str:
    """The ISO name of a period: ``2025-03``, ``2025-W10`` or ``2025-03-05``."""
    if grain == "month":
        return start.strftime("%Y-%m")
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return start.isoformat()


class _Lines:
    """Line numbers of each target entry and its fields, from the YAML node tree."""

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[int, dict[str, int]]] = []
        root = yaml.compose(text)
        if not isinstance(root, yaml.MappingNode):
            return
        for key, value in root.value:
            if key.value == "targets" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    fields = (
                        {k.value: k.start_mark.line + 1 for k, _ in item.value}
                        if isinstance(item, yaml.MappingNode)
                        else {}
                    )
                    self.entries.append((item.start_mark.line + 1, fields))

    def of(self, index: int, field: str | None = None) -> int:
        if index >= len(self.entries):
            return 0
        line, fields = self.entries[index]
        return fields.get(field, line) if field else line


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _parse_entry(entry: Any, index: int, lines: _Lines, catalog: Catalog, origin: str) -> Target:
    def fail(message: str, field: str | None = None) -> TargetsError:
        return TargetsError(f"{origin}:{lines.of(index, field)}: {message}")

    if not isinstance(entry, dict):
        raise fail("each target is a mapping with kpi, period (or from/to) and target")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise fail(
            f"unknown field {unknown[0]!r}; allowed fields are {', '.join(sorted(FIELDS))}",
            unknown[0],
        )
    kpi_id = entry.get("kpi")
    if not kpi_id:
        raise fail("field 'kpi' is missing; name a KPI id from config/kpis.yml")
    try:
        kpi = catalog[str(kpi_id)]
    except KeyError:
        raise fail(
            f"unknown KPI id {kpi_id!r}; use an id from config/kpis.yml "
            f"(e.g. {', '.join(catalog.ids()[:3])})",
            "kpi",
        ) from None
    where = f"{kpi.id}:"

    # Periods: one `period`, or a `from`/`to` range of periods of the same grain.
    if "period" in entry and ("from" in entry or "to" in entry):
        raise fail(f"{where} give either 'period' or 'from'/'to', not both", "period")
    first_text = entry.get("period", entry.get("from"))
    if first_text in (None, ""):
        raise fail(
            f"{where} no period; add 'period: 2025-03' (month), '2025-W10' (week) or "
            "'2025-03-05' (day), or a 'from:'/'to:' range",
        )
    try:
        grain, effective_from, last = parse_period(first_text)
        effective_to: date | None = last if "period" in entry else None
        if entry.get("to") not in (None, ""):
            to_grain, _, effective_to = parse_period(entry["to"])
            if to_grain != grain:
                raise fail(
                    f"{where} 'from' is a {grain} and 'to' a {to_grain}; use periods of one grain",
                    "to",
                )
    except ValueError as exc:
        if isinstance(exc, TargetsError):
            raise
        field = "period" if "period" in entry else "from"
        raise fail(
            f"{where} {first_text!r} is not a period; write 2025-03 (month), 2025-W10 (ISO week) "
            "or 2025-03-05 (day)",
            field,
        ) from None
    declared = entry.get("grain")
    if declared is not None and declared != grain:
        raise fail(
            f"{where} grain {declared!r} does not match the period {first_text!r} (a {grain}); "
            "fix one of them",
            "grain",
        )
    if effective_to is not None and effective_to < effective_from:
        raise fail(f"{where} 'to' is before 'from'; swap them", "to")

    value = _number(entry.get("target"))
    if value is None:
        raise fail(f"{where} 'target' must be a number, got {entry.get('target')!r}", "target")
    if kpi.unit == "fraction" and not 0 < value <= 1:
        hint = f"write {value / 100:g} for {value:g}%" if 1 < value <= 100 else "use 0..1"
        raise fail(
            f"{where} target {value:g} is not a fraction; {kpi.id} is a percent KPI stored as "
            f"0..1: {hint}",
            "target",
        )
    if value <= 0:
        raise fail(f"{where} target {value:g} must be positive (gaps are relative to it)", "target")

    tolerances: dict[str, float] = {}
    for name, default in (
        ("warn_tolerance", kpi.warn_tolerance),
        ("error_tolerance", kpi.error_tolerance),
    ):
        if name not in entry:
            tolerances[name] = default
            continue
        tol = _number(entry[name])
        if tol is None:
            raise fail(
                f"{where} {name} is missing its value; give a fraction such as {default:g} "
                f"({default:.0%}) or delete the key to use the catalog default {default:g}",
                name,
            )
        if not 0 < tol < 1:
            hint = f"; write {tol / 100:g} for {tol:g}%" if 1 <= tol <= 100 else ""
            raise fail(f"{where} {name} {tol:g} must be a fraction between 0 and 1{hint}", name)
        tolerances[name] = tol
    if tolerances["warn_tolerance"] >= tolerances["error_tolerance"]:
        raise fail(
            f"{where} warn_tolerance {tolerances['warn_tolerance']:g} must be below "
            f"error_tolerance {tolerances['error_tolerance']:g}; raise error_tolerance or lower "
            "warn_tolerance",
            "warn_tolerance" if "warn_tolerance" in entry else "error_tolerance",
        )
    return Target(
        kpi_id=kpi.id,
        grain=grain,
        segment=str(entry.get("segment") or "all"),
        effective_from=effective_from,
        effective_to=effective_to,
        target_value=value,
        warn_tolerance=tolerances["warn_tolerance"],
        error_tolerance=tolerances["error_tolerance"],
        tolerance_source=(
            "target" if {"warn_tolerance", "error_tolerance"} & set(entry) else "catalog"
        ),
        owner=str(entry.get("owner") or ""),
        note=str(entry.get("note") or ""),
        line=lines.of(index),
    )


def _check_overlaps(targets: list[Target], origin: str) -> None:
    by_key: dict[tuple[str, str, str], list[Target]] = {}
    for t in targets:
        by_key.setdefault((t.kpi_id, t.segment, t.grain), []).append(t)
    for (kpi_id, segment, grain), group in by_key.items():
        group.sort(key=lambda t: t.effective_from)
        for earlier, later in pairwise(group):
            if earlier.effective_to is None or later.effective_from <= earlier.effective_to:
                end = "open-ended" if earlier.effective_to is None else str(earlier.effective_to)
                raise TargetsError(
                    f"{origin}:{later.line}: {kpi_id} (segment {segment}, {grain}) from "
                    f"{later.effective_from} overlaps the target on line {earlier.line} "
                    f"({earlier.effective_from}..{end}); end the earlier one with 'to:' before "
                    "this one starts, or delete one"
                )


def parse_targets(text: str, catalog: Catalog, origin: str = DEFAULT_TARGETS_PATH) -> list[Target]:
    """Validate the YAML text of a targets file against the catalog."""
    try:
        data = yaml.safe_load(text) or {}
        lines = _Lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark else "?"
        raise TargetsError(f"{origin}:{line}: not valid YAML ({exc}); fix the syntax") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets") or [], list):
        raise TargetsError(f"{origin}:1: expected a mapping with a 'targets:' list")
    targets = [
        _parse_entry(entry, index, lines, catalog, origin)
        for index, entry in enumerate(data.get("targets") or [])
    ]
    _check_overlaps(targets, origin)
    return targets


def load_targets(catalog: Catalog, path: Path | None = None) -> list[Target]:
    """Read and validate the targets file (``KPI_TARGETS_PATH``)."""
    path = path or targets_path()
    try:
        origin = str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        origin = str(path)
    if not path.exists():
        raise TargetsError(f"{origin}: file not found; create it (see config/targets.yml)")
    return parse_targets(path.read_text(), catalog, origin)


TARGETS_SCHEMA = pa.schema(
    [
        ("kpi_id", pa.string()),
        ("grain", pa.string()),
        ("segment", pa.string()),
        ("effective_from", pa.date32()),
        ("effective_to", pa.date32()),
        ("target_value", pa.float64()),
        ("warn_tolerance", pa.float64()),
        ("error_tolerance", pa.float64()),
        ("tolerance_source", pa.string()),
        ("owner", pa.string()),
        ("note", pa.string()),
        ("source_line", pa.int64()),
    ]
)


def targets_to_arrow(targets: list[Target]) -> pa.Table:
    """The targets as the ``raw.kpi_targets`` table."""
    return pa.Table.from_pylist(
        [
            {
                "kpi_id": t.kpi_id,
                "grain": t.grain,
                "segment": t.segment,
                "effective_from": t.effective_from,
                "effective_to": t.effective_to,
                "target_value": t.target_value,
                "warn_tolerance": t.warn_tolerance,
                "error_tolerance": t.error_tolerance,
                "tolerance_source": t.tolerance_source,
                "owner": t.owner,
                "note": t.note,
                "source_line": t.line,
            }
            for t in targets
        ],
        schema=TARGETS_SCHEMA,
    )
