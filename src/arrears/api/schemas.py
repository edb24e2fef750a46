"""The API's request and response bodies (Pydantic v2). Money is decimal text with the
currency's decimals (`"1234.50"` for CNY), dates ISO `YYYY-MM-DD`, timestamps ISO UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)


def _in_range(value: date) -> date:
    if not (FIRST_DAY <= value <= LAST_DAY):
        raise ValueError(f"date {value.isoformat()} is outside {FIRST_DAY} … {LAST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_in_range)]
Money = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$"),
    Field(description="Decimal text in the loan's currency, e.g. `1234.50`.", examples=["1234.50"]),
]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f/]+$")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class Me(BaseModel):
    username: str
    role: str
    borrower_id: str | None


# ------------------------------------------------------------------ borrowers and loans


class BorrowerOut(BaseModel):
    borrower_id: str
    kind: str
    name: str
    national_id: str | None
    phone: str | None
    email: str | None
    timezone: str
    language: str
    country: str
    region: str | None
    masked: bool = Field(description="Whether national id and phone are masked for your role.")


class LoanSummary(BaseModel):
    loan_id: str
    borrower_id: str
    product: str
    currency: str
    principal: str
    annual_rate: str
    term_months: int
    disbursed_on: date


class LoanStatusOut(BaseModel):
    loan_id: str
    as_of: date
    status: str
    days_past_due: int
    bucket: str
    classification: str
    ifrs9_stage: int
    outstanding_principal: str
    overdue_principal: str
    overdue_interest: str
    overdue_fee: str
    overdue_penalty: str
    next_due_on: date | None
    next_due_amount: str | None
    currency: str
    product: str
    borrower_id: str
    applied_penalty_rate: str
    penalty_rate_capped: bool
    credit_balance: str
    penalty_accrued_today: str
    in_observation: bool


class InstalmentOut(BaseModel):
    seq: int
    due_on: date
    principal: str
    interest: str
    fee: str
    total: str


class ScheduleOut(BaseModel):
    loan_id: str
    currency: str
    instalments: list[InstalmentOut]


class PaymentOut(BaseModel):
    payment_id: str
    loan_id: str
    paid_on: date
    amount: str
    currency: str
    reference: str | None
    reversed_at: datetime | None
    reversal_reason: str | None


class SnapshotOut(BaseModel):
    loan_id: str
    as_of: date
    status: str
    days_past_due: int
    bucket: str
    classification: str
    ifrs9_stage: int
    outstanding_principal: str
    overdue_principal: str
    overdue_interest: str
    overdue_fee: str
    overdue_penalty: str
    penalty_accrued: str
    next_due_on: date | None
    next_due_amount: str | None
    rules_version: str


class EventOut(BaseModel):
    seq: int
    type: str
    loan_id: str | None
    borrower_id: str | None
    payload: dict[str, Any]
    occurred_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_after_seq: int = Field(description="Pass as `after_seq` to read on.")


# ------------------------------------------------------------------ payments


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loan_id: Id
    amount: Money
    paid_on: Day
    reference: Text | None = None
    payment_id: Id | None = Field(
        None, description="The payer's id for the payment; made up when absent."
    )


class PaymentPosted(BaseModel):
    payment_id: str
    loan: LoanStatusOut


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


# ------------------------------------------------------------------ portfolio and COB


class Distribution(BaseModel):
    count: int
    balance: str


class PortfolioOut(BaseModel):
    as_of: date
    currency: str
    loans: int
    outstanding_principal: str
    buckets: dict[str, Distribution]
    classification: dict[str, Distribution]
    stages: dict[str, Distribution]
    par30: float | None
    par90: float | None
    npl_ratio: float | None
    include_restructured: bool
    written_off: Distribution
    rules_version: str
    bucket_version: str
    bucket_tables: dict[str, Any]


class CobRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: Day | None = Field(None, description="The date to close; default the business date.")


class CobRunOut(BaseModel):
    run_id: int
    as_of: date
    mode: str
    engine: str
    status: str
    rules_version: str
    started_at: datetime
    finished_at: datetime | None
    loans: int
    snapshots: int
    transitions: int
    seconds: float | None
    error: str | None


# ------------------------------------------------------------------ users and tokens


Username = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]
Role = Annotated[str, Field(pattern=r"^(admin|risk|collector|legal|auditor|borrower)$")]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    role: Role
    password: Password | None = Field(None, description="Absent: the user signs in by token only.")
    borrower_id: Id | None = None


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    role: Role | None = None
    password: Password | None = None


class UserOut(BaseModel):
    username: str
    role: str
    borrower_id: str | None
    active: bool
    created_at: datetime
    has_password: bool


class TokenOut(BaseModel):
    token_id: int
    username: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown this once only.")


class AccessLogOut(BaseModel):
    id: int
    username: str
    at: datetime
    fields: str
    borrower_id: str | None
    loan_id: str | None
    unmasked: bool
    route: str
