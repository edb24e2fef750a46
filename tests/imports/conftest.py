"""Helpers for the import tests: a small good book as row dicts, written as CSV or Parquet."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from arrears.catalog import Catalog, load_catalog
from arrears.store import tables

Rows = dict[str, list[dict[str, str]]]

GOOD_BOOK: Rows = {
    "borrowers": [
        {
            "borrower_id": "B1",
            "kind": "individual",
            "name": "张三",
            "national_id": "",
            "phone": "",
            "email": "",
            "timezone": "",
            "language": "",
            "country": "",
            "region": "",
        },
        {
            "borrower_id": "B2",
            "kind": "enterprise",
            "name": "Acme Ltd",
            "national_id": "91-1",
            "phone": "+1 617 555 0100",
            "email": "ap@acme.example",
            "timezone": "America/New_York",
            "language": "en",
            "country": "US",
            "region": "US-MA",
        },
    ],
    "loans": [
        {
            "loan_id": "L1",
            "borrower_id": "B1",
            "product": "consumer",
            "currency": "CNY",
            "principal": "12000.00",
            "annual_rate": "0.12",
            "term_months": "12",
            "repayment_method": "equal_installment",
            "disbursed_on": "2024-01-15",
            "first_due_on": "",
            "interest_basis": "",
            "penalty_rate": "",
        },
        {
            "loan_id": "L2",
            "borrower_id": "B2",
            "product": "sme",
            "currency": "USD",
            "principal": "50000.5",
            "annual_rate": "0.085",
            "term_months": "6",
            "repayment_method": "equal_principal",
            "disbursed_on": "2024-03-31",
            "first_due_on": "2024-04-30",
            "interest_basis": "act360",
            "penalty_rate": "0.1",
        },
        {
            "loan_id": "L3",
            "borrower_id": "B1",
            "product": "card",
            "currency": "JPY",
            "principal": "120000",
            "annual_rate": "0.18",
            "term_months": "3",
            "repayment_method": "custom",
            "disbursed_on": "2024-02-01",
            "first_due_on": "",
            "interest_basis": "",
            "penalty_rate": "",
        },
        {
            "loan_id": "L4",
            "borrower_id": "B1",
            "product": "project",
            "currency": "",
            "principal": "1000",
            "annual_rate": "0",
            "term_months": "1",
            "repayment_method": "bullet",
            "disbursed_on": "2024-05-01",
            "first_due_on": "",
            "interest_basis": "",
            "penalty_rate": "",
        },
    ],
    "payments": [
        {"payment_id": "P1", "loan_id": "L1", "paid_on": "2024-02-15", "amount": "1066.19"},
        {"payment_id": "P2", "loan_id": "L1", "paid_on": "2024-03-15", "amount": "1066.18"},
        {"payment_id": "P3", "loan_id": "L2", "paid_on": "2024-04-30", "amount": "8345.67"},
        {"payment_id": "P4", "loan_id": "L3", "paid_on": "2024-03-01", "amount": "41800"},
    ],
    "schedules": [
        {
            "loan_id": "L3",
            "seq": "1",
            "due_on": "2024-03-01",
            "principal": "40000",
            "interest": "1800",
            "fee": "0",
        },
        {
            "loan_id": "L3",
            "seq": "2",
            "due_on": "2024-04-01",
            "principal": "40000",
            "interest": "1200",
            "fee": "",
        },
        {
            "loan_id": "L3",
            "seq": "3",
            "due_on": "2024-05-01",
            "principal": "40000",
            "interest": "600",
            "fee": "100",
        },
    ],
}


def write_rows(directory: Path, rows: Rows, fmt: str = "csv") -> Path:
    """Write each file of `rows` (all columns text) into `directory` as CSV or Parquet."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in rows.items():
        if not records:
            continue
        columns = list(records[0])
        frame = pl.DataFrame(
            {c: [r.get(c) for r in records] for c in columns},
            schema={c: pl.String for c in columns},
        )
        if fmt == "csv":
            frame.write_csv(directory / f"{name}.csv")
        else:
            frame.write_parquet(directory / f"{name}.parquet")
    return directory


@pytest.fixture
def good_rows() -> Rows:
    return copy.deepcopy(GOOD_BOOK)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def book_dir(tmp_path: Path) -> Callable[..., Path]:
    """`book_dir(rows, fmt="csv", name="book")`: the rows written into a fresh directory."""

    def make(rows: Rows, fmt: str = "csv", name: str = "book") -> Path:
        return write_rows(tmp_path / name, rows, fmt)

    return make


def table_counts(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table))
            for table in tables.Base.metadata.sorted_tables
        }


@pytest.fixture
def counts() -> Callable[[Engine], dict[str, Any]]:
    """`counts(engine)`: the row count of every table."""
    return table_counts
