"""Registry of the versioned provider APIs the connectors call, and when each version stops working.

Providers retire API versions on a schedule: a request to a sunset version fails (Google Ads,
LinkedIn) or is silently served by another version (Meta). Each :class:`VersionedApi` names the
setting that picks the version, the default the client uses, the sunset dates the provider has
published (or projected, or that its policy implies) and where the next version is announced.
:func:`assess` turns a configured version and a day into OK / WARN (sunset within
:data:`WARN_DAYS`) / SUNSET with a message naming the setting and the version to move to.

Dates were read from the providers' pages on 2026-12-02 (see docs/api-versions.md). When a date is
only projected (Google publishes "November 2027" months ahead) the first day of that month is used,
so the warning comes early rather than late.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

WARN_DAYS = 60


class Level(Enum):
    OK = "ok"
    WARN = "warn"
    SUNSET = "sunset"


@dataclass(frozen=True)
class VersionedApi:
    """One versioned API: its setting, default version and known sunset dates."""

    key: str
    name: str
    setting: str
    default: str
    pattern: str  # a version's shape; its digit groups order versions
    sunsets: dict[str, date] = field(default_factory=dict)
    projected: frozenset[str] = frozenset()  # versions whose date is a projection, not final
    policy: str = ""
    next_version_at: str = ""
    support_months: int | None = None  # minimum support from release, for unpublished dates

    def order(self, version: str) -> tuple[int, ...]:
        """Digit groups of a well-formed version (``v26`` -> (26,), ``v27.0`` -> (27, 0))."""
        if not re.fullmatch(self.pattern, version):
            raise ValueError(
                f"{self.setting}={version!r} is not a {self.name} version "
                f"(expected e.g. {self.default!r})"
            )
        return tuple(int(part) for part in re.findall(r"\d+", version))

    def sunset(self, version: str) -> tuple[date | None, str]:
        """The day ``version`` stops working and how that is known.

        ``published`` / ``projected`` come from the provider; a version older than every listed one
        is already past the oldest listed sunset; ``estimated`` follows the provider's minimum
        support period; ``unknown`` means no date has been published yet.
        """
        if version in self.sunsets:
            how = "projected" if version in self.projected else "published"
            return self.sunsets[version], how
        key = self.order(version)
        if self.sunsets and all(self.order(v) > key for v in self.sunsets):
            return min(self.sunsets.values()), "published"  # older than every listed version
        if self.support_months:
            released = _release_month(version)
            if released is not None:
                return _add_months(released, self.support_months).replace(day=15), "estimated"
        return None, "unknown"


@dataclass(frozen=True)
class VersionStatus:
    api: VersionedApi
    version: str
    level: Level
    sunset: date | None
    how: str
    message: str


GOOGLE_ADS = VersionedApi(
    key="google_ads",
    name="Google Ads API",
    setting="GOOGLE_ADS_API_VERSION",
    default="v26",
    pattern=r"v\d+",
    sunsets={
        "v19": date(2026, 2, 11),
        "v20": date(2026, 6, 10),
        "v21": date(2026, 8, 5),
        "v22": date(2026, 10, 7),
        "v23": date(2027, 2, 1),
        "v24": date(2027, 5, 1),
        "v25": date(2027, 8, 1),
        "v26": date(2027, 11, 1),
    },
    projected=frozenset({"v23", "v24", "v25", "v26"}),
    policy="each major version is available about one year after its release",
    next_version_at="https://developers.google.com/google-ads/api/docs/sunset-dates",
)
META_ADS = VersionedApi(
    key="meta_ads",
    name="Meta Marketing API",
    setting="META_API_VERSION",
    default="v27.0",
    pattern=r"v\d+\.\d+",
    sunsets={
        "v21.0": date(2025, 9, 9),
        "v22.0": date(2026, 2, 19),
        "v23.0": date(2026, 6, 9),
        "v24.0": date(2026, 11, 10),
        "v25.0": date(2027, 2, 23),
    },
    policy="a Marketing API version expires about a year after its release",
    next_version_at="https://developers.facebook.com/docs/marketing-api/marketing-api-changelog/versions",
)
META_GRAPH = VersionedApi(
    key="meta_graph",
    name="Meta Graph API",
    setting="META_GRAPH_VERSION",
    default="v27.0",
    pattern=r"v\d+\.\d+",
    sunsets={
        "v18.0": date(2026, 1, 26),
        "v19.0": date(2026, 5, 21),
        "v20.0": date(2026, 9, 24),
        "v21.0": date(2027, 1, 21),
        "v22.0": date(2027, 5, 20),
        "v23.0": date(2027, 10, 8),
        "v24.0": date(2028, 2, 18),
        "v25.0": date(2028, 7, 29),
    },
    policy="a Graph API version is available about two years after its release",
    next_version_at="https://developers.facebook.com/docs/graph-api/changelog/versions",
)
LINKEDIN = VersionedApi(
    key="linkedin",
    name="LinkedIn Community Management API",
    setting="LINKEDIN_API_VERSION",
    default="202610",
    pattern=r"\d{6}(\.\d{2})?",
    sunsets={
        "202510": date(2026, 10, 15),
        "202511": date(2026, 11, 16),
        "202601": date(2027, 1, 15),
        "202602": date(2027, 2, 15),
        "202603": date(2027, 3, 16),
    },
    policy="each monthly version is supported for at least one year",
    next_version_at="https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations",
    support_months=12,
)
REGISTRY: dict[str, VersionedApi] = {
    api.key: api for api in (GOOGLE_ADS, META_ADS, META_GRAPH, LINKEDIN)
}


def _release_month(version: str) -> date | None:
    match = re.match(r"(\d{4})(\d{2})", version)
    if not match:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def move_to(api: VersionedApi, today: date) -> str:
    """The version to move to: the default unless it too is within the warning window."""
    sunset, _ = api.sunset(api.default)
    if sunset is None or sunset - today > timedelta(days=WARN_DAYS):
        return api.default
    return f"the newest listed at {api.next_version_at}"


def assess(
    api: VersionedApi, version: str, today: date, warn_days: int = WARN_DAYS
) -> VersionStatus:
    """OK, WARN (sunset within ``warn_days``) or SUNSET for ``version`` on ``today``."""
    sunset, how = api.sunset(version)
    target = move_to(api, today)
    read = f"read {api.next_version_at} for the next version"
    if sunset is None:
        return VersionStatus(
            api,
            version,
            Level.OK,
            None,
            how,
            f"{api.name} {version}: no sunset date published yet ({api.policy}); {read}",
        )
    if today >= sunset:
        return VersionStatus(
            api,
            version,
            Level.SUNSET,
            sunset,
            how,
            f"{api.name} {version} was sunset on {sunset} ({how}): requests fail or are served "
            f"by another version. Set {api.setting}={target} (or unset {api.setting} for the "
            f"default {api.default}); {read}",
        )
    left = (sunset - today).days
    if left <= warn_days:
        return VersionStatus(
            api,
            version,
            Level.WARN,
            sunset,
            how,
            f"{api.name} {version} sunsets on {sunset} ({how}), in {left} days: set "
            f"{api.setting}={target} before then; {read}",
        )
    return VersionStatus(
        api,
        version,
        Level.OK,
        sunset,
        how,
        f"{api.name} {version} is supported until {sunset} ({how}, {left} days)",
    )


def doctor_report(environ: Mapping[str, str], today: date) -> tuple[list[str], list[str]]:
    """``kpi doctor``'s lines about every versioned API (configured or default version) and the
    problems among them (a sunset or malformed version)."""
    lines, problems = [], []
    for api in REGISTRY.values():
        version = (environ.get(api.setting) or "").strip() or api.default
        try:
            status = assess(api, version, today)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        lines.append(
            f"api version {status.level.value.upper()}: {api.setting}={version}: {status.message}"
        )
        if status.level is Level.SUNSET:
            problems.append(status.message)
    return lines, problems
