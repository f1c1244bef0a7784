"""A circuit breaker per backend: stop sending requests to a service that keeps failing."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed until ``failures`` consecutive failures; then open for ``reset_s`` seconds
    (requests refused at once); then half-open: one probe request at a time decides whether
    it closes again or stays open for another period. The probe has its own short timeout
    (``probe_timeout_s``); a probe that never reports back (its caller went away) is replaced
    by a new one after that long, so the breaker cannot stay half-open for good."""

    def __init__(
        self,
        *,
        failures: int,
        reset_s: float,
        probe_timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.reset_s = reset_s
        self.probe_timeout_s = probe_timeout_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False
        self.probe_started = 0.0

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        if self.opened_at is None:
            return "closed"
        return "open" if self.clock() - self.opened_at < self.reset_s else "half_open"

    def before_request(self) -> int | None:
        """None when a request may go; else the seconds to wait (for Retry-After).

        When the answer is None and ``probing`` is true, the request is the probe: send it
        with ``probe_timeout_s``.
        """
        state = self.state
        if state == "closed":
            return None
        if state == "half_open" and (
            not self.probing or self.clock() - self.probe_started > 2 * self.probe_timeout_s
        ):
            self.probing = True
            self.probe_started = self.clock()
            return None
        assert self.opened_at is not None
        remaining = self.reset_s - (self.clock() - self.opened_at)
        return max(math.ceil(remaining), 1)

    def record_success(self) -> None:
        """A request got an answer: close."""
        self.failures = 0
        self.opened_at = None
        self.probing = False

    def record_failure(self) -> None:
        """A request failed (connection error or timeout): count, maybe open."""
        self.failures += 1
        if self.probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.probing = False
