"""Read models of the contact module for the pages and the API: a borrower's (or a case's)
message log with the guard decision and delivery of each message, the guard decision log (paged,
filtered), the effective policy for a borrower (the applicable jurisdiction files, as loaded),
and the template catalogue. Reading only: every rule stays in `rules.py`, every change in
`service.py`, `templates.py` and `outbox.py`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from arrears.contact.localtime import DEFAULT_ZONE, local_text
from arrears.contact.policy import applicable, load_policies
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    Borrower,
    CollectionCase,
    ContactDecision,
    ContactFlag,
    ContactOptOut,
    MessageTemplate,
    OutboxMessage,
)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def decision_view(d: ContactDecision, zone: str | None = None) -> dict[str, Any]:
    """A logged decision; `local` has its times in the borrower's zone (`zone`), for people."""
    zone = zone or DEFAULT_ZONE
    return {
        "decision_id": d.decision_id,
        "borrower_id": d.borrower_id,
        "party": d.party,
        "loan_id": d.loan_id,
        "channel": d.channel,
        "purpose": d.purpose,
        "at": _iso(d.at),
        "allowed": d.allowed,
        "rule_ids": [r for r in d.rule_ids.split(",") if r],
        "reasons": [r for r in d.reasons.split("; ") if r],
        "next_allowed_at": _iso(d.next_allowed_at),
        "jurisdictions": [j for j in d.jurisdictions.split(",") if j],
        "decided_at": _iso(d.decided_at),
        "timezone": zone,
        "local": {
            "at": local_text(d.at, zone),
            "next_allowed_at": local_text(d.next_allowed_at, zone),
            "decided_at": local_text(d.decided_at, zone),
        },
    }


def _message(m: OutboxMessage, d: ContactDecision | None, zone: str) -> dict[str, Any]:
    return {
        "message_id": m.message_id,
        "borrower_id": m.borrower_id,
        "party": m.party,
        "loan_id": m.loan_id,
        "case_id": m.case_id,
        "channel": m.channel,
        "purpose": m.purpose,
        "template": m.template,
        "template_version": m.template_version,
        "language": m.language,
        "subject": m.subject,
        "body": m.body,
        "status": m.status,
        "not_before": _iso(m.not_before),
        "tries": m.tries,
        "created_at": _iso(m.created_at),
        "sent_at": _iso(m.sent_at),
        "delivered_at": _iso(m.delivered_at),
        "gateway_id": m.gateway_id,
        "last_error": m.last_error,
        "decision": None if d is None else decision_view(d, zone),
        "timezone": zone,
        "local": {
            "not_before": local_text(m.not_before, zone),
            "created_at": local_text(m.created_at, zone),
            "sent_at": local_text(m.sent_at, zone),
            "delivered_at": local_text(m.delivered_at, zone),
        },
    }


def borrower_messages(engine: Engine, borrower_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The borrower's outbox messages, newest first, each with the decision that queued it."""
    with unit_of_work(engine) as session:
        zone = session.scalar(select(Borrower.timezone).where(Borrower.borrower_id == borrower_id))
        rows = session.execute(
            select(OutboxMessage, ContactDecision)
            .outerjoin(ContactDecision, ContactDecision.decision_id == OutboxMessage.decision_id)
            .where(OutboxMessage.borrower_id == borrower_id)
            .order_by(OutboxMessage.not_before.desc(), OutboxMessage.message_id)
            .limit(limit)
        ).all()
        return [_message(m, d, zone or DEFAULT_ZONE) for m, d in rows]


def borrower_zone(engine: Engine, borrower_id: str) -> str:
    """The borrower's IANA time zone (the guard's default when unknown)."""
    with unit_of_work(engine) as session:
        zone = session.scalar(select(Borrower.timezone).where(Borrower.borrower_id == borrower_id))
    return zone or DEFAULT_ZONE


def case_borrower(engine: Engine, case_id: str) -> str | None:
    with unit_of_work(engine) as session:
        return session.scalar(
            select(CollectionCase.borrower_id).where(CollectionCase.case_id == case_id)
        )


def case_messages(engine: Engine, case_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The messages of a case: its borrower's (one open case per borrower; reminders are
    queued per loan, before a case exists, and belong to its history)."""
    borrower_id = case_borrower(engine, case_id)
    return [] if borrower_id is None else borrower_messages(engine, borrower_id, limit)


def decision_log(
    engine: Engine,
    *,
    borrower_id: str | None = None,
    allowed: bool | None = None,
    rule_id: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of the guard's decisions, newest first, and the total that match."""
    conditions = []
    if borrower_id:
        conditions.append(ContactDecision.borrower_id == borrower_id)
    if allowed is not None:
        conditions.append(ContactDecision.allowed.is_(allowed))
    if channel:
        conditions.append(ContactDecision.channel == channel)
    if rule_id:
        # rule ids are stored comma-joined; match a whole id, not a prefix of another
        padded = "," + ContactDecision.rule_ids + ","
        conditions.append(padded.contains(f",{rule_id},", autoescape=True))
    with unit_of_work(engine) as session:
        total = session.scalar(select(func.count()).select_from(ContactDecision).where(*conditions))
        rows = session.execute(
            select(ContactDecision, Borrower.timezone)
            .outerjoin(Borrower, Borrower.borrower_id == ContactDecision.borrower_id)
            .where(*conditions)
            .order_by(ContactDecision.decision_id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return {
            "total": int(total or 0),
            "limit": limit,
            "offset": offset,
            "decisions": [decision_view(d, zone) for d, zone in rows],
        }


def effective_policy(engine: Engine, borrower_id: str) -> dict[str, Any] | None:
    """The rules that apply to a borrower: every applicable policy file (the guard checks all of
    them, so the strictest wins), with the borrower's flags and opt-outs. None: no borrower."""
    with unit_of_work(engine) as session:
        b = session.get(Borrower, borrower_id)
        if b is None:
            return None
        flags = sorted(
            session.scalars(select(ContactFlag.flag).where(ContactFlag.borrower_id == borrower_id))
        )
        opt_outs = [
            {"channel": o.channel, "at": _iso(o.at), "source": o.source}
            for o in session.scalars(
                select(ContactOptOut)
                .where(ContactOptOut.borrower_id == borrower_id)
                .order_by(ContactOptOut.channel)
            )
        ]
        country, region, timezone = b.country, b.region, b.timezone
    policies = applicable(load_policies(), country, region)
    return {
        "borrower_id": borrower_id,
        "country": country,
        "region": region,
        "timezone": timezone or "Asia/Shanghai",
        "jurisdictions": [p.jurisdiction for p in policies],
        "flags": flags,
        "opt_outs": opt_outs,
        "policies": [
            p.model_dump(mode="json", exclude_none=True, exclude_defaults=False) for p in policies
        ],
    }


def template_list(engine: Engine) -> list[dict[str, Any]]:
    """The newest version of every template (name, language), with how many versions exist."""
    with unit_of_work(engine) as session:
        newest = (
            select(
                MessageTemplate.name,
                MessageTemplate.language,
                func.max(MessageTemplate.version).label("version"),
            )
            .group_by(MessageTemplate.name, MessageTemplate.language)
            .subquery()
        )
        rows = session.scalars(
            select(MessageTemplate)
            .join(
                newest,
                (MessageTemplate.name == newest.c.name)
                & (MessageTemplate.language == newest.c.language)
                & (MessageTemplate.version == newest.c.version),
            )
            .order_by(MessageTemplate.name, MessageTemplate.language)
        ).all()
        return [template_view(t) for t in rows]


def template_view(t: MessageTemplate) -> dict[str, Any]:
    return {
        "name": t.name,
        "language": t.language,
        "version": t.version,
        "channel": t.channel,
        "audience": t.audience,
        "subject": t.subject,
        "body": t.body,
        "saved_at": _iso(t.saved_at),
        "saved_by": t.saved_by,
    }


def template_versions(engine: Engine, name: str, language: str) -> list[dict[str, Any]]:
    """Every version of one template, newest first (empty: no such template)."""
    with unit_of_work(engine) as session:
        rows = session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.name == name, MessageTemplate.language == language)
            .order_by(MessageTemplate.version.desc())
        ).all()
        return [template_view(t) for t in rows]


def message_figures(
    engine: Engine, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Messages by channel and status, blocked decisions by rule — `contact stats` (all time)
    and the report's contact section (a period: `since` ≤ t < `until`). A message counts by
    `not_before`: when it was to leave, or when the worker last took it — for a sent, expired
    or blocked one, about when that happened; a reminder by the day it was planned for. A
    decision counts by the contact time asked. `since`/`until` are midnights of the period's
    first day and of the day after its last, in the report's zone."""
    msg_when: list[Any] = []
    dec_when: list[Any] = []
    if since is not None and until is not None:
        # a reminder belongs to the day it was planned for (its key ends "@YYYY-MM-DD"), so a
        # month-end catch-up's reminders that expire weeks later stay in their own month
        key = OutboxMessage.reminder_key
        planned = func.substr(key, func.length(key) - 9)
        first, last = since.date().isoformat(), (until - timedelta(days=1)).date().isoformat()
        msg_when.append(
            or_(
                and_(key.is_not(None), planned >= first, planned <= last),
                and_(
                    key.is_(None),
                    OutboxMessage.not_before >= since,
                    OutboxMessage.not_before < until,
                ),
            )
        )
        dec_when += [ContactDecision.at >= since, ContactDecision.at < until]
    elif since is not None or until is not None:
        raise ValueError("a period needs both ends (since and until)")
    with unit_of_work(engine) as session:
        by_channel: dict[str, dict[str, int]] = {}
        for channel, status, n in session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(*msg_when)
            .group_by(OutboxMessage.channel, OutboxMessage.status)
        ):
            by_channel.setdefault(channel, {})[status] = int(n)
        blocked: dict[str, int] = {}
        for rule_ids, n in session.execute(
            select(ContactDecision.rule_ids, func.count())
            .where(ContactDecision.allowed.is_(False), *dec_when)
            .group_by(ContactDecision.rule_ids)
        ):
            for rule in (r for r in rule_ids.split(",") if r):
                blocked[rule] = blocked.get(rule, 0) + int(n)
        decisions = int(
            session.scalar(select(func.count()).select_from(ContactDecision).where(*dec_when)) or 0
        )
        refused = int(
            session.scalar(
                select(func.count())
                .select_from(ContactDecision)
                .where(ContactDecision.allowed.is_(False), *dec_when)
            )
            or 0
        )
        reasons: dict[str, dict[str, int]] = {}
        for status, error, n in session.execute(
            select(OutboxMessage.status, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.status.in_(("blocked", "expired", "failed")), *msg_when)
            .group_by(OutboxMessage.status, OutboxMessage.last_error)
        ):
            reasons.setdefault(status, {})[error or "—"] = int(n)
    return {
        "by_channel": by_channel,
        "blocked_by_rule": blocked,
        "decisions": decisions,
        "blocked": refused,
        "reasons": reasons,
    }
