"""What comes back from the gateway: delivery receipts (the message is `delivered`) and
borrowers' replies, read as `paid`, `stop` (an opt-out of that channel, effective before the
next send), a promised date, or anything else — each landing on the borrower's open case as an
inbound contact for the collector, with an event."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, case, func, or_, select, update

from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import (
    Borrower,
    CollectionCase,
    ContactOptOut,
    ContactRow,
    InboundReply,
    OutboxMessage,
)

STOP = ("stop", "unsubscribe", "td", "退订", "停止", "别再发")
PAID = ("paid", "已还", "已还款", "还了", "已经还")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ZH = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
_SLASH = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")


def classify(text: str, today: date) -> tuple[str, date | None]:
    """(kind, promised date): kind is stop, paid, promise or other."""
    t = text.strip().lower()
    if t in STOP or any(w in t for w in STOP if len(w) > 2):
        return "stop", None
    if any(w in t for w in PAID):
        return "paid", None
    for pattern in (_ISO, _ZH, _SLASH):
        m = pattern.search(t)
        if not m:
            continue
        try:
            if pattern is _ISO:
                d = date(int(m[1]), int(m[2]), int(m[3]))
            elif pattern is _ZH:
                d = date(int(m[1] or today.year), int(m[2]), int(m[3]))
            else:
                d = date(today.year, int(m[1]), int(m[2]))
        except ValueError:
            continue
        if d < today and pattern is not _ISO:
            d = d.replace(year=d.year + 1)  # "1月5日" said in December means next January
        return "promise", d
    return "other", None


def handle_receipt(engine: Engine, payload: dict[str, Any], at: datetime | None = None) -> bool:
    """Mark the message a receipt names as delivered (or failed). One UPDATE statement: a
    receipt racing the worker's own "sent" waits for its row lock and then sees "sent", so the
    two never overwrite each other."""
    at = at or datetime.now(UTC)
    new_status = {"delivered": "delivered", "failed": "failed"}.get(str(payload.get("status")))
    match = or_(
        OutboxMessage.gateway_id == str(payload.get("id")),
        OutboxMessage.message_id == str(payload.get("reference")),
    )
    values: dict[str, Any] = {}
    if new_status != "failed":  # a failed receipt is not a delivery
        values["delivered_at"] = func.coalesce(OutboxMessage.delivered_at, at)
    if new_status is not None:
        values["status"] = case(
            (OutboxMessage.status == "sent", new_status), else_=OutboxMessage.status
        )
    with unit_of_work(engine) as session:
        done = session.execute(update(OutboxMessage).where(match).values(**values))
        return done.rowcount > 0


def handle_reply(
    engine: Engine, payload: dict[str, Any], *, today: date, at: datetime | None = None
) -> dict[str, Any]:
    """Store a reply once (the gateway's id), act on it, land it on the case."""
    at = at or datetime.now(UTC)
    text, sender, channel = (
        str(payload["text"]),
        str(payload["from"]),
        str(payload.get("channel", "sms")),
    )
    kind, promised = classify(text, today)
    with unit_of_work(engine) as session:
        if session.get(InboundReply, str(payload["id"])) is not None:
            return {"reply_id": payload["id"], "duplicate": True}
        borrower = session.scalars(
            select(Borrower).where(or_(Borrower.phone == sender, Borrower.email == sender)).limit(1)
        ).first()
        case = None
        if borrower is not None:
            case = session.scalars(
                select(CollectionCase)
                .where(
                    CollectionCase.borrower_id == borrower.borrower_id,
                    CollectionCase.status != "closed",
                )
                .limit(1)
            ).first()
            if (
                kind == "stop"
                and session.get(ContactOptOut, (borrower.borrower_id, channel)) is None
            ):
                session.add(
                    ContactOptOut(
                        borrower_id=borrower.borrower_id, channel=channel, at=at, source="reply"
                    )
                )
            if case is not None:
                note = f"reply 回复 ({kind}): {text}" + (
                    f" — promised 承诺 {promised}" if promised else ""
                )
                session.add(
                    ContactRow(
                        case_id=case.case_id,
                        action=channel if channel in ("sms", "email") else "sms",
                        direction="inbound",
                        party="debtor",
                        outcome={"paid": "paid", "promise": "promise", "stop": "refusal"}.get(kind),
                        notes=note,
                        by_user="gateway",
                        at=at,
                        sent=True,
                    )
                )
        session.add(
            InboundReply(
                reply_id=str(payload["id"]),
                borrower_id=None if borrower is None else borrower.borrower_id,
                from_address=sender,
                channel=channel,
                text=text,
                kind=kind,
                promised_on=promised,
                case_id=None if case is None else case.case_id,
                received_at=at,
            )
        )
        record_event(
            session,
            "reply.received",
            borrower_id=None if borrower is None else borrower.borrower_id,
            payload={
                "reply_id": payload["id"],
                "kind": kind,
                "promised_on": promised,
                "case_id": None if case is None else case.case_id,
            },
        )
        return {
            "reply_id": payload["id"],
            "kind": kind,
            "promised_on": None if promised is None else promised.isoformat(),
            "borrower_id": None if borrower is None else borrower.borrower_id,
            "case_id": None if case is None else case.case_id,
        }
