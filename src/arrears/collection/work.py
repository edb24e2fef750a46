"""Working a case: the contact log, promises to pay and disputes.

Every outbound contact first asks `arrears.contact.guard.check`; a blocked one is logged as not
sent with the guard's reasons (and an event), never as made. An open dispute blocks outbound
contact on the disputed debt (a loan, or the whole case) before the guard is even asked. The
action must be one the case's stage allows.

Promises: one or several amounts and dates made together (a batch); the daily update judges
each (`update.judge_promises`) and the policy reacts to broken ones.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, or_, select

from arrears.collection.common import CollectionRefused, actor, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.contact import guard
from arrears.loans.money import format_amount, parse_amount
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import CaseLoan, ContactRow, DisputeRow, PromiseRow

OUTCOMES = (
    "right_party_contact",
    "no_answer",
    "wrong_number",
    "promise",
    "refusal",
    "dispute",
    "paid",
    "hardship",
    "deceased",
)
# outcomes in which the collector spoke with the debtor (right-party contact)
RIGHT_PARTY = ("right_party_contact", "promise", "refusal", "dispute", "paid", "hardship")
DIRECTIONS = ("outbound", "inbound")
MAX_PROMISES = 12


def log_contact(
    engine: Engine,
    case_id: str,
    username: str,
    action: str,
    *,
    party: str = "debtor",
    outcome: str | None = None,
    notes: str | None = None,
    direction: str = "outbound",
    loan_id: str | None = None,
    at: datetime | None = None,
    policy: StagePolicy | None = None,
) -> dict[str, Any]:
    """Record a contact on a case. Outbound contacts go through the dispute check and the
    contact guard first; a blocked one is stored with `sent: false` and its reasons."""
    policy = policy or load_policy()
    at = at or datetime.now(UTC)
    if action not in guard.CHANNELS:
        raise CollectionRefused(
            f"action {action!r} is not one of {', '.join(guard.CHANNELS)} (联系方式无效)"
        )
    if party not in guard.PARTY_ROLES:
        raise CollectionRefused(
            f"party {party!r} is not one of {', '.join(guard.PARTY_ROLES)} (联系对象无效)"
        )
    if outcome is not None and outcome not in OUTCOMES:
        raise CollectionRefused(
            f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)} (结果无效)"
        )
    if direction not in DIRECTIONS:
        raise CollectionRefused(
            f"direction {direction!r} is not one of {', '.join(DIRECTIONS)} (方向无效)"
        )
    with unit_of_work(engine) as session:
        who = actor(session, username)
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        if loan_id is not None and not session.get(CaseLoan, (case_id, loan_id)):
            raise CollectionRefused(f"loan {loan_id} is not in case {case_id} (贷款不属于该案件)")
        reasons: list[str] = []
        rule_ids: list[str] = []
        if direction == "outbound":
            if action not in policy.stage(case.stage).actions:
                raise CollectionRefused(
                    f"{action} is not allowed in stage {case.stage} "
                    f"(allowed: {', '.join(policy.stage(case.stage).actions)}) (该阶段不允许此方式)"
                )
            disputes = session.scalars(
                select(DisputeRow.dispute_id).where(
                    DisputeRow.case_id == case_id,
                    DisputeRow.resolved_on.is_(None),
                    *(
                        ()
                        if loan_id is None
                        else (or_(DisputeRow.loan_id.is_(None), DisputeRow.loan_id == loan_id),)
                    ),
                )
            ).all()
            if disputes:
                reasons.append(
                    f"debt under dispute {', '.join(map(str, disputes))} (债务存在争议，暂停催收)"
                )
                rule_ids.append("dispute-open")
            else:
                with guard.bound(session):  # the guard counts the ledger in this transaction
                    decision = guard.check(
                        guard.Party(case.borrower_id, party, case_id, loan_id),
                        action,
                        "collection",
                        at,
                    )
                if not decision.allowed:
                    reasons.extend(decision.reasons or ("blocked by the contact guard (合规拦截)",))
                    rule_ids.extend(decision.rule_ids)
        sent = not reasons
        row = ContactRow(
            case_id=case_id,
            loan_id=loan_id,
            action=action,
            direction=direction,
            party=party,
            outcome=outcome if sent else None,
            notes=notes,
            by_user=who.username,
            at=at,
            sent=sent,
            blocked_reasons="; ".join(reasons) or None,
            rule_ids=",".join(rule_ids) or None,
        )
        session.add(row)
        session.flush()
        if sent and party == "debtor" and outcome in RIGHT_PARTY:
            case.last_rpc_on = at.date()
        record_event(
            session,
            "contact.logged" if sent else "contact.blocked",
            borrower_id=case.borrower_id,
            payload={
                "case_id": case_id,
                "contact_id": row.contact_id,
                "action": action,
                "direction": direction,
                "party": party,
                "outcome": row.outcome,
                "by": who.username,
                "reasons": reasons,
                "rule_ids": rule_ids,
            },
        )
        return {
            "contact_id": row.contact_id,
            "case_id": case_id,
            "sent": sent,
            "blocked_reasons": reasons,
            "rule_ids": rule_ids,
        }


# ------------------------------------------------------------------ promises to pay


def promise_view(p: PromiseRow) -> dict[str, Any]:
    """The keys of `arrears promise list --json`."""
    return {
        "promise_id": p.promise_id,
        "case_id": p.case_id,
        "amount": format_amount(p.amount, p.currency),
        "due_on": p.due_on.isoformat(),
        "state": p.state,
    }


def record_promise(
    engine: Engine,
    case_id: str,
    username: str,
    instalments: list[tuple[str, date]],
    *,
    today: date,
    policy: StagePolicy | None = None,
) -> list[dict[str, Any]]:
    """Record a promise to pay: one or several (amount, date) pairs, amounts as decimal text in
    the case currency, dates from today on and strictly increasing."""
    policy = policy or load_policy()
    if not 1 <= len(instalments) <= MAX_PROMISES:
        raise CollectionRefused(
            f"a promise has 1 to {MAX_PROMISES} amounts and dates, not {len(instalments)} (承诺笔数无效)"
        )
    dates = [d for _, d in instalments]
    if dates[0] < today:
        raise CollectionRefused(f"promise date {dates[0]} is before today {today} (承诺日期已过)")
    if any(b <= a for a, b in pairwise(dates)):
        raise CollectionRefused(
            f"promise dates must increase: {', '.join(map(str, dates))} (日期须递增)"
        )
    with unit_of_work(engine) as session:
        who = actor(session, username)
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        amounts = [parse_amount(text, case.currency) for text, _ in instalments]
        for text, amount in zip((t for t, _ in instalments), amounts, strict=True):
            if amount <= 0:
                raise CollectionRefused(f"promised amount {text!r} must be positive (金额须为正)")
        batch = f"PB-{uuid.uuid4().hex[:12]}"
        rows = [
            PromiseRow(
                promise_id=f"PTP-{uuid.uuid4().hex[:12]}",
                case_id=case_id,
                batch=batch,
                amount=amount,
                currency=case.currency,
                due_on=due_on,
                made_on=today,
                grace_days=policy.promise_grace_days,
                state="pending",
                made_by=who.username,
            )
            for amount, due_on in zip(amounts, dates, strict=True)
        ]
        session.add_all(rows)
        session.flush()
        record_event(
            session,
            "promise.made",
            borrower_id=case.borrower_id,
            payload={
                "case_id": case_id,
                "batch": batch,
                "by": who.username,
                "promises": [promise_view(r) for r in rows],
            },
        )
        return [promise_view(r) for r in rows]


def list_promises(
    engine: Engine, *, state: str | None = None, case_id: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    if state is not None and state not in ("pending", "kept", "broken", "cancelled"):
        raise CollectionRefused(f"state {state!r} is not one of pending, kept, broken (状态无效)")
    with unit_of_work(engine) as session:
        query = select(PromiseRow).order_by(PromiseRow.due_on, PromiseRow.promise_id)
        if state:
            query = query.where(PromiseRow.state == state)
        if case_id:
            query = query.where(PromiseRow.case_id == case_id)
        return [promise_view(p) for p in session.scalars(query.limit(limit))]


# ------------------------------------------------------------------ disputes


def open_dispute(
    engine: Engine,
    case_id: str,
    username: str,
    reason: str,
    *,
    today: date,
    loan_id: str | None = None,
) -> int:
    """Record a dispute (of one loan, or of the whole case): outbound contact on that debt stops
    until it is resolved."""
    if not reason.strip():
        raise CollectionRefused("a dispute needs a reason (需填写争议原因)")
    with unit_of_work(engine) as session:
        who = actor(session, username)
        case = require_case(session, case_id)
        if loan_id is not None and not session.get(CaseLoan, (case_id, loan_id)):
            raise CollectionRefused(f"loan {loan_id} is not in case {case_id} (贷款不属于该案件)")
        row = DisputeRow(
            case_id=case_id, loan_id=loan_id, reason=reason, opened_on=today, opened_by=who.username
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "dispute.opened",
            loan_id=loan_id,
            borrower_id=case.borrower_id,
            payload={
                "case_id": case_id,
                "dispute_id": row.dispute_id,
                "reason": reason,
                "by": who.username,
            },
        )
        return row.dispute_id


def resolve_dispute(
    engine: Engine, dispute_id: int, username: str, resolution: str, *, today: date
) -> None:
    if not resolution.strip():
        raise CollectionRefused("a resolution needs a text (需填写处理结果)")
    with unit_of_work(engine) as session:
        who = actor(session, username)
        row = session.get(DisputeRow, dispute_id)
        if row is None:
            raise CollectionRefused(f"dispute {dispute_id} not found (争议不存在)")
        if row.resolved_on is not None:
            raise CollectionRefused(f"dispute {dispute_id} is already resolved (争议已处理)")
        row.resolved_on, row.resolution = today, resolution
        case = require_case(session, row.case_id)
        record_event(
            session,
            "dispute.resolved",
            loan_id=row.loan_id,
            borrower_id=case.borrower_id,
            payload={
                "case_id": row.case_id,
                "dispute_id": dispute_id,
                "resolution": resolution,
                "by": who.username,
            },
        )
