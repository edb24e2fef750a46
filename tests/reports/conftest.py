"""Fixtures for the report tests: a database with the example book and its month-end snapshots."""

from __future__ import annotations

import pytest

from arrears.store.db import make_engine, upgrade

from .helpers import BOOK_DATES, import_examples, write_snapshots


@pytest.fixture(scope="session")
def book_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the example book and snapshots at its last six month-ends (shared
    by the session: tests only read it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'book.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_examples(engine)
    write_snapshots(engine, BOOK_DATES)
    engine.dispose()
    return url


@pytest.fixture
def book_engine(book_url: str):
    engine = make_engine(book_url)
    yield engine
    engine.dispose()
