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
