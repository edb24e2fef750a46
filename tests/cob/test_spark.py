"""The close of business on Spark (local[2]) gives exactly the single-machine Polars answer: the
status frame and every table of the new state, every column, for a daily step and for a rebuild
from the initial state. Deselect with `-m "not spark"`."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from arrears.catalog import load_catalog
from arrears.cob.book import book_from_loans
from arrears.cob.engine import State, advance, initial_state
from arrears.cob.status import status_frame
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import Loan, LoanTerms, Override, Pause, Payment

pyspark = pytest.importorskip("pyspark")

from arrears.cob import spark as cob_spark  # noqa: E402

pytestmark = pytest.mark.spark

CATALOG = load_catalog()
PRODUCTS = sorted(CATALOG.products)
METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
RATES = [Decimal("0"), Decimal("0.0599"), Decimal("0.12"), Decimal("0.18"), Decimal("0.2399")]
PENALTIES = [None, Decimal(0), Decimal("0.05"), Decimal("0.1825"), Decimal("0.36")]
LOANS = 3000
TODAY = date(2025, 3, 31)


def random_loan(rng: random.Random, loan_id: str) -> tuple[Loan, str]:
    disbursed = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 450))
    terms = LoanTerms(
        principal=rng.randrange(1_000, 50_000_000),
        annual_rate=rng.choice(RATES),
        term_months=rng.choice([1, 3, 6, 12, 24]),
        method=rng.choice(METHODS),
        disbursed_on=disbursed,
        interest_basis=rng.choice([None, "monthly", "act365", "act360"]),
        penalty_rate=rng.choice(PENALTIES),
    )
    product = rng.choice(PRODUCTS)
    p = CATALOG.get(product)
    rows = build_schedule(terms, p.interest_basis, p.rounding)
    horizon = (rows[-1].due_on - disbursed).days + 90
    total = sum(r.total for r in rows)
    payments = tuple(
        Payment(
            f"{loan_id}-p{k}",
            disbursed + timedelta(days=rng.randrange(0, horizon)),
            rng.choice([max(1, rows[0].total), max(1, total // 7), rng.randrange(1, total + 1)]),
        )
        for k in range(rng.randrange(0, 9))
    )
    pauses: tuple[Pause, ...] = ()
    if rng.random() < 0.1:
        start = disbursed + timedelta(days=rng.randrange(20, horizon))
        pauses = (Pause(start, start + timedelta(days=rng.randrange(0, 40)), "hardship"),)
    overrides: tuple[Override, ...] = ()
    if rng.random() < 0.1:
        on = disbursed + timedelta(days=rng.randrange(0, horizon))
        overrides = (
            Override(
                rng.choice(["special_mention", "substandard", "doubtful", "loss"]),
                "review",
                "risk",
                expires_on=on + timedelta(days=rng.randrange(0, 90)),
                effective_on=on if rng.random() < 0.5 else None,
            ),
        )
    restructured = written_off = None
    if rng.random() < 0.1:
        restructured = disbursed + timedelta(days=rng.randrange(0, 60))
    if rng.random() < 0.05:
        written_off = disbursed + timedelta(days=rng.randrange(30, horizon))
    loan = Loan(loan_id, terms, rows, payments, pauses, overrides, restructured, written_off)
    return loan, product


@pytest.fixture(scope="module")
def book():
    rng = random.Random(20250331)
    return book_from_loans([random_loan(rng, f"L{k:06d}") for k in range(LOANS)], CATALOG)


def polars_close(book, state, day):
    new_state = advance(book, state, day)
    return new_state, status_frame(book, new_state, day, CATALOG)


def assert_same(got: tuple[State, pl.DataFrame], want: tuple[State, pl.DataFrame]) -> None:
    (got_state, got_status), (want_state, want_status) = got, want
    assert got_status.height > 0
    assert_frame_equal(got_status, want_status)  # both sorted by loan_id
    for name, keys in (("open", ["loan_id", "seq"]), ("closed", ["loan_id", "seq"])):
        assert_frame_equal(getattr(got_state, name), getattr(want_state, name).sort(keys))
    assert_frame_equal(got_state.loans, want_state.loans.sort("loan_id"))


def test_partitions_are_stable_and_documented():
    ids = pl.Series(["L000001", "贷款-7", ""])
    # CRC-32 (zlib) of the UTF-8 bytes, mod the partition count: fixed values, any process.
    assert cob_spark.partition_of(ids, 8).to_list() == [3779351712 % 8, 295440891 % 8, 0]


def test_spark_equals_polars_for_a_rebuild_and_a_daily_step(book):
    """One test, one JVM (under xdist each worker would start its own)."""
    spark = cob_spark.local_session("local[2]", partitions=4)
    try:
        # A rebuild: every loan from the evening before its disbursement to TODAY.
        start = initial_state(book)
        want = polars_close(book, start, TODAY)
        got = cob_spark.advance_partitioned(book, start, TODAY, CATALOG, partitions=4, spark=spark)
        assert_same(got, want)
        assert set(want[1].get_column("status").unique()) >= {"active", "overdue", "paid_off"}

        # A daily step: yesterday's state → today.
        yesterday = TODAY - timedelta(days=1)
        state = advance(book, initial_state(book), yesterday)
        want = polars_close(book, state, TODAY)
        got = cob_spark.advance_partitioned(book, state, TODAY, CATALOG, partitions=4, spark=spark)
        assert_same(got, want)
        # ... and the next day from Spark's own state equals Polars' next day.
        tomorrow = TODAY + timedelta(days=1)
        want = polars_close(book, want[0], tomorrow)
        got = cob_spark.advance_partitioned(
            book, got[0], tomorrow, CATALOG, partitions=4, spark=spark
        )
        assert_same(got, want)
    finally:
        spark.stop()
