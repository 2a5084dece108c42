"""A small threaded HTTP server that hosts emulated APIs and injects faults on request.

Tests use it in-process (``EmulatorServer().start()``); the demo runs it as a process
(``python -m sources.emulators``). Faults can be queued from Python or over HTTP at
``POST /_emulator/faults`` so a separate process (a Dagster run) meets them too.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[Request], Response | None]


@dataclass
class Fault:
    """One injected failure for requests whose path matches ``path``.

    kinds: ``http`` (answer ``status``/``body``/``headers``), ``drop`` (close the connection),
    ``timeout`` (stall ``delay`` seconds, then answer normally), ``malformed`` (200 with a broken
    JSON body), ``truncate`` (the real body cut in half), ``transform`` (the real JSON passed through
    ``transform``, for schema drift), ``echo`` (answer ``status`` with an error body that echoes the
    request back: URL with query, headers, body, as a careless proxy or debug endpoint does; for the
    secrets scan), ``ignore_paging`` (drop the query or JSON-body fields named in ``params`` before
    answering: a server that ignores the paging offset and hands back the same page again).
    """

    path: str = ".*"
    kind: str = "http"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    delay: float = 0.0
    transform: Callable[[Any], Any] | None = None
    params: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        allowed = {"path", "kind", "status", "body", "headers", "times", "delay", "params"}
        return cls(**{k: v for k, v in data.items() if k in allowed})


def echo_body(status: int, raw_path: str, request: Request) -> dict[str, Any]:
    """An error body in the common ``{"error": {"message": ...}}`` shape that repeats the request."""
    echoed = f"{request.method} {raw_path} headers={request.headers} body={request.body!r}"
    return {
        "error": {
            "code": status,
            "status": "ECHO",
            "message": f"request rejected: {echoed}",
            "request": {
                "url": raw_path,
                "headers": request.headers,
                "body": request.body.decode(errors="replace"),
            },
        },
        "message": f"request rejected: {echoed}",
    }


def without_params(request: Request, names: tuple[str, ...]) -> Request:
    """The request minus the named query parameters and top-level JSON-body fields."""
    query = {k: v for k, v in request.query.items() if k not in names}
    body = request.body
    if body.startswith(b"{"):
        data = json.loads(body)
        body = json.dumps({k: v for k, v in data.items() if k not in names}).encode()
    return Request(request.method, request.path, query, request.headers, body)


class EmulatorServer:
    """Routes requests to registered API handlers; applies queued faults first."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        # Seconds every answer waits, like a provider across the internet (benchmarks: 0.15).
        self.latency = latency
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.route("POST", r"/_emulator/faults", self._add_fault)
        self.route("DELETE", r"/_emulator/faults", self._clear_faults)
        self.route("GET", r"/_emulator/health", lambda r: Response(body={"ok": True}))

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"$"), handler))

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, path_pattern: str) -> int:
        """How many requests hit paths matching ``path_pattern`` (for paging assertions)."""
        pattern = re.compile(path_pattern)
        return sum(1 for _, path in list(self.requests) if pattern.search(path))

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Internals ------------------------------------------------------------------------------
    def _add_fault(self, request: Request) -> Response:
        payload = request.json()
        self.inject(
            *(Fault.from_json(f) for f in (payload if isinstance(payload, list) else [payload]))
        )
        return Response(body={"queued": len(self._faults)})

    def _clear_faults(self, request: Request) -> Response:
        self.clear_faults()
        return Response(body={"queued": 0})

    def _take_fault(self, path: str) -> Fault | None:
        if path.startswith("/_emulator"):
            return None
        with self._lock:
            for fault in self._faults:
                if re.search(fault.path, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            if method == request.method and (m := pattern.match(request.path)):
                request.match = m
                response = handler(request)
                if response is not None:  # None: not mine, let the next route answer
                    return response
        return Response(404, {"error": {"code": 404, "message": f"no route {request.path}"}})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output quiet
                return

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                server.requests.append((request.method, request.path))
                if server.latency:
                    time.sleep(server.latency)
                fault = server._take_fault(request.path)
                if fault and fault.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault and fault.kind == "timeout":
                    time.sleep(fault.delay)
                if fault and fault.kind == "http":
                    response = Response(fault.status, fault.body or {}, dict(fault.headers))
                elif fault and fault.kind == "echo":
                    response = Response(fault.status, echo_body(fault.status, self.path, request))
                else:
                    if fault and fault.kind == "ignore_paging":
                        request = without_params(request, fault.params)
                    response = server.dispatch(request)
                    if fault and fault.kind == "malformed":
                        response = Response(200, b'{"rows": [{"dimensionValues": [}')
                    elif fault and fault.kind == "truncate":
                        payload = response.payload()
                        response = Response(response.status, payload[: len(payload) // 2])
                    elif fault and fault.kind == "transform" and fault.transform:
                        response = Response(
                            response.status, fault.transform(json.loads(response.payload()))
                        )
                payload = response.payload()
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        return _Handler
