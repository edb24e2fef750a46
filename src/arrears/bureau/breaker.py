"""The circuit breaker: after `failures` consecutive failed fetches from a source, stop calling
it for `reset_after` seconds, then let one trial call through (half-open) — a success closes the
circuit, a failure opens it again. A bureau that is down then costs a pull nothing but a quick
refusal, instead of every caller waiting out its timeouts and retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        failures: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.failures = failures
        self.reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_out = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_after:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """Whether a call may go out now. Half-open lets exactly one trial through at a time."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial_out:
                self._trial_out = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial_out = False

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            self._trial_out = False
            if self._opened_at is not None or self._consecutive >= self.failures:
                self._opened_at = self._clock()  # (re)open: a failed trial restarts the wait
