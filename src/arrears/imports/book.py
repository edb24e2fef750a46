"""`import_book`: read, validate everything, build schedules, then write it all in one
transaction — or write nothing and raise `ImportRejected` with the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from arrears.catalog import Catalog
from arrears.imports.issues import ROW, Issues
from arrears.imports.read import read_book
from arrears.imports.validate import ValidBook, validate_book
from arrears.imports.write import (
    Writer,
    decimal_text,
    finish_batch,
    load_state,
    start_batch,
)
from arrears.loans.schedule import ScheduleError, build_schedule
from arrears.loans.terms import LoanTerms
from arrears.store.repository import sync_products

Progress = Callable[[str, int, int], None]


@dataclass
class ImportResult:
    borrowers: int
    loans: int
    payments: int
    instalments: int
    skipped: int
    seconds: float
    batch_id: int
    validate_seconds: float = 0.0
    schedule_seconds: float = 0.0
    write_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


INSTALMENT_SCHEMA = {
    "loan_id": pl.String,
    "seq": pl.Int64,
    "due_on": pl.Date,
    "principal": pl.Int64,
    "interest": pl.Int64,
    "fee": pl.Int64,
}


def build_instalments(
    valid: ValidBook,
    catalog: Catalog,
    issues: Issues,
    loans_label: str,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Every loan's instalments: the checked rows of `schedules` where given, otherwise the
    product's rule, `build_schedule(terms, product.interest_basis, product.rounding)`."""
    loan_ids: list[str] = []
    seqs: list[int] = []
    dues: list[Any] = []
    principals: list[int] = []
    interests: list[int] = []
    fees: list[int] = []
    rates: dict[str, Decimal] = {}
    products = {
        code: catalog.get(code) for code in valid.loans.get_column("product").unique().to_list()
    }
    rows = valid.loans.select(
        "loan_id",
        "product",
        "currency",
        "principal",
        "annual_rate",
        "term_months",
        "repayment_method",
        "disbursed_on",
        "first_due_on",
        "interest_basis",
        ROW,
    )
    total = rows.height
    for i, (
        loan_id,
        code,
        currency,
        principal,
        rate,
        term,
        method,
        disbursed,
        first_due,
        basis,
        row,
    ) in enumerate(rows.iter_rows()):
        given = valid.schedules.get(loan_id)
        if given is None:
            product = products[code]
            annual = rates.get(rate)
            if annual is None:
                annual = rates[rate] = Decimal(rate)
            terms = LoanTerms(
                principal, annual, term, method, disbursed, currency, first_due, basis
            )
            try:
                given = build_schedule(terms, product.interest_basis, product.rounding)
            except ScheduleError as exc:
                issues.add(loans_label, row, "repayment_method", method, f"no schedule: {exc}")
                continue
        for inst in given:
            loan_ids.append(loan_id)
            seqs.append(inst.seq)
            dues.append(inst.due_on)
            principals.append(inst.principal)
            interests.append(inst.interest)
            fees.append(inst.fee)
        if progress is not None and (i + 1) % 10_000 == 0:
            progress("schedules", i + 1, total)
    return pl.DataFrame(
        {
            "loan_id": loan_ids,
            "seq": seqs,
            "due_on": dues,
            "principal": principals,
            "interest": interests,
            "fee": fees,
        },
        schema=INSTALMENT_SCHEMA,
    )


def _events(valid: ValidBook, occurred_at: str) -> pl.DataFrame:
    loans = valid.loans.select(
        pl.lit("loan.disbursed").alias("type"),
        "loan_id",
        "borrower_id",
        pl.struct(
            decimal_text(pl.col("principal"), pl.col("currency")).alias("principal"),
            "currency",
            "product",
            pl.col("disbursed_on").cast(pl.String),
        )
        .struct.json_encode()
        .alias("payload"),
        pl.lit(occurred_at).alias("occurred_at"),
    )
    payments = valid.payments.select(
        pl.lit("payment.received").alias("type"),
        "loan_id",
        "borrower_id",
        pl.struct(
            "payment_id",
            decimal_text(pl.col("amount"), pl.col("currency")).alias("amount"),
            "currency",
            pl.col("paid_on").cast(pl.String),
        )
        .struct.json_encode()
        .alias("payload"),
        pl.lit(occurred_at).alias("occurred_at"),
    )
    return pl.concat([loans, payments])


def import_book(
    engine: Engine,
    directory: Path,
    catalog: Catalog,
    *,
    allow_extra: bool = False,
    skip_existing: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the loan book in `directory` (borrowers, loans, payments, optional schedules; each
    `.csv` or `.parquet`). Raises `ImportRejected` — with nothing written — when any row is bad."""
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    directory = Path(directory)
    issues = Issues()

    def tick(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    tick("read", 0, 1)
    files = read_book(directory, issues, allow_extra=allow_extra)
    if issues:
        raise issues.rejected()
    tick("read", 1, 1)
    with engine.connect() as conn:
        state = load_state(conn)
    tick("validate", 0, 1)
    valid = validate_book(files, catalog, state, issues, skip_existing=skip_existing)
    if issues:
        raise issues.rejected()
    tick("validate", 1, 1)
    validated = time.perf_counter()

    instalments = build_instalments(valid, catalog, issues, files["loans"].label, progress)
    if issues:
        raise issues.rejected()
    scheduled = time.perf_counter()

    counts = {
        "borrowers": valid.borrowers.height,
        "loans": valid.loans.height,
        "payments": valid.payments.height,
        "instalments": instalments.height,
        "skipped": valid.skipped,
    }
    with engine.begin() as conn:
        writer = Writer(conn, progress)
        # The products table mirrors the catalog; the session joins this connection's transaction.
        sync_products(Session(bind=conn), catalog)
        batch_id = start_batch(conn, str(directory), started_at)
        occurred = writer.timestamp(started_at)
        writer.bulk("borrowers", valid.borrowers)
        writer.bulk("loans", valid.loans.drop(ROW))
        writer.bulk("instalments", instalments)
        writer.bulk("payments", valid.payments.select("payment_id", "loan_id", "paid_on", "amount"))
        events = _events(valid, occurred)
        book = pl.DataFrame(
            {
                "type": ["book.imported"],
                "loan_id": [None],
                "borrower_id": [None],
                "payload": [
                    pl.DataFrame([{**counts, "batch_id": batch_id, "source": str(directory)}])
                    .select(pl.struct(pl.all()).struct.json_encode())
                    .item()
                ],
                "occurred_at": [occurred],
            },
            schema=events.schema,
        )
        writer.bulk("events", pl.concat([events, book]))
        finish_batch(conn, batch_id, counts, datetime.now(UTC))
    finished = time.perf_counter()
    tick("done", 1, 1)
    return ImportResult(
        borrowers=counts["borrowers"],
        loans=counts["loans"],
        payments=counts["payments"],
        instalments=counts["instalments"],
        skipped=counts["skipped"],
        seconds=round(finished - started, 3),
        batch_id=batch_id,
        validate_seconds=round(validated - started, 3),
        schedule_seconds=round(scheduled - validated, 3),
        write_seconds=round(finished - scheduled, 3),
    )
