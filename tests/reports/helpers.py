"""Helpers for the report tests: hand-made snapshot frames, and snapshots of the example book written
by the single-loan rules (no COB needed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from arrears.catalog import load_catalog
from arrears.imports import import_book
from arrears.loans import RULES_VERSION
from arrears.loans.status import loan_status
from arrears.store import tables
from arrears.store.db import session_factory
from arrears.store.repository import load_loan, save_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
# Month-ends of the example book's last year, and its business date.
BOOK_DATES = [
    date(2026, 6, 30),
    date(2026, 7, 31),
    date(2026, 8, 31),
    date(2026, 9, 30),
    date(2026, 10, 31),
    date(2026, 11, 30),
]


def snap(rows: list[tuple], as_of: date = date(2026, 1, 31)) -> pl.DataFrame:
    """A snapshot frame from `(loan_id, status, dpd, bucket, classification, stage, balance)`."""
    return pl.DataFrame(
        [(r[0], as_of, r[1], r[2], r[3], r[4], r[5], r[6], "test-1") for r in rows],
        schema={
            "loan_id": pl.String,
            "as_of": pl.Date,
            "status": pl.String,
            "days_past_due": pl.Int64,
            "bucket": pl.String,
            "classification": pl.String,
            "ifrs9_stage": pl.Int64,
            "outstanding_principal": pl.Int64,
            "rules_version": pl.String,
        },
        orient="row",
    )


def write_snapshots(engine: Engine, dates: Iterable[date]) -> int:
    """Write each loan's status (by `loans.status.loan_status`) for every date on or after its
    disbursement, as the COB would. Returns the number of snapshots written."""
    catalog = load_catalog()
    written = 0
    with session_factory(engine)() as session:
        ids = list(session.execute(select(tables.Loan.loan_id)).scalars())
        for loan_id in ids:
            record = load_loan(session, loan_id)
            product = catalog.get(record.product)
            for day in dates:
                if day < record.loan.terms.disbursed_on:
                    continue
                save_snapshot(session, loan_status(record.loan, product, day), RULES_VERSION)
                written += 1
        now = datetime.now(UTC)
        for day in dates:  # as the COB does: a date is closed once its run is complete
            session.add(
                tables.CobRun(
                    as_of=day,
                    mode="rebuild",
                    engine="rules",
                    status="complete",
                    rules_version=RULES_VERSION,
                    started_at=now,
                    finished_at=now,
                )
            )
        session.commit()
    return written


def import_examples(engine: Engine) -> None:
    import_book(engine, EXAMPLES, load_catalog())
