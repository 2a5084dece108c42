"""The ``api_version_current`` check every versioned source runs before it calls its API.

WARN when the configured version sunsets within 60 days; once it has sunset the step fails with a
message naming the setting and the version to move to (see :mod:`sources.api_versions`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg

from sources.api_versions import Level, VersionedApi, assess

CHECK_API_VERSION = "api_version_current"


def today() -> date:
    return datetime.now(UTC).date()


def api_version_check_spec(api: VersionedApi, asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_API_VERSION,
        asset=asset,
        description=f"WARN when {api.setting} sunsets within 60 days; the step fails once it has.",
    )


def check_api_version(
    context: dg.AssetExecutionContext,
    api: VersionedApi,
    version: str,
    asset: dg.AssetKey,
    on: date | None = None,
) -> dg.AssetCheckResult:
    """The check result for ``version``; raises :class:`dagster.Failure` when it has sunset."""
    try:
        status = assess(api, version, on or today())
    except ValueError as exc:
        raise dg.Failure(description=f"[{api.key}] {exc}") from None
    metadata = {
        "setting": api.setting,
        "version": version,
        "sunset": str(status.sunset or "not published"),
        "sunset_source": status.how,
        "next_version_at": api.next_version_at,
    }
    if status.level is Level.SUNSET:
        raise dg.Failure(description=f"[{api.key}] {status.message}", metadata=metadata)
    if status.level is Level.WARN:
        context.log.warning(status.message)
    return dg.AssetCheckResult(
        check_name=CHECK_API_VERSION,
        asset_key=asset,
        passed=status.level is Level.OK,
        severity=dg.AssetCheckSeverity.WARN,
        description=status.message,
        metadata=metadata,
    )
