"""A client-side sliding-window rate limiter with an injectable clock (tests never sleep).

Providers publish some limits that a client must respect rather than discover through 429s:
Zendesk's incremental exports allow 10 requests per minute, HubSpot's search endpoints 4 per
second. :class:`RateLimiter` blocks before a request that would exceed ``max_calls`` in any
``period`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from sources.progress import current


class RateLimiter:
    """At most ``max_calls`` acquisitions in any window of ``period`` seconds."""

    def __init__(
        self,
        max_calls: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("a rate limit needs max_calls >= 1 and period > 0")
        self.max_calls = max_calls
        self.period = period
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until a call is allowed, record it, and return how long this call waited."""
        with self._lock:
            waited = 0.0
            while True:
                now = self.clock()
                while self._calls and now - self._calls[0] >= self.period:
                    self._calls.popleft()
                if len(self._calls) < self.max_calls:
                    self._calls.append(now)
                    self.waited += waited
                    return waited
                delay = self.period - (now - self._calls[0])
                current().wait(delay, self.sleep, "client-side rate limit")
                waited += delay
