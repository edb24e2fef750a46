"""Borrowers: one by id (personal data masked by role, every read logged) and the list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from arrears.api import policy
from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    Limit,
    Offset,
    TodayDep,
    delinquent_loans_query,
    require_borrower_access,
)
from arrears.api.personal import borrower_view
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import BorrowerOut, LoanSummary, Page
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower, Loan

router = APIRouter(prefix=f"{API_PREFIX}/borrowers", tags=["borrowers"])


@router.get("", response_model=Page[BorrowerOut])
def list_borrowers(
    request: Request,
    user: CurrentUserDep,
    engine: EngineDep,
    today: TodayDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, object]:
    """Borrowers by id. Collectors see borrowers with a delinquent loan (newest snapshot)."""
    query = select(Borrower)
    if user.role == policy.COLLECTOR:
        owing = select(Loan.borrower_id).where(Loan.loan_id.in_(delinquent_loans_query(today)))
        query = query.where(Borrower.borrower_id.in_(owing))
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Borrower.borrower_id).offset(offset).limit(limit))
        items = [borrower_view(session, user, row, request.url.path) for row in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@router.get("/{borrower_id}", response_model=BorrowerOut)
def get_borrower(
    borrower_id: IdPath,
    request: Request,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> dict[str, object]:
    row = require_borrower_access(engine, catalog, user, borrower_id, today)
    with unit_of_work(engine) as session:
        return borrower_view(session, user, row, request.url.path)


@router.get("/{borrower_id}/loans", response_model=list[LoanSummary])
def borrower_loans(
    borrower_id: IdPath,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
) -> list[dict[str, object]]:
    """The borrower's loans (terms only; ask each loan for its status)."""
    require_borrower_access(engine, catalog, user, borrower_id, today)
    with unit_of_work(engine) as session:
        rows = session.scalars(
            select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.loan_id)
        )
        return [loan_summary(row) for row in rows]


def loan_summary(row: Loan) -> dict[str, object]:
    return {
        "loan_id": row.loan_id,
        "borrower_id": row.borrower_id,
        "product": row.product,
        "currency": row.currency,
        "principal": format_amount(row.principal, row.currency),
        "annual_rate": str(row.annual_rate),
        "term_months": row.term_months,
        "disbursed_on": row.disbursed_on,
    }
