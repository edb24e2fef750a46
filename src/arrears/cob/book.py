"""Assemble the close of business's input frames (`engine.Book`) from domain values or from the
database, with each loan's rule parameters joined on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine

from arrears.catalog import Catalog
from arrears.cob.engine import DAY, Book
from arrears.cob.params import loan_rates, product_frame
from arrears.loans.terms import Loan
from arrears.store.bulk import read_frame

LOAN_SCHEMA = {
    "loan_id": pl.String,
    "borrower_id": pl.String,
    "product": pl.String,
    "currency": pl.String,
    "principal": pl.Int64,
    "annual_rate": pl.String,
    "penalty_rate": pl.String,
    "disbursed_on": pl.Date,
    "restructured_on": pl.Date,
    "written_off_on": pl.Date,
}
INSTALMENT_SCHEMA = {
    "loan_id": pl.String,
    "seq": pl.Int64,
    "due_on": pl.Date,
    "principal": pl.Int64,
    "interest": pl.Int64,
    "fee": pl.Int64,
}
PAYMENT_SCHEMA = {"loan_id": pl.String, "paid_on": pl.Date, "amount": pl.Int64}
PAUSE_SCHEMA = {"loan_id": pl.String, "start_on": pl.Date, "end_on": pl.Date}
OVERRIDE_SCHEMA = {
    "loan_id": pl.String,
    "classification": pl.String,
    "effective_on": pl.Date,
    "expires_on": pl.Date,
}


def merge_pauses(pauses: pl.DataFrame) -> pl.DataFrame:
    """Overlapping or touching pauses of a loan become one span (as `allocation.merge_pauses`)."""
    if pauses.is_empty():
        return pauses
    return (
        pauses.sort("loan_id", "start_on")
        .with_columns(
            reach=pl.col("end_on").cum_max().shift(1).over("loan_id"),
        )
        .with_columns(new=pl.col("reach").is_null() | (pl.col("start_on") > pl.col("reach") + DAY))
        .with_columns(group=pl.col("new").cast(pl.Int32).cum_sum().over("loan_id"))
        .group_by("loan_id", "group")
        .agg(start_on=pl.col("start_on").min(), end_on=pl.col("end_on").max())
        .select("loan_id", "start_on", "end_on")
        .sort("loan_id", "start_on")
    )


def assemble(
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    payments: pl.DataFrame,
    pauses: pl.DataFrame,
    overrides: pl.DataFrame,
    catalog: Catalog,
) -> Book:
    """A `Book` from plain frames (schemas above): joins each loan's rule parameters."""
    params = loan_rates(loans, catalog).join(product_frame(catalog), on="product", how="left")
    return Book(
        loans=params,
        instalments=instalments.cast(INSTALMENT_SCHEMA),  # type: ignore[arg-type]
        payments=payments.cast(PAYMENT_SCHEMA),  # type: ignore[arg-type]
        pauses=merge_pauses(pauses.cast(PAUSE_SCHEMA)),  # type: ignore[arg-type]
        overrides=overrides.cast(OVERRIDE_SCHEMA),  # type: ignore[arg-type]
    )


def book_from_loans(loans: Sequence[tuple[Loan, str]], catalog: Catalog) -> Book:
    """A `Book` from domain loans and their product codes (tests and single-loan checks)."""
    loan_rows, inst_rows, pay_rows, pause_rows, override_rows = [], [], [], [], []
    for loan, product in loans:
        t = loan.terms
        loan_rows.append(
            {
                "loan_id": loan.loan_id,
                "borrower_id": None,
                "product": product,
                "currency": t.currency,
                "principal": t.principal,
                "annual_rate": str(t.annual_rate),
                "penalty_rate": None if t.penalty_rate is None else str(t.penalty_rate),
                "disbursed_on": t.disbursed_on,
                "restructured_on": loan.restructured_on,
                "written_off_on": loan.written_off_on,
            }
        )
        inst_rows += [
            {
                "loan_id": loan.loan_id,
                "seq": i.seq,
                "due_on": i.due_on,
                "principal": i.principal,
                "interest": i.interest,
                "fee": i.fee,
            }
            for i in loan.schedule
        ]
        pay_rows += [
            {"loan_id": loan.loan_id, "paid_on": p.paid_on, "amount": p.amount}
            for p in loan.payments
            if not p.reversed
        ]
        pause_rows += [
            {"loan_id": loan.loan_id, "start_on": p.start, "end_on": p.end} for p in loan.pauses
        ]
        override_rows += [
            {
                "loan_id": loan.loan_id,
                "classification": o.classification,
                "effective_on": o.effective_on,
                "expires_on": o.expires_on,
            }
            for o in loan.overrides
        ]
    return assemble(
        pl.DataFrame(loan_rows, schema=LOAN_SCHEMA),
        pl.DataFrame(inst_rows, schema=INSTALMENT_SCHEMA),
        pl.DataFrame(pay_rows, schema=PAYMENT_SCHEMA),
        pl.DataFrame(pause_rows, schema=PAUSE_SCHEMA),
        pl.DataFrame(override_rows, schema=OVERRIDE_SCHEMA),
        catalog,
    )


def load_book(
    engine: Engine,
    catalog: Catalog,
    *,
    since: date | None = None,
    whole_history: Sequence[str] | None = None,
) -> Book:
    """The book from the database, in bulk (one streamed query per table).

    A daily close from a stored state needs less than the whole history: with `since`, only the
    payments after that date are read, and schedules and older payments only for the loans in
    `whole_history` (those rebuilt from the start: changed or new since the state was kept).
    """
    tables = {
        "loans": (
            "SELECT loan_id, borrower_id, product, currency, principal, annual_rate, "
            "penalty_rate, disbursed_on, restructured_on, written_off_on FROM loans",
            LOAN_SCHEMA,
        ),
        "instalments": (
            "SELECT loan_id, seq, due_on, principal, interest, fee FROM instalments",
            INSTALMENT_SCHEMA,
        ),
        "payments": (
            "SELECT loan_id, paid_on, amount FROM payments WHERE reversed_at IS NULL",
            PAYMENT_SCHEMA,
        ),
        "pauses": ("SELECT loan_id, start_on, end_on FROM pauses", PAUSE_SCHEMA),
        "overrides": (
            "SELECT loan_id, classification, effective_on, expires_on FROM overrides",
            OVERRIDE_SCHEMA,
        ),
    }
    frames: dict[str, pl.DataFrame] = {}
    with engine.connect() as conn:
        for name, (sql, schema) in tables.items():
            if since is not None and name in ("instalments", "payments"):
                continue
            frames[name] = read_frame(conn, sql, schema)
        if since is not None:
            ids = list(whole_history or ())
            frames["instalments"] = _for_loans(conn, *tables["instalments"], ids)
            recent = read_frame(
                conn, tables["payments"][0] + " AND paid_on > %s", PAYMENT_SCHEMA, (since,)
            )
            older = _for_loans(
                conn, tables["payments"][0] + " AND paid_on <= %s", PAYMENT_SCHEMA, ids, (since,)
            )
            frames["payments"] = pl.concat([older, recent])
    return assemble(
        frames["loans"],
        frames["instalments"],
        frames["payments"],
        frames["pauses"],
        frames["overrides"],
        catalog,
    )


def _for_loans(
    conn, sql: str, schema, loan_ids: Sequence[str], params: Sequence = ()
) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Rows of `sql` for the given loans only (in chunks; none when the list is empty)."""
    if not loan_ids:
        return pl.DataFrame(schema=schema)
    if len(loan_ids) > 20_000:  # most of the book: one pass and a filter beats many queries
        wanted = pl.Series(list(loan_ids), dtype=pl.String).implode()
        return read_frame(conn, sql, schema, params).filter(pl.col("loan_id").is_in(wanted))
    where = " AND " if " WHERE " in sql else " WHERE "
    parts = []
    for start in range(0, len(loan_ids), 500):
        chunk = list(loan_ids[start : start + 500])
        marks = ", ".join("%s" for _ in chunk)
        parts.append(
            read_frame(conn, f"{sql}{where}loan_id IN ({marks})", schema, (*params, *chunk))
        )
    return pl.concat(parts)


def load_book_files(
    directory: Path, catalog: Catalog, *, schedules: bool = True, paid_on: date | None = None
) -> Book:
    """The book straight from files in the import format (Parquet or CSV), without a database:
    for benchmarks and for closing a book kept as files. The files are trusted (validate them
    with `arrears import` first); generated schedules come from `schedules.build_schedules`.

    A daily close from a stored state needs neither the schedules (`schedules=False`) nor more
    than the day's payments (`paid_on`)."""
    from arrears.cob.schedules import build_schedules
    from arrears.imports.parse import amount
    from arrears.loans.money import MINOR_UNITS

    def read(name: str) -> pl.DataFrame | None:
        for suffix in (".parquet", ".csv"):
            path = directory / f"{name}{suffix}"
            if path.exists():
                return (
                    pl.read_parquet(path)
                    if suffix == ".parquet"
                    else pl.read_csv(path, infer_schema=False)
                )
        return None

    def minor(column: str) -> pl.Expr:
        exponent = pl.col("currency").replace_strict(MINOR_UNITS, return_dtype=pl.Int64)
        return amount(column, exponent).minor.alias(column)

    def as_date(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.String).str.to_date("%Y-%m-%d")

    loans = read("loans")
    payments = read("payments")
    if loans is None or payments is None:
        raise FileNotFoundError(f"{directory}: loans and payments files are required")
    for name in ("currency", "interest_basis", "penalty_rate", "first_due_on"):
        if name not in loans.columns:
            loans = loans.with_columns(pl.lit(None, pl.String).alias(name))
    loans = loans.with_columns(
        pl.col("currency").fill_null("CNY"),
        pl.col("term_months").cast(pl.Int64),
        pl.col("annual_rate").cast(pl.String),
        pl.col("penalty_rate").cast(pl.String),
        as_date("disbursed_on"),
        as_date("first_due_on"),
    ).with_columns(minor("principal"))
    parts = [pl.DataFrame(schema=INSTALMENT_SCHEMA)]
    if schedules:
        generated = build_schedules(loans.filter(pl.col("repayment_method") != "custom"), catalog)
        parts.append(generated.cast(INSTALMENT_SCHEMA))  # type: ignore[arg-type]
    given = read("schedules") if schedules else None
    if given is not None and given.height:
        given = given.join(loans.select("loan_id", "currency"), on="loan_id").with_columns(
            *(minor(c) for c in ("principal", "interest", "fee")),
            pl.col("seq").cast(pl.Int64),
            as_date("due_on"),
        )
        parts.append(given.select(INSTALMENT_SCHEMA.keys()).cast(INSTALMENT_SCHEMA))  # type: ignore[arg-type]
    payments = payments.with_columns(as_date("paid_on"))
    if paid_on is not None:
        payments = payments.filter(pl.col("paid_on") == paid_on)
    payments = payments.join(loans.select("loan_id", "currency"), on="loan_id").with_columns(
        minor("amount")
    )
    frame = loans.select(
        *(pl.col(k) if k in loans.columns else pl.lit(None).alias(k) for k in LOAN_SCHEMA)
    ).cast(LOAN_SCHEMA)  # type: ignore[arg-type]
    return assemble(
        frame,
        pl.concat(parts),
        payments.select(PAYMENT_SCHEMA.keys()),
        pl.DataFrame(schema=PAUSE_SCHEMA),
        pl.DataFrame(schema=OVERRIDE_SCHEMA),
        catalog,
    )
