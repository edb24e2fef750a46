"""`arrears worker`: takes due messages from the outbox and sends them.

Each message goes through three steps, each its own transaction or call:

1. **claim** — `pending` (or `sending` whose lease ran out) rows due by now become `sending`
   with a lease (`not_before` = now + lease); on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several
   workers share the outbox without waiting on each other, and the conditional UPDATE keeps two
   claimants apart on SQLite too;
2. **re-check and send** — the guard is asked again at the moment of sending (an opt-out or a
   dispute that arrived after queuing wins; a closed window moves the message to its opening),
   then the adapter sends with the message's idempotency key;
3. **mark** — `sent`, with the attempt written to the contact ledger.

A worker killed between 2 and 3 leaves a `sending` row; when its lease runs out another worker
sends again with the *same* key, and a gateway that honours the key answers with the first
result instead of sending twice. A worker killed before 2 just lets the lease run out. Nothing
is lost and nothing is sent twice.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from arrears.contact import guard
from arrears.contact.channels.base import (
    Adapter,
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


@dataclass
class WorkerStats:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
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
                OutboxMessage.status.in_(("pending", "sending")),
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
                .values(status="sending", not_before=now + lease, tries=OutboxMessage.tries + 1)
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


def _check(session: Any, message_id: str, now: datetime, stats: WorkerStats) -> tuple | None:
    """Step 2a: ask the guard again at the moment of sending. Returns what to send, or None
    (deferred to the guard's next allowed time, or blocked for good)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.status != "sending":
        return None
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
        if decision.next_allowed_at is not None:
            row.status, row.not_before = "pending", decision.next_allowed_at
            stats.deferred += 1
        else:
            row.status, row.last_error = "blocked", "; ".join(decision.reasons)
            stats.blocked += 1
        record_event(
            session,
            "message.deferred" if row.status == "pending" else "message.blocked",
            borrower_id=row.borrower_id,
            payload={
                "message_id": message_id,
                "decision_id": decision.decision_id,
                "rule_ids": list(decision.rule_ids),
            },
        )
        return None
    out = Outgoing(
        message_id,
        row.idempotency_key,
        row.channel,
        row.to_address,
        row.body,
        row.subject,
        row.language,
    )
    return out, row.tries, decision.decision_id


def _mark(session: Any, message_id: str, sent: Sent, decision_id: int, now: datetime) -> bool:
    """Step 3: sent (or delivered, if a receipt beat us), with the attempt in the ledger."""
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.message_id == message_id).with_for_update()
    ).one()
    if row.status != "sending":
        return False
    row.status = "delivered" if (sent.delivered or row.delivered_at is not None) else "sent"
    row.gateway_id, row.sent_at, row.last_error = sent.gateway_id, now, None
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
            message_id=message_id,
        )
    )
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


def process(
    engine: Engine,
    message_ids: list[str],
    adapters: dict[str, Adapter],
    now: datetime,
    stats: WorkerStats,
    *,
    backoff: float = 30.0,
) -> None:
    """Re-check a claimed batch in one transaction, send each, mark the sent ones in one
    transaction. Messages of one borrower in a batch see each other: a `sending` row counts in
    the guard's history, so a batch cannot overrun a cap."""
    with unit_of_work(engine) as session:
        ready = [(m, _check(session, m, now, stats)) for m in message_ids]
    _crash("after_claim")
    done: list[tuple[str, Sent, int, str]] = []
    for message_id, item in ready:
        if item is None:
            continue
        out, tries, decision_id = item
        try:
            sent = adapters[out.channel].send(out)
        except TransientSendError as exc:
            if tries >= MAX_TRIES:
                _settle(engine, message_id, status="failed", last_error=str(exc))
                stats.failed += 1
            else:
                _settle(
                    engine,
                    message_id,
                    status="pending",
                    last_error=str(exc),
                    not_before=now + timedelta(seconds=backoff * 2 ** (tries - 1)),
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
            process(engine, ids, adapters, now, stats, backoff=backoff)
        if not ids:
            if once:
                break
            time.sleep(idle_sleep)
    stats.seconds = time.perf_counter() - started
    return stats
