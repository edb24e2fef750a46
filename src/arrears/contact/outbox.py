"""The outbox: every message is a row written in the same transaction as the allowed guard
decision that caused it (`enqueue`). No decision, no row; a blocked decision is logged and
nothing is queued. Electronic messages carry an opt-out line (rule C7) appended here, so no
template can forget it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from arrears.contact import guard
from arrears.contact.policy import canonical
from arrears.store.events import record_event
from arrears.store.tables import Borrower, ContactPerson, OutboxMessage

ELECTRONIC = ("sms", "email", "push")
OPT_OUT_LINE = {"zh": "回复TD退订", "en": "Reply STOP to opt out"}


@dataclass(frozen=True)
class Queued:
    message_id: str | None
    decision: guard.Decision
    not_before: datetime | None = None  # when it will leave (the window's opening if deferred)


def address(session: Session, borrower: Borrower, party: guard.Party, channel: str) -> str | None:
    """Where a message for `party` on `channel` goes (None: no address on file)."""
    if party.role == "contact_person":
        person = session.get(ContactPerson, party.contact_id) if party.contact_id else None
        if person is None:
            return None
        if channel == "letter":
            return person.name
        # a contact person has a phone on file, nothing else: no email, no device
        return person.phone if channel in ("sms", "voice", "robot") else None
    if channel in ("sms", "voice", "robot"):
        return borrower.phone
    if channel == "email":
        return borrower.email
    if channel == "push":
        return f"device:{borrower.borrower_id}"
    return borrower.name  # a letter: the name (the address book lives with the lender's mailer)


def with_opt_out(channel: str, body: str, language: str) -> str:
    if channel not in ELECTRONIC:
        return body
    line = OPT_OUT_LINE.get(language, OPT_OUT_LINE["en"])
    return body if line in body else f"{body} {line}" if channel != "email" else f"{body}\n\n{line}"


def enqueue(
    session: Session,
    party: guard.Party,
    channel: str,
    purpose: str,
    body: str,
    at: datetime,
    *,
    subject: str | None = None,
    language: str = "zh",
    template: str | None = None,
    template_version: int | None = None,
    reminder_key: str | None = None,
    defer_within: timedelta = timedelta(0),
) -> Queued:
    """Ask the guard for a send at `at`; when allowed, queue the message in this transaction.
    With `defer_within`, a contact blocked only for a while (a night, a full cap today) is asked
    again at the guard's `next_allowed_at` if that is within the limit, and queued for then —
    a reminder planned at night goes out when the window opens instead of being dropped."""
    channel = canonical(channel)
    borrower = session.get(Borrower, party.borrower_id)
    with guard.bound(session):
        decision = guard.check(party, channel, purpose, at)
        when = at
        if (
            not decision.allowed
            and decision.next_allowed_at is not None
            and decision.next_allowed_at - at <= defer_within
        ):
            when = decision.next_allowed_at
            decision = guard.check(party, channel, purpose, when)
    if not decision.allowed or borrower is None:
        return Queued(None, decision)
    to = address(session, borrower, party, channel)
    if not to:
        return Queued(
            None,
            guard.Decision(
                False,
                (f"no {channel} address on file (无联系地址)",),
                ("NO-ADDRESS",),
                None,
                decision.decision_id,
            ),
        )
    message_id = f"M-{uuid.uuid4().hex[:20]}"
    row = OutboxMessage(
        message_id=message_id,
        idempotency_key=f"arrears-{uuid.uuid4().hex}",
        reminder_key=reminder_key,
        borrower_id=party.borrower_id,
        party=party.key,
        loan_id=party.loan_id,
        case_id=party.case_id,
        channel=channel,
        purpose=purpose,
        template=template,
        template_version=template_version,
        language=language,
        to_address=to,
        subject=subject,
        body=with_opt_out(channel, body, language),
        decision_id=decision.decision_id,
        status="pending",
        not_before=when,
        tries=0,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        "message.queued",
        borrower_id=party.borrower_id,
        loan_id=party.loan_id,
        payload={
            "message_id": message_id,
            "channel": channel,
            "purpose": purpose,
            "decision_id": decision.decision_id,
            "not_before": when.isoformat(),
        },
    )
    return Queued(message_id, decision, when)


def message_view(m: OutboxMessage) -> dict[str, Any]:
    return {
        "message_id": m.message_id,
        "borrower_id": m.borrower_id,
        "channel": m.channel,
        "purpose": m.purpose,
        "status": m.status,
        "not_before": m.not_before.isoformat(),
        "tries": m.tries,
        "decision_id": m.decision_id,
        "gateway_id": m.gateway_id,
        "last_error": m.last_error,
    }
