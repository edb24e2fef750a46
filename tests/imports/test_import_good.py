"""A good book lands whole: counts, exact amounts, generated schedules, events, batch row."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from arrears.imports import ImportResult, import_book
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import LoanTerms
from arrears.store import tables

from .conftest import Rows


def _load(name: str):  # the benchmark's generator, imported by path
    path = Path(__file__).parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_good_book_imports(engine: Engine, catalog, book_dir, good_rows: Rows, fmt: str) -> None:
    seen: list[str] = []
    result = import_book(
        engine,
        book_dir(good_rows, fmt),
        catalog,
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert isinstance(result, ImportResult)
    # L1: 12, L2: 6, L3: 3 given rows, L4: 1 (bullet)
    assert (
        result.borrowers,
        result.loans,
        result.payments,
        result.instalments,
        result.skipped,
    ) == (
        2,
        4,
        4,
        22,
        0,
    )
    assert result.batch_id >= 1 and result.seconds >= 0
    assert {"read", "validate", "done"} <= set(seen)
    with engine.connect() as conn:
        loans = {row.loan_id: row for row in conn.execute(select(tables.Loan.__table__))}
        payments = {row.payment_id: row for row in conn.execute(select(tables.Payment.__table__))}
        borrowers = {
            row.borrower_id: row for row in conn.execute(select(tables.Borrower.__table__))
        }
        instalments = conn.execute(
            select(tables.Instalment.__table__).order_by(
                tables.Instalment.loan_id, tables.Instalment.seq
            )
        ).all()
        events = conn.execute(select(tables.Event.__table__).order_by(tables.Event.seq)).all()
        batches = conn.execute(select(tables.ImportBatch.__table__)).all()
        products = set(conn.scalars(select(tables.Product.code)))
    # defaults and exact amounts
    b1, b2 = borrowers["B1"], borrowers["B2"]
    assert (b1.timezone, b1.language, b1.country, b1.region, b1.email) == (
        "Asia/Shanghai",
        "zh",
        "CN",
        None,
        None,
    )
    assert (b2.timezone, b2.language, b2.country, b2.region) == (
        "America/New_York",
        "en",
        "US",
        "US-MA",
    )
    assert loans["L1"].principal == 1_200_000 and loans["L1"].currency == "CNY"
    assert loans["L2"].principal == 5_000_050 and loans["L2"].currency == "USD"
    assert loans["L3"].principal == 120_000 and loans["L3"].currency == "JPY"
    assert loans["L4"].currency == "CNY" and loans["L4"].principal == 100_000
    assert Decimal(loans["L2"].annual_rate) == Decimal("0.085")
    assert Decimal(loans["L2"].penalty_rate) == Decimal("0.1")
    assert loans["L1"].penalty_rate is None and loans["L1"].interest_basis is None
    assert loans["L2"].interest_basis == "act360"
    assert loans["L2"].first_due_on == date(2024, 4, 30)
    assert loans["L1"].disbursed_on == date(2024, 1, 15)
    assert payments["P1"].amount == 106_619 and payments["P4"].amount == 41_800
    assert payments["P3"].paid_on == date(2024, 4, 30)
    # generated instalments are exactly build_schedule's, with the product's basis and rounding
    by_loan: dict[str, list[tuple]] = {}
    for row in instalments:
        by_loan.setdefault(row.loan_id, []).append(
            (row.seq, row.due_on, row.principal, row.interest, row.fee)
        )
    for loan_id in ("L1", "L2", "L4"):
        loan = loans[loan_id]
        product = catalog.get(loan.product)
        terms = LoanTerms(
            loan.principal,
            Decimal(loan.annual_rate),
            loan.term_months,
            loan.repayment_method,
            loan.disbursed_on,
            loan.currency,
            loan.first_due_on,
            loan.interest_basis,
        )
        expected = [
            (i.seq, i.due_on, i.principal, i.interest, i.fee)
            for i in build_schedule(terms, product.interest_basis, product.rounding)
        ]
        assert by_loan[loan_id] == expected
    assert by_loan["L3"] == [
        (1, date(2024, 3, 1), 40_000, 1_800, 0),
        (2, date(2024, 4, 1), 40_000, 1_200, 0),
        (3, date(2024, 5, 1), 40_000, 600, 100),
    ]
    # events: one per loan, one per payment, one for the book
    types = [e.type for e in events]
    assert types.count("loan.disbursed") == 4
    assert types.count("payment.received") == 4
    assert types[-1] == "book.imported"
    disbursed = {e.loan_id: e for e in events if e.type == "loan.disbursed"}
    payload = disbursed["L2"].payload
    if isinstance(payload, str):
        payload = json.loads(payload)
    assert payload == {
        "principal": "50000.50",
        "currency": "USD",
        "product": "sme",
        "disbursed_on": "2024-03-31",
    }
    assert disbursed["L2"].borrower_id == "B2"
    assert disbursed["L2"].occurred_at.tzinfo is not None
    received = next(
        e for e in events if e.type == "payment.received" and e.payload["payment_id"] == "P4"
    )
    assert received.payload == {
        "payment_id": "P4",
        "amount": "41800",
        "currency": "JPY",
        "paid_on": "2024-03-01",
    }
    assert received.loan_id == "L3" and received.borrower_id == "B1"
    book = events[-1].payload
    assert book["loans"] == 4 and book["payments"] == 4 and book["batch_id"] == result.batch_id
    (batch,) = batches
    assert (batch.borrowers, batch.loans, batch.payments, batch.instalments) == (2, 4, 4, 22)
    assert products == set(catalog.products)  # the products table mirrors the whole catalog


def test_later_import_refers_to_database(
    engine: Engine, catalog, book_dir, good_rows: Rows
) -> None:
    """A second book may use borrowers and loans already in the database."""
    import_book(engine, book_dir(good_rows), catalog)
    second: Rows = {
        "borrowers": [{"borrower_id": "B3", "kind": "individual", "name": "李四"}],
        "loans": [
            {
                "loan_id": "L9",
                "borrower_id": "B2",
                "product": "consumer",
                "principal": "300",
                "annual_rate": "0.1",
                "term_months": "3",
                "repayment_method": "equal_principal",
                "disbursed_on": "2024-06-01",
            }
        ],
        "payments": [
            {"payment_id": "P9", "loan_id": "L1", "paid_on": "2024-04-15", "amount": "10"},
            {"payment_id": "P10", "loan_id": "L9", "paid_on": "2024-07-01", "amount": "100.5"},
        ],
    }
    result = import_book(engine, book_dir(second, name="second"), catalog)
    assert (result.borrowers, result.loans, result.payments, result.instalments) == (1, 1, 2, 3)
    with engine.connect() as conn:
        assert (
            conn.scalar(select(tables.Payment.amount).where(tables.Payment.payment_id == "P10"))
            == 10_050
        )
        assert len(conn.execute(select(tables.ImportBatch.__table__)).all()) == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_synthetic_book_imports(engine: Engine, catalog, tmp_path: Path, fmt: str) -> None:
    """The benchmark's book (typed Parquet columns, custom schedules) imports cleanly."""
    synthetic = _load("synthetic_book")
    frames = synthetic.synthetic_book(200, seed=3)
    sizes = synthetic.write_book(frames, tmp_path / "book", fmt)
    result = import_book(engine, tmp_path / "book", catalog)
    assert result.loans == 200 and result.payments == sizes["payments"]
    with engine.connect() as conn:
        custom = conn.execute(
            select(tables.Instalment.__table__)
            .join(tables.Loan.__table__, tables.Loan.loan_id == tables.Instalment.loan_id)
            .where(tables.Loan.repayment_method == "custom")
        ).all()
    assert len(custom) == sizes["schedules"] > 0
