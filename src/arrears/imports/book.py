"""`import_book`: read, validate everything, build schedules, then write it all in one
transaction — or write nothing and raise `ImportRejected` with the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from arrears.catalog import Catalog
from arrears.cob.schedules import build_schedules
from arrears.imports.issues import ROW, Issues
from arrears.imports.read import read_book
from arrears.imports.validate import ValidBook, validate_book
from arrears.imports.write import (
    decimal_text,
    finish_batch,
    load_state,
    start_batch,
)
from arrears.loans.schedule import ScheduleError
from arrears.store.bulk import Writer
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
    product's rule, `build_schedule(terms, product.interest_basis, product.rounding)` — computed
    for the whole book at once on columns by `cob.schedules.build_schedules` (equal row for row)."""
    loans = valid.loans
    given_ids = list(valid.schedules)
    generated = loans.filter(~pl.col("loan_id").is_in(given_ids)) if given_ids else loans
    # What build_schedule would refuse, per loan, in its order of checks (validation already
    # keeps such rows out; this keeps the report identical if one ever gets through).
    refusals = generated.select(
        ROW,
        "repayment_method",
        pl.when(pl.col("principal") <= 0)
        .then(pl.format("principal must be positive, got {}", pl.col("principal")))
        .when(pl.col("term_months") <= 0)
        .then(pl.format("term must be at least one month, got {}", pl.col("term_months")))
        .when(pl.col("annual_rate").str.starts_with("-"))
        .then(pl.format("annual rate must be ≥ 0, got {}", pl.col("annual_rate")))
        .when(pl.col("repayment_method") == "custom")
        .then(pl.lit("a custom schedule is given as rows, not generated"))
        .when(
            pl.col("first_due_on").is_not_null()
            & (pl.col("first_due_on") <= pl.col("disbursed_on"))
        )
        .then(
            pl.format(
                "first due date {} is not after disbursement {}",
                pl.col("first_due_on"),
                pl.col("disbursed_on"),
            )
        )
        .alias("reason"),
    ).filter(pl.col("reason").is_not_null())
    for row, method, reason in refusals.iter_rows():
        issues.add(loans_label, row, "repayment_method", method, f"no schedule: {reason}")
    if refusals.height:
        generated = generated.filter(~pl.col(ROW).is_in(refusals.get_column(ROW).implode()))
    if progress is not None:
        progress("schedules", 0, loans.height)
    try:
        built = build_schedules(generated, catalog)
    except ScheduleError as exc:  # pragma: no cover - the checks above mirror build_schedule's
        issues.add(loans_label, None, "repayment_method", None, f"no schedule: {exc}")
        return pl.DataFrame(schema=INSTALMENT_SCHEMA)
    parts = [built]
    if given_ids:
        parts.append(
            pl.DataFrame(
                [
                    (loan_id, inst.seq, inst.due_on, inst.principal, inst.interest, inst.fee)
                    for loan_id, rows in valid.schedules.items()
                    for inst in rows
                ],
                schema=INSTALMENT_SCHEMA,
                orient="row",
            )
        )
    if progress is not None:
        progress("schedules", loans.height, loans.height)
    return pl.concat(parts).cast(INSTALMENT_SCHEMA)  # type: ignore[arg-type]


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
