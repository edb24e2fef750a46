"""Engines, the unit of work, and the database guarantees the store relies on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from arrears.store import tables
from arrears.store.db import make_engine, normalise_url, unit_of_work
from arrears.store.repository import LoanRecord

SeedLoan = Callable[..., LoanRecord]


@pytest.mark.parametrize(
    "given",
    ["postgresql://u:p@h:5432/d", "postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"],
)
def test_postgresql_urls_use_psycopg3(given: str) -> None:
    url = normalise_url(given)
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "h",
        5432,
        "d",
    )


def test_sqlite_url_left_alone() -> None:
    assert normalise_url("sqlite:///./arrears.db").drivername == "sqlite"


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:

            def pragma(name: str) -> object:
                return conn.execute(text(f"PRAGMA {name}")).scalar()

            assert pragma("foreign_keys") == 1
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 5000
            assert pragma("synchronous") == 1  # NORMAL
    finally:
        engine.dispose()


def _borrowers(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.Borrower)).scalar_one()


def test_unit_of_work_commits(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        session.add(tables.Borrower(borrower_id="B-1", kind="individual", name="张三"))
    assert _borrowers(engine) == 1


def test_unit_of_work_rolls_back_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"), unit_of_work(engine) as session:
        session.add(tables.Borrower(borrower_id="B-1", kind="individual", name="张三"))
        session.flush()
        raise RuntimeError("boom")
    assert _borrowers(engine) == 0


def test_foreign_keys_enforced(engine: Engine, seed_loan: SeedLoan) -> None:
    """A payment for an unknown loan is refused by the database itself (on SQLite too)."""
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        seed_loan(session)
        session.add(
            tables.Payment(payment_id="P-1", loan_id="NO-SUCH", paid_on=date(2024, 2, 1), amount=1)
        )
    assert _borrowers(engine) == 0
