"""The database tables, as SQLAlchemy 2 typed declarative classes.

Money columns are integer minor units (`BigInteger`), rates are exact decimal text, business dates
are `Date`, and event times are UTC-aware timestamps. `events` is append-only: a row is written in
the same transaction as the change it records and never updated.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ExactDecimal(TypeDecorator[Decimal]):
    """A `Decimal` stored as text, so a rate such as 0.1235 survives every database exactly."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite keeps no zone by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Borrower(Base):
    __tablename__ = "borrowers"

    borrower_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # individual | enterprise
    name: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    country: Mapped[str] = mapped_column(String(2), default="CN")
    region: Mapped[str | None] = mapped_column(String(8))


class Product(Base):
    """The effective product definitions, as loaded from the catalog (for reference and joins)."""

    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)


class Loan(Base):
    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    product: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    principal: Mapped[int] = mapped_column(BigInteger)
    annual_rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    term_months: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(32))
    disbursed_on: Mapped[date] = mapped_column(Date)
    first_due_on: Mapped[date | None] = mapped_column(Date)
    interest_basis: Mapped[str | None] = mapped_column(String(16))
    penalty_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    restructured_on: Mapped[date | None] = mapped_column(Date)
    written_off_on: Mapped[date | None] = mapped_column(Date)


class Instalment(Base):
    __tablename__ = "instalments"

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    principal: Mapped[int] = mapped_column(BigInteger)
    interest: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(200))
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reversal_reason: Mapped[str | None] = mapped_column(Text)


class AllocationRow(Base):
    """How each payment was spread over instalments and components, as last computed."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.payment_id"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # None: held as credit
    component: Mapped[str] = mapped_column(String(16))  # penalty|fee|interest|principal|credit
    amount: Mapped[int] = mapped_column(BigInteger)
    applied_on: Mapped[date] = mapped_column(Date)


class PauseRow(Base):
    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)


class OverrideRow(Base):
    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    classification: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    effective_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)


class StatusSnapshot(Base):
    """A loan's status as of one business date (written by the COB for every loan, and at once
    for one loan when a payment is posted or reversed). `penalty_accrued` is that day's accrual."""

    __tablename__ = "status_snapshots"
    __table_args__ = (Index("ix_status_snapshots_as_of", "as_of"),)

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    days_past_due: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(32))
    ifrs9_stage: Mapped[int] = mapped_column(Integer)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger)
    overdue_principal: Mapped[int] = mapped_column(BigInteger)
    overdue_interest: Mapped[int] = mapped_column(BigInteger)
    overdue_fee: Mapped[int] = mapped_column(BigInteger)
    overdue_penalty: Mapped[int] = mapped_column(BigInteger)
    next_due_on: Mapped[date | None] = mapped_column(Date)
    next_due_amount: Mapped[int | None] = mapped_column(BigInteger)
    rules_version: Mapped[str] = mapped_column(String(32))
    penalty_accrued: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Event(Base):
    """Append-only domain events: written in the transaction of the change they record."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_loan_seq", "loan_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    type: Mapped[str] = mapped_column(String(64), index=True)
    loan_id: Mapped[str | None] = mapped_column(String(64))
    borrower_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ImportBatch(Base):
    """One `arrears import` run that landed: what came in and when."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    borrowers: Mapped[int] = mapped_column(Integer)
    loans: Mapped[int] = mapped_column(Integer)
    payments: Mapped[int] = mapped_column(Integer)
    instalments: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StatusTransition(Base):
    """A change of bucket or classification between a loan's previous snapshot and this one: the
    base of roll rates and cure rates. Balances are the outstanding principal before and after."""

    __tablename__ = "status_transitions"
    __table_args__ = (Index("ix_status_transitions_as_of", "as_of"),)

    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    previous_as_of: Mapped[date | None] = mapped_column(Date)
    from_bucket: Mapped[str | None] = mapped_column(String(16))
    to_bucket: Mapped[str] = mapped_column(String(16))
    from_classification: Mapped[str | None] = mapped_column(String(32))
    to_classification: Mapped[str] = mapped_column(String(32))
    from_days_past_due: Mapped[int | None] = mapped_column(Integer)
    to_days_past_due: Mapped[int] = mapped_column(Integer)
    balance_before: Mapped[int | None] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(Integer)


class CobRun(Base):
    """One close-of-business run for one date: when, how many loans, which rules and engine.

    `status` is `running` until the run's results are committed (`complete`) or it failed; a run
    killed half-way stays `running` and the next run for the date replaces it.
    """

    __tablename__ = "cob_runs"
    __table_args__ = (Index("ix_cob_runs_as_of", "as_of"),)

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(16))  # daily | rebuild
    engine: Mapped[str] = mapped_column(String(16))  # polars | spark
    status: Mapped[str] = mapped_column(String(16))  # running | complete | failed
    rules_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    loans: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    snapshots: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transitions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------ accounts and access (0003)


class User(Base):
    """A person (or a borrower) who signs in. `role` is one of `arrears.auth.ROLES`; a
    `borrower` user is linked to the borrower whose loans they may see."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.borrower_id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored; `prefix` lets a person tell
    their tokens apart without the secret."""

    __tablename__ = "api_tokens"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebSession(Base):
    """A signed-in page session. The cookie carries a random id; only its SHA-256 is stored, so
    signing out (or an administrator) can end a session on the server, not just in the browser."""

    __tablename__ = "web_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AccessLog(Base):
    """One unmasked read of personal data: who, when, which fields of which borrower/loan."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    fields: Mapped[str] = mapped_column(String(200))  # comma-separated, e.g. national_id,phone
    borrower_id: Mapped[str | None] = mapped_column(String(64), index=True)
    loan_id: Mapped[str | None] = mapped_column(String(64))
    unmasked: Mapped[bool] = mapped_column(Boolean)
    route: Mapped[str] = mapped_column(String(200))


class IdempotencyKey(Base):
    """The first answer to a request sent with an `Idempotency-Key`, replayed to its repeats."""

    __tablename__ = "idempotency_keys"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first is running
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginAttempt(Base):
    """A password sign-in attempt, kept to lock an account or an address after failures."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean)


# ------------------------------------------------------------------ collection (0004)


class CollectionCase(Base):
    """One borrower's delinquency, from the day a loan goes past due to the day everything is
    cured, settled, paid off or written off. The figures are the last daily update's; `stage` is
    the policy's answer unless `stage_override` (a manual escalation or de-escalation) is set."""

    __tablename__ = "collection_cases"
    __table_args__ = (
        Index("ix_collection_cases_status_stage", "status", "stage"),
        Index("ix_collection_cases_assigned_to", "assigned_to"),
        Index("ix_collection_cases_borrower_id", "borrower_id"),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"))
    status: Mapped[str] = mapped_column(String(16))  # open | paused | closed
    stage: Mapped[str] = mapped_column(String(32))
    stage_override: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(16))  # individual | enterprise
    product: Mapped[str] = mapped_column(String(64))  # product of the worst loan
    language: Mapped[str | None] = mapped_column(String(8))
    region: Mapped[str | None] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    days_past_due: Mapped[int] = mapped_column(Integer)
    amount_overdue: Mapped[int] = mapped_column(BigInteger)
    outstanding_principal: Mapped[int] = mapped_column(BigInteger)
    loans: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(BigInteger)
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[date] = mapped_column(Date)
    updated_on: Mapped[date] = mapped_column(Date)
    stage_since: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    assigned_on: Mapped[date | None] = mapped_column(Date)
    last_pulled_on: Mapped[date | None] = mapped_column(Date)
    last_rpc_on: Mapped[date | None] = mapped_column(Date)
    paused_until: Mapped[date | None] = mapped_column(Date)
    score: Mapped[float | None] = mapped_column(Float)


class CaseLoan(Base):
    """A loan grouped into a case (a loan belongs to at most one open case, its borrower's)."""

    __tablename__ = "case_loans"

    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    added_on: Mapped[date] = mapped_column(Date)


class CaseUpdateRun(Base):
    """One daily case update: a date is updated once (a re-run of the date is a no-op)."""

    __tablename__ = "case_update_runs"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    opened: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    stage_changes: Mapped[int] = mapped_column(Integer)
    promises_kept: Mapped[int] = mapped_column(Integer)
    promises_broken: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Agency(Base):
    """An external collection agency; its collectors are users with `CollectorProfile.agency_id`."""

    __tablename__ = "agencies"

    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    commission_rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CollectorProfile(Base):
    """What a collector (a user) can take: capacity, skills, region and stages."""

    __tablename__ = "collector_profiles"

    username: Mapped[str] = mapped_column(ForeignKey("users.username"), primary_key=True)
    max_open_cases: Mapped[int] = mapped_column(Integer)
    stages: Mapped[str] = mapped_column(String(200))  # comma-separated; empty = any
    segments: Mapped[str] = mapped_column(String(100), default="")
    languages: Mapped[str] = mapped_column(String(100), default="")
    products: Mapped[str] = mapped_column(String(400), default="")
    regions: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.agency_id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ContactRow(Base):
    """One contact attempt or conversation on a case; `sent` is false when it was blocked (the
    guard's or the dispute's reasons are kept in `blocked_reasons`)."""

    __tablename__ = "case_contacts"
    __table_args__ = (Index("ix_case_contacts_case_id_at", "case_id", "at"),)

    contact_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"))
    loan_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))  # outbound | inbound
    party: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    by_user: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent: Mapped[bool] = mapped_column(Boolean)
    blocked_reasons: Mapped[str | None] = mapped_column(Text)
    rule_ids: Mapped[str | None] = mapped_column(String(200))


class PromiseRow(Base):
    """A promise to pay one amount by one date; promises made together share a `batch`."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_state_due_on", "state", "due_on"),)

    promise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    batch: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[date] = mapped_column(Date)
    made_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # pending | kept | broken | cancelled
    resolved_on: Mapped[date | None] = mapped_column(Date)
    paid: Mapped[int | None] = mapped_column(BigInteger)
    made_by: Mapped[str] = mapped_column(String(64))


class DisputeRow(Base):
    """A dispute on a case (or one loan of it): no outbound contact on that debt while open."""

    __tablename__ = "disputes"

    dispute_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    loan_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(64))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)


class ApprovalRow(Base):
    """A maker-checker request (hardship pause, plan, settlement, write-off): the checker is
    never the maker; requests within the maker's own role limit are approved at once."""

    __tablename__ = "approvals"

    approval_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    maker: Mapped[str] = mapped_column(String(64))
    checker: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LegalCaseRow(Base):
    """A lawsuit on a collection case: prepare → filed → hearing → judgment → enforcement →
    closed, with the court, the dates and the money (fees paid, awarded, recovered)."""

    __tablename__ = "legal_cases"

    legal_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    court: Mapped[str | None] = mapped_column(String(200))
    opened_on: Mapped[date] = mapped_column(Date)
    filed_on: Mapped[date | None] = mapped_column(Date)
    hearing_on: Mapped[date | None] = mapped_column(Date)
    judgment_on: Mapped[date | None] = mapped_column(Date)
    enforcement_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    claimed: Mapped[int] = mapped_column(BigInteger)
    fees_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    awarded: Mapped[int | None] = mapped_column(BigInteger)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))


class PlacementRow(Base):
    """A case placed with an agency, at the agency's commission rate of the day."""

    __tablename__ = "agency_placements"

    placement_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.agency_id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    placed_on: Mapped[date] = mapped_column(Date)
    recalled_on: Mapped[date | None] = mapped_column(Date)
    commission_rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    amount_placed: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)
    commission: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[str | None] = mapped_column(Text)


class RecoveryRow(Base):
    """Money received on a loan after it was written off, kept apart from servicing payments."""

    __tablename__ = "write_off_recoveries"

    recovery_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    case_id: Mapped[str | None] = mapped_column(String(64))
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))  # borrower | agency | legal | guarantor
    recorded_by: Mapped[str] = mapped_column(String(64))


class ArrangementRow(Base):
    """A repayment plan (the overdue amount re-aged into new instalments) or a settlement (less
    than owed accepted, the rest waived), from proposal through approval to its end."""

    __tablename__ = "arrangements"

    arrangement_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("collection_cases.case_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # plan | settlement
    state: Mapped[str] = mapped_column(String(16))  # proposed | approved | rejected | completed
    amount: Mapped[int] = mapped_column(BigInteger)  # to be paid
    waived: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.approval_id"))
    made_by: Mapped[str] = mapped_column(String(64))
    made_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)


# ------------------------------------------------------------------ third-party data (0006)


class BureauConsent(Base):
    """A borrower's consent to query external credit data for one purpose (征信授权), recorded
    before any pull: who recorded it, when, until when, and the evidence (a signed form's
    reference). A revoked or expired consent allows no further pull."""

    __tablename__ = "bureau_consents"
    __table_args__ = (
        Index("ix_bureau_consents_borrower_purpose", "borrower_id", "purpose"),
        Index("ix_bureau_consents_party_purpose", "party", "purpose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the party (0009): `borrower:<id>`, or `applicant:<national id>` before any loan exists
    party: Mapped[str] = mapped_column(String(80))
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.borrower_id"))
    national_id: Mapped[str | None] = mapped_column(String(64))  # an applicant's
    name: Mapped[str | None] = mapped_column(String(200))  # an applicant's
    purpose: Mapped[str] = mapped_column(String(32))
    sources: Mapped[str] = mapped_column(String(200))  # comma-separated source names
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    evidence: Mapped[str | None] = mapped_column(Text)


class BureauReport(Base):
    """One report fetched from an external source, kept as fetched (JSON) with its digest; it
    serves as the cache until `expires_at`."""

    __tablename__ = "bureau_reports"
    __table_args__ = (
        Index("ix_bureau_reports_borrower_source", "borrower_id", "source", "fetched_at"),
        Index("ix_bureau_reports_party_source", "party", "source", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    party: Mapped[str] = mapped_column(String(80))
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.borrower_id"))
    source: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class BureauPull(Base):
    """Every attempt to read external data, whatever its outcome: who asked, why, when, from
    which source, and what happened (fetched, cached, refused, failed, circuit_open)."""

    __tablename__ = "bureau_pulls"
    __table_args__ = (
        Index("ix_bureau_pulls_borrower_at", "borrower_id", "requested_at"),
        Index("ix_bureau_pulls_party_at", "party", "requested_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    party: Mapped[str] = mapped_column(String(80))
    borrower_id: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    consent_id: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    error: Mapped[str | None] = mapped_column(Text)


class BlacklistEntry(Base):
    """An entry of the internal blacklist (内部黑名单): a national id and/or a phone, why, who
    added it and when; removing it stamps who, when and why (the row stays, for the audit)."""

    __tablename__ = "blacklist_entries"
    __table_args__ = (
        CheckConstraint("national_id IS NOT NULL OR phone IS NOT NULL", name="identified"),
        Index("ix_blacklist_entries_national_id", "national_id"),
        Index("ix_blacklist_entries_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    removal_reason: Mapped[str | None] = mapped_column(Text)


# ------------------------------------------------------------------ credit models (0005)


class ModelVersion(Base):
    """A trained credit model (A/B/C card) registered with its directory, data fingerprint and
    metrics. Versions count up per kind; the files stay in `path`."""

    __tablename__ = "models"
    __table_args__ = (Index("ix_models_kind_version", "kind", "version", unique=True),)

    model_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # application | behaviour | collection
    version: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))  # scorecard | gbm
    path: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class ModelPromotion(Base):
    """A model made champion of its kind: who, when, why. The latest promotion per kind is the
    champion; earlier rows are the history."""

    __tablename__ = "model_promotions"
    __table_args__ = (Index("ix_model_promotions_kind_at", "kind", "promoted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.model_id"))
    kind: Mapped[str] = mapped_column(String(16))
    promoted_by: Mapped[str] = mapped_column(String(64))
    promoted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class ModelMonitorRun(Base):
    """One stability check of a model: PSI of the score, CSI per feature, KS/AUC on outcomes
    that have matured, and whether it raised an alert."""

    __tablename__ = "model_monitor_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.model_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    run_at: Mapped[datetime] = mapped_column(UtcDateTime)
    window: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    psi: Mapped[float] = mapped_column(Float)
    auc: Mapped[float | None] = mapped_column(Float)
    ks: Mapped[float | None] = mapped_column(Float)
    alert: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


# ------------------------------------------------------------------ contact compliance (0007)


class ContactFlag(Base):
    """A standing fact about a borrower that the contact guard obeys: do_not_contact, deceased,
    hardship, unreachable (contact persons may then be tried), cease_written (a written cease
    request)."""

    __tablename__ = "contact_flags"

    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(32), primary_key=True)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    set_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class ContactOptOut(Base):
    """A borrower's opt-out of one channel (or `all`), effective from `at` for every later send."""

    __tablename__ = "contact_opt_outs"

    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(32))  # cli | reply | web


class ContactPerson(Base):
    """Someone a borrower named as a contact (emergency contact, relative). A refusal blocks
    them for good; they are never told the debt."""

    __tablename__ = "contact_persons"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ContactAttempt(Base):
    """The shared ledger of contacts made (dialler calls, robot calls, messages sent) across the
    lender and its agencies; the guard counts it for the frequency rules."""

    __tablename__ = "contact_attempts"
    __table_args__ = (Index("ix_contact_attempts_borrower_id_at", "borrower_id", "at"),)

    attempt_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"))
    party: Mapped[str] = mapped_column(String(80))  # debtor | guarantor | contact:<id>
    loan_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    decision_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    by_user: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))


class ContactDecision(Base):
    """Every answer of the contact guard, allowed or not, with the rule ids that decided."""

    __tablename__ = "contact_decisions"
    __table_args__ = (Index("ix_contact_decisions_borrower_id_at", "borrower_id", "at"),)

    decision_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    borrower_id: Mapped[str] = mapped_column(String(64))
    party: Mapped[str] = mapped_column(String(80))
    loan_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    allowed: Mapped[bool] = mapped_column(Boolean)
    rule_ids: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    jurisdictions: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageTemplate(Base):
    """One version of a message template in one language; a save makes a new version."""

    __tablename__ = "message_templates"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16))  # debtor | contact_person
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime)
    saved_by: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A message waiting to leave, written in the same transaction as the allowed decision that
    caused it. The worker sends it with `idempotency_key`; `reminder_key` makes planning
    idempotent (one reminder per loan, instalment and step)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    reminder_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    party: Mapped[str] = mapped_column(String(80))
    loan_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(64))
    template_version: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    decision_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    # pending | sending | dispatching (send begun under a logged decision) | sent | delivered |
    # failed | blocked | expired
    status: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    gateway_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboundReply(Base):
    """A borrower's reply that came back through a gateway webhook, read as paid / stop /
    promise (with the promised date) / other, and the case it landed on."""

    __tablename__ = "inbound_replies"

    reply_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the gateway's id
    borrower_id: Mapped[str | None] = mapped_column(String(64), index=True)
    from_address: Mapped[str] = mapped_column(String(254))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    promised_on: Mapped[date | None] = mapped_column(Date)
    case_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
