"""The bulk write of a validated book, in one transaction: SQLite through the DBAPI's
`executemany`, PostgreSQL through psycopg 3 `COPY`. No ORM objects are built for the rows."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection, insert, update

from arrears.imports.validate import DbState
from arrears.store.tables import Borrower, ImportBatch, Loan, Payment


def load_state(conn: Connection) -> DbState:
    """Ids (and the loan facts payments are checked against) already in the database."""
    raw = conn.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT borrower_id FROM borrowers")
        borrowers = pl.Series("borrower_id", [r[0] for r in cursor.fetchall()], pl.String)
        cursor.execute("SELECT loan_id, borrower_id, currency, disbursed_on FROM loans")
        rows = cursor.fetchall()
        cursor.execute("SELECT payment_id FROM payments")
        payments = pl.Series("payment_id", [r[0] for r in cursor.fetchall()], pl.String)
    finally:
        cursor.close()
    loans = DbState.empty().loans
    if rows:
        loans = pl.DataFrame(
            rows, schema=["loan_id", "borrower_id", "currency", "disbursed_on"], orient="row"
        )
        if loans.schema["disbursed_on"] == pl.String:
            loans = loans.with_columns(pl.col("disbursed_on").str.to_date("%Y-%m-%d"))
        loans = loans.with_columns(pl.col("disbursed_on").cast(pl.Date))
    return DbState(borrowers, loans, payments)


def _exp_scale(currency: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    from arrears.loans.money import MINOR_UNITS

    exp = currency.replace_strict(MINOR_UNITS, default=None, return_dtype=pl.Int64)
    scale = exp.replace_strict({0: 1, 1: 10, 2: 100, 3: 1000}, default=None, return_dtype=pl.Int64)
    return exp, scale


def decimal_text(minor: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """Integer minor units → major-unit decimal text (as `format_amount`), vectorised."""
    exp, scale = _exp_scale(currency)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    whole = (minor.abs() // scale).cast(pl.String)
    frac = (minor.abs() % scale).cast(pl.String).str.zfill(exp)
    return (
        pl.when(exp == 0)
        .then(sign + whole)
        .otherwise(pl.concat_str(sign, whole, pl.lit("."), frac))
    )


def start_batch(conn: Connection, source: str, started_at: datetime) -> int:
    result = conn.execute(
        insert(ImportBatch.__table__).values(
            source=source,
            borrowers=0,
            loans=0,
            payments=0,
            instalments=0,
            started_at=started_at,
            finished_at=started_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def finish_batch(
    conn: Connection, batch_id: int, counts: dict[str, int], finished_at: datetime
) -> None:
    table = ImportBatch.__table__
    conn.execute(
        update(table)
        .where(table.c.id == batch_id)
        .values(
            borrowers=counts["borrowers"],
            loans=counts["loans"],
            payments=counts["payments"],
            instalments=counts["instalments"],
            finished_at=finished_at,
        )
    )


TABLES = {
    "borrowers": Borrower.__tablename__,
    "loans": Loan.__tablename__,
    "payments": Payment.__tablename__,
}
