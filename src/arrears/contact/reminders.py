"""Automated reminders: a policy (YAML, per product) of steps — days from the due date, channel,
template — and the planner the close of business calls for a date. Each planned reminder is
rendered from the borrower's language template and queued through the outbox, which asks the
guard; `reminder_key` (loan, due date, step) makes planning a date twice a no-op."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, select

from arrears.contact import guard
from arrears.contact.compliance import _zone
from arrears.contact.outbox import enqueue
from arrears.contact.policy import CHANNELS, ContactPolicyError
from arrears.contact.templates import latest, render, seed_templates
from arrears.loans.money import format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower, Loan, OutboxMessage, StatusSnapshot
from arrears.yamldoc import parse_document

CHUNK = 500
DEFER_WITHIN = timedelta(hours=18)  # a reminder blocked at night waits for the next opening


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    offset: int = Field(ge=-30, le=90)
    channel: str
    template: str = Field(min_length=1)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in CHANNELS:
            raise ValueError(f"channel {v!r} is not one of {', '.join(CHANNELS)}")
        return v


class ReminderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    send_at: time
    products: dict[str, tuple[Step, ...]]

    @field_validator("products")
    @classmethod
    def _default(cls, v: dict[str, tuple[Step, ...]]) -> dict[str, tuple[Step, ...]]:
        if "default" not in v:
            raise ValueError("a 'default' list is required")
        return v

    def steps(self, product: str) -> tuple[Step, ...]:
        return self.products.get(product, self.products["default"])


def parse_reminder_policy(text: str, source: str) -> ReminderPolicy:
    return parse_document(text, source, ReminderPolicy, ContactPolicyError, what="(提醒策略无效)")


def load_reminder_policy(path: Path | None = None) -> ReminderPolicy:
    if path is None:
        text = resources.files("arrears.contact").joinpath("reminders.yaml").read_text("utf-8")
        return parse_reminder_policy(text, "arrears/contact/reminders.yaml")
    try:
        return parse_reminder_policy(path.read_text("utf-8"), str(path))
    except OSError as exc:
        raise ContactPolicyError(f"{path}: cannot read 无法读取: {exc.strerror}") from None


@dataclass
class PlanResult:
    as_of: date
    considered: int = 0
    queued: int = 0
    deferred: int = 0  # queued for the window's opening rather than send_at
    blocked: int = 0
    already: int = 0
    blocked_by_rule: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {**self.__dict__, "as_of": self.as_of.isoformat()}


def plan_reminders(engine: Engine, as_of: date, policy: ReminderPolicy | None = None) -> PlanResult:
    """Queue the reminders due on `as_of` (after its close of business has written snapshots)."""
    policy = policy or load_reminder_policy()
    started = clock.perf_counter()
    result = PlanResult(as_of)
    seed_templates(engine)
    before = sorted(
        {-s.offset for steps in policy.products.values() for s in steps if s.offset <= 0}
    )
    after = sorted({s.offset for steps in policy.products.values() for s in steps if s.offset > 0})
    with unit_of_work(engine) as session:
        rows = session.execute(
            select(
                StatusSnapshot.loan_id,
                StatusSnapshot.days_past_due,
                StatusSnapshot.next_due_on,
                StatusSnapshot.next_due_amount,
                StatusSnapshot.overdue_principal
                + StatusSnapshot.overdue_interest
                + StatusSnapshot.overdue_fee
                + StatusSnapshot.overdue_penalty,
                Loan.product,
                Loan.currency,
                Borrower.borrower_id,
                Borrower.name,
                Borrower.language,
                Borrower.timezone,
            )
            .join(Loan, Loan.loan_id == StatusSnapshot.loan_id)
            .join(Borrower, Borrower.borrower_id == Loan.borrower_id)
            .where(
                StatusSnapshot.as_of == as_of,
                (StatusSnapshot.next_due_on.in_([as_of + timedelta(days=k) for k in before]))
                | (StatusSnapshot.days_past_due.in_(after)),
            )
            .order_by(StatusSnapshot.loan_id)
        ).all()
        keys = set(
            session.scalars(
                select(OutboxMessage.reminder_key).where(
                    OutboxMessage.reminder_key.like(f"%@{as_of.isoformat()}")
                )
            )
        )
    planned = []
    for r in rows:
        loan_id, dpd, next_due, next_amount, overdue, product, currency, bid, name, language, tz = r
        for step in policy.steps(product):
            if step.offset <= 0:
                if next_due != as_of + timedelta(days=-step.offset) or (dpd and step.offset < 0):
                    continue
                due_on = next_due
            else:
                if dpd != step.offset:
                    continue
                due_on = as_of - timedelta(days=dpd)
            result.considered += 1
            key = f"{loan_id}:{due_on}:{step.offset:+d}@{as_of.isoformat()}"
            if key in keys:
                result.already += 1
                continue
            context = {
                "name": name,
                "loan_id": loan_id,
                "currency": currency,
                "amount_due": format_amount(next_amount or 0, currency),
                "overdue": format_amount(overdue or 0, currency),
                "days_past_due": dpd,
                "due_on": (due_on or as_of).isoformat(),
            }
            at = datetime.combine(as_of, policy.send_at, _zone(tz or "Asia/Shanghai"))
            planned.append((bid, loan_id, step, language or "zh", context, at, key))
    # one transaction per chunk: each reminder's decision and outbox row land together, and a
    # failure loses at most a chunk that a re-run plans again (the keys make it idempotent)
    for start in range(0, len(planned), CHUNK):
        with unit_of_work(engine) as session:
            for bid, loan_id, step, language, context, at, key in planned[start : start + CHUNK]:
                template = latest(session, step.template, language)
                subject, body = render(template, context)
                q = enqueue(
                    session,
                    guard.Party(bid, "debtor", loan_id=loan_id),
                    step.channel,
                    "reminder",
                    body,
                    at,
                    subject=subject,
                    language=template.language,
                    template=template.name,
                    template_version=template.version,
                    reminder_key=key,
                    defer_within=DEFER_WITHIN,
                )
                if q.message_id is None:
                    result.blocked += 1
                    for rule_id in q.decision.rule_ids:
                        result.blocked_by_rule[rule_id] = result.blocked_by_rule.get(rule_id, 0) + 1
                else:
                    result.queued += 1
                    if q.not_before != at:
                        result.deferred += 1
    result.seconds = clock.perf_counter() - started
    return result
