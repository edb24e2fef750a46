"""The lender's verbs on contact: check (ask the guard), attempt (ask, then record the call only
when allowed — as a dialler would), opt out, flag a borrower, name a contact person.

Each runs in one transaction: the guard's decision row, the attempt and the event land together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from arrears.contact import guard
from arrears.contact.policy import CHANNELS, canonical
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import Borrower, ContactAttempt, ContactFlag, ContactOptOut, ContactPerson

ATTEMPT_OUTCOMES = ("no_answer", "conversation", "refused", "wrong_number")
FLAGS = ("do_not_contact", "deceased", "hardship", "unreachable", "cease_written")
PURPOSES = (
    "reminder",
    "collection",
    "legal_notice",
    "location",
    "cease_confirmation",
    "validation",
)


class ContactRefused(ValueError):
    """A contact request that cannot be acted on (bad channel, unknown borrower…), bilingual."""


def parse_party(borrower_id: str, text: str, loan_id: str | None = None) -> guard.Party:
    """`debtor`, `guarantor`, `third_party` or `contact:<id>` → a guard Party."""
    if text.startswith("contact:") and len(text) > len("contact:"):
        return guard.Party(borrower_id, "contact_person", loan_id=loan_id, contact_id=text[8:])
    if text in ("debtor", "guarantor", "third_party"):
        return guard.Party(borrower_id, text, loan_id=loan_id)
    raise ContactRefused(f"party {text!r} is not debtor, guarantor or contact:<id> (联系对象无效)")


def _channel(channel: str) -> str:
    c = canonical(channel)
    if c not in CHANNELS:
        raise ContactRefused(f"channel {channel!r} is not one of {', '.join(CHANNELS)} (渠道无效)")
    return c


def _require_borrower(session: Any, borrower_id: str) -> Borrower:
    b = session.get(Borrower, borrower_id)
    if b is None:
        raise ContactRefused(f"borrower {borrower_id} not found (客户不存在)")
    return b


def check_contact(
    engine: Engine,
    borrower_id: str,
    channel: str,
    at: datetime,
    *,
    party: str = "debtor",
    purpose: str = "collection",
    loan_id: str | None = None,
) -> guard.Decision:
    """The guard's answer, logged, changing nothing else."""
    channel = _channel(channel)
    who = parse_party(borrower_id, party, loan_id)
    with unit_of_work(engine) as session, guard.bound(session):
        _require_borrower(session, borrower_id)
        return guard.check(who, channel, purpose, at)


def record_attempt(
    engine: Engine,
    borrower_id: str,
    channel: str,
    at: datetime,
    outcome: str,
    *,
    party: str = "debtor",
    purpose: str = "collection",
    loan_id: str | None = None,
    by_user: str | None = None,
) -> dict[str, Any]:
    """Ask the guard; only when allowed record the attempt (and a contact person's refusal)."""
    if outcome not in ATTEMPT_OUTCOMES:
        raise ContactRefused(
            f"outcome {outcome!r} is not one of {', '.join(ATTEMPT_OUTCOMES)} (结果无效)"
        )
    channel = _channel(channel)
    who = parse_party(borrower_id, party, loan_id)
    with unit_of_work(engine) as session, guard.bound(session):
        _require_borrower(session, borrower_id)
        decision = guard.check(who, channel, purpose, at)
        result = decision.to_dict() | {"attempt_id": None}
        if decision.allowed:
            row = ContactAttempt(
                borrower_id=borrower_id,
                party=who.key,
                loan_id=loan_id,
                channel=channel,
                purpose=purpose,
                outcome=outcome,
                at=at,
                decision_id=decision.decision_id,
                by_user=by_user,
            )
            session.add(row)
            session.flush()
            result["attempt_id"] = row.attempt_id
            if outcome == "refused" and who.contact_id:
                person = session.get(ContactPerson, who.contact_id)
                if person is not None and person.refused_at is None:
                    person.refused_at = at
        record_event(
            session,
            "contact.attempted" if decision.allowed else "contact.blocked",
            borrower_id=borrower_id,
            payload={
                "party": who.key,
                "channel": channel,
                "purpose": purpose,
                "outcome": outcome if decision.allowed else None,
                "at": at.isoformat(),
                "decision_id": decision.decision_id,
                "rule_ids": list(decision.rule_ids),
            },
        )
        return result


def opt_out(
    engine: Engine,
    borrower_id: str,
    channel: str,
    *,
    source: str = "cli",
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record an opt-out of `channel` (or `all`); it holds for every later send."""
    channel = "all" if channel == "all" else _channel(channel)
    at = at or datetime.now(UTC)
    with unit_of_work(engine) as session:
        _require_borrower(session, borrower_id)
        if session.get(ContactOptOut, (borrower_id, channel)) is None:
            session.add(
                ContactOptOut(borrower_id=borrower_id, channel=channel, at=at, source=source)
            )
            record_event(
                session,
                "contact.opted_out",
                borrower_id=borrower_id,
                payload={"channel": channel, "source": source, "at": at.isoformat()},
            )
        return {"borrower_id": borrower_id, "channel": channel, "at": at.isoformat()}


def set_flag(
    engine: Engine,
    borrower_id: str,
    flag: str,
    by: str,
    *,
    on: bool = True,
    note: str | None = None,
) -> None:
    if flag not in FLAGS:
        raise ContactRefused(f"flag {flag!r} is not one of {', '.join(FLAGS)} (标记无效)")
    with unit_of_work(engine) as session:
        _require_borrower(session, borrower_id)
        row = session.get(ContactFlag, (borrower_id, flag))
        if on and row is None:
            session.add(
                ContactFlag(
                    borrower_id=borrower_id,
                    flag=flag,
                    set_at=datetime.now(UTC),
                    set_by=by,
                    note=note,
                )
            )
        elif not on and row is not None:
            session.delete(row)
        record_event(
            session,
            "contact.flag_set" if on else "contact.flag_cleared",
            borrower_id=borrower_id,
            payload={"flag": flag, "by": by},
        )


def add_contact_person(
    engine: Engine,
    borrower_id: str,
    contact_id: str,
    name: str,
    *,
    relation: str | None = None,
    phone: str | None = None,
) -> None:
    with unit_of_work(engine) as session:
        _require_borrower(session, borrower_id)
        session.add(
            ContactPerson(
                contact_id=contact_id,
                borrower_id=borrower_id,
                name=name,
                relation=relation,
                phone=phone,
            )
        )
