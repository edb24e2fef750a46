"""Loans, payments, allocations, snapshots and products through the repository."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arrears.catalog import Catalog, load_catalog
from arrears.loans.allocation import AllocationLine
from arrears.loans.status import LoanStatus
from arrears.loans.terms import Loan, Override, Pause, Payment
from arrears.store import tables
from arrears.store.db import unit_of_work
from arrears.store.repository import (
    DuplicatePayment,
    LoanNotFound,
    LoanRecord,
    PaymentNotFound,
    add_override,
    add_pause,
    add_payment,
    get_payment,
    list_allocations,
    load_loan,
    mark_payment_reversed,
    replace_allocations,
    save_snapshot,
    sync_products,
)

SeedLoan = Callable[..., LoanRecord]
MakeLoan = Callable[..., Loan]


def test_loan_round_trip_is_exact(engine: Engine, seed_loan: SeedLoan, make_loan: MakeLoan) -> None:
    big = 9_000_000_000_00  # nine billion yuan, in fen: beyond 32-bit integers
    loan = replace(
        make_loan(
            "L-BIG",
            principal=big,
            currency="CNY",
            first_due_on=date(2024, 2, 15),
            interest_basis="act365",
            penalty_rate=Decimal("0.000500"),
        ),
        payments=(
            Payment("P-1", date(2024, 2, 15), big // 3),
            Payment("P-2", date(2024, 3, 15), 5),
        ),
        pauses=(Pause(date(2024, 3, 1), date(2024, 3, 31), "hospital"),),
        overrides=(Override("substandard", "fraud suspected", "risk-1", date(2024, 12, 31)),),
        restructured_on=date(2024, 5, 1),
    )
    with unit_of_work(engine) as session:
        seed_loan(session, loan, borrower_id="B-7", product="sme")
    with unit_of_work(engine) as session:
        record = load_loan(session, "L-BIG")
    assert record == LoanRecord(loan=loan, product="sme", borrower_id="B-7")
    assert record.loan.terms.annual_rate == Decimal("0.1235")
    assert str(record.loan.terms.penalty_rate) == "0.000500"  # text kept, not float-rounded
    assert sum(i.principal for i in record.loan.schedule) == big


def test_add_loan_refuses_a_reversed_payment(
    session: Session, seed_loan: SeedLoan, make_loan: MakeLoan
) -> None:
    loan = replace(make_loan(), payments=(Payment("P-1", date(2024, 2, 15), 9, reversed=True),))
    with pytest.raises(ValueError, match="mark_payment_reversed"):
        seed_loan(session, loan)
    assert session.get(tables.Loan, "L-1") is None


def test_payments_in_date_then_id_order_with_reversal(engine: Engine, seed_loan: SeedLoan) -> None:
    with unit_of_work(engine) as session:
        seed_loan(session)
        add_payment(session, "L-1", "P-b", date(2024, 2, 15), 300, reference="bank 1")
        add_payment(session, "L-1", "P-a", date(2024, 2, 15), 200)
        add_payment(session, "L-1", "P-0", date(2024, 3, 1), 100)
        add_payment(session, "L-1", "P-z", date(2024, 2, 1), 400)
        mark_payment_reversed(session, "P-a", "bounced", datetime(2024, 2, 16, 8, tzinfo=UTC))
    with unit_of_work(engine) as session:
        payments = load_loan(session, "L-1").loan.payments
        stored = get_payment(session, "P-a")
    assert payments == (
        Payment("P-z", date(2024, 2, 1), 400),
        Payment("P-a", date(2024, 2, 15), 200, reversed=True),
        Payment("P-b", date(2024, 2, 15), 300),
        Payment("P-0", date(2024, 3, 1), 100),
    )
    assert stored.reversal_reason == "bounced"
    assert stored.reversed_at == datetime(2024, 2, 16, 8, tzinfo=UTC)


def test_payment_errors(session: Session, seed_loan: SeedLoan) -> None:
    seed_loan(session)
    add_payment(session, "L-1", "P-1", date(2024, 2, 15), 100)
    with pytest.raises(DuplicatePayment, match="'P-1' is already recorded"):
        add_payment(session, "L-1", "P-1", date(2024, 2, 16), 100)
    with pytest.raises(ValueError, match="positive"):
        add_payment(session, "L-1", "P-2", date(2024, 2, 16), 0)
    with pytest.raises(LoanNotFound):
        add_payment(session, "NOPE", "P-3", date(2024, 2, 16), 100)
    with pytest.raises(PaymentNotFound, match="payment 'P-9' not found"):
        get_payment(session, "P-9")
    at = datetime(2024, 2, 16, tzinfo=UTC)
    mark_payment_reversed(session, "P-1", "chargeback", at)
    with pytest.raises(ValueError, match="already reversed"):
        mark_payment_reversed(session, "P-1", "again", at)


def test_loan_not_found_names_the_loan(session: Session) -> None:
    with pytest.raises(LoanNotFound) as info:
        load_loan(session, "L-404")
    assert str(info.value) == "loan 'L-404' not found"
    assert info.value.loan_id == "L-404"
    assert isinstance(info.value, LookupError)


def test_pause_and_override_helpers(session: Session, seed_loan: SeedLoan) -> None:
    seed_loan(session)
    add_pause(session, "L-1", Pause(date(2024, 4, 1), date(2024, 4, 10), "flood"))
    add_pause(session, "L-1", Pause(date(2024, 3, 1), date(2024, 3, 5)))
    add_override(session, "L-1", Override("doubtful", "court case", "legal-2"))
    loan = load_loan(session, "L-1").loan
    assert [p.start for p in loan.pauses] == [date(2024, 3, 1), date(2024, 4, 1)]
    assert loan.overrides == (Override("doubtful", "court case", "legal-2"),)
    with pytest.raises(ValueError, match="before it starts"):
        add_pause(session, "L-1", Pause(date(2024, 4, 10), date(2024, 4, 1)))


def _status(as_of: date, dpd: int) -> LoanStatus:
    return LoanStatus(
        loan_id="L-1",
        as_of=as_of,
        status="overdue" if dpd else "active",
        days_past_due=dpd,
        bucket="M1" if dpd else "C",
        classification="special_mention" if dpd else "normal",
        ifrs9_stage=2 if dpd else 1,
        outstanding_principal=300_000,
        overdue_principal=100_000 if dpd else 0,
        overdue_interest=3_000 if dpd else 0,
        overdue_fee=0,
        overdue_penalty=50 * dpd,
        next_due_on=date(2024, 3, 15),
        next_due_amount=102_000,
        penalty_accrued_today=50,
        applied_penalty_rate=Decimal("0.0005"),
        penalty_rate_capped=False,
        credit_balance=0,
        in_observation=False,
    )


def test_save_snapshot_replaces_the_same_date(engine: Engine, seed_loan: SeedLoan) -> None:
    day = date(2024, 2, 20)
    with unit_of_work(engine) as session:
        seed_loan(session)
        save_snapshot(session, _status(day, 5), "r1")
        save_snapshot(session, _status(date(2024, 2, 21), 6), "r1")
    with unit_of_work(engine) as session:
        save_snapshot(session, _status(day, 0), "r2")
    with unit_of_work(engine) as session:
        rows = session.scalars(select(tables.StatusSnapshot).order_by(tables.StatusSnapshot.as_of))
        got = [(r.as_of, r.days_past_due, r.status, r.rules_version) for r in rows]
    assert got == [(day, 0, "active", "r2"), (date(2024, 2, 21), 6, "overdue", "r1")]


def test_replace_allocations(engine: Engine, seed_loan: SeedLoan, make_loan: MakeLoan) -> None:
    paid = date(2024, 2, 15)
    first = [
        AllocationLine("P-1", 1, "interest", 3_000, paid),
        AllocationLine("P-1", 1, "principal", 97_000, paid),
    ]
    second = [
        AllocationLine("P-1", 1, "interest", 3_000, paid),
        AllocationLine("P-1", 1, "principal", 90_000, paid),
        AllocationLine("P-1", None, "credit", 7_000, paid),
    ]
    other = [AllocationLine("P-2", 1, "interest", 3_000, paid)]
    with unit_of_work(engine) as session:
        seed_loan(session)
        seed_loan(session, make_loan("L-2"))
        add_payment(session, "L-1", "P-1", paid, 100_000)
        add_payment(session, "L-2", "P-2", paid, 3_000)
        assert replace_allocations(session, "L-1", first) == 2
        replace_allocations(session, "L-2", other)
    with unit_of_work(engine) as session:
        assert replace_allocations(session, "L-1", iter(second)) == 3
    with unit_of_work(engine) as session:
        assert list_allocations(session, "L-1") == second
        assert list_allocations(session, "L-2") == other
        assert replace_allocations(session, "L-1", []) == 0
        assert list_allocations(session, "L-1") == []


def test_sync_products_inserts_then_updates(session: Session) -> None:
    catalog = load_catalog()
    assert sync_products(session, catalog) == len(catalog.products)
    consumer = session.get(tables.Product, "consumer")
    assert consumer is not None
    assert consumer.name_en == catalog.get("consumer").name_en
    assert consumer.definition == catalog.get("consumer").model_dump(mode="json")

    renamed = catalog.get("consumer").model_copy(update={"name_en": "Consumer loan"})
    sync_products(session, Catalog(products={"consumer": renamed}, sources=("test",)))
    session.expire_all()
    rows = {row.code: row for row in session.scalars(select(tables.Product))}
    assert rows["consumer"].name_en == "Consumer loan"
    assert set(rows) == set(catalog.products)  # products missing from a catalog are kept
