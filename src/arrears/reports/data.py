"""Read the frames the analytics need from the database, in bulk (one query each, no ORM rows).

Every function takes an open SQLAlchemy `Connection` and returns a Polars frame with a fixed
schema (also when the query finds nothing), so `reports.portfolio` never meets a surprise type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
from sqlalchemy import Connection, Date, case, func, or_, select

from arrears.store import tables as t

SNAPSHOT_SCHEMA = {
    "loan_id": pl.String,
    "as_of": pl.Date,
    "status": pl.String,
    "days_past_due": pl.Int64,
    "bucket": pl.String,
    "classification": pl.String,
    "ifrs9_stage": pl.Int64,
    "outstanding_principal": pl.Int64,
    "rules_version": pl.String,
}
HISTORY_SCHEMA = {
    "loan_id": pl.String,
    "as_of": pl.Date,
    "status": pl.String,
    "days_past_due": pl.Int64,
}
LOAN_SCHEMA = {
    "loan_id": pl.String,
    "product": pl.String,
    "currency": pl.String,
    "principal": pl.Int64,
    "disbursed_on": pl.Date,
    "restructured_on": pl.Date,
    "written_off_on": pl.Date,
}
FIRST_DUE_SCHEMA = {
    "loan_id": pl.String,
    "first_due_on": pl.Date,
    "second_due_on": pl.Date,
}


def _read(conn: Connection, query, schema: dict[str, pl.DataType]) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    rows = conn.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def snapshot_dates(conn: Connection, until: date | None = None) -> list[date]:
    """Every date the close of business completed for (on or before `until`), ascending.

    Only a complete COB run makes a date's snapshots a whole book: a payment posted on a day the
    COB has not closed yet writes that one loan's snapshot, which is no portfolio."""
    query = (
        select(t.CobRun.as_of)
        .where(t.CobRun.status == "complete")
        .distinct()
        .order_by(t.CobRun.as_of)
    )
    if until is not None:
        query = query.where(t.CobRun.as_of <= until)
    return list(conn.execute(query).scalars())


def snapshots(conn: Connection, dates: Sequence[date]) -> pl.DataFrame:
    """The snapshots of every loan on the given dates."""
    s = t.StatusSnapshot
    if not dates:
        return pl.DataFrame(schema=SNAPSHOT_SCHEMA)
    query = select(*(getattr(s, name) for name in SNAPSHOT_SCHEMA)).where(s.as_of.in_(list(dates)))
    return _read(conn, query, SNAPSHOT_SCHEMA)


def delinquent_history(conn: Connection, until: date, min_dpd: int) -> pl.DataFrame:
    """Every snapshot on or before `until` with DPD ≥ `min_dpd` or written off (the only rows
    "ever X+" and first-payment default need, so a daily history stays small)."""
    s = t.StatusSnapshot
    query = select(*(getattr(s, name) for name in HISTORY_SCHEMA)).where(
        s.as_of <= until, or_(s.days_past_due >= min_dpd, s.status == "written_off")
    )
    return _read(conn, query, HISTORY_SCHEMA)


def loans(conn: Connection) -> pl.DataFrame:
    query = select(*(getattr(t.Loan, name) for name in LOAN_SCHEMA))
    return _read(conn, query, LOAN_SCHEMA)


def first_dues(conn: Connection) -> pl.DataFrame:
    """Each loan's first and second instalment due dates (by due date)."""
    i = t.Instalment
    ranked = select(
        i.loan_id,
        i.due_on,
        func.row_number().over(partition_by=i.loan_id, order_by=(i.due_on, i.seq)).label("n"),
    ).subquery()
    query = (
        select(
            ranked.c.loan_id,
            func.min(case((ranked.c.n == 1, ranked.c.due_on)), type_=Date),
            func.min(case((ranked.c.n == 2, ranked.c.due_on)), type_=Date),
        )
        .where(ranked.c.n <= 2)
        .group_by(ranked.c.loan_id)
    )
    return _read(conn, query, FIRST_DUE_SCHEMA)
