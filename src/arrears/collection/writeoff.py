"""Write-off (核销) and what comes after it, and collection agencies (委外催收).

- **Write-off**: requested on a case, approved maker-checker (the amount weighed is the balance
  written off); when granted every unpaid loan of the case gets its write-off date
  (`loan.written_off`, which the COB rebuilds from), and the next daily update closes the case as
  `written_off`. Money that still comes in afterwards is a **recovery**, kept in its own table
  (never a servicing payment: the loan stays written off) with its source.
- **Agencies**: a case in a stage that allows `agency` may be placed with an agency evaluated in
  the last 12 months (RULES C11: evaluate each agency at least once a year), at its commission
  rate; only that agency's collectors then work it; results (amount recovered → commission) are
  recorded on the placement; a recall ends it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from arrears.catalog import Catalog, load_catalog
from arrears.collection import approvals
from arrears.collection.approvals import FollowUp
from arrears.collection.common import CollectionRefused, NotAllowed, actor, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.loans import RULES_VERSION
from arrears.loans.dates import add_months
from arrears.loans.money import format_amount, parse_amount, round_minor
from arrears.loans.status import loan_status
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import (
    Agency,
    ApprovalRow,
    CaseLoan,
    PlacementRow,
    RecoveryRow,
)
from arrears.store.tables import Loan as LoanRow

MANAGERS = ("admin", "risk")
EVALUATION_MONTHS = 12
RECOVERY_SOURCES = ("borrower", "agency", "legal", "guarantor", "collateral")


def _manager(session: Session, username: str):  # -> Actor
    who = actor(session, username)
    if who.role not in MANAGERS:
        raise NotAllowed(f"role {who.role} may not do this (需要风险经理或管理员)")
    return who


# ------------------------------------------------------------------ write-off


def request_write_off(
    engine: Engine,
    case_id: str,
    username: str,
    reason: str,
    *,
    today: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> ApprovalRow:
    """Ask to write off the case's loans; the amount weighed is their outstanding principal plus
    arrears today."""
    policy, catalog = policy or load_policy(), catalog or load_catalog()
    if not reason.strip():
        raise CollectionRefused("a write-off needs a reason (核销需填写理由)")
    with unit_of_work(engine) as session:
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        balance = 0
        for loan_id in session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id)):
            record = repo.load_loan(session, loan_id)
            s = loan_status(record.loan, catalog.get(record.product), today)
            if s.status not in ("paid_off", "written_off"):
                balance += s.outstanding_principal + s.overdue_interest + s.overdue_fee
                balance += s.overdue_penalty
        if balance <= 0:
            raise CollectionRefused(f"case {case_id} has nothing to write off (无可核销余额)")
        row, follow = approvals.request(
            session, policy, "write_off", case, balance, username, {"reason": reason}, today
        )
    for step in follow:
        step(catalog)
    return row


@approvals.on_approved("write_off")
def _write_off(session: Session, approval: ApprovalRow, today: date) -> list[FollowUp]:
    case = require_case(session, approval.case_id)
    engine = session.get_bind()
    loan_ids = list(
        session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case.case_id))
    )

    def apply(catalog: Catalog) -> None:
        with unit_of_work(engine) as s:
            for loan_id in loan_ids:
                record = repo.load_loan(s, loan_id)
                product = catalog.get(record.product)
                before = loan_status(record.loan, product, today)
                if before.status in ("paid_off", "written_off"):
                    continue
                s.get(LoanRow, loan_id).written_off_on = today  # type: ignore[union-attr]
                after = loan_status(replace(record.loan, written_off_on=today), product, today)
                repo.save_snapshot(s, after, RULES_VERSION)
                record_event(
                    s,
                    "loan.written_off",
                    loan_id=loan_id,
                    borrower_id=record.borrower_id,
                    payload={
                        "on": today,
                        "reason": approval.payload["reason"],
                        "approval_id": approval.approval_id,
                        "principal": format_amount(
                            before.outstanding_principal, record.loan.terms.currency
                        ),
                    },
                )

    return [apply]


def record_recovery(
    engine: Engine,
    loan_id: str,
    amount: str,
    username: str,
    *,
    received_on: date,
    source: str = "borrower",
) -> dict[str, Any]:
    """Money received on a written-off loan: kept apart from payments, with its source."""
    if source not in RECOVERY_SOURCES:
        raise CollectionRefused(
            f"source {source!r} is not one of {', '.join(RECOVERY_SOURCES)} (来源无效)"
        )
    with unit_of_work(engine) as session:
        who = actor(session, username)
        loan = session.get(LoanRow, loan_id)
        if loan is None:
            raise CollectionRefused(f"loan {loan_id} not found (贷款不存在)")
        if loan.written_off_on is None or received_on < loan.written_off_on:
            raise CollectionRefused(
                f"loan {loan_id} was not written off by {received_on}: post a payment instead "
                "(未核销贷款请入账还款)"
            )
        minor = parse_amount(amount, loan.currency)
        if minor <= 0:
            raise CollectionRefused(f"recovery {amount!r} must be positive (金额须为正)")
        case_id = session.scalar(
            select(CaseLoan.case_id)
            .where(CaseLoan.loan_id == loan_id)
            .order_by(CaseLoan.added_on.desc())
        )
        row = RecoveryRow(
            loan_id=loan_id,
            case_id=case_id,
            received_on=received_on,
            amount=minor,
            source=source,
            recorded_by=who.username,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "recovery.received",
            loan_id=loan_id,
            borrower_id=loan.borrower_id,
            payload={
                "recovery_id": row.recovery_id,
                "amount": format_amount(minor, loan.currency),
                "received_on": received_on,
                "source": source,
                "by": who.username,
            },
        )
        return {
            "recovery_id": row.recovery_id,
            "loan_id": loan_id,
            "amount": format_amount(minor, loan.currency),
            "received_on": received_on.isoformat(),
            "source": source,
        }


def recoveries(engine: Engine) -> list[dict[str, Any]]:
    """Recoveries after write-off, totalled per loan (with the write-off date)."""
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(
                RecoveryRow.loan_id,
                LoanRow.currency,
                LoanRow.written_off_on,
                func.sum(RecoveryRow.amount),
                func.count(),
            )
            .join(LoanRow, LoanRow.loan_id == RecoveryRow.loan_id)
            .group_by(RecoveryRow.loan_id, LoanRow.currency, LoanRow.written_off_on)
            .order_by(RecoveryRow.loan_id)
        ).all()
    return [
        {
            "loan_id": loan_id,
            "written_off_on": off.isoformat() if off else None,
            "recovered": format_amount(int(total), currency),
            "recoveries": n,
        }
        for loan_id, currency, off, total, n in rows
    ]


# ------------------------------------------------------------------ agencies


def add_agency(
    engine: Engine,
    agency_id: str,
    name: str,
    commission_rate: str,
    username: str,
    *,
    evaluated_on: date | None = None,
) -> dict[str, Any]:
    try:
        rate = Decimal(commission_rate)
    except ArithmeticError:
        raise CollectionRefused(
            f"commission rate {commission_rate!r} is not a decimal (佣金率无效)"
        ) from None
    if not rate.is_finite() or not 0 <= rate < 1:
        raise CollectionRefused(f"commission rate {commission_rate} must be in [0, 1) (佣金率无效)")
    with unit_of_work(engine) as session:
        _manager(session, username)
        if session.get(Agency, agency_id) is not None:
            raise CollectionRefused(f"agency {agency_id!r} already exists (机构已存在)")
        session.add(
            Agency(
                agency_id=agency_id,
                name=name,
                commission_rate=rate,
                evaluated_on=evaluated_on,
                active=True,
            )
        )
        record_event(
            session,
            "agency.added",
            payload={"agency_id": agency_id, "name": name, "commission_rate": rate, "by": username},
        )
    return {"agency_id": agency_id, "name": name, "commission_rate": str(rate)}


def evaluate_agency(engine: Engine, agency_id: str, username: str, *, on: date, notes: str) -> None:
    """Record an agency's (at least yearly) evaluation."""
    with unit_of_work(engine) as session:
        _manager(session, username)
        agency = session.get(Agency, agency_id)
        if agency is None:
            raise CollectionRefused(f"agency {agency_id!r} not found (机构不存在)")
        agency.evaluated_on = on
        record_event(
            session,
            "agency.evaluated",
            payload={"agency_id": agency_id, "on": on, "notes": notes, "by": username},
        )


def place_case(
    engine: Engine,
    case_id: str,
    agency_id: str,
    username: str,
    *,
    today: date,
    policy: StagePolicy | None = None,
) -> dict[str, Any]:
    """Place a case with an agency (refused without an evaluation in the last 12 months, or in
    a stage that does not allow agency work)."""
    policy = policy or load_policy()
    with unit_of_work(engine) as session:
        _manager(session, username)
        agency = session.get(Agency, agency_id)
        if agency is None or not agency.active:
            raise CollectionRefused(f"agency {agency_id!r} not found or inactive (机构不可用)")
        if (
            agency.evaluated_on is None
            or add_months(agency.evaluated_on, EVALUATION_MONTHS) < today
        ):
            raise CollectionRefused(
                f"agency {agency_id} has no evaluation in the last {EVALUATION_MONTHS} months "
                f"(last: {agency.evaluated_on or 'never'}); no new placements "
                "(机构12个月内未评估，不得新增委外)"
            )
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        if "agency" not in policy.stage(case.stage).actions:
            raise CollectionRefused(
                f"stage {case.stage} does not allow agency placement (该阶段不允许委外)"
            )
        live = session.scalar(
            select(func.count())
            .select_from(PlacementRow)
            .where(PlacementRow.case_id == case_id, PlacementRow.recalled_on.is_(None))
        )
        if live:
            raise CollectionRefused(f"case {case_id} is already placed (案件已委外)")
        row = PlacementRow(
            agency_id=agency_id,
            case_id=case_id,
            placed_on=today,
            commission_rate=agency.commission_rate,
            amount_placed=case.amount_overdue,
            recovered=0,
            commission=0,
        )
        session.add(row)
        previous = case.assigned_to
        case.assigned_to, case.assigned_on = None, None  # the agency's collectors take it
        session.flush()
        record_event(
            session,
            "case.placed",
            borrower_id=case.borrower_id,
            payload={
                "case_id": case_id,
                "agency_id": agency_id,
                "placement_id": row.placement_id,
                "amount_placed": format_amount(row.amount_placed, case.currency),
                "commission_rate": row.commission_rate,
                "unassigned_from": previous,
                "by": username,
            },
        )
        return _placement_view(row, case.currency)


def _placement_view(row: PlacementRow, currency: str) -> dict[str, Any]:
    return {
        "placement_id": row.placement_id,
        "agency_id": row.agency_id,
        "case_id": row.case_id,
        "placed_on": row.placed_on.isoformat(),
        "recalled_on": row.recalled_on.isoformat() if row.recalled_on else None,
        "commission_rate": str(row.commission_rate),
        "amount_placed": format_amount(row.amount_placed, currency),
        "recovered": format_amount(row.recovered, currency),
        "commission": format_amount(row.commission, currency),
        "result": row.result,
    }


def record_agency_result(
    engine: Engine, placement_id: int, recovered: str, username: str, *, result: str | None = None
) -> dict[str, Any]:
    """Add money an agency recovered on a placement; its commission follows at the placement's
    rate (rounded half-up to the minor unit)."""
    with unit_of_work(engine) as session:
        _manager(session, username)
        row = session.get(PlacementRow, placement_id)
        if row is None:
            raise CollectionRefused(f"placement {placement_id} not found (委外记录不存在)")
        case = require_case(session, row.case_id)
        amount = parse_amount(recovered, case.currency)
        if amount <= 0:
            raise CollectionRefused(f"recovered {recovered!r} must be positive (金额须为正)")
        row.recovered += amount
        row.commission = round_minor(Decimal(row.recovered) * row.commission_rate)
        if result:
            row.result = result
        record_event(
            session,
            "placement.result",
            borrower_id=case.borrower_id,
            payload=_placement_view(row, case.currency) | {"added": recovered, "by": username},
        )
        return _placement_view(row, case.currency)


def recall_case(
    engine: Engine, placement_id: int, username: str, *, today: date, result: str
) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        _manager(session, username)
        row = session.get(PlacementRow, placement_id)
        if row is None:
            raise CollectionRefused(f"placement {placement_id} not found (委外记录不存在)")
        if row.recalled_on is not None:
            raise CollectionRefused(
                f"placement {placement_id} was recalled on {row.recalled_on} (已撤回)"
            )
        case = require_case(session, row.case_id, lock=True)
        row.recalled_on, row.result = today, result
        case.assigned_to, case.assigned_on = None, None  # back to the in-house queue
        record_event(
            session,
            "case.recalled",
            borrower_id=case.borrower_id,
            payload=_placement_view(row, case.currency) | {"by": username},
        )
        return _placement_view(row, case.currency)


def list_agencies(engine: Engine, today: date) -> list[dict[str, Any]]:
    """Agencies with their evaluation status and placement results (minor units summed per
    agency; currencies are not mixed in one agency's book here)."""
    with unit_of_work(engine) as session:
        out = []
        for a in session.scalars(select(Agency).order_by(Agency.agency_id)):
            placed, live, recovered, commission = session.execute(
                select(
                    func.count(),
                    func.count().filter(PlacementRow.recalled_on.is_(None)),
                    func.coalesce(func.sum(PlacementRow.recovered), 0),
                    func.coalesce(func.sum(PlacementRow.commission), 0),
                ).where(PlacementRow.agency_id == a.agency_id)
            ).one()
            due = add_months(a.evaluated_on, EVALUATION_MONTHS) if a.evaluated_on else None
            out.append(
                {
                    "agency_id": a.agency_id,
                    "name": a.name,
                    "commission_rate": str(a.commission_rate),
                    "evaluated_on": a.evaluated_on.isoformat() if a.evaluated_on else None,
                    "evaluation_due": due.isoformat() if due else None,
                    "may_place": due is not None and today <= due,
                    "placements": placed,
                    "live_placements": live,
                    "recovered_minor": int(recovered),
                    "commission_minor": int(commission),
                }
            )
        return out
