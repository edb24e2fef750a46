"""The circuit breaker as a property: over any sequence of outcomes and clock moves, it refuses
calls exactly while `failures` consecutive failures are less than `reset_after` old, lets one
trial through after that, and a success always closes it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.bureau.breaker import CircuitBreaker

events = st.lists(
    st.one_of(
        st.just(("fail", 0.0)),
        st.just(("ok", 0.0)),
        st.tuples(st.just("wait"), st.floats(0, 20, allow_nan=False)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.floats(0.5, 10, allow_nan=False), events)
def test_breaker_follows_its_rules(failures: int, reset_after: float, steps) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    breaker = CircuitBreaker(failures, reset_after, clock=lambda: now[0])
    streak, opened_at = 0, None  # the reference: consecutive failures, when it last opened
    for kind, amount in steps:
        if kind == "wait":
            now[0] += amount
            continue
        expected_open = opened_at is not None and now[0] - opened_at < reset_after
        allowed = breaker.allow()
        if expected_open:
            assert not allowed and breaker.state == "open"
            continue
        assert allowed  # closed, or half-open with no trial out yet
        if kind == "ok":
            breaker.record_success()
            streak, opened_at = 0, None
            assert breaker.state == "closed"
        else:
            breaker.record_failure()
            streak += 1
            if opened_at is not None or streak >= failures:
                opened_at = now[0]
                assert breaker.state in ("open", "half_open")  # half-open only if reset_after≈0
            else:
                assert breaker.state == "closed"
