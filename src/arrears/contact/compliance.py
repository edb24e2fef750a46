"""The real contact guard: facts and history from the database, the pure rules (`rules.decide`),
and a decision-log row for every answer — all in the caller's transaction (`guard.bound`).

The history is the shared ledger: `contact_attempts` (dialler, robot and sent messages, from the
lender and every agency), the collection module's sent outbound contacts (`case_contacts`), and
outbox messages already planned (at the time they are due to leave), so planning five reminders
at once cannot overrun a cap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from arrears.contact import guard
from arrears.contact.policy import ContactPolicy, applicable, canonical, load_policies
from arrears.contact.rules import Attempt, Facts, decide
from arrears.store.tables import (
    Borrower,
    CollectionCase,
    ContactAttempt,
    ContactDecision,
    ContactFlag,
    ContactOptOut,
    ContactPerson,
    ContactRow,
    DisputeRow,
    OutboxMessage,
)

HISTORY_DAYS = 31  # longer than any rolling window a policy may set (≤ 30 + a day)
_COLLECTION_OUTCOMES = {"refusal": "refused", "right_party_contact": "conversation"}


class GuardNotBound(RuntimeError):
    """The guard was asked without a database session: it cannot count, so it will not answer."""


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def load_facts(session: Session, party: guard.Party) -> Facts | None:
    b = session.get(Borrower, party.borrower_id)
    if b is None:
        return None
    flags = frozenset(
        session.scalars(select(ContactFlag.flag).where(ContactFlag.borrower_id == b.borrower_id))
    )
    opt_outs = frozenset(
        session.scalars(
            select(ContactOptOut.channel).where(ContactOptOut.borrower_id == b.borrower_id)
        )
    )
    case = session.execute(
        select(CollectionCase.case_id, CollectionCase.stage, CollectionCase.stage_override)
        .where(CollectionCase.borrower_id == b.borrower_id, CollectionCase.status != "closed")
        .limit(1)
    ).first()
    disputed = False
    if case is not None:
        q = select(DisputeRow.dispute_id).where(
            DisputeRow.case_id == case.case_id, DisputeRow.resolved_on.is_(None)
        )
        if party.loan_id is not None:
            q = q.where(or_(DisputeRow.loan_id.is_(None), DisputeRow.loan_id == party.loan_id))
        disputed = session.scalar(q.limit(1)) is not None
    refused = False
    if party.role == "contact_person" and party.contact_id:
        person = session.get(ContactPerson, party.contact_id)
        refused = person is not None and person.refused_at is not None
    return Facts(
        borrower_id=b.borrower_id,
        country=b.country,
        region=b.region,
        timezones=(_zone(b.timezone or "Asia/Shanghai"),),
        flags=flags,
        opt_outs=frozenset(canonical(c) if c != "all" else c for c in opt_outs),
        disputed=disputed,
        stage=None if case is None else (case.stage_override or case.stage),
        contact_refused=refused,
    )


def load_history(
    session: Session, borrower_id: str, at: datetime, exclude_message: str | None = None
) -> list[Attempt]:
    since = at - timedelta(days=HISTORY_DAYS)
    until = at + timedelta(days=2)  # planned messages later today count for today's caps
    out = [
        Attempt(r.at, canonical(r.channel), r.party, r.loan_id, r.outcome)
        for r in session.execute(
            select(
                ContactAttempt.at,
                ContactAttempt.channel,
                ContactAttempt.party,
                ContactAttempt.loan_id,
                ContactAttempt.outcome,
            ).where(
                ContactAttempt.borrower_id == borrower_id,
                ContactAttempt.at > since,
                ContactAttempt.at <= until,
                # a begun send asked again (worker.RESEND_GRACE) must not count against itself
                or_(
                    ContactAttempt.message_id.is_(None),
                    ContactAttempt.message_id != (exclude_message or ""),
                ),
            )
        )
    ]
    for r in session.execute(
        select(
            ContactRow.at,
            ContactRow.action,
            ContactRow.party,
            ContactRow.loan_id,
            ContactRow.outcome,
        )
        .join(CollectionCase, CollectionCase.case_id == ContactRow.case_id)
        .where(
            CollectionCase.borrower_id == borrower_id,
            ContactRow.sent.is_(True),
            ContactRow.direction == "outbound",
            ContactRow.at > since,
            ContactRow.at <= until,
        )
    ):
        party = "contact:?" if r.party == "contact_person" else r.party
        outcome = _COLLECTION_OUTCOMES.get(r.outcome or "", r.outcome)
        out.append(Attempt(r.at, canonical(r.action), party, r.loan_id, outcome))
    q = select(
        OutboxMessage.not_before,
        OutboxMessage.channel,
        OutboxMessage.party,
        OutboxMessage.loan_id,
    ).where(
        OutboxMessage.borrower_id == borrower_id,
        OutboxMessage.status.in_(("pending", "sending")),
        OutboxMessage.not_before > since,
        OutboxMessage.not_before <= until,
    )
    if exclude_message is not None:
        q = q.where(OutboxMessage.message_id != exclude_message)
    out.extend(
        Attempt(r.not_before, canonical(r.channel), r.party, r.loan_id) for r in session.execute(q)
    )
    return out


class ComplianceGuard:
    """Answers `guard.check` with the rules of the borrower's jurisdictions."""

    def __init__(self, policies: tuple[ContactPolicy, ...] | None = None) -> None:
        self.policies = policies if policies is not None else load_policies()

    def check(self, party: guard.Party, channel: str, purpose: str, at: datetime) -> guard.Decision:
        if at.tzinfo is None:
            raise ValueError("the contact time must be timezone-aware")
        bound = guard.bound_session()
        if bound is None:
            raise GuardNotBound(
                "the contact guard needs the caller's database session: "
                "`with guard.bound(session): guard.check(...)` (合规检查需要数据库会话)"
            )
        session, options = bound
        facts = load_facts(session, party)
        if facts is None:
            decision = guard.Decision(
                False, (f"borrower {party.borrower_id} not found (客户不存在)",), ("ALL-UNKNOWN",)
            )
            jurisdictions: tuple[str, ...] = ()
        else:
            policies = applicable(self.policies, facts.country, facts.region)
            jurisdictions = tuple(p.jurisdiction for p in policies)
            history = load_history(session, facts.borrower_id, at, options.get("exclude_message"))
            decision = decide(
                policies, facts, history, party.key, party.loan_id, channel, purpose, at
            )
        row = ContactDecision(
            borrower_id=party.borrower_id,
            party=party.key,
            loan_id=party.loan_id,
            channel=canonical(channel),
            purpose=purpose,
            at=at,
            allowed=decision.allowed,
            rule_ids=",".join(decision.rule_ids),
            reasons="; ".join(decision.reasons),
            next_allowed_at=decision.next_allowed_at,
            jurisdictions=",".join(jurisdictions),
            decided_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        nxt = decision.next_allowed_at
        if nxt is not None and facts is not None:
            nxt = nxt.astimezone(facts.timezones[0])  # said in the borrower's own clock
        return guard.Decision(
            decision.allowed, decision.reasons, decision.rule_ids, nxt, row.decision_id
        )
