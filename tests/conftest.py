"""Shared fixtures.

Databases: `backend` runs a test on SQLite and on the local PostgreSQL (127.0.0.1:5432). Each
xdist worker gets its own PostgreSQL database (`arrears_test_<worker>`), migrated once per
session and emptied between tests; an unreachable server fails the PostgreSQL tests (CI
guarantees it is up, so a skip would hide a broken setup).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from arrears.loans.terms import Installment, Loan, LoanTerms
from arrears.store import tables
from arrears.store.db import make_engine, session_factory, upgrade
from arrears.store.repository import LoanRecord, add_loan

# No per-example deadline: a deadline is a timing assert, and a loaded 2-core machine (CI) would
# make property tests fail for slowness rather than for a wrong answer.
settings.register_profile("arrears", deadline=None)
settings.load_profile("arrears")

PG_HOST, PG_PORT, PG_ADMIN_DB = "127.0.0.1", 5432, "test"
PG_USERS = ("postgres", "root")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# xdist workers share their controller's pid as parent; a plain run uses its own pid.
RUN_ID = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()

# ---------------------------------------------------------------------------- databases


def _pg_url(user: str, database: str) -> URL:
    return URL.create(
        "postgresql+psycopg", username=user, host=PG_HOST, port=PG_PORT, database=database
    )


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the `test` database, for CREATE/DROP DATABASE."""
    errors = []
    for user in PG_USERS:
        engine = create_engine(
            _pg_url(user, PG_ADMIN_DB),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        try:
            with engine.connect():
                pass
        except OperationalError as exc:
            engine.dispose()
            errors.append(f"{user}: {exc.orig}")
            continue
        yield engine
        engine.dispose()
        return
    pytest.fail(
        f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_ADMIN_DB} is not reachable (tried users "
        f"{', '.join(PG_USERS)}); start it with `pg_ctlcluster <version> main start`.\n"
        + "\n".join(errors)
    )


def _recreate_pg_database(admin: Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(admin.url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def db_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a database migrated to head, shared by the session (see `engine`)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'arrears.db'}"
        upgrade(url)
        yield url
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    # The run's id keeps two suites on one machine (two checkouts, CI beside a developer) apart.
    name = f"arrears_test_{RUN_ID}_{WORKER}"
    url = _recreate_pg_database(admin, name)
    upgrade(url)
    yield url
    _drop_pg_database(admin, name)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a brand-new database with no schema at all (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    name = f"arrears_test_{WORKER}_empty"
    yield _recreate_pg_database(admin, name)
    _drop_pg_database(admin, name)


@pytest.fixture(scope="session")
def _shared_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    names = [table.name for table in tables.Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{n}"' for n in names)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(names):
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def engine(_shared_engine: Engine) -> Engine:
    """An engine on a migrated database with every table empty."""
    _empty_all_tables(_shared_engine)
    return _shared_engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on `engine`; the test commits what it wants to be seen by others."""
    with session_factory(engine)() as s:
        yield s


# ---------------------------------------------------------------------------- sample data


def _sample_loan(loan_id: str = "L-1", principal: int = 300_000, **terms: object) -> Loan:
    """A three-instalment monthly loan disbursed 2024-01-15 (amounts in minor units)."""
    loan_terms = LoanTerms(
        principal=principal,
        annual_rate=Decimal("0.1235"),
        term_months=3,
        method="equal_principal",
        disbursed_on=date(2024, 1, 15),
        **terms,  # type: ignore[arg-type]
    )
    part = principal // 3
    schedule = tuple(
        Installment(
            seq=n,
            due_on=date(2024, 1 + n, 15),
            principal=part if n < 3 else principal - 2 * part,
            interest=1_000 * (4 - n),
        )
        for n in (1, 2, 3)
    )
    return Loan(loan_id=loan_id, terms=loan_terms, schedule=schedule)


def add_borrower(session: Session, borrower_id: str = "B-1") -> tables.Borrower:
    row = session.get(tables.Borrower, borrower_id)
    if row is None:
        row = tables.Borrower(borrower_id=borrower_id, kind="individual", name="张三")
        session.add(row)
        session.flush()
    return row


@pytest.fixture
def make_loan() -> Callable[..., Loan]:
    """`make_loan(loan_id="L-1", principal=300_000, **terms)`: a three-instalment domain loan
    at 12.35% disbursed 2024-01-15, due on the 15th of February, March and April."""
    return _sample_loan


SeedLoan = Callable[..., LoanRecord]


@pytest.fixture
def seed_loan() -> SeedLoan:
    """`seed_loan(session, loan=None, borrower_id="B-1", product="consumer")` stores a borrower
    and a loan (default: `make_loan()`) with its instalments, flushed not committed."""

    def seed(
        session: Session,
        loan: Loan | None = None,
        borrower_id: str = "B-1",
        product: str = "consumer",
    ) -> LoanRecord:
        record = LoanRecord(loan=loan or _sample_loan(), product=product, borrower_id=borrower_id)
        add_borrower(session, borrower_id)
        add_loan(session, record)
        return record

    return seed


# ---------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright, one per test process: Playwright's sync API cannot
    be started twice in one process, so every browser test (pages, collection, models) shares it
    and opens its own context."""
    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-zenhei")
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
