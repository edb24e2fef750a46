"""Two paths, one truth: the column engine (COB) and the single-loan rules agree on every status
field, for every loan, on every day — whether the book is closed day by day or rebuilt at once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.catalog import load_catalog
from arrears.cob.book import book_from_loans
from arrears.cob.engine import advance, initial_state
from arrears.cob.status import STATUS_COLUMNS, status_frame
from arrears.loans.schedule import build_schedule
from arrears.loans.status import loan_status
from arrears.loans.terms import Loan, LoanTerms, Override, Pause, Payment

CATALOG = load_catalog()
PRODUCTS = sorted(CATALOG.products)
METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")


@st.composite
def loans(draw, loan_id: str):
    disbursed = draw(st.dates(date(2024, 1, 1), date(2024, 12, 31)))
    terms = LoanTerms(
        principal=draw(st.integers(1_000, 50_000_000)),
        annual_rate=draw(
            st.sampled_from(
                [
                    Decimal("0"),
                    Decimal("0.0599"),
                    Decimal("0.12"),
                    Decimal("0.18"),
                    Decimal("0.2399"),
                ]
            )
        ),
        term_months=draw(st.integers(1, 12)),
        method=draw(st.sampled_from(METHODS)),
        disbursed_on=disbursed,
        interest_basis=draw(st.sampled_from([None, "monthly", "act365", "act360"])),
        penalty_rate=draw(
            st.sampled_from([None, Decimal(0), Decimal("0.05"), Decimal("0.1825"), Decimal("0.36")])
        ),
    )
    product = draw(st.sampled_from(PRODUCTS))
    rows = build_schedule(terms, CATALOG.get(product).interest_basis, CATALOG.get(product).rounding)
    horizon = (rows[-1].due_on - disbursed).days + 90
    total = sum(r.total for r in rows)
    payments = tuple(
        Payment(
            f"{loan_id}-p{k}",
            disbursed + timedelta(days=draw(st.integers(0, horizon))),
            draw(st.sampled_from([rows[0].total, max(1, total // 7), draw(st.integers(1, total))])),
        )
        for k in range(draw(st.integers(0, 8)))
    )
    pauses = ()
    if draw(st.booleans()):
        start = disbursed + timedelta(days=draw(st.integers(20, horizon)))
        pauses = (Pause(start, start + timedelta(days=draw(st.integers(0, 40))), "hardship"),)
        if draw(st.booleans()):
            again = start + timedelta(days=draw(st.integers(-10, 60)))
            pauses += (Pause(again, again + timedelta(days=draw(st.integers(0, 20))), "again"),)
    overrides = ()
    if draw(st.booleans()):
        on = disbursed + timedelta(days=draw(st.integers(0, horizon)))
        overrides = (
            Override(
                draw(st.sampled_from(["special_mention", "substandard", "doubtful", "loss"])),
                "review",
                "risk",
                expires_on=on + timedelta(days=draw(st.integers(0, 90))),
                effective_on=on if draw(st.booleans()) else None,
            ),
        )
    restructured = written_off = None
    if draw(st.integers(0, 4)) == 0:
        restructured = disbursed + timedelta(days=draw(st.integers(0, 60)))
    if draw(st.integers(0, 4)) == 0:
        written_off = disbursed + timedelta(days=draw(st.integers(30, horizon)))
    loan = Loan(loan_id, terms, rows, payments, pauses, overrides, restructured, written_off)
    return loan, product


@st.composite
def books(draw):
    return [draw(loans(f"L{k}")) for k in range(draw(st.integers(1, 4)))]


def reference(book, day):
    rows = []
    for loan, product in book:
        if loan.terms.disbursed_on <= day:
            s = loan_status(loan, CATALOG.get(product), day)
            rows.append({c: getattr(s, c) for c in STATUS_COLUMNS})
    return sorted(rows, key=lambda r: r["loan_id"])


def engine_rows(frame):
    rows = frame.to_dicts()
    for row in rows:
        row["applied_penalty_rate"] = Decimal(row["applied_penalty_rate"])
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(0, 500), st.integers(5, 40))
def test_daily_close_matches_the_single_loan_rules_every_day(book, offset, days):
    """Closing the book day by day gives, on each day, exactly what `loan_status` says."""
    frames = book_from_loans(book, CATALOG)
    start = min(loan.terms.disbursed_on for loan, _ in book) + timedelta(days=offset)
    state = initial_state(frames)
    for k in range(days):
        day = start + timedelta(days=k)
        state = advance(frames, state, day)
        assert engine_rows(status_frame(frames, state, day, CATALOG)) == reference(book, day), day


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(0, 700))
def test_rebuild_from_history_matches_the_single_loan_rules(book, offset):
    """Rebuilding every loan's state for one date from its whole history agrees too."""
    frames = book_from_loans(book, CATALOG)
    day = min(loan.terms.disbursed_on for loan, _ in book) + timedelta(days=offset)
    state = advance(frames, initial_state(frames), day)
    assert engine_rows(status_frame(frames, state, day, CATALOG)) == reference(book, day)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.integers(0, 400), st.integers(1, 200))
def test_month_jumps_then_days_agree(book, first, jump):
    """Advancing by big jumps (month-end catch-up) then one day lands on the same state."""
    frames = book_from_loans(book, CATALOG)
    base = min(loan.terms.disbursed_on for loan, _ in book)
    state = advance(frames, initial_state(frames), base + timedelta(days=first))
    day = base + timedelta(days=first + jump)
    state = advance(frames, state, day)
    assert engine_rows(status_frame(frames, state, day, CATALOG)) == reference(book, day)


def test_a_whole_book_at_once_matches_each_loan_alone():
    """Hundreds of loans side by side (the engine relies on each loan's rows staying together and
    in order): every loan's status equals the single-loan rules, after a rebuild and after days
    of daily closes."""
    import random

    rng = random.Random(20261129)
    book = []
    for k in range(300):
        loan, product = _random_loan(rng, f"B{k:03d}")
        book.append((loan, product))
    frames = book_from_loans(book, CATALOG)
    day = date(2025, 3, 1)
    state = advance(frames, initial_state(frames), day)
    assert_same(status_frame(frames, state, day, CATALOG), book, day)
    for _ in range(20):
        day += timedelta(days=3)
        state = advance(frames, state, day)
        assert_same(status_frame(frames, state, day, CATALOG), book, day)


def assert_same(frame, book, day):
    """Compare loan by loan, so a failure names one loan rather than diffing the whole book."""
    got = {row["loan_id"]: row for row in engine_rows(frame)}
    want = {row["loan_id"]: row for row in reference(book, day)}
    assert got.keys() == want.keys()
    for loan_id, row in want.items():
        assert got[loan_id] == row, (day, loan_id)


def _random_loan(rng, loan_id):
    disbursed = date(2024, 1, 1) + timedelta(days=rng.randint(0, 360))
    terms = LoanTerms(
        principal=rng.randint(1_000, 5_000_000),
        annual_rate=Decimal(rng.choice(["0", "0.0599", "0.12", "0.18"])),
        term_months=rng.randint(1, 18),
        method=rng.choice(METHODS),
        disbursed_on=disbursed,
        penalty_rate=rng.choice([None, Decimal("0.1825"), Decimal("0.05")]),
    )
    product = rng.choice(PRODUCTS)
    p = CATALOG.get(product)
    rows = build_schedule(terms, p.interest_basis, p.rounding)
    payments = []
    for k, row in enumerate(rows):
        roll = rng.random()
        if roll < 0.6:
            payments.append(Payment(f"{loan_id}-{k}", row.due_on, row.total))
        elif roll < 0.8:
            late = row.due_on + timedelta(days=rng.randint(1, 40))
            payments.append(Payment(f"{loan_id}-{k}", late, row.total + rng.randint(0, 5000)))
        elif roll < 0.9:
            payments.append(Payment(f"{loan_id}-{k}", row.due_on, row.total // 2))
    if rng.random() < 0.1:
        payments.append(
            Payment(f"{loan_id}-pre", disbursed + timedelta(days=10), terms.principal // 2)
        )
    pauses = ()
    if rng.random() < 0.1:
        start = rows[0].due_on + timedelta(days=rng.randint(0, 60))
        pauses = (Pause(start, start + timedelta(days=rng.randint(0, 30)), "hardship"),)
    restructured = disbursed + timedelta(days=rng.randint(0, 40)) if rng.random() < 0.1 else None
    written_off = rows[-1].due_on + timedelta(days=30) if rng.random() < 0.05 else None
    return Loan(
        loan_id, terms, rows, tuple(payments), pauses, (), restructured, written_off
    ), product
