"""The shared HTTP layer: retries, give-up rules, error messages, redaction and paging helpers.

HttpClient runs against a small in-process EmulatorServer; nothing sleeps for real (the retry
policy's ``sleep`` only records the waits asked for).
"""

from __future__ import annotations

import email.utils
import logging
import secrets as pysecrets
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sources.emulators.server import EmulatorServer, Fault, Request, Response
from sources.http import (
    HttpClient,
    RetryPolicy,
    SchemaError,
    SourceError,
    paginate_cursor,
    paginate_offset,
    parse_retry_after,
    redact,
    register_secret,
)

THINGS = r"/v1/things"


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[EmulatorServer]:
    emulator = EmulatorServer().start()  # one per module: stopping a server takes half a second
    try:
        yield emulator
    finally:
        emulator.stop()


class ScopedServer:
    """The shared server seen through one test's own base URL, so routes and counts don't mix."""

    def __init__(self, shared: EmulatorServer, prefix: str) -> None:
        self._shared = shared
        self._prefix = prefix
        self.base_url = shared.base_url + prefix

    def route(self, method: str, pattern: str, handler) -> None:
        self._shared.route(method, self._prefix + pattern, handler)

    def inject(self, *faults: Fault) -> None:
        for fault in faults:
            fault.path = self._prefix + fault.path
        self._shared.inject(*faults)

    def count(self, pattern: str) -> int:
        return self._shared.count(self._prefix + pattern)


@pytest.fixture
def server(_shared_server: EmulatorServer) -> Iterator[ScopedServer]:
    yield ScopedServer(_shared_server, f"/t{pysecrets.token_hex(6)}")
    _shared_server.clear_faults()


def recording_policy(**kwargs: float) -> RetryPolicy:
    """A policy that records its waits in ``.waits`` instead of sleeping."""
    waits: list[float] = []
    policy = RetryPolicy(sleep=waits.append, **kwargs)  # type: ignore[arg-type]
    policy.waits = waits  # type: ignore[attr-defined]
    return policy


def client_for(server: EmulatorServer, retry: RetryPolicy, **kwargs) -> HttpClient:
    return HttpClient(server.base_url, source="acme", retry=retry, **kwargs)


def sequence(*responses: Response) -> Callable[[Request], Response]:
    """A handler answering the given responses in turn, then repeating the last one."""
    queue = list(responses)

    def handler(request: Request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


OK = Response(body={"items": [1, 2, 3]})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, {"error": {"code": status, "message": message}}, headers or {})


# --------------------------------------------------------------------------------------------------
# Retries and give-up rules
# --------------------------------------------------------------------------------------------------
def test_429_with_retry_after_waits_the_servers_hint_then_succeeds(server, fast_retry):
    fast_retry.max_delay = 60
    server.route("GET", THINGS, sequence(_error(429, "slow down", {"Retry-After": "7"}), OK))

    body = client_for(server, fast_retry).get_json("/v1/things")

    assert body == {"items": [1, 2, 3]}
    assert fast_retry.waits == [7.0]
    assert server.count(THINGS) == 2


def test_retry_after_longer_than_max_delay_is_capped(server, fast_retry):
    fast_retry.max_delay = 5
    server.route("GET", THINGS, sequence(_error(429, "slow down", {"Retry-After": "7"}), OK))

    client_for(server, fast_retry).get_json("/v1/things")

    assert fast_retry.waits == [5]


def test_429_without_retry_after_is_retried_with_growing_jittered_backoff(server):
    policy = recording_policy(max_attempts=5, base_delay=1.0, max_delay=60)
    throttled = _error(429, "rate limited")
    server.route("GET", THINGS, sequence(throttled, throttled, throttled, OK))

    assert client_for(server, policy).get_json("/v1/things") == {"items": [1, 2, 3]}

    assert server.count(THINGS) == 4
    first, second, third = policy.waits
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0
    assert 2.0 <= third <= 4.0


def test_post_is_retried_on_503(server, fast_retry):
    bodies: list[bytes] = []

    def handler(request: Request) -> Response:
        bodies.append(request.body)
        return _error(503, "backend unavailable") if len(bodies) == 1 else OK

    server.route("POST", THINGS, handler)

    body = client_for(server, fast_retry).post_json("/v1/things", json={"q": 1})

    assert body == {"items": [1, 2, 3]}
    assert server.count(THINGS) == 2
    assert bodies[0] == bodies[1] == b'{"q": 1}'  # the same body is sent again


def test_5xx_on_every_attempt_raises_source_error_naming_source_endpoint_status_and_message(
    server, fast_retry
):
    server.route("GET", THINGS, sequence(_error(503, "The service is currently unavailable.")))
    client = client_for(server, fast_retry)

    with pytest.raises(SourceError) as info:
        client.get_json("/v1/things", params={"page": 2})

    error = info.value
    text = str(error)
    assert server.count(THINGS) == fast_retry.max_attempts == 4
    assert len(fast_retry.waits) == 3
    assert error.source == "acme" and text.startswith("[acme]")
    assert f"GET {server.base_url}/v1/things" in text
    assert "page=2" not in text  # the query string stays out of the endpoint
    assert error.status == 503 and "status=503" in text
    assert error.provider_message == "The service is currently unavailable."
    assert "The service is currently unavailable." in text
    assert "after 4 attempt(s)" in text


def test_dropped_connection_is_retried_then_succeeds(server, fast_retry):
    server.route("GET", THINGS, lambda r: OK)
    server.inject(Fault(path=THINGS, kind="drop"))

    assert client_for(server, fast_retry).get_json("/v1/things") == {"items": [1, 2, 3]}
    assert server.count(THINGS) == 2
    assert len(fast_retry.waits) == 1


def test_read_timeout_is_retried_then_succeeds(server, fast_retry, caplog):
    """The first answer stalls until a retry arrives: only a client that gave up on it succeeds."""
    retried = threading.Event()
    arrivals: list[Request] = []

    def stall_first(request: Request) -> Response:
        arrivals.append(request)
        if len(arrivals) == 1:
            retried.wait(timeout=30)  # answers only after the retry came, and too late for it
        else:
            retried.set()
        return OK

    server.route("GET", THINGS, stall_first)
    client = client_for(server, fast_retry, read_timeout=0.5)
    caplog.set_level(logging.WARNING, logger="kpi_pipeline.sources")

    assert client.get_json("/v1/things") == {"items": [1, 2, 3]}

    assert retried.is_set()  # a second request came while the first still stalled
    assert server.count(THINGS) == len(fast_retry.waits) + 1 >= 2
    assert "Read timed out" in caplog.records[0].getMessage()


def test_read_timeout_on_every_attempt_raises_source_error(server, fast_retry):
    server.route("GET", THINGS, lambda r: OK)
    server.inject(Fault(path=THINGS, kind="timeout", delay=0.3, times=4))
    client = client_for(server, fast_retry, read_timeout=0.05)

    with pytest.raises(SourceError, match=r"ReadTimeout after 4 attempt\(s\)"):
        client.get_json("/v1/things")
    assert server.count(THINGS) == 4


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(server, fast_retry, status):
    server.route("GET", THINGS, sequence(_error(status, "Invalid field 'foo'"), OK))

    with pytest.raises(SourceError) as info:
        client_for(server, fast_retry).get_json("/v1/things")

    assert server.count(THINGS) == 1
    assert fast_retry.waits == []
    assert info.value.status == status
    assert "Invalid field 'foo'" in str(info.value)


def test_total_wait_bound_stops_retrying(server):
    policy = recording_policy(max_attempts=10, base_delay=1.0, max_delay=60, max_total_wait=10)
    server.route("GET", THINGS, sequence(_error(429, "slow down", {"Retry-After": "4"})))

    with pytest.raises(SourceError) as info:
        client_for(server, policy).get_json("/v1/things")

    # 4 + 4 fits in 10 s; a third wait of 4 would not, so the third failure is final.
    assert policy.waits == [4.0, 4.0]
    assert server.count(THINGS) == 3
    assert info.value.status == 429


def test_max_attempts_bounds_the_number_of_requests(server):
    policy = recording_policy(max_attempts=2, base_delay=0.01, max_delay=1)
    server.route("GET", THINGS, sequence(_error(500, "boom")))

    with pytest.raises(SourceError):
        client_for(server, policy).get_json("/v1/things")
    assert server.count(THINGS) == 2


# --------------------------------------------------------------------------------------------------
# Bad bodies
# --------------------------------------------------------------------------------------------------
def test_malformed_json_body_raises_schema_error(server, fast_retry):
    server.route("GET", THINGS, lambda r: OK)
    server.inject(Fault(path=THINGS, kind="malformed"))

    with pytest.raises(SchemaError) as info:
        client_for(server, fast_retry).get_json("/v1/things")

    assert info.value.source == "acme"
    assert "not valid JSON" in str(info.value)
    assert "/v1/things" in str(info.value)
    assert '{"rows"' in str(info.value)  # the start of the body, to recognise the page


def test_truncated_json_body_raises_schema_error(server, fast_retry):
    server.route("GET", THINGS, lambda r: Response(body={"items": list(range(50))}))
    server.inject(Fault(path=THINGS, kind="truncate"))

    with pytest.raises(SchemaError, match="not valid JSON"):
        client_for(server, fast_retry).get_json("/v1/things")


# --------------------------------------------------------------------------------------------------
# Secret redaction
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def api_key() -> str:
    key = "sk_live_" + pysecrets.token_hex(12)
    register_secret(key)
    return key


BEARER = "ya29.a0AfH6SM_bx-" + "Q9z_K2" * 4


def _assert_clean(text: str, *values: str) -> None:
    for value in values:
        assert value not in text


def test_secrets_never_appear_in_errors_or_logs_when_the_provider_echoes_them(
    server, fast_retry, api_key, caplog
):
    caplog.set_level(logging.DEBUG, logger="kpi_pipeline.sources")

    def echo(request: Request) -> Response:
        message = (
            f"key {request.arg('api_key')} rejected for {request.header('authorization')} "
            f"at {request.path}"
        )
        return _error(503, message)

    server.route("GET", THINGS, echo)
    client = client_for(server, fast_retry, headers={"Authorization": f"Bearer {BEARER}"})

    with pytest.raises(SourceError) as info:
        client.get_json("/v1/things", params={"api_key": api_key})

    text = str(info.value)
    assert "rejected" in text  # the provider's message is there, with the secrets masked
    _assert_clean(text, api_key, BEARER)
    _assert_clean(repr(info.value.args), api_key, BEARER)
    _assert_clean(info.value.provider_message or "", api_key, BEARER)
    retries = [r for r in caplog.records if r.name == "kpi_pipeline.sources"]
    assert len(retries) == 3  # one warning per retry
    for record in caplog.records:
        _assert_clean(record.getMessage(), api_key, BEARER)
    _assert_clean(caplog.text, api_key, BEARER)


@pytest.mark.parametrize("envelope", ["error.message", "message", "plain text"])
def test_a_secret_cut_by_the_500_character_limit_is_masked_whole(
    server, fast_retry, api_key, envelope
):
    """A provider message that repeats a key across character 500 keeps no piece of it."""
    text = "x" * (500 - len(api_key) // 2) + api_key + " and more"
    bodies = {
        "error.message": {"error": {"code": 400, "message": text}},
        "message": {"message": text},
        "plain text": text,
    }
    server.route("GET", THINGS, lambda r: Response(400, bodies[envelope]))

    with pytest.raises(SourceError) as info:
        client_for(server, fast_retry).get_json("/v1/things")

    assert "xxxx" in str(info.value) and "***" in str(info.value)
    for piece in (api_key[:8], api_key[-8:]):
        _assert_clean(str(info.value), piece)


@pytest.mark.parametrize("cut_at", [120, 300, 500])
def test_source_error_masks_a_value_or_provider_text_before_cutting_it(api_key, cut_at) -> None:
    """Callers pass whole pages and bodies: SourceError masks, then cuts (value 200, text 500)."""
    text = "y" * (cut_at - len(api_key) // 2) + api_key + " trailing"
    error = SourceError("acme", "GET /v1/things", "bad page", value=text, provider_message=text)

    assert "***" in str(error) and "***" in (error.provider_message or "")
    for piece in (api_key[:8], api_key[-8:]):
        _assert_clean(str(error), piece)
        _assert_clean(error.provider_message or "", piece)


def test_secret_in_the_url_of_a_connection_error_is_redacted(fast_retry, api_key, caplog):
    caplog.set_level(logging.DEBUG, logger="kpi_pipeline.sources")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HttpClient(f"http://127.0.0.1:{port}", source="acme", retry=fast_retry)

    with pytest.raises(SourceError) as info:
        client.get_json(f"/v1/things?api_key={api_key}")

    text = str(info.value)
    assert "ConnectionError after 4 attempt(s)" in text
    _assert_clean(text, api_key)
    assert len([r for r in caplog.records if r.name == "kpi_pipeline.sources"]) == 3
    for record in caplog.records:
        _assert_clean(record.getMessage(), api_key)


def test_redact_masks_registered_secrets_and_bearer_tokens(api_key):
    text = redact(f"Authorization: Bearer {BEARER}; key={api_key}; other=visible")
    _assert_clean(text, api_key, BEARER)
    assert "visible" in text and "Bearer ***" in text


def test_redacting_filter_masks_messages_logged_with_arguments(api_key, caplog):
    caplog.set_level(logging.DEBUG, logger="kpi_pipeline.sources")
    logging.getLogger("kpi_pipeline.sources").warning("calling with %s", api_key)

    assert [r.getMessage() for r in caplog.records] == ["calling with ***"]


# --------------------------------------------------------------------------------------------------
# Retry-After parsing
# --------------------------------------------------------------------------------------------------
def test_parse_retry_after_reads_delta_seconds():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


def test_parse_retry_after_reads_an_http_date():
    # e.g. "Wed, 21 Oct 2015 07:28:00 GMT", thirty seconds from now
    header = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert header.endswith("GMT")

    assert parse_retry_after(header) == pytest.approx(30, abs=2)


def test_parse_retry_after_date_in_the_past_means_no_wait():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# --------------------------------------------------------------------------------------------------
# Paging helpers
# --------------------------------------------------------------------------------------------------
def test_paginate_cursor_follows_cursors_until_none():
    pages = {None: ([1, 2], "b"), "b": ([3, 4], "c"), "c": ([5], None)}
    calls: list[str | None] = []

    def fetch(cursor):
        calls.append(cursor)
        return pages[cursor]

    assert list(paginate_cursor(fetch, source="acme", endpoint="GET /things")) == [
        [1, 2],
        [3, 4],
        [5],
    ]
    assert calls == [None, "b", "c"]


def test_paginate_cursor_raises_schema_error_on_a_repeated_cursor():
    pages = {None: ([1], "a"), "a": ([2], "b"), "b": ([3], "a")}
    fetched: list[list[int]] = []

    with pytest.raises(SchemaError) as info:
        for page in paginate_cursor(lambda c: pages[c], source="acme", endpoint="GET /things"):
            fetched.append(page)
            assert len(fetched) < 10, "paging did not stop"

    assert fetched == [[1], [2], [3]]
    assert info.value.source == "acme"
    assert info.value.field == "cursor" and info.value.value == "a"
    assert "repeated" in str(info.value)


def _offset_api(items: list[int], page_size: int, *, with_total: bool):
    offsets: list[int] = []

    def fetch(offset: int):
        offsets.append(offset)
        return items[offset : offset + page_size], len(items) if with_total else None

    return fetch, offsets


def test_paginate_offset_stops_at_total():
    fetch, offsets = _offset_api(list(range(10)), 4, with_total=True)

    pages = list(paginate_offset(fetch, page_size=4))

    assert pages == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert offsets == [0, 4, 8]  # no extra request past the total


def test_paginate_offset_stops_at_total_on_an_exact_multiple_of_the_page_size():
    fetch, offsets = _offset_api(list(range(8)), 4, with_total=True)

    assert [x for page in paginate_offset(fetch, page_size=4) for x in page] == list(range(8))
    assert offsets == [0, 4]


def test_paginate_offset_stops_on_an_empty_page_even_if_the_total_says_more():
    def fetch(offset: int):
        return ([1, 2] if offset == 0 else []), 100

    assert list(paginate_offset(fetch, page_size=2)) == [[1, 2]]


def test_paginate_offset_without_a_total_pages_until_an_empty_page():
    fetch, offsets = _offset_api(list(range(10)), 4, with_total=False)

    pages = list(paginate_offset(fetch, page_size=4))

    assert pages == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert offsets == [0, 4, 8, 12]


def test_paginate_offset_yields_nothing_for_an_empty_first_page():
    fetch, offsets = _offset_api([], 4, with_total=False)

    assert list(paginate_offset(fetch, page_size=4)) == []
    assert offsets == [0]
