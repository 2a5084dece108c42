"""The KPI catalog (``config/kpis.yml``): loading, validation, and the table dbt reads it from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa
import yaml

from pipelines.lib.settings import PROJECT_ROOT

CATALOG_PATH = PROJECT_ROOT / "config" / "kpis.yml"
UNITS = {"count", "fraction", "money", "seconds", "minutes", "position", "ratio"}
DIRECTIONS = {"higher", "lower"}
AGGREGATIONS = {"sum", "ratio", "weighted_avg", "snapshot", "unique"}
DRIFT_RESIDUALS = {"log", "additive"}
_ID = re.compile(r"^[a-z_]+\.[a-z_]+$")


class CatalogError(ValueError):
    """The catalog file is invalid; the message names the KPI, the field and the fix."""


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    unit: str
    direction: str
    aggregation: str
    formula: str
    sources: tuple[str, ...] = ()
    min_denominator: float = 0.0
    warn_tolerance: float = 0.10
    error_tolerance: float = 0.20
    extra: bool = False
    settle_days: int = 0
    drift_residual: str = "log"

    @property
    def channel(self) -> str:
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Catalog:
    kpis: tuple[Kpi, ...] = field(default_factory=tuple)

    def __getitem__(self, kpi_id: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.id == kpi_id:
                return kpi
        raise KeyError(f"unknown KPI id {kpi_id!r}; known ids are in config/kpis.yml")

    def ids(self) -> list[str]:
        return [k.id for k in self.kpis]

    def to_arrow(self) -> pa.Table:
        """The catalog as the ``raw.kpi_catalog`` table that dbt joins for unit and roll-up rule."""
        return pa.Table.from_pylist(
            [
                {
                    "kpi_id": k.id,
                    "channel": k.channel,
                    "name": k.name,
                    "unit": k.unit,
                    "direction": k.direction,
                    "aggregation": k.aggregation,
                    "formula": k.formula,
                    "sources": ",".join(k.sources),
                    "min_denominator": float(k.min_denominator),
                    "warn_tolerance": k.warn_tolerance,
                    "error_tolerance": k.error_tolerance,
                }
                for k in self.kpis
            ]
        )


def _optional(entry: dict, key: str, where: str, allowed: set[str], default: str) -> str:
    value = str(entry.get(key, default))
    if value not in allowed:
        raise CatalogError(f"{where}: {key} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _require(entry: dict, key: str, where: str, allowed: set[str] | None = None) -> str:
    value = entry.get(key)
    if value in (None, ""):
        raise CatalogError(f"{where}: field {key!r} is missing; add it (see the file's header)")
    if allowed is not None and value not in allowed:
        raise CatalogError(
            f"{where}: {key}={value!r} is not one of {sorted(allowed)}; use one of those"
        )
    return str(value)


def parse_catalog(data: dict, origin: str = "config/kpis.yml") -> Catalog:
    """Validate the parsed YAML and build the catalog."""
    defaults = data.get("defaults") or {}
    kpis: list[Kpi] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("kpis") or []):
        where = f"{origin}: kpis[{index}]"
        kpi_id = _require(entry, "id", where)
        where = f"{origin}: KPI {kpi_id}"
        if not _ID.match(kpi_id):
            raise CatalogError(f"{where}: id must look like '<channel>.<name>' in snake_case")
        if kpi_id in seen:
            raise CatalogError(f"{where}: id appears twice; ids must be unique")
        seen.add(kpi_id)
        kpis.append(
            Kpi(
                id=kpi_id,
                name=_require(entry, "name", where),
                unit=_require(entry, "unit", where, UNITS),
                direction=_require(entry, "direction", where, DIRECTIONS),
                aggregation=_require(entry, "aggregation", where, AGGREGATIONS),
                formula=_require(entry, "formula", where),
                sources=tuple(entry.get("sources") or ()),
                min_denominator=float(entry.get("min_denominator", 0)),
                warn_tolerance=float(
                    entry.get("warn_tolerance", defaults.get("warn_tolerance", 0.1))
                ),
                error_tolerance=float(
                    entry.get("error_tolerance", defaults.get("error_tolerance", 0.2))
                ),
                extra=bool(entry.get("extra", False)),
                settle_days=int(entry.get("settle_days", 0)),
                drift_residual=_optional(entry, "drift_residual", where, DRIFT_RESIDUALS, "log"),
            )
        )
    if not kpis:
        raise CatalogError(f"{origin}: no KPIs defined under 'kpis:'")
    return Catalog(tuple(kpis))


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog file (cached per path)."""
    return parse_catalog(yaml.safe_load(path.read_text()), str(path.relative_to(PROJECT_ROOT)))
