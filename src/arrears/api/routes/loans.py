"""Loans: status on any date (live from the rules), schedule, payments, snapshots, events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from arrears import servicing
from arrears.api import policy
from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    Limit,
    Offset,
    OptionalDay,
    TodayDep,
    delinquent_loans_query,
    require_loan_access,
    visible_loan,
)
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import EventPage, LoanStatusOut, Page, PaymentOut, ScheduleOut, SnapshotOut
from arrears.loans.money import format_amount
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.events import list_events
from arrears.store.tables import Loan, Payment, StatusSnapshot

router = APIRouter(prefix=f"{API_PREFIX}/loans", tags=["loans"])


@router.get("", response_model=Page[LoanStatusOut])
def list_loans(
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    as_of: OptionalDay = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, object]:
    """Loans by id with their status on `as_of`. Collectors see delinquent loans only (by the
    newest snapshot on or before today)."""
    day = as_of or today
    query = select(Loan.loan_id)
    if user.role == policy.COLLECTOR:
        query = query.where(Loan.loan_id.in_(delinquent_loans_query(today)))
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ids = list(session.scalars(query.order_by(Loan.loan_id).offset(offset).limit(limit)))
        records = [repo.load_loan(session, loan_id) for loan_id in ids]
    items = [servicing.LoanView.of(r, catalog, day).to_dict() for r in records]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/{loan_id}", response_model=LoanStatusOut)
def get_loan(
    loan_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    as_of: OptionalDay = None,
) -> dict[str, object]:
    """The loan's status on `as_of` (default today), replayed from its schedule and payments."""
    record = visible_loan(engine, catalog, user, loan_id, today)
    return servicing.LoanView.of(record, catalog, as_of or today).to_dict()


@router.get("/{loan_id}/schedule", response_model=ScheduleOut)
def get_schedule(
    loan_id: IdPath, user: CurrentUserDep, engine: EngineDep, catalog: CatalogDep, today: TodayDep
) -> dict[str, object]:
    record = visible_loan(engine, catalog, user, loan_id, today)
    ccy = record.loan.terms.currency
    return {
        "loan_id": loan_id,
        "currency": ccy,
        "instalments": [
            {
                "seq": i.seq,
                "due_on": i.due_on,
                "principal": format_amount(i.principal, ccy),
                "interest": format_amount(i.interest, ccy),
                "fee": format_amount(i.fee, ccy),
                "total": format_amount(i.principal + i.interest + i.fee, ccy),
            }
            for i in record.loan.schedule
        ],
    }


@router.get("/{loan_id}/payments", response_model=list[PaymentOut])
def get_payments(
    loan_id: IdPath, user: CurrentUserDep, engine: EngineDep, catalog: CatalogDep, today: TodayDep
) -> list[dict[str, object]]:
    """Every payment of the loan by date, reversed ones included (with when and why)."""
    require_loan_access(engine, catalog, user, loan_id, today)
    with unit_of_work(engine) as session:
        ccy = session.get(Loan, loan_id).currency  # type: ignore[union-attr]
        rows = session.scalars(
            select(Payment)
            .where(Payment.loan_id == loan_id)
            .order_by(Payment.paid_on, Payment.payment_id)
        )
        return [payment_out(row, ccy) for row in rows]


def payment_out(row: Payment, currency: str) -> dict[str, object]:
    return {
        "payment_id": row.payment_id,
        "loan_id": row.loan_id,
        "paid_on": row.paid_on,
        "amount": format_amount(row.amount, currency),
        "currency": currency,
        "reference": row.reference,
        "reversed_at": row.reversed_at,
        "reversal_reason": row.reversal_reason,
    }


@router.get("/{loan_id}/snapshots", response_model=Page[SnapshotOut])
def get_snapshots(
    loan_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    date_from: Annotated[OptionalDay, Query(alias="from")] = None,
    date_to: Annotated[OptionalDay, Query(alias="to")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, object]:
    """The loan's stored daily snapshots (written by the COB and by payments), newest first."""
    require_loan_access(engine, catalog, user, loan_id, today)
    query = select(StatusSnapshot).where(StatusSnapshot.loan_id == loan_id)
    if date_from is not None:
        query = query.where(StatusSnapshot.as_of >= date_from)
    if date_to is not None:
        query = query.where(StatusSnapshot.as_of <= date_to)
    with unit_of_work(engine) as session:
        ccy = session.get(Loan, loan_id).currency  # type: ignore[union-attr]
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(StatusSnapshot.as_of.desc()).offset(offset).limit(limit)
        )
        items = [snapshot_out(row, ccy) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def snapshot_out(row: StatusSnapshot, ccy: str) -> dict[str, object]:
    money = lambda v: None if v is None else format_amount(v, ccy)  # noqa: E731
    return {
        "loan_id": row.loan_id,
        "as_of": row.as_of,
        "status": row.status,
        "days_past_due": row.days_past_due,
        "bucket": row.bucket,
        "classification": row.classification,
        "ifrs9_stage": row.ifrs9_stage,
        "outstanding_principal": money(row.outstanding_principal),
        "overdue_principal": money(row.overdue_principal),
        "overdue_interest": money(row.overdue_interest),
        "overdue_fee": money(row.overdue_fee),
        "overdue_penalty": money(row.overdue_penalty),
        "penalty_accrued": money(row.penalty_accrued),
        "next_due_on": row.next_due_on,
        "next_due_amount": money(row.next_due_amount),
        "rules_version": row.rules_version,
    }


@router.get("/{loan_id}/events", response_model=EventPage)
def get_events(
    loan_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    after_seq: Annotated[int, Query(ge=0, le=2**62, description="Read events after this seq.")] = 0,
    limit: Limit = 100,
) -> dict[str, object]:
    """The loan's domain events in order, read with a cursor (`after_seq`)."""
    require_loan_access(engine, catalog, user, loan_id, today)
    with unit_of_work(engine) as session:
        rows = list_events(session, loan_id=loan_id, after_seq=after_seq, limit=limit)
        items = [
            {
                "seq": e.seq,
                "type": e.type,
                "loan_id": e.loan_id,
                "borrower_id": e.borrower_id,
                "payload": e.payload,
                "occurred_at": e.occurred_at,
            }
            for e in rows
        ]
    return {"items": items, "next_after_seq": items[-1]["seq"] if items else after_seq}
