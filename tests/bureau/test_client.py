"""The HTTP adapter against the fake bureau's real failures: timeouts, retries with exponential
backoff, 4xx not retried, and the circuit breaker opening, refusing without a request, and
closing again after a successful trial."""

from __future__ import annotations

import pytest

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource, backoff_delays
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.settings import BureauSettings
from arrears.bureau.sources import CircuitOpen, SourceUnavailable, UnknownSubject


def _requests(bureau: FakeBureau) -> int:
    with bureau.lock:
        return bureau.stats.requests


def test_a_healthy_fetch_is_one_request(bureau: FakeBureau, make_source) -> None:
    source = make_source("credit_report")
    report = source.fetch("B0001")
    assert report["subject_id"] == "B0001" and source.last_attempts == 1
    assert _requests(bureau) == 1


def test_transient_failures_are_retried_with_exponential_backoff(
    bureau: FakeBureau, bureau_settings: BureauSettings
) -> None:
    waits: list[float] = []
    source = HttpSource("tax", bureau_settings, breaker=CircuitBreaker(3, 60), sleep=waits.append)
    bureau.set_faults(fail_next=2, fail_status=503)
    assert source.fetch("B0001")["source"] == "tax"
    assert source.last_attempts == 3 and _requests(bureau) == 3
    assert waits == [0.01, 0.02]
    assert source.breaker.state == "closed"


def test_backoff_doubles_and_is_capped() -> None:
    settings = BureauSettings(retries=5, backoff_s=0.5, backoff_max_s=3.0)
    assert backoff_delays(settings) == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_timeouts_count_as_failures_and_give_up_after_the_retries(
    bureau: FakeBureau, make_source
) -> None:
    source = make_source("credit_report", timeout_s=0.1, retries=1)
    bureau.set_faults(latency_ms=400)
    with pytest.raises(SourceUnavailable, match="timed out"):
        source.fetch("B0001")
    assert source.last_attempts == 2


def test_a_client_error_is_not_retried(bureau: FakeBureau) -> None:
    settings = BureauSettings(base_url=bureau.url, retries=3, backoff_s=0.0)
    source = HttpSource("credit_report", settings, breaker=CircuitBreaker(3, 60))
    bureau.set_faults(fail_next=1, fail_status=400)
    with pytest.raises(SourceUnavailable, match="HTTP 400"):
        source.fetch("B0001")
    assert _requests(bureau) == 1


def test_unknown_subject_is_not_a_failure_of_the_source() -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_text("borrower_id,kind\nB1,individual\n")
        with FakeBureau(port=0, features=path) as bureau:
            settings = BureauSettings(base_url=bureau.url, retries=2, backoff_s=0.0)
            source = HttpSource("business_registry", settings, breaker=CircuitBreaker(1, 60))
            with pytest.raises(UnknownSubject):
                source.fetch("B1")
            assert source.last_attempts == 1 and source.breaker.state == "closed"


def test_circuit_opens_refuses_without_calling_then_recovers(bureau: FakeBureau) -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_after=10.0, clock=lambda: now[0])
    settings = BureauSettings(base_url=bureau.url, retries=1, backoff_s=0.0)
    source = HttpSource("enforcement", settings, breaker=breaker)
    bureau.set_faults(fail_next=100)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            source.fetch("B0001")
    assert breaker.state == "open" and _requests(bureau) == 4  # 2 fetches × 2 attempts
    with pytest.raises(CircuitOpen):
        source.fetch("B0001")
    assert _requests(bureau) == 4 and source.last_attempts == 0  # refused without a request
    now[0] = 10.0  # cooled down: one trial goes through, fails, and the circuit reopens
    assert breaker.state == "half_open"
    with pytest.raises(SourceUnavailable):
        source.fetch("B0001")
    assert breaker.state == "open"
    now[0] = 20.5
    bureau.set_faults(fail_next=0)
    assert source.fetch("B0001")["listed"] in (True, False)
    assert breaker.state == "closed"


def test_connection_refused_is_a_failure() -> None:
    settings = BureauSettings(base_url="http://127.0.0.1:9", retries=1, backoff_s=0.0)
    source = HttpSource("tax", settings, breaker=CircuitBreaker(1, 60))
    with pytest.raises(SourceUnavailable, match="connection failed"):
        source.fetch("B1")
    assert source.breaker.state == "open"


def test_half_open_lets_one_trial_at_a_time() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=1, reset_after=5, clock=lambda: now[0])
    breaker.record_failure()
    assert not breaker.allow()
    now[0] = 5
    assert breaker.allow() and not breaker.allow()
    breaker.record_success()
    assert breaker.allow() and breaker.state == "closed"


def test_settings_from_the_environment(monkeypatch) -> None:
    from arrears.config import SettingsError

    monkeypatch.setenv("ARREARS_BUREAU_URL", "http://bureau.example:9000/")
    monkeypatch.setenv("ARREARS_BUREAU_TIMEOUT", "1.5")
    monkeypatch.setenv("ARREARS_BUREAU_RETRIES", "4")
    monkeypatch.setenv("ARREARS_BUREAU_TTL", "60")
    s = BureauSettings.from_env()
    assert (s.base_url, s.timeout_s, s.retries, s.ttl_s) == (
        "http://bureau.example:9000",
        1.5,
        4,
        60,
    )
    assert s.breaker_failures == 5 and s.backoff_s == 0.2  # the documented defaults
    monkeypatch.setenv("ARREARS_BUREAU_RETRIES", "many")
    with pytest.raises(SettingsError, match="ARREARS_BUREAU_RETRIES"):
        BureauSettings.from_env()
    monkeypatch.setenv("ARREARS_BUREAU_RETRIES", "-1")
    with pytest.raises(SettingsError, match="negative"):
        BureauSettings.from_env()
