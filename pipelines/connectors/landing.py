"""The landing zone: every page a source extracts, before anything touches the warehouse.

Layout: ``<KPI_LANDING_PATH>/<source>/<table>/<first>_<last>/<run_id>/part-NNNNN.parquet`` (rows
parsed in Python, :class:`Batch`) or ``part-NNNNN.json`` (a JSON array of a page's rows as the
provider sent them, :class:`JsonPage`; DuckDB parses it at load time) plus a ``_manifest.json`` per table directory.
The manifests are written last, for every table of the source at once, and only when the whole
extraction succeeded: a directory without one is a partial extraction and is never loaded. A failed extraction leaves ``<source>/_failed/<run_id>.json`` with
its (masked) error, so the load step can say why there is nothing to load.

Loading (:mod:`pipelines.connectors.loading`) reads landed files; ``kpi replay`` re-applies them in
the order they were extracted, without calling any API.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.connectors.framework import Batch, JsonPage, RawTable, Source, Window
from pipelines.connectors.ingest import arrow_table
from pipelines.lib.settings import PROJECT_ROOT, env, env_list

MANIFEST = "_manifest.json"
FAILED = "_failed"


def landing_root() -> Path:
    """``KPI_LANDING_PATH`` (default ``data/landing``; relative to the project root)."""
    path = Path(env("KPI_LANDING_PATH", "data/landing") or "data/landing")
    return path if path.is_absolute() else PROJECT_ROOT / path


def retention_days() -> int | None:
    """``KPI_LANDING_RETENTION_DAYS``: landings older than this are deleted (unset: kept)."""
    raw = env("KPI_LANDING_RETENTION_DAYS")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"KPI_LANDING_RETENTION_DAYS={raw!r} must be a whole number of days >= 1 (or unset)"
        )
    return int(raw)


def keeps_landed_files(source: Source) -> bool:
    """False for sources listed in ``KPI_LANDING_DISCARD``: their files go once loaded."""
    return source.name not in env_list("KPI_LANDING_DISCARD")


def _window_dir(window: Window) -> str:
    return f"{window.start}_{window.last}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically: a reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str))
    os.replace(tmp, path)


@dataclass
class LandingWriter:
    """Writes one extraction of ``source`` for ``window`` in run ``run_id``."""

    source: Source
    window: Window
    run_id: str
    root: Path = field(default_factory=landing_root)
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def directory(self, table: RawTable) -> Path:
        return self.root / self.source.name / table.name / _window_dir(self.window) / self.run_id

    def write(self, batch: Batch | JsonPage) -> int:
        """One page to its own file (Parquet, or the JSON page's bytes); returns its row count."""
        table = self.source.table(batch.table)
        if isinstance(batch, JsonPage):
            return self._write_page(table, batch)
        if table.json is not None:
            raise TypeError(f"[{self.source.name}] {table.table} takes JSON pages, not rows")
        data = (
            batch.rows
            if isinstance(batch.rows, pa.Table)
            else arrow_table(batch.rows, table.schema)
        )
        return self._write(table, data)

    def _next(self, table: RawTable, suffix: str) -> tuple[Path, list[dict[str, Any]]]:
        """The path of the table's next page file, and the list its manifest entry joins."""
        directory = self.directory(table)
        if not self.files.get(table.name):
            shutil.rmtree(directory, ignore_errors=True)  # a retry of the same run starts clean
            directory.mkdir(parents=True, exist_ok=True)
        files = self.files.setdefault(table.name, [])
        return directory / f"part-{len(files):05d}.{suffix}", files

    def _write(self, table: RawTable, data: pa.Table) -> int:
        path, files = self._next(table, "parquet")
        pq.write_table(data, path, compression="zstd")
        files.append({"name": path.name, "rows": data.num_rows})
        return data.num_rows

    def _write_page(self, table: RawTable, page: JsonPage) -> int:
        if table.json is None:
            raise TypeError(f"[{self.source.name}] {table.table} declares no JsonRows")
        if not page.rows:  # an empty page adds nothing (the manifest still clears the window)
            self.files.setdefault(table.name, [])
            return 0
        path, files = self._next(table, "json")
        with path.open("wb") as out:  # the rows' bytes as received, as one JSON array
            out.write(b"[")
            out.write(page.rows_json)
            out.write(b"]")
        rows = page.rows
        entry: dict[str, Any] = {"name": path.name, "rows": rows, "values": dict(page.values)}
        if page.fields:
            entry["fields"] = list(page.fields)
        files.append(entry)
        return rows

    def complete(self, accounts: list[str], metadata: dict[str, Any]) -> dict[str, int]:
        """Mark the extraction complete (every table, also those that got no rows)."""
        for table in self.source.tables:
            if table.json is not None:
                self.directory(table).mkdir(parents=True, exist_ok=True)
                self.files.setdefault(table.name, [])
            elif not self.files.get(table.name):
                self._write(table, arrow_table([], table.schema))
        completed = datetime.now(UTC).isoformat()
        rows = {}
        for table in self.source.tables:
            files = self.files[table.name]
            rows[table.name] = sum(f["rows"] for f in files)
            _write_json(
                self.directory(table) / MANIFEST,
                {
                    "source": self.source.name,
                    "table": table.table,
                    "replace": str(table.replace),
                    "window": {"start": self.window.start, "end": self.window.end},
                    "run_id": self.run_id,
                    "completed_at": completed,
                    "accounts": accounts,
                    "files": files,
                    "rows": rows[table.name],
                    "metadata": metadata,
                },
            )
        return rows

    def fail(self, error: str) -> None:
        """Record why this extraction produced nothing loadable (its pages stay for inspection)."""
        _write_json(
            self.root / self.source.name / FAILED / f"{self.run_id}.json",
            {"source": self.source.name, "window": self.window.label, "error": error},
        )


@dataclass(frozen=True)
class Landing:
    """One complete extraction of a source: a manifest per table."""

    source: Source
    directories: dict[str, Path]  # table name -> directory holding the files and manifest
    manifests: dict[str, dict[str, Any]]

    @property
    def window(self) -> Window:
        first = next(iter(self.manifests.values()))["window"]
        return Window(date.fromisoformat(first["start"]), date.fromisoformat(first["end"]))

    @property
    def run_id(self) -> str:
        return next(iter(self.manifests.values()))["run_id"]

    @property
    def completed_at(self) -> str:
        return next(iter(self.manifests.values()))["completed_at"]

    @property
    def accounts(self) -> list[str]:
        return next(iter(self.manifests.values()))["accounts"]

    @property
    def metadata(self) -> dict[str, Any]:
        return next(iter(self.manifests.values()))["metadata"]

    def batches(self, table: str, rows_per_batch: int = 500_000) -> Iterator[pa.Table]:
        """The table's landed pages, combined into batches of up to ``rows_per_batch`` rows (one
        insert per batch instead of per page; memory stays bounded)."""
        if self.source.table(table).json is not None:
            raise TypeError(f"[{self.source.name}] {table} is landed as JSON pages: see json_pages")
        pending: list[pa.Table] = []
        count = 0
        for entry in self.manifests[table]["files"]:
            page = pq.read_table(self.directories[table] / entry["name"])
            if pending and count + page.num_rows > rows_per_batch:
                yield from _combined(pending)
                pending, count = [], 0
            pending.append(page)
            count += page.num_rows
        yield from _combined(pending)

    def json_pages(self, table: str) -> list[tuple[Path, dict[str, Any]]]:
        """The table's landed JSON pages: each file and its manifest entry."""
        return [
            (self.directories[table] / entry["name"], entry)
            for entry in self.manifests[table]["files"]
        ]

    def rows(self) -> dict[str, int]:
        return {name: manifest["rows"] for name, manifest in self.manifests.items()}

    def remove(self) -> None:
        for directory in self.directories.values():
            shutil.rmtree(directory, ignore_errors=True)


def _combined(pages: list[pa.Table]) -> Iterator[pa.Table]:
    """One table of ``pages``; page by page when their types disagree (the loader then names the
    field whose type changed)."""
    if not pages:
        return
    try:
        yield pa.concat_tables(pages, promote_options="default")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        yield from pages


def _landing_from(source: Source, manifests: dict[str, Path]) -> Landing | None:
    if set(manifests) != {t.name for t in source.tables}:
        return None
    return Landing(
        source,
        {name: path.parent for name, path in manifests.items()},
        {name: json.loads(path.read_text()) for name, path in manifests.items()},
    )


def find_landing(source: Source, run_ids: list[str], root: Path | None = None) -> Landing | None:
    """The complete extraction of ``source`` made by the first of ``run_ids`` that has one."""
    base = (root or landing_root()) / source.name
    for run_id in run_ids:
        found = {
            table.name: path
            for table in source.tables
            for path in sorted((base / table.name).glob(f"*/{run_id}/{MANIFEST}"))
        }
        landing = _landing_from(source, found)
        if landing is not None:
            return landing
    return None


def failure(source: Source, run_ids: list[str], root: Path | None = None) -> str | None:
    """The recorded error of a failed extraction in one of ``run_ids``."""
    base = (root or landing_root()) / source.name / FAILED
    for run_id in run_ids:
        path = base / f"{run_id}.json"
        if path.exists():
            return json.loads(path.read_text())["error"]
    return None


def all_landings(source: Source, root: Path | None = None) -> list[Landing]:
    """Every complete extraction of ``source``, oldest first (the order they were loaded in)."""
    base = (root or landing_root()) / source.name
    by_run: dict[tuple[str, str], dict[str, Path]] = {}
    for table in source.tables:
        for path in (base / table.name).glob(f"*/*/{MANIFEST}"):
            by_run.setdefault((path.parent.parent.name, path.parent.name), {})[table.name] = path
    landings = [_landing_from(source, manifests) for manifests in by_run.values()]
    return sorted((x for x in landings if x is not None), key=lambda x: x.completed_at)


def prune(source: Source, keep_days: int, root: Path | None = None) -> int:
    """Delete landings completed more than ``keep_days`` ago; returns how many."""
    cutoff = time.time() - keep_days * 86400
    removed = 0
    for landing in all_landings(source, root):
        if datetime.fromisoformat(landing.completed_at).timestamp() < cutoff:
            landing.remove()
            removed += 1
    return removed
