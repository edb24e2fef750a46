"""A small book for collection tests: loans seeded with the shared fixtures, closed by the real
COB for a date, then the real daily case update."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.auth import add_user
from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.collection.update import update_cases
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower

CATALOG = load_catalog()


@pytest.fixture
def book(engine, seed_loan, make_loan):
    """B-1 has two loans (L-1, L-2), B-2 (an enterprise) one (L-3), B-3 one (L-4). All are the
    sample three-instalment loan due 2024-02-15, 03-15, 04-15."""
    with unit_of_work(engine) as session:
        seed_loan(session, make_loan("L-1"), borrower_id="B-1")
        seed_loan(session, make_loan("L-2", principal=600_000), borrower_id="B-1")
        seed_loan(session, make_loan("L-3"), borrower_id="B-2")
        session.get(Borrower, "B-2").kind = "enterprise"
        seed_loan(session, make_loan("L-4"), borrower_id="B-3")
    for name, role in (
        ("ann", "collector"),
        ("bob", "collector"),
        ("rita", "risk"),
        ("ada", "admin"),
        ("leo", "legal"),
    ):
        add_user(engine, name, role, None)
    return engine


@pytest.fixture
def close(tmp_path):
    """`close(engine, day)`: the COB for `day`, then the case update; returns the update."""

    def run(engine, day: date):
        close_business(engine, CATALOG, day, tmp_path / "state")
        return update_cases(engine, day)

    return run
