"""Shared HTTP layer: timeouts, jittered backoff, provider errors, secret redaction and paging.

Every connector goes through :class:`HttpClient` (for plain REST APIs) or :func:`call_with_retries`
(for SDK calls such as GA4's), so retries, give-up rules and error messages are the same everywhere.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from sources import progress

log = logging.getLogger("kpi_pipeline.sources")

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDACTED = "***"


# --------------------------------------------------------------------------------------------------
# Secret redaction
# --------------------------------------------------------------------------------------------------
class _SecretRegistry:
    """Process-wide set of secret values that must never appear in a log line or error."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                if value and len(value) >= 4:
                    self._values.add(value)

    def redact(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return _BEARER.sub(r"\1" + REDACTED, text)


_BEARER = re.compile(r"((?:Bearer|Basic|key=|access_token=|assertion=)\s?)[A-Za-z0-9._~+/=-]{8,}")
secrets = _SecretRegistry()


def register_secret(*values: str | None) -> None:
    """Mark values (API keys, tokens, private keys) for redaction everywhere."""
    secrets.add(*values)


def redact(text: Any) -> str:
    """Return ``text`` as a string with every registered secret and bearer token masked."""
    return secrets.redact(str(text))


class RedactingFilter(logging.Filter):
    """Logging filter that masks secrets in the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


log.addFilter(RedactingFilter())
# requests' connection pool logs every request line (path and query) at DEBUG.
logging.getLogger("urllib3.connectionpool").addFilter(RedactingFilter())


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
class SourceError(Exception):
    """A provider call failed for good. Carries what an operator needs to act on it."""

    def __init__(
        self,
        source: str,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        field: str | None = None,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        self.source = source
        self.endpoint = redact(endpoint)
        self.status = status
        # Masked first, then cut: a cut never keeps a piece of a secret.
        self.provider_message = redact(provider_message)[:500] if provider_message else None
        self.field = field
        self.value = value
        self.fix = fix
        parts = [f"[{source}] {message}", f"endpoint={self.endpoint}"]
        if status is not None:
            parts.append(f"status={status}")
        if field is not None:
            parts.append(f"field={field}")
        if value is not None:
            parts.append(f"value={redact(repr(value))[:200]}")
        if self.provider_message:
            parts.append(f"provider says: {self.provider_message}")
        if fix:
            parts.append(f"fix: {fix}")
        super().__init__(redact(" | ".join(parts)))


class QuotaExhaustedError(SourceError):
    """The provider's quota is spent until a reset: retrying now would only burn more quota."""


class SchemaError(SourceError):
    """A response did not have the shape or types the connector relies on."""


class NotConfiguredError(Exception):
    """A source's required settings are absent: it loads nothing and says so."""


# --------------------------------------------------------------------------------------------------
# Retry policy
# --------------------------------------------------------------------------------------------------
@dataclass
class RetryDecision:
    """What to do after a failed attempt: retry (after an optional server hint) or give up."""

    retry: bool
    wait_hint: float | None = None
    quota_exhausted: bool = False


@dataclass
class RetryPolicy:
    """Jittered exponential backoff with a cap per wait and a bound on the total wait."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_total_wait: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff(self, attempt: int, hint: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempts count from 1)."""
        if hint is not None:
            return min(max(hint, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def call_with_retries(
    fn: Callable[[], T],
    *,
    classify: Callable[[BaseException], RetryDecision],
    policy: RetryPolicy,
    describe: Callable[[BaseException, int], SourceError],
    on_retry: Callable[[BaseException, int, float], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, a failure is final, or the policy's budget is spent.

    ``classify`` decides per exception whether to retry; ``describe`` turns the last exception into
    the :class:`SourceError` that is raised (with the number of attempts made).
    """
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            result = fn()
            progress.current().add(requests=1)
            return result
        except SourceError:
            raise
        except Exception as exc:
            decision = classify(exc)
            if decision.quota_exhausted or not decision.retry:
                raise describe(exc, attempt) from None
            delay = policy.backoff(attempt, decision.wait_hint)
            if attempt >= policy.max_attempts or waited + delay > policy.max_total_wait:
                raise describe(exc, attempt) from None
            if on_retry:
                on_retry(exc, attempt, delay)
            progress.current().wait(delay, policy.sleep, f"backing off before retry {attempt}")
            waited += delay


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def provider_message(response: requests.Response) -> str:
    """The provider's own error text, from the common JSON error envelopes or the raw body.

    Secrets are masked before it is cut to 500 characters: a cut never keeps a piece of one.
    """
    return redact(_error_text(response))[:500]


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("status") or error)
        for key in ("message", "detail", "error_description", "error", "title"):
            if body.get(key):
                return str(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0])
    return json.dumps(body)


# --------------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------------
class RetryableStatus(Exception):
    """Internal: an HTTP response whose status the policy may retry."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class HttpClient:
    """A requests session bound to one provider: base URL, auth, timeouts, retries, redaction.

    Providers subclass it (or pass hooks) to recognise their own throttle shapes and quota errors.
    """

    source = "http"

    def __init__(
        self,
        base_url: str,
        *,
        source: str | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.source = source or self.source
        self.session = session or requests.Session()
        self.session.headers.update(headers or {})
        self.session.headers.setdefault("User-Agent", "kpi-pipeline/0.1")
        if auth is not None:
            self.session.auth = auth
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.requests_made = 0

    # Hooks a provider overrides ---------------------------------------------------------------
    def retry_decision(self, response: requests.Response) -> RetryDecision:
        """Whether an error response is worth retrying and after how long."""
        hint = parse_retry_after(response.headers.get("Retry-After"))
        return RetryDecision(retry=response.status_code in RETRYABLE_STATUSES, wait_hint=hint)

    # Core ----------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, allow_status: tuple[int, ...] = (), **kwargs: Any
    ) -> requests.Response:
        """Send a request, retrying transient failures; raise :class:`SourceError` otherwise.

        ``allow_status`` lists error statuses that are answers, not failures (e.g. a 404 that
        means "no data"): they are returned to the caller.
        """
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        endpoint = f"{method} {url.split('?')[0]}"

        def attempt() -> requests.Response:
            self.requests_made += 1
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            if response.status_code >= 400 and response.status_code not in allow_status:
                raise RetryableStatus(response)
            return response

        def classify(exc: BaseException) -> RetryDecision:
            if isinstance(exc, RetryableStatus):
                return self.retry_decision(exc.response)
            return RetryDecision(retry=isinstance(exc, requests.ConnectionError | requests.Timeout))

        def describe(exc: BaseException, attempts: int) -> SourceError:
            if isinstance(exc, RetryableStatus):
                decision = self.retry_decision(exc.response)
                cls = QuotaExhaustedError if decision.quota_exhausted else SourceError
                what = "quota exhausted" if decision.quota_exhausted else "request failed"
                return cls(
                    self.source,
                    endpoint,
                    f"{what} after {attempts} attempt(s)",
                    status=exc.response.status_code,
                    provider_message=provider_message(exc.response),
                )
            return SourceError(
                self.source,
                endpoint,
                f"{type(exc).__name__} after {attempts} attempt(s): {exc}",
            )

        def on_retry(exc: BaseException, attempts: int, delay: float) -> None:
            log.warning(
                "%s: %s failed (%s), retry %d in %.1fs",
                self.source,
                endpoint,
                exc,
                attempts,
                delay,
            )

        return call_with_retries(
            attempt, classify=classify, policy=self.retry, describe=describe, on_retry=on_retry
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.parse_json(self.request("GET", path, **kwargs), path)

    def post_json(self, path: str, **kwargs: Any) -> Any:
        return self.parse_json(self.request("POST", path, **kwargs), path)

    def parse_json(self, response: requests.Response, path: str) -> Any:
        """Decode a JSON body or fail with the source, endpoint and the start of the body."""
        try:
            return response.json()
        except ValueError:
            raise SchemaError(
                self.source,
                path,
                "response is not valid JSON (truncated or malformed page)",
                status=response.status_code,
                value=response.text,
            ) from None


# --------------------------------------------------------------------------------------------------
# Pagination helpers
# --------------------------------------------------------------------------------------------------
def check_page_moved(
    source: str, endpoint: str, field: str, position: Any, items: list[Any], previous: list[Any]
) -> None:
    """Offset paging's repeated cursor: a page identical to the one before means the server
    ignored the offset; following it would load the same rows again (or never end)."""
    if items and items == previous:
        raise SchemaError(
            source,
            endpoint,
            "page repeated the previous page: the API ignored the paging offset",
            field=field,
            value=position,
            fix="re-run the partition; if it persists, report it to the provider",
        )


def paginate_offset(
    fetch: Callable[[int], tuple[list[T], int | None]],
    *,
    page_size: int,
    start: int = 0,
    source: str = "http",
    endpoint: str = "",
) -> Iterator[list[T]]:
    """Yield pages from an offset API until ``offset >= total`` or a page comes back empty.

    ``fetch(offset)`` returns the page's items and the provider's total (``None`` when absent).
    A page equal to the previous one is a :class:`SchemaError` (see :func:`check_page_moved`).
    """
    offset = start
    previous: list[T] = []
    while True:
        items, total = fetch(offset)
        if not items:
            return
        check_page_moved(source, endpoint, "offset", offset, items, previous)
        previous = items
        progress.current().add(pages=1, rows=len(items))
        yield items
        offset += page_size
        if total is not None and offset >= total:
            return


def paginate_cursor(
    fetch: Callable[[str | None], tuple[list[T], str | None]],
    *,
    source: str,
    endpoint: str,
) -> Iterator[list[T]]:
    """Yield pages from a cursor API until no next cursor; a repeated cursor is an error."""
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        items, cursor = fetch(cursor)
        progress.current().add(pages=1, rows=len(items))
        yield items
        if not cursor:
            return
        if cursor in seen:
            raise SchemaError(
                source,
                endpoint,
                "pagination cursor repeated: the API would loop forever",
                field="cursor",
                value=cursor,
            )
        seen.add(cursor)


def integer_id(source: str, endpoint: str, field: str, value: Any) -> int:
    """An integer id sent as a JSON integer or digits; anything else is a :class:`SchemaError`
    naming the field (a bare ``int()`` would fail without saying which source or field)."""
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            pass
    raise SchemaError(source, endpoint, "id is not an integer", field=field, value=value)


def optional_integer(source: str, endpoint: str, field: str, value: Any) -> int | None:
    """A count that may be null: ``None`` stays None, else as :func:`integer_id`."""
    return None if value is None else integer_id(source, endpoint, field, value)


def optional_number(source: str, endpoint: str, field: str, value: Any) -> float | None:
    """A JSON number that may be null; text ("4.8%") is a :class:`SchemaError` naming the field."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(source, endpoint, "value is not a number", field=field, value=value)
    return float(value)


def snake_case(name: str) -> str:
    """``engagedSessions`` -> ``engaged_sessions`` (API names to column names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).replace(":", "_").lower()


def new_metrics(obj: Any, known: Iterable[str], prefix: str = "") -> dict[str, int | float]:
    """Numbers in a provider's metrics object that the connector does not know yet.

    Providers add metrics over time; returned as ``prefix + snake_case(name)`` they land as new raw
    columns (the loader adds them) instead of being dropped. Only numbers: a new text field could
    carry personal data and is reviewed before it is landed.
    """
    if not isinstance(obj, dict):
        return {}
    skip = set(known)
    return {
        prefix + snake_case(name): value
        for name, value in obj.items()
        if name not in skip and isinstance(value, int | float) and not isinstance(value, bool)
    }


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split ``items`` into lists of at most ``size``."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
