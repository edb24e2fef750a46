"""The fake bureau as a real HTTP server on a free loopback port, shared by the module's tests
(faults and counters reset before each), and a database with two borrowers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.settings import BureauSettings
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower
from tests.api.conftest import api, closed, settings  # noqa: F401  (the API fixtures, reused)


@pytest.fixture(scope="session")
def _bureau_server() -> Iterator[FakeBureau]:
    with FakeBureau(port=0) as bureau:
        yield bureau


@pytest.fixture
def bureau(_bureau_server: FakeBureau) -> FakeBureau:
    _bureau_server.reset()
    return _bureau_server


@pytest.fixture
def bureau_settings(bureau: FakeBureau) -> BureauSettings:
    return BureauSettings(
        base_url=bureau.url,
        timeout_s=0.5,
        retries=2,
        backoff_s=0.01,
        breaker_failures=3,
        breaker_reset_s=60.0,
    )


@pytest.fixture
def make_source(bureau_settings: BureauSettings):  # type: ignore[no-untyped-def]
    """`make_source(name, **settings_changes)`: an adapter with its own (fresh) breaker."""
    from dataclasses import replace

    made: list[HttpSource] = []

    def make(name: str = "credit_report", **changes: object) -> HttpSource:
        chosen = replace(bureau_settings, **changes)  # type: ignore[arg-type]
        source = HttpSource(
            name,
            chosen,
            breaker=CircuitBreaker(chosen.breaker_failures, chosen.breaker_reset_s),
        )
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


@pytest.fixture
def borrowers(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        session.add(Borrower(borrower_id="B0001", kind="individual", name="张三"))
        session.add(Borrower(borrower_id="B0002", kind="enterprise", name="某某有限公司"))
    return engine
