"""Maker-checker approvals: a hardship pause, a repayment plan, a settlement or a write-off above
the maker's role limit waits for a second person; the checker is never the maker and must have a
limit that covers the amount. Within the maker's own limit the request is approved at once (the
maker's authority, recorded as such).

What an approval does when granted is registered per kind by the module that owns it
(`on_approved(kind)`), so this module knows nothing of plans or write-offs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arrears.catalog import Catalog, load_catalog
from arrears.collection.common import CollectionRefused, NotAllowed, actor, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import ApprovalRow, CollectionCase

FollowUp = Callable[[Catalog], None]
Apply = Callable[[Session, ApprovalRow, date], list[FollowUp]]
Reject = Callable[[Session, ApprovalRow, date], None]
_APPLY: dict[str, Apply] = {}
_REJECT: dict[str, Reject] = {}


def on_approved(kind: str) -> Callable[[Apply], Apply]:
    """Register what granting an approval of `kind` does, in the approval's transaction. It may
    return follow-ups to run after the commit (e.g. a servicing verb with its own transaction)."""

    def register(fn: Apply) -> Apply:
        _APPLY[kind] = fn
        return fn

    return register


def on_rejected(kind: str) -> Callable[[Reject], Reject]:
    """Register what a rejection of `kind` does (in the decision's transaction)."""

    def register(fn: Reject) -> Reject:
        _REJECT[kind] = fn
        return fn

    return register


def _load_handlers() -> None:
    """Import the modules that register what each kind does (a fresh process may not have)."""
    from arrears.collection import arrangements, cases, writeoff  # noqa: F401


def request(
    session: Session,
    policy: StagePolicy,
    kind: str,
    case: CollectionCase,
    amount: int,
    maker: str,
    payload: dict[str, Any],
    today: date,
) -> tuple[ApprovalRow, list[FollowUp]]:
    """Open an approval for `kind` on `case`; approved at once when the maker's limit covers
    `amount`. Returns the row and any follow-ups to run after commit."""
    _load_handlers()
    who = actor(session, maker)
    row = ApprovalRow(
        kind=kind,
        case_id=case.case_id,
        amount=amount,
        payload=payload,
        state="pending",
        maker=who.username,
        made_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "approval.requested",
        borrower_id=case.borrower_id,
        payload={
            "approval_id": row.approval_id,
            "kind": kind,
            "case_id": case.case_id,
            "amount": format_amount(amount, case.currency),
            "maker": who.username,
        },
    )
    limit = policy.approval_limit(kind, who.role, case.currency)
    if limit is not None and amount <= limit:
        return row, _grant(session, row, case, None, "within the maker's limit", today)
    return row, []


def _grant(
    session: Session,
    row: ApprovalRow,
    case: CollectionCase,
    checker: str | None,
    reason: str,
    today: date,
) -> list[FollowUp]:
    row.state, row.checker, row.reason = "approved", checker, reason
    row.decided_at = datetime.now(UTC)
    record_event(
        session,
        "approval.approved",
        borrower_id=case.borrower_id,
        payload={
            "approval_id": row.approval_id,
            "kind": row.kind,
            "case_id": case.case_id,
            "maker": row.maker,
            "checker": checker,
            "reason": reason,
        },
    )
    return _APPLY[row.kind](session, row, today)


def decide(
    engine: Engine,
    approval_id: int,
    checker: str,
    approve: bool,
    reason: str,
    *,
    today: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> ApprovalRow:
    """The checker's decision. Refused when the checker is the maker, or their role's limit for
    this kind does not cover the amount, or the request is no longer pending."""
    policy = policy or load_policy()
    _load_handlers()
    if not reason.strip():
        raise CollectionRefused("a decision needs a reason (审批需填写理由)")
    with unit_of_work(engine) as session:
        row = session.scalars(
            select(ApprovalRow).where(ApprovalRow.approval_id == approval_id).with_for_update()
        ).first()
        if row is None:
            raise CollectionRefused(f"approval {approval_id} not found (审批不存在)")
        if row.state != "pending":
            raise CollectionRefused(
                f"approval {approval_id} is already {row.state} (该审批已{row.state})"
            )
        who = actor(session, checker)
        if who.username == row.maker:
            raise NotAllowed(
                f"{checker} made request {approval_id} and cannot also approve it "
                "(经办人不能审批自己的申请)"
            )
        case = require_case(session, row.case_id)
        limit = policy.approval_limit(row.kind, who.role, case.currency)
        if limit is None or (approve and row.amount > limit):
            raise NotAllowed(
                f"role {who.role} may not approve a {row.kind} of "
                f"{format_amount(row.amount, case.currency)} (超出审批权限)"
            )
        if approve:
            follow = _grant(session, row, case, who.username, reason, today)
        else:
            row.state, row.checker, row.reason = "rejected", who.username, reason
            row.decided_at = datetime.now(UTC)
            record_event(
                session,
                "approval.rejected",
                borrower_id=case.borrower_id,
                payload={
                    "approval_id": row.approval_id,
                    "kind": row.kind,
                    "case_id": case.case_id,
                    "checker": who.username,
                    "reason": reason,
                },
            )
            if row.kind in _REJECT:
                _REJECT[row.kind](session, row, today)
            follow = []
    for step in follow:
        step(catalog or load_catalog())
    return row


def list_approvals(engine: Engine, state: str | None = "pending") -> list[dict[str, Any]]:
    """Approvals (oldest first), amounts as decimal text in the case currency."""
    with unit_of_work(engine) as session:
        query = (
            select(ApprovalRow, CollectionCase.currency)
            .join(CollectionCase, CollectionCase.case_id == ApprovalRow.case_id)
            .order_by(ApprovalRow.approval_id)
        )
        if state:
            query = query.where(ApprovalRow.state == state)
        return [
            {
                "approval_id": r.approval_id,
                "kind": r.kind,
                "case_id": r.case_id,
                "amount": format_amount(r.amount, currency),
                "state": r.state,
                "maker": r.maker,
                "checker": r.checker,
                "reason": r.reason,
            }
            for r, currency in session.execute(query)
        ]
