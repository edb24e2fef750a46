"""Loan servicing: the verbs a lender uses on one loan — look it up, post a payment, reverse one.

Each verb is one unit of work: load the loan, ask the rules in `loans/`, write the change, the
recomputed allocation, the new status snapshot and the domain event, and commit them together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from arrears.catalog import Catalog
from arrears.loans import RULES_VERSION
from arrears.loans.allocation import replay
from arrears.loans.bands import CLASSIFICATIONS, worse_classification
from arrears.loans.money import format_amount, parse_amount
from arrears.loans.product import Product
from arrears.loans.status import LoanStatus, loan_status
from arrears.loans.terms import Loan, Override, Pause, Payment
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.events import record_event


class BusinessRuleRefused(ValueError):
    """A request the rules refuse (the caller's input is well-formed but not allowed)."""


@dataclass(frozen=True)
class LoanView:
    """A loan's status together with what a reader needs to present it."""

    status: LoanStatus
    currency: str
    product: str
    borrower_id: str

    @classmethod
    def of(cls, record: repo.LoanRecord, catalog: Catalog, as_of: date) -> LoanView:
        """The view of a loan already read, on `as_of`, computed live from the rules."""
        return cls(
            loan_status(record.loan, catalog.get(record.product), as_of),
            record.loan.terms.currency,
            record.product,
            record.borrower_id,
        )

    def to_dict(self) -> dict[str, object]:
        s, money = self.status, (lambda v: None if v is None else format_amount(v, self.currency))
        return {
            "loan_id": s.loan_id,
            "as_of": s.as_of.isoformat(),
            "status": s.status,
            "days_past_due": s.days_past_due,
            "bucket": s.bucket,
            "classification": s.classification,
            "ifrs9_stage": s.ifrs9_stage,
            "outstanding_principal": money(s.outstanding_principal),
            "overdue_principal": money(s.overdue_principal),
            "overdue_interest": money(s.overdue_interest),
            "overdue_fee": money(s.overdue_fee),
            "overdue_penalty": money(s.overdue_penalty),
            "next_due_on": s.next_due_on.isoformat() if s.next_due_on else None,
            "next_due_amount": money(s.next_due_amount),
            "currency": self.currency,
            "product": self.product,
            "borrower_id": self.borrower_id,
            "applied_penalty_rate": str(s.applied_penalty_rate),
            "penalty_rate_capped": s.penalty_rate_capped,
            "credit_balance": money(s.credit_balance),
            "penalty_accrued_today": money(s.penalty_accrued_today),
            "in_observation": s.in_observation,
        }


def show_loan(engine: Engine, catalog: Catalog, loan_id: str, as_of: date) -> LoanView:
    """The loan's status on `as_of`, computed live from the rules."""
    with unit_of_work(engine) as session:
        record = repo.load_loan(session, loan_id)
    return LoanView.of(record, catalog, as_of)


def _restate(session: Session, product: Product, loan: Loan, as_of: date) -> LoanStatus:
    """Store the loan's recomputed allocation and its snapshot for `as_of` after its payments
    changed (`loan` already carries the change)."""
    repo.replace_allocations(session, loan.loan_id, replay(loan, product, as_of).lines)
    status = loan_status(loan, product, as_of)
    repo.save_snapshot(session, status, RULES_VERSION)
    return status


def post_payment(
    engine: Engine,
    catalog: Catalog,
    loan_id: str,
    amount: int | str,
    paid_on: date,
    *,
    reference: str | None = None,
    payment_id: str | None = None,
    today: date | None = None,
) -> tuple[str, LoanView]:
    """Record money received and restate the loan at once; returns the payment id and status.

    `amount` is minor units, or major-unit decimal text read exactly in the loan's currency.
    """
    today = today or date.today()
    if paid_on > today:
        raise BusinessRuleRefused(f"payment date {paid_on} is in the future (today is {today})")
    payment_id = payment_id or f"PMT-{uuid.uuid4().hex[:16]}"
    as_of = max(today, paid_on)
    with unit_of_work(engine) as session:
        record = repo.load_loan(session, loan_id)
        terms = record.loan.terms
        if isinstance(amount, str):
            amount = parse_amount(amount, terms.currency)
        if amount <= 0:
            raise BusinessRuleRefused(f"payment amount must be positive, got {amount}")
        if paid_on < terms.disbursed_on:
            raise BusinessRuleRefused(
                f"payment date {paid_on} is before disbursement {terms.disbursed_on}"
            )
        product = catalog.get(record.product)
        before = loan_status(record.loan, product, as_of)
        if before.status == "paid_off":
            raise BusinessRuleRefused(f"loan {loan_id} is paid off; nothing is owed")
        repo.add_payment(session, loan_id, payment_id, paid_on, amount, reference)
        paid = Payment(payment_id, paid_on, amount)
        after = _restate(
            session, product, replace(record.loan, payments=(*record.loan.payments, paid)), as_of
        )
        record_event(
            session,
            "payment.received",
            loan_id=loan_id,
            borrower_id=record.borrower_id,
            payload={
                "payment_id": payment_id,
                "amount": format_amount(amount, terms.currency),
                "currency": terms.currency,
                "paid_on": paid_on,
                "reference": reference,
                "days_past_due_before": before.days_past_due,
                "days_past_due_after": after.days_past_due,
                "status_after": after.status,
            },
        )
    return payment_id, LoanView(after, terms.currency, record.product, record.borrower_id)


def reverse_payment(
    engine: Engine, catalog: Catalog, payment_id: str, reason: str, *, today: date | None = None
) -> LoanView:
    """Reverse a payment (bounced, charged back, posted in error) and restate its loan."""
    today = today or date.today()
    if not reason.strip():
        raise BusinessRuleRefused("a reversal needs a reason")
    with unit_of_work(engine) as session:
        payment = repo.get_payment(session, payment_id)
        if payment.reversed_at is not None:
            raise BusinessRuleRefused(
                f"payment {payment_id} was already reversed ({payment.reversal_reason})"
            )
        loan_id = payment.loan_id
        record = repo.load_loan(session, loan_id)
        repo.mark_payment_reversed(session, payment_id, reason, datetime.now(UTC))
        payments = tuple(
            replace(p, reversed=True) if p.payment_id == payment_id else p
            for p in record.loan.payments
        )
        as_of = max(today, payment.paid_on)
        after = _restate(
            session, catalog.get(record.product), replace(record.loan, payments=payments), as_of
        )
        currency = record.loan.terms.currency
        record_event(
            session,
            "payment.reversed",
            loan_id=loan_id,
            borrower_id=record.borrower_id,
            payload={
                "payment_id": payment_id,
                "amount": format_amount(payment.amount, currency),
                "paid_on": payment.paid_on,
                "reason": reason,
                "days_past_due_after": after.days_past_due,
                "status_after": after.status,
            },
        )
    return LoanView(after, currency, record.product, record.borrower_id)


def list_loans(engine: Engine, catalog: Catalog, as_of: date, limit: int = 50) -> list[LoanView]:
    """Status of the first `limit` loans (by id) on `as_of`, computed live from the rules."""
    with unit_of_work(engine) as session:
        records = [repo.load_loan(session, loan_id) for loan_id in repo.loan_ids(session, limit)]
    return [
        LoanView(
            loan_status(r.loan, catalog.get(r.product), as_of),
            r.loan.terms.currency,
            r.product,
            r.borrower_id,
        )
        for r in records
    ]


def pause_loan(
    engine: Engine,
    catalog: Catalog,
    loan_id: str,
    start: date,
    end: date,
    reason: str,
    *,
    today: date | None = None,
) -> LoanView:
    """Pause a loan for hardship: the days from `start` to `end` neither count towards DPD nor
    accrue penalty interest."""
    if end < start:
        raise BusinessRuleRefused(f"pause ends {end} before it starts {start}")
    if not reason.strip():
        raise BusinessRuleRefused("a hardship pause needs a reason")
    as_of = today or date.today()
    with unit_of_work(engine) as session:
        record = repo.load_loan(session, loan_id)
        pause = Pause(start, end, reason)
        repo.add_pause(session, loan_id, pause)
        loan = replace(record.loan, pauses=(*record.loan.pauses, pause))
        status = _restate(session, catalog.get(record.product), loan, as_of)
        record_event(
            session,
            "loan.paused",
            loan_id=loan_id,
            borrower_id=record.borrower_id,
            payload={
                "start": start,
                "end": end,
                "reason": reason,
                "days_past_due_after": status.days_past_due,
            },
        )
    return LoanView(status, record.loan.terms.currency, record.product, record.borrower_id)


def override_classification(
    engine: Engine,
    catalog: Catalog,
    loan_id: str,
    classification: str,
    reason: str,
    author: str,
    *,
    expires_on: date | None = None,
    today: date | None = None,
) -> LoanView:
    """Downgrade a loan's five-category class by hand (with reason, author and expiry). An
    override that would not make the loan worse than the rules say is refused."""
    as_of = today or date.today()
    if classification not in CLASSIFICATIONS:
        raise BusinessRuleRefused(f"{classification!r} is not one of {', '.join(CLASSIFICATIONS)}")
    if not reason.strip() or not author.strip():
        raise BusinessRuleRefused("an override needs a reason and an author")
    if expires_on is not None and expires_on < as_of:
        raise BusinessRuleRefused(f"override expiry {expires_on} is already past")
    with unit_of_work(engine) as session:
        record = repo.load_loan(session, loan_id)
        product = catalog.get(record.product)
        before = loan_status(record.loan, product, as_of)
        if worse_classification(before.classification, classification) == before.classification:
            raise BusinessRuleRefused(
                f"an override can only make a loan worse: loan {loan_id} is already {before.classification}"
            )
        override = Override(
            classification, reason, author, expires_on=expires_on, effective_on=as_of
        )
        repo.add_override(session, loan_id, override)
        loan = replace(record.loan, overrides=(*record.loan.overrides, override))
        status = _restate(session, product, loan, as_of)
        record_event(
            session,
            "classification.overridden",
            loan_id=loan_id,
            borrower_id=record.borrower_id,
            payload={
                "from": before.classification,
                "to": status.classification,
                "reason": reason,
                "author": author,
                "expires_on": expires_on,
            },
        )
    return LoanView(status, record.loan.terms.currency, record.product, record.borrower_id)
