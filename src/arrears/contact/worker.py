"""`arrears worker`: takes due messages from the outbox and sends them.

Each message goes through three steps, each its own transaction or call:

1. **claim** — `pending` (or `sending` / `dispatching` whose lease ran out) rows due by now are
   taken with a lease (`not_before` = now + lease); on PostgreSQL `FOR UPDATE SKIP LOCKED` lets
   several workers share the outbox without waiting on each other, and the conditional UPDATE
   keeps two claimants apart on SQLite too;
2. **decide, then send** — for a `sending` row the guard is asked again at the moment of sending
   (an opt-out or a dispute that arrived after queuing wins; a closed window moves the message to
   its opening). When it allows, the row becomes `dispatching` and the attempt goes into the
   contact ledger with that decision, in the same transaction: from here on the send has begun.
   Then the adapter sends with the message's idempotency key;
3. **mark** — `sent` (or `delivered`).

A worker killed between 2 and 3 leaves a `dispatching` row; when its lease runs out another
worker sends again with the *same* key and **without a fresh guard decision**: the decision that
let the message out was made and logged, the attempt is already counted, and a gateway that
honours the key answers with the first result instead of sending twice. Asking again would be
wrong — after a window closed or an opt-out arrived it would mark `blocked` a message the gateway
already took. That holds for `RESEND_GRACE` after the decision (longer than the lease plus every
backoff); a row found later than that (workers down for a long time) is asked again, since a
message that never reached the gateway must not leave hours after its decision — allowed, it is
re-sent with the same key; refused for a while, it waits; refused for good, it ends `failed`
(not `blocked`: whether the first send arrived is unknown, and the reason says so).
A worker killed before the decision just lets the lease run out. Nothing is lost and nothing
is sent twice.

The begun-send rule is for sends that *may* have arrived. An adapter that knows nothing went out
(connection refused, no SMTP greeting, the letter not in the drop folder) raises `NotSentError`:
the attempt is withdrawn from the ledger and the row goes back to `pending`, so its retry is a
new send that asks the guard again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, literal, select, update

from arrears.contact import guard
from arrears.contact.channels.base import (
    Adapter,
    NotSentError,
    Outgoing,
    PermanentSendError,
    Sent,
    TransientSendError,
)
from arrears.contact.compliance import _zone
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import Borrower, ContactAttempt, OutboxMessage

CRASH_ENV = (
    "ARREARS_WORKER_CRASH_AT"  # fault injection for tests: after_claim|after_send|after_mark
)
MAX_TRIES = 5
# how long the decision that began a send covers re-sends of it with the same key (a crash's
# lease, then up to MAX_TRIES backoffs: 60 s + 30·(1+2+4+8) s at the defaults, well inside)
RESEND_GRACE = timedelta(minutes=15)


@dataclass
class WorkerStats:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    resumed: int = 0  # begun sends re-sent with their key under the decision that began them
    seconds: float = 0.0
    by_channel: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _crash(step: str) -> None:
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)  # a real kill, at exactly this step


def _party(row: OutboxMessage) -> guard.Party:
    if row.party.startswith("contact:"):
        return guard.Party(
            row.borrower_id, "contact_person", row.case_id, row.loan_id, row.party[8:]
        )
    return guard.Party(row.borrower_id, row.party, row.case_id, row.loan_id)


def claim(
    engine: Engine,
    now: datetime,
    channels: tuple[str, ...],
    *,
    limit: int = 50,
    lease: timedelta = timedelta(seconds=60),
) -> list[str]:
    """Take up to `limit` due messages; returns their ids."""
    taken: list[str] = []
    with unit_of_work(engine) as session:
        q = (
            select(OutboxMessage.message_id, OutboxMessage.status, OutboxMessage.not_before)
            .where(
                OutboxMessage.status.in_(("pending", "sending", "dispatching")),
                OutboxMessage.not_before <= now,
                OutboxMessage.channel.in_(channels),
            )
            .order_by(OutboxMessage.not_before, OutboxMessage.message_id)
            .limit(limit)
        )
        if engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        for message_id, status, not_before in session.execute(q).all():
            done = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.message_id == message_id,
                    OutboxMessage.status == status,
                    OutboxMessage.not_before == not_before,
                )
                .values(
                    # a begun send stays begun: its retry must not face a fresh decision
                    status="dispatching" if status == "dispatching" else "sending",
                    not_before=now + lease,
                    tries=OutboxMessage.tries + 1,
                )
            )
            if done.rowcount == 1:
                taken.append(message_id)
    return taken


def _settle(engine: Engine, message_id: str, **values: Any) -> None:
    with unit_of_work(engine) as session:
        row = session.get(OutboxMessage, message_id)
        for k, v in values.items():
            setattr(row, k, v)


def _stale_reminder(session: Any, row: OutboxMessage, now: datetime) -> bool:
    """A reminder planned for a day is useless (or wrong: "due today" after the due date) once
    the day after it has passed in the borrower's time; it expires instead of going out late."""
    if not row.reminder_key or "@" not in row.reminder_key:
        return False
    planned = date.fromisoformat(row.reminder_key.rsplit("@", 1)[1])
    borrower = session.get(Borrower, row.borrower_id)
    zone = _zone(borrower.timezone if borrower and borrower.timezone else "Asia/Shanghai")
    return now.astimezone(zone).date() > planned + timedelta(days=1)


def _outgoing(session: Any, row: OutboxMessage, now: datetime) -> Outgoing:
    borrower = session.get(Borrower, row.borrower_id)
    zone = _zone(borrower.timezone if borrower and borrower.timezone else "Asia/Shanghai")
    return Outgoing(
        row.message_id,
        row.idempotency_key,
        row.channel,
        row.to_address,
        row.body,
        row.subject,
        row.language,
        sent_on=now.astimezone(zone).date(),  # a letter is dated in the borrower's own calendar
        reference=row.loan_id or row.case_id,
    )


def _refused(
    session: Any, row: OutboxMessage, decision: guard.Decision, stats: WorkerStats
) -> None:
    if decision.next_allowed_at is not None:
        row.not_before = decision.next_allowed_at
        row.status = "dispatching" if row.status == "dispatching" else "pending"
        stats.deferred += 1
        kind = "message.deferred"
    else:
        row.status, row.last_error = "blocked", "; ".join(decision.reasons)
        stats.blocked += 1
        kind = "message.blocked"
    record_event(
        session,
        kind,
        borrower_id=row.borrower_id,
        payload={
            "message_id": row.message_id,
            "decision_id": decision.decision_id,
            "rule_ids": list(decision.rule_ids),
        },
    )


def _begin(session: Any, row: OutboxMessage, decision_id: int, now: datetime) -> None:
    """The send begins: `dispatching`, and the attempt in the contact ledger under the decision
    that allowed it — in the decision's own transaction, so the guard counts it from now on and
    a retry after a crash finds the decision it was made under."""
    row.status = "dispatching"
    session.add(
        ContactAttempt(
            borrower_id=row.borrower_id,
            party=row.party,
            loan_id=row.loan_id,
            channel=row.channel,
            purpose=row.purpose,
            outcome=None,
            at=now,
            decision_id=decision_id,
            by_user="worker",
            message_id=row.message_id,
        )
    )


def _resume(
    session: Any, row: OutboxMessage, now: datetime, stats: WorkerStats, grace: timedelta
) -> tuple | None:
    """A begun send found again (a crash, or a transient error): re-send with the same key under
    the decision that began it — or, past `grace`, only if the guard allows it now."""
    attempt = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.message_id == row.message_id)
        .order_by(ContactAttempt.attempt_id.desc())
        .limit(1)
    ).first()
    if attempt is not None and now - attempt.at <= grace:
        stats.resumed += 1
        return _outgoing(session, row, now), row.tries, attempt.decision_id
    with guard.bound(session, exclude_message=row.message_id):
        decision = guard.check(_party(row), row.channel, row.purpose, now)
    if decision.allowed:
        if attempt is None:
            _begin(session, row, decision.decision_id, now)
        else:  # the contact, if it happens, happens now and under this decision
            attempt.at, attempt.decision_id = now, decision.decision_id
        stats.resumed += 1
        return _outgoing(session, row, now), row.tries, decision.decision_id
    if decision.next_allowed_at is not None:
        _refused(session, row, decision, stats)
        return None
    began = "?" if attempt is None else attempt.at.isoformat()
    row.status = "failed"
    row.last_error = (
        f"send began {began} but was never confirmed, and the guard now refuses it "
        f"({'; '.join(decision.reasons)}): not re-sent (发送结果未知，合规检查拒绝重发)"
    )
    stats.failed += 1
    record_event(
        session,
        "message.failed",
        borrower_id=row.borrower_id,
        payload={
            "message_id": row.message_id,
            "decision_id": decision.decision_id,
            "rule_ids": list(decision.rule_ids),
        },
    )
    return None


def _check(
    session: Any,
    message_id: str,
    now: datetime,
    stats: WorkerStats,
    grace: timedelta = RESEND_GRACE,
) -> tuple | None:
    """Step 2a: what to send and under which decision, or None (expired, deferred to the guard's
    next allowed time, or blocked for good). A `sending` row asks the guard at the moment of
    sending and, allowed, begins; a `dispatching` row has begun and resumes (`_resume`)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status not in ("sending", "dispatching"):
        return None
    if row.status == "dispatching":
        return _resume(session, row, now, stats, grace)
    if _stale_reminder(session, row, now):
        row.status, row.last_error = "expired", "reminder day passed (提醒已过期)"
        stats.expired += 1
        record_event(
            session,
            "message.expired",
            borrower_id=row.borrower_id,
            payload={"message_id": message_id, "reminder_key": row.reminder_key},
        )
        return None
    with guard.bound(session, exclude_message=message_id):
        decision = guard.check(_party(row), row.channel, row.purpose, now)
    if not decision.allowed:
        _refused(session, row, decision, stats)
        return None
    _begin(session, row, decision.decision_id, now)
    return _outgoing(session, row, now), row.tries, decision.decision_id


def _mark(session: Any, message_id: str, sent: Sent, decision_id: int, now: datetime) -> bool:
    """Step 3: sent (or delivered, if a receipt beat us); the attempt is in the ledger since the
    send began."""
    # One conditional UPDATE decides sent or delivered from the row as it is when written: a
    # receipt can land between a read and a write (SQLite has no row lock for FOR UPDATE), and
    # a status computed from the read would overwrite the delivery the receipt recorded.
    outcome = (
        literal("delivered")
        if sent.delivered
        else case((OutboxMessage.delivered_at.is_not(None), "delivered"), else_="sent")
    )
    row = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.message_id == message_id, OutboxMessage.status == "dispatching")
        .values(status=outcome, gateway_id=sent.gateway_id, sent_at=now, last_error=None)
        .returning(OutboxMessage.borrower_id, OutboxMessage.loan_id, OutboxMessage.channel)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    record_event(
        session,
        "message.sent",
        borrower_id=row.borrower_id,
        loan_id=row.loan_id,
        payload={
            "message_id": message_id,
            "channel": row.channel,
            "gateway_id": sent.gateway_id,
            "decision_id": decision_id,
        },
    )
    return True


def _retry_at(now: datetime, backoff: float, tries: int) -> datetime:
    """When a failed send is tried again: `backoff` seconds, doubling with each try."""
    return now + timedelta(seconds=backoff * 2 ** (tries - 1))


def _not_sent(
    engine: Engine,
    message_id: str,
    decision_id: int,
    exc: NotSentError,
    tries: int,
    now: datetime,
    backoff: float,
    stats: WorkerStats,
) -> None:
    """Nothing went out (`NotSentError`): the attempt `_begin` wrote is withdrawn, so the
    guard does not count a contact that never happened, and the row goes back to `pending`, so
    the retry asks the guard again — an opt-out or a closed window since then wins."""
    with unit_of_work(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None:
            return
        session.execute(
            delete(ContactAttempt).where(
                ContactAttempt.message_id == message_id,
                ContactAttempt.decision_id == decision_id,
                ContactAttempt.outcome.is_(None),
            )
        )
        row.last_error = str(exc)
        if tries >= MAX_TRIES:
            row.status = "failed"
            stats.failed += 1
        else:
            row.status = "pending"
            row.not_before = _retry_at(now, backoff, tries)
            stats.retried += 1


def process(
    engine: Engine,
    message_ids: list[str],
    adapters: dict[str, Adapter],
    now: datetime,
    stats: WorkerStats,
    *,
    backoff: float = 30.0,
    grace: timedelta = RESEND_GRACE,
) -> None:
    """Re-check a claimed batch in one transaction, send each, mark the sent ones in one
    transaction. Messages of one borrower in a batch see each other: a `sending` row counts in
    the guard's history, so a batch cannot overrun a cap."""
    with unit_of_work(engine) as session:
        ready = [(m, _check(session, m, now, stats, grace)) for m in message_ids]
    _crash("after_claim")
    done: list[tuple[str, Sent, int, str]] = []
    for message_id, item in ready:
        if item is None:
            continue
        out, tries, decision_id = item
        try:
            sent = adapters[out.channel].send(out)
        except NotSentError as exc:
            _not_sent(engine, message_id, decision_id, exc, tries, now, backoff, stats)
            continue
        except TransientSendError as exc:
            if tries >= MAX_TRIES:
                _settle(engine, message_id, status="failed", last_error=str(exc))
                stats.failed += 1
            else:
                # still `dispatching`: the gateway may have taken it before failing (a 5xx after
                # accepting), so the retry re-sends with the same key under the same decision
                _settle(
                    engine,
                    message_id,
                    last_error=str(exc),
                    not_before=_retry_at(now, backoff, tries),
                )
                stats.retried += 1
            continue
        except PermanentSendError as exc:
            _settle(engine, message_id, status="failed", last_error=str(exc))
            stats.failed += 1
            continue
        done.append((message_id, sent, decision_id, out.channel))
        _crash("after_send")
    with unit_of_work(engine) as session:
        for message_id, sent, decision_id, channel in done:
            if _mark(session, message_id, sent, decision_id, now):
                stats.sent += 1
                stats.by_channel[channel] = stats.by_channel.get(channel, 0) + 1
    if done:
        _crash("after_mark")


def run(
    engine: Engine,
    adapters: dict[str, Adapter],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    once: bool = False,
    batch: int = 50,
    lease: timedelta = timedelta(seconds=60),
    idle_sleep: float = 1.0,
    backoff: float = 30.0,
    grace: timedelta = RESEND_GRACE,
    should_stop: Callable[[], bool] = lambda: False,
) -> WorkerStats:
    """Send due messages until stopped (or, with `once`, until none is due)."""
    stats = WorkerStats()
    started = time.perf_counter()
    channels = tuple(adapters)
    while not should_stop():
        now = clock()
        ids = claim(engine, now, channels, limit=batch, lease=lease)
        stats.claimed += len(ids)
        if ids:
            process(engine, ids, adapters, now, stats, backoff=backoff, grace=grace)
        if not ids:
            if once:
                break
            time.sleep(idle_sleep)
    stats.seconds = time.perf_counter() - started
    return stats
