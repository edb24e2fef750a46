"""Cases as people see and steer them: the list, one case in full, manual escalation and
de-escalation (with reason and role check), and the hardship pause (with approval)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arrears.catalog import Catalog, load_catalog
from arrears.collection import approvals
from arrears.collection.approvals import FollowUp
from arrears.collection.common import CollectionRefused, NotAllowed, actor, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import (
    ApprovalRow,
    ArrangementRow,
    CaseLoan,
    CollectionCase,
    ContactRow,
    DisputeRow,
    LegalCaseRow,
    PlacementRow,
    PromiseRow,
)


def case_summary(c: CollectionCase) -> dict[str, Any]:
    """The keys of `arrears case list --json`."""
    return {
        "case_id": c.case_id,
        "borrower_id": c.borrower_id,
        "stage": c.stage,
        "status": c.status,
        "days_past_due": c.days_past_due,
        "amount_overdue": format_amount(c.amount_overdue, c.currency),
        "assigned_to": c.assigned_to,
    }


def list_cases(
    engine: Engine,
    *,
    stage: str | None = None,
    status: str | None = None,
    assigned_to: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Cases by priority (oldest and largest first), filtered."""
    with unit_of_work(engine) as session:
        query = select(CollectionCase)
        if stage:
            query = query.where(CollectionCase.stage == stage)
        if status:
            query = query.where(CollectionCase.status == status)
        if assigned_to:
            query = query.where(CollectionCase.assigned_to == assigned_to)
        rows = session.scalars(
            query.order_by(CollectionCase.priority.desc(), CollectionCase.case_id).limit(limit)
        )
        return [case_summary(c) for c in rows]


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def show_case(engine: Engine, case_id: str, *, today: date | None = None) -> dict[str, Any]:
    """One case in full: figures, loans, contacts, promises, disputes, approvals, arrangements,
    lawsuits, placements, and the limitation-period warning when it applies."""
    from arrears.collection.legal import limitation_status

    with unit_of_work(engine) as session:
        c = require_case(session, case_id)
        money = lambda v: None if v is None else format_amount(v, c.currency)  # noqa: E731
        of = lambda table: session.scalars(  # noqa: E731
            select(table).where(table.case_id == case_id)
        ).all()
        data = case_summary(c) | {
            "currency": c.currency,
            "segment": c.segment,
            "product": c.product,
            "stage_override": c.stage_override,
            "stage_since": _iso(c.stage_since),
            "opened_on": _iso(c.opened_on),
            "updated_on": _iso(c.updated_on),
            "closed_on": _iso(c.closed_on),
            "close_reason": c.close_reason,
            "outstanding_principal": money(c.outstanding_principal),
            "loans": sorted(
                session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id))
            ),
            "broken_promises": c.broken_promises,
            "paused_until": _iso(c.paused_until),
            "last_rpc_on": _iso(c.last_rpc_on),
            "contacts": [
                {
                    "at": r.at.isoformat(),
                    "action": r.action,
                    "direction": r.direction,
                    "party": r.party,
                    "outcome": r.outcome,
                    "sent": r.sent,
                    "blocked_reasons": r.blocked_reasons,
                    "by": r.by_user,
                    "notes": r.notes,
                }
                for r in sorted(of(ContactRow), key=lambda r: r.contact_id)
            ],
            "promises": [
                {
                    "promise_id": p.promise_id,
                    "amount": money(p.amount),
                    "due_on": p.due_on.isoformat(),
                    "state": p.state,
                }
                for p in sorted(of(PromiseRow), key=lambda p: (p.due_on, p.promise_id))
            ],
            "disputes": [
                {
                    "dispute_id": d.dispute_id,
                    "loan_id": d.loan_id,
                    "reason": d.reason,
                    "opened_on": d.opened_on.isoformat(),
                    "resolved_on": _iso(d.resolved_on),
                }
                for d in of(DisputeRow)
            ],
            "approvals": [
                {
                    "approval_id": a.approval_id,
                    "kind": a.kind,
                    "amount": money(a.amount),
                    "state": a.state,
                    "maker": a.maker,
                    "checker": a.checker,
                }
                for a in of(ApprovalRow)
            ],
            "arrangements": [
                {
                    "arrangement_id": a.arrangement_id,
                    "kind": a.kind,
                    "state": a.state,
                    "amount": money(a.amount),
                    "waived": money(a.waived),
                }
                for a in of(ArrangementRow)
            ],
            "legal": [
                {"legal_id": g.legal_id, "state": g.state, "court": g.court}
                for g in of(LegalCaseRow)
            ],
            "placements": [
                {
                    "placement_id": p.placement_id,
                    "agency_id": p.agency_id,
                    "placed_on": p.placed_on.isoformat(),
                    "recalled_on": _iso(p.recalled_on),
                }
                for p in of(PlacementRow)
            ],
        }
    if today is not None:
        data["limitation"] = limitation_status(engine, case_id, today)
    return data


def set_stage(
    engine: Engine,
    case_id: str,
    to_stage: str,
    reason: str,
    username: str,
    *,
    today: date,
    policy: StagePolicy | None = None,
) -> dict[str, Any]:
    """Escalate or de-escalate a case by hand. The stage holds (the daily update leaves it) until
    `release_stage`. Escalation needs the `escalate` permission, de-escalation `de_escalate`."""
    policy = policy or load_policy()
    policy.rank(to_stage)  # an unknown stage is refused with the list of stages
    if not reason.strip():
        raise CollectionRefused("a stage change needs a reason (调整阶段需填写理由)")
    with unit_of_work(engine) as session:
        who = actor(session, username)
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        if to_stage == case.stage:
            raise CollectionRefused(f"case {case_id} is already in {to_stage} (已处于该阶段)")
        up = policy.rank(to_stage) > policy.rank(case.stage)
        permission = "escalate" if up else "de_escalate"
        if not policy.allows(permission, who.role):
            raise NotAllowed(
                f"role {who.role} may not {permission.replace('_', '-')} a case "
                f"({'升级' if up else '降级'}需要权限: {', '.join(policy.permissions.get(permission, ()))})"
            )
        before = case.stage
        case.stage, case.stage_override, case.stage_since = to_stage, to_stage, today
        record_event(
            session,
            "case.stage_changed",
            borrower_id=case.borrower_id,
            payload={
                "case_id": case_id,
                "as_of": today,
                "from_stage": before,
                "to_stage": to_stage,
                "by": who.username,
                "manual": "escalate" if up else "de_escalate",
                "reason": reason,
            },
        )
        return case_summary(case)


def release_stage(engine: Engine, case_id: str, reason: str, username: str, *, today: date) -> None:
    """Clear a manual stage: from the next daily update the policy decides again."""
    policy = load_policy()
    with unit_of_work(engine) as session:
        who = actor(session, username)
        if not policy.allows("de_escalate", who.role):
            raise NotAllowed(f"role {who.role} may not release a manual stage (无权限)")
        case = require_case(session, case_id, lock=True)
        if case.stage_override is None:
            raise CollectionRefused(f"case {case_id} has no manual stage (无人工阶段)")
        case.stage_override = None
        record_event(
            session,
            "case.stage_released",
            borrower_id=case.borrower_id,
            payload={"case_id": case_id, "as_of": today, "by": who.username, "reason": reason},
        )


# ------------------------------------------------------------------ hardship pause


def request_hardship(
    engine: Engine,
    case_id: str,
    days: int,
    reason: str,
    username: str,
    *,
    today: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> ApprovalRow:
    """Ask to pause the case's delinquency for `days` days from `today` (DPD and penalty stop on
    every loan of the case: the foundation's loan pause). Needs approval above the maker's limit;
    the amount weighed is the case's overdue amount."""
    policy = policy or load_policy()
    if not 1 <= days <= 366:
        raise CollectionRefused(f"a hardship pause lasts 1 to 366 days, not {days} (暂停天数无效)")
    if not reason.strip():
        raise CollectionRefused("a hardship pause needs a reason (需填写困难原因)")
    with unit_of_work(engine) as session:
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        payload = {
            "start": today.isoformat(),
            "end": (today + timedelta(days=days - 1)).isoformat(),
            "reason": reason,
        }
        row, follow = approvals.request(
            session, policy, "hardship", case, case.amount_overdue, username, payload, today
        )
    for step in follow:
        step(catalog or load_catalog())
    return row


@approvals.on_approved("hardship")
def _pause_case(session: Session, approval: ApprovalRow, today: date) -> list[FollowUp]:
    from arrears.servicing import pause_loan

    case = require_case(session, approval.case_id)
    start, end = (date.fromisoformat(approval.payload[k]) for k in ("start", "end"))
    case.status, case.paused_until = "paused", end
    record_event(
        session,
        "case.paused",
        borrower_id=case.borrower_id,
        payload={
            "case_id": case.case_id,
            "start": start,
            "end": end,
            "approval_id": approval.approval_id,
        },
    )
    loan_ids = list(
        session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case.case_id))
    )
    engine = session.get_bind()
    reason = f"hardship (case {case.case_id}, approval {approval.approval_id}): {approval.payload['reason']}"
    # The loan pause is the servicing verb (its own unit of work, restating the loan), run once the
    # approval is committed; the COB picks the `loan.paused` events up.
    return [
        (
            lambda catalog, loan_id=loan_id: pause_loan(
                engine, catalog, loan_id, start, end, reason, today=today
            )
        )
        for loan_id in loan_ids
    ]
