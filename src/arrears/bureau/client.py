"""HTTP adapters for the external sources (httpx): one `HttpSource` per source, all speaking the
bureau API `GET {base_url}/v1/{source}/{borrower_id}`.

A fetch makes at most `1 + retries` requests, each with the configured timeout; it retries on
timeouts, connection errors, 5xx and 429, waiting `backoff_s · 2^n` (capped) between attempts,
and never retries a 4xx answer (the request itself is wrong; asking again will not help). A
fetch that ends in failure counts against the source's circuit breaker; while the breaker is
open a fetch is refused at once with `CircuitOpen`, without a request. Breakers are kept per
process and per (base URL, source), so every pull in a server shares what the others learnt."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.settings import BureauSettings
from arrears.bureau.sources import (
    SOURCES,
    CircuitOpen,
    SourceUnavailable,
    UnknownSubject,
    check_source,
)

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_breakers: dict[tuple[str, str], CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def shared_breaker(settings: BureauSettings, source: str) -> CircuitBreaker:
    """The process's breaker for `source` at `settings.base_url`."""
    key = (settings.base_url, source)
    with _breakers_lock:
        if key not in _breakers:
            _breakers[key] = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)
        return _breakers[key]


def backoff_delays(settings: BureauSettings) -> list[float]:
    """The waits before each retry: exponential from `backoff_s`, capped at `backoff_max_s`."""
    return [min(settings.backoff_s * 2**n, settings.backoff_max_s) for n in range(settings.retries)]


class HttpSource:
    def __init__(
        self,
        name: str,
        settings: BureauSettings,
        *,
        client: httpx.Client | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = check_source(name)
        self.settings = settings
        self.breaker = breaker if breaker is not None else shared_breaker(settings, name)
        headers = {"X-Api-Key": settings.api_key} if settings.api_key else {}
        self._client = client or httpx.Client(timeout=settings.timeout_s, headers=headers)
        self._sleep = sleep
        self.last_attempts = 0

    def fetch(self, borrower_id: str) -> dict[str, Any]:
        self.last_attempts = 0
        en, zh = SOURCES[self.name]
        if not self.breaker.allow():
            raise CircuitOpen(
                f"{en} is failing: circuit open, not called / {zh}接口连续失败，熔断中，暂不调用"
            )
        url = f"{self.settings.base_url}/v1/{self.name}/{borrower_id}"
        delays = backoff_delays(self.settings)
        last_error = ""
        for attempt in range(len(delays) + 1):
            if attempt:
                self._sleep(delays[attempt - 1])
            self.last_attempts = attempt + 1
            try:
                response = self._client.get(url)
            except httpx.TimeoutException:
                last_error = f"timed out after {self.settings.timeout_s}s"
                continue
            except httpx.TransportError as exc:
                last_error = f"connection failed: {exc}"
                continue
            if response.status_code in _RETRY_STATUS:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code == 404:
                self.breaker.record_success()  # the source answered; it just has no record
                raise UnknownSubject(
                    f"{en} has no record of {borrower_id} / {zh}无此主体记录 ({borrower_id})"
                )
            if response.status_code != 200:
                self.breaker.record_failure()
                raise SourceUnavailable(
                    f"{en} refused the request: HTTP {response.status_code} / {zh}拒绝请求"
                )
            try:
                body = response.json()
            except ValueError:
                last_error = "the answer is not JSON"
                continue
            if not isinstance(body, dict):
                last_error = "the answer is not a JSON object"
                continue
            self.breaker.record_success()
            return body
        self.breaker.record_failure()
        raise SourceUnavailable(
            f"{en} unavailable after {self.last_attempts} attempts ({last_error}) / "
            f"{zh}接口不可用，已尝试 {self.last_attempts} 次"
        )

    def close(self) -> None:
        self._client.close()


def http_sources(settings: BureauSettings) -> dict[str, HttpSource]:
    """One adapter per known source, sharing one connection pool."""
    headers = {"X-Api-Key": settings.api_key} if settings.api_key else {}
    client = httpx.Client(timeout=settings.timeout_s, headers=headers)
    return {name: HttpSource(name, settings, client=client) for name in SOURCES}
