"""``kpi doctor``'s source checks: one cheap authenticated call per configured source.

Each source's declared ``check(client, config)`` runs (concurrently: the calls are independent);
the table says, per source, whether it answered and, when not, the setting to fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pipelines.connectors.framework import Source
from sources.http import RetryPolicy, SourceError, redact

OK = "ok"
FAILED = "FAILED"
NOT_CONFIGURED = "not configured"
# A doctor answers in seconds: a provider that throttles or errors is reported, not waited out.
DOCTOR_RETRY = RetryPolicy(max_attempts=2, max_total_wait=10.0)


@dataclass(frozen=True)
class SourceStatus:
    source: str
    status: str
    detail: str
    fix: str

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def _fix_for(source: Source, exc: Exception) -> str:
    """The provider's fix where the client knows it, else the credentials to re-check."""
    if isinstance(exc, SourceError) and exc.fix:
        return exc.fix
    secrets = source.secrets or [s.name for s in source.settings if s.required]
    return f"check {', '.join(secrets)}"


def check_source(source: Source, settings: Mapping[str, str] | None = None) -> SourceStatus:
    """Run ``source.check`` once; never raises."""
    config = source.config(
        {s.name: settings[s.name] for s in source.settings if settings and s.name in settings},
        retry=DOCTOR_RETRY,
    )
    try:
        missing = config.missing()
        if missing:
            return SourceStatus(source.name, NOT_CONFIGURED, "", f"set {', '.join(missing)}")
        detail = source.check(source.connect(config), config)
    except Exception as exc:  # reported per source: one broken source does not stop the others
        detail = redact(str(exc)).split(" | fix: ")[0]  # the fix is its own column
        return SourceStatus(source.name, FAILED, detail[:300], _fix_for(source, exc))
    return SourceStatus(source.name, OK, detail, "")


def check_sources(
    sources: Sequence[Source], settings: Mapping[str, str] | None = None
) -> list[SourceStatus]:
    """Every source's status, in declaration order."""
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(sources)))) as pool:
        return list(pool.map(lambda s: check_source(s, settings), sources))


def render(statuses: Sequence[SourceStatus]) -> str:
    """The doctor's table: source, status, what it saw or the setting to fix."""
    width = max((len(s.source) for s in statuses), default=6)
    lines = [f"{'source':<{width}}  {'status':<14}  detail / fix"]
    for s in statuses:
        text = s.detail if s.status == OK else (f"{s.fix}: {s.detail}" if s.detail else s.fix)
        lines.append(f"{s.source:<{width}}  {s.status:<14}  {text}")
    return "\n".join(lines)
