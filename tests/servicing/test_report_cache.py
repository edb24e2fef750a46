"""The dashboard's report cache: a report is reused until the book changes, and rebuilt after a
payment, a reversal or a close of business (on SQLite and PostgreSQL)."""

from datetime import date

import pytest

from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.reports.cache import ReportCache, book_version
from arrears.servicing import post_payment, reverse_payment
from arrears.store.db import unit_of_work

CATALOG = load_catalog()
TODAY = date(2024, 3, 1)


@pytest.fixture
def loan_id(engine, seed_loan):
    with unit_of_work(engine) as session:
        seed_loan(session)
    return "L-1"


def test_a_report_is_rebuilt_exactly_when_the_book_changes(engine, loan_id, tmp_path):
    cache, builds = ReportCache(size=2), []

    def view(key="portfolio"):
        return cache.get(engine, key, lambda: builds.append(book_version(engine)) or len(builds))

    assert view() == view() == 1  # nothing changed: built once
    payment_id, _ = post_payment(engine, CATALOG, loan_id, 1_000, TODAY, today=TODAY)
    assert view() == view() == 2
    reverse_payment(engine, CATALOG, payment_id, "returned by the bank", today=TODAY)
    assert view() == 3
    close_business(engine, CATALOG, TODAY, data_dir=tmp_path)
    assert view() == 4
    assert view("other") == 5 and view() == 4  # keys kept apart; LRU of two
    assert view("third") == 6 and view() == 4  # "other" was the least recently used …
    assert view("other") == 7  # … so the third key pushed it out
    assert (cache.hits, cache.misses) == (4, 7)
