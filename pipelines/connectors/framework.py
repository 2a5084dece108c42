"""A source, declared once: its settings, raw tables, lookback, ``extract`` and ``check``.

Every provider module in this package builds one :class:`Source`. From it the project derives the
Dagster assets (:mod:`pipelines.connectors.assets`), the resource (:class:`SourceResource`), the
``source_configured`` check, the lookback the daily run and the drift checks use, the fault-suite
target, the secrets the secrets scan looks for and ``kpi doctor``: nothing about a source is
written twice. ``docs/adding-a-source.md`` walks through one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.lib.settings import PROJECT_ROOT, comma_list, env
from sources.api_versions import VersionedApi
from sources.http import RetryPolicy


@dataclass(frozen=True)
class Setting:
    """One environment variable a source reads."""

    name: str
    help: str
    required: bool = False
    secret: bool = False  # never logged; the secrets scan looks for its value everywhere
    default: str | None = None


class Replace(StrEnum):
    """What a load of a window replaces in a raw table."""

    WINDOW = "window"  # the rows of the window's accounts and days (``_account_id``, ``_partition_date``)
    KEYS = "keys"  # the rows whose key columns match a landed row (period snapshots)
    TABLE = "table"  # the whole table (a small file or a full list)
    ACCOUNTS = "accounts"  # every row of the pull's accounts, whatever its day (a full inventory)


@dataclass(frozen=True)
class RawTable:
    """A raw table a source lands: ``name`` is what ``extract`` tags its batches with."""

    name: str
    table: str  # raw.<source>__<entity>
    schema: pa.Schema | None
    description: str
    replace: Replace = Replace.WINDOW
    keys: tuple[str, ...] = ()
    # Applied to each landed batch at load time, with the warehouse connection, before the load's
    # transaction opens (the batches are then held in memory): for a table whose load must consult
    # the rows already there (PageSpeed keeps a day's earlier successful measurement when a rerun
    # fails). Extraction never sees the warehouse.
    before_load: Callable[[Any, pa.Table], pa.Table] | None = None
    # Set for a table whose ``extract`` yields the provider's JSON pages as received
    # (:class:`JsonPage`): DuckDB turns the landed pages into raw rows at load time.
    json: JsonRows | None = None

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(self.table.split("."))


@dataclass(frozen=True)
class Batch:
    """A page or batch of rows for one raw table (rows, or an Arrow table)."""

    table: str
    rows: list[dict[str, Any]] | pa.Table


@dataclass(frozen=True)
class JsonPage:
    """The rows of a provider's JSON response page as received, for a table declared with
    :class:`JsonRows`.

    ``rows_json`` is the text of the page's array of row objects between its brackets, byte for
    byte as the API sent it (a slice of the response body); ``rows`` is how many rows it holds
    (the client counted them without parsing them, e.g. with ``msgspec.Raw``). Nothing parses them
    in Python: they are landed as one JSON array and DuckDB reads them at load time. ``values`` are the page's constant columns (``_account_id``
    and what the table's ``select`` reads from ``page``), kept in the manifest next to the file;
    ``fields`` names the numeric row fields the client saw beyond ``JsonRows.columns`` (metrics
    the provider added; loaded as new columns).
    """

    table: str
    rows_json: bytes | memoryview
    rows: int
    values: Mapping[str, Any]
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)  # compared (and hashed) by identity: it holds a dict
class JsonRows:
    """How DuckDB turns a landed JSON page (an array of the API's row objects) into raw rows.

    ``columns`` are the row fields DuckDB's ``read_json`` reads, with their DuckDB types (a
    value that does not cast fails the load); ``require`` is a SQL condition every row must meet
    (fields present, list lengths), else the load fails; ``select`` is the SQL select list over
    the fields and ``page`` (the page's ``values``) that yields the raw table's columns,
    ``_account_id`` and ``_partition_date`` included. A new numeric field ``f`` that a page
    carried (``JsonPage.fields``) is read as DOUBLE and loaded as ``new_column(f)``.
    ``check(rows)`` parses a landed page's rows in Python and raises the provider's schema error;
    it runs only when DuckDB rejected a page, to name the row and field
    (``pipelines.connectors.json_load``).
    """

    columns: Mapping[str, str]
    select: str
    require: str = "true"
    new_column: Callable[[str], str] = str
    check: Callable[[list[Any]], object] | None = None


@dataclass(frozen=True)
class Accounts:
    """Yielded by an ``extract`` whose accounts only the API knows (HubSpot's portal, Mailchimp's
    account id): the ``_account_id`` values this extraction covers, instead of
    ``Source.accounts(config)``."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class Window:
    """The days a pull covers: ``start`` inclusive, ``end`` exclusive."""

    start: date
    end: date

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start}..{self.last}"

    def days(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)

    def narrowed(self, days: int) -> Window:
        """The window's last ``days`` days (all of it when it is shorter)."""
        return Window(max(self.start, self.end - timedelta(days=days)), self.end)


class Config:
    """A source's settings, resolved when a run starts: ``overrides`` win over the environment.

    ``retry`` (a client's retry policy) and ``adjust`` (applied to the client once built) are for
    tests and the fault suite; the clients' defaults otherwise.
    """

    def __init__(
        self,
        source: Source,
        overrides: Mapping[str, str] | None = None,
        *,
        retry: RetryPolicy | None = None,
        adjust: Callable[[Any], Any] | None = None,
    ) -> None:
        self.source = source
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.retry = retry
        self.adjust = adjust
        # What the source's ``state`` hook read from the warehouse before this extraction (e.g. an
        # export cursor); None when the source keeps none or none was saved yet.
        self.state: Any = None
        unknown = set(self.overrides) - {s.name for s in source.settings}
        if unknown:
            raise ValueError(f"[{source.name}] unknown setting(s) {sorted(unknown)}")

    def get(self, name: str) -> str | None:
        """The setting's value (blank is unset), else its declared default."""
        setting = self.source.setting(name)
        value = (self.overrides.get(name) or "").strip() or env(name)
        return value or setting.default

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise ValueError(f"[{self.source.name}] {name} is not set")
        return value

    def list(self, name: str) -> list[str]:
        """A comma-separated setting as trimmed, non-empty items."""
        return comma_list(self.get(name))

    def whole_number(self, name: str, unit: str = "") -> int:
        """A whole number >= 1 (of ``unit``); a clear error naming the setting otherwise."""
        raw = self.get(name) or ""
        if not raw.strip().isdigit() or int(raw) < 1:
            of = f" of {unit}" if unit else ""
            raise ValueError(f"[{self.source.name}] {name}={raw!r} must be a whole number{of} >= 1")
        return int(raw)

    def path(self, name: str) -> Path | None:
        """A file or folder setting; a relative one is relative to the project root."""
        value = self.get(name)
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path

    def require_path(self, name: str) -> Path:
        """:meth:`path` of a setting that must be set (or has a default)."""
        path = self.path(name)
        if path is None:
            raise ValueError(f"[{self.source.name}] {name} is not set")
        return path

    def days(self, name: str) -> int:
        """A whole number of days >= 1; a clear error naming the setting otherwise."""
        return self.whole_number(name, "days")

    def missing(self) -> list[str]:
        """Required settings that are absent, and what the source's ``missing`` adds: the source is
        *not configured*."""
        missing = [s.name for s in self.source.settings if s.required and not self.get(s.name)]
        if self.source.missing is not None:
            missing += self.source.missing(self)
        return missing

    def http_options(self) -> dict[str, Any]:
        """``retry=`` for a client's constructor, where a test set one."""
        return {} if self.retry is None else {"retry": self.retry}


Extract = Callable[[Any, Window, Config], Iterable["Batch | JsonPage | Accounts | dict[str, Any]"]]


@dataclass(frozen=True)
class SourceCheck:
    """A source-specific asset check, judged from what a load landed and loaded."""

    name: str
    description: str
    judge: Callable[[LoadOutcome], dg.AssetCheckResult]


@dataclass
class LoadOutcome:
    """What a load did: per-table results and the metadata the extraction recorded."""

    source: Source
    window: Window
    accounts: list[str]
    results: dict[str, Any]  # table name -> pipelines.warehouse.raw_loader.LoadResult
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Source:
    """One provider: everything the framework needs, and nothing it can derive.

    - ``connect(config)`` builds the API client (from :mod:`sources`).
    - ``accounts(config)`` lists the accounts (properties, customers, ...) a pull covers: the
      ``_account_id`` values a window load replaces.
    - ``extract(client, window, config)`` yields :class:`Batch` es or, for a high-volume table
      declared with :class:`JsonRows`, :class:`JsonPage` s (and ``dict`` s of metadata
      worth keeping, such as the currencies seen, and an :class:`Accounts` where only the API
      knows them); it never touches the warehouse.
    - ``check(client, config)`` makes one cheap authenticated call (``kpi doctor``) and returns
      what it saw, e.g. an account name.
    - ``lookback(config)`` is how many days the daily run re-pulls, because the provider revises
      them (conversions attributed late, opens arriving, refunds).
    - ``state(con, config)`` (optional) reads, from the warehouse, what the extraction resumes from
      (an incremental export's cursor, itself a raw table the source lands so that it is saved in
      the same load as the rows it covers); the extraction sees it as ``config.state``.
    - ``missing(config)`` (optional) names what else leaves the source *not configured* besides
      its required settings: one of two settings, a file that is not there.
    - ``load(con, landing, run_id)`` (optional) replaces the per-table replace semantics for a
      source whose load must read the warehouse first (mention files: skip those loaded before).
      It returns a ``LoadResult`` per table; a result's ``metadata`` reaches the table's
      materialization and the source's checks.
    """

    name: str
    title: str
    description: str
    settings: tuple[Setting, ...]
    tables: tuple[RawTable, ...]
    lookback: Callable[[Config], int]
    connect: Callable[[Config], Any]
    accounts: Callable[[Config], list[str]]
    extract: Extract
    check: Callable[[Any, Config], str]
    api_version: VersionedApi | None = None
    personal_data: bool = False  # its landed files hold personal data (see KPI_LANDING_DISCARD)
    checks: tuple[SourceCheck, ...] = ()
    docs: str = ""  # docs/sources/<page>.md
    # The table whose asset carries the source's checks (the first table by default).
    check_table: str | None = None
    kinds: frozenset[str] = field(default_factory=lambda: frozenset({"python", "duckdb"}))
    state: Callable[[Any, Config], Any] | None = None
    missing: Callable[[Config], list[str]] | None = None
    # (connection, landing, run_id) -> {table name: LoadResult}
    load: Callable[[Any, Any, str], dict[str, Any]] | None = None

    def setting(self, name: str) -> Setting:
        for setting in self.settings:
            if setting.name == name:
                return setting
        raise KeyError(f"[{self.name}] declares no setting {name}")

    def table(self, name: str) -> RawTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"[{self.name}] declares no table {name!r}")

    @property
    def check_asset(self) -> dg.AssetKey:
        return self.table(self.check_table or self.tables[0].name).asset_key

    @property
    def secrets(self) -> list[str]:
        return [s.name for s in self.settings if s.secret]

    def config(self, overrides: Mapping[str, str] | None = None, **options: Any) -> Config:
        return Config(self, overrides, **options)


def fixed_lookback(days: int) -> Callable[[Config], int]:
    """A lookback the provider fixes (no setting)."""
    return lambda config: days


def lookback_setting(name: str) -> Callable[[Config], int]:
    """A lookback read from the setting ``name`` (declared with its default)."""
    return lambda config: config.days(name)


class SourceResource(dg.ConfigurableResource):
    """A source's settings as a Dagster resource: ``settings`` (by environment variable name) win
    over the environment. Tests point a source at an emulator with it."""

    settings: dict[str, str] = {}  # noqa: RUF012 (pydantic copies field defaults)

    def config(self, source: Source) -> Config:
        return source.config(self.settings)
