"""Progress of a long pull: counts requests, pages, rows, days/objects and throttle waits, and
writes a line at most every ``interval`` seconds while the pull works.

One reporter is *active* per thread while a source step runs (:func:`reporting`); the shared HTTP
layer (:class:`sources.http.HttpClient`, :func:`sources.http.call_with_retries`), the paging
helpers and the rate limiter report to it through :func:`current`, so no client counts anything
itself. Outside a step :func:`current` is a reporter that writes nothing. Waits (retry backoff,
throttles, polling) are slept in slices of at most ``interval`` seconds so a long wait still
reports. A line is written when something happens after ``interval`` seconds of silence; while
nothing happens (one slow request, a long load) :func:`heartbeat` writes it from a background
thread, so a step is never silent for much longer than ``interval``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

DEFAULT_INTERVAL = 10.0
PREFIX = "progress"  # every line starts with it: the demo console shows those lines


def _now() -> float:
    return time.monotonic()


@dataclass
class Progress:
    """Counters of one source step and the clock that paces its lines."""

    source: str
    write: Callable[[str], None] = field(default=lambda line: None, repr=False)
    interval: float = DEFAULT_INTERVAL
    clock: Callable[[], float] | None = field(default=None, repr=False)  # None: _now
    days_total: int | None = None
    requests: int = 0
    pages: int = 0
    rows: int = 0
    days: int = 0
    objects: int = 0
    waited: float = 0.0
    loaded: int = 0  # rows written to the warehouse (counted by the step, not the client)
    lines: int = 0
    _started: float = field(default=0.0, repr=False)
    _last: float = field(default=0.0, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # heartbeat too

    def __post_init__(self) -> None:
        self.clock = self.clock or _now
        self._started = self._last = self.clock()

    def add(
        self,
        *,
        requests: int = 0,
        pages: int = 0,
        rows: int = 0,
        days: int = 0,
        objects: int = 0,
    ) -> None:
        """Count work done, then write a line if ``interval`` seconds passed since the last."""
        self.requests += requests
        self.pages += pages
        self.rows += rows
        self.days += days
        self.objects += objects
        self.maybe_write()

    def wait(self, seconds: float, sleep: Callable[[float], None], why: str) -> None:
        """Sleep ``seconds`` in slices of at most ``interval``, reporting the wait as it goes."""
        left = max(seconds, 0.0)
        while left > 0:
            step = min(left, self.interval)
            sleep(step)
            self.waited += step
            left -= step
            self.maybe_write(f"{why}, {left:.0f} s left" if left > 0 else why)

    def maybe_write(self, note: str | None = None) -> None:
        with self._lock:
            if self.clock() - self._last >= self.interval:
                self.write_line(note)

    def write_line(self, note: str | None = None, final: bool = False) -> None:
        with self._lock:
            self._last = self.clock()
            self.lines += 1
            self.write(self.line(note, final))

    def line(self, note: str | None = None, final: bool = False) -> str:
        # a load step makes no requests: its line is about rows loaded
        parts = [f"{self.requests} requests"] if self.requests or not self.loaded else []
        if self.pages:
            parts.append(f"{self.pages} pages")
        if self.pages or self.rows:
            parts.append(f"{self.rows:,} rows")
        if self.days or self.days_total:
            parts.append(
                f"{self.days}/{self.days_total} days" if self.days_total else f"{self.days} days"
            )
        if self.objects:
            parts.append(f"{self.objects} objects")
        if self.loaded:
            parts.append(f"{self.loaded:,} rows loaded")
        if self.waited:
            parts.append(f"waited {self.waited:.0f} s (throttling/backoff)")
        elapsed = self.clock() - self._started
        state = "done" if final else "working"
        text = f"{PREFIX} {self.source}: {state} after {elapsed:.0f} s: " + ", ".join(parts)
        return f"{text} ({note})" if note else text


_active = threading.local()
_SILENT = Progress("none", interval=float("inf"))  # no step: waits are one sleep, no lines


def current() -> Progress:
    """The reporter of the step running in this thread, else one that writes nothing."""
    return getattr(_active, "progress", None) or _SILENT


@contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the active reporter of this thread; write a final line at the end."""
    previous = getattr(_active, "progress", None)
    _active.progress = progress
    try:
        yield progress
    except BaseException:
        progress.write_line("stopped by an error", final=True)
        raise
    else:
        progress.write_line(final=True)
    finally:
        _active.progress = previous


@contextmanager
def heartbeat(beat: Callable[[], None], interval: float = DEFAULT_INTERVAL) -> Iterator[None]:
    """Call ``beat`` from a background thread about every second (at most every ``interval``)
    while the block runs; ``beat`` decides itself whether a line is due. A failing beat is
    ignored: progress must never fail a step."""
    stopped = threading.Event()

    def run() -> None:
        while not stopped.wait(min(1.0, interval)):
            with contextlib.suppress(Exception):
                beat()

    thread = threading.Thread(target=run, name="kpi-progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=5.0)
