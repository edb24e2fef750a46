"""The values a loan is made of: its terms, its instalments, its payments, pauses and overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from arrears.loans.product import InterestBasis, RepaymentMethod


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """What the contract says. `principal` in minor units; `annual_rate` as a decimal fraction."""

    principal: int
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    disbursed_on: date
    currency: str = "CNY"
    first_due_on: date | None = None
    interest_basis: InterestBasis | None = None  # None: the product's basis
    penalty_rate: Decimal | None = None  # None: the product's rate


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled instalment (期). Amounts in minor units."""

    seq: int
    due_on: date
    principal: int
    interest: int
    fee: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received from the borrower. A reversed payment counts for nothing."""

    payment_id: str
    paid_on: date
    amount: int
    reversed: bool = False


@dataclass(frozen=True, slots=True)
class Pause:
    """A hardship pause: the days from `start` to `end` (inclusive) neither count towards DPD nor
    accrue penalty interest."""

    start: date
    end: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Override:
    """A manual classification that can only make a loan worse, until `expires_on` (inclusive)."""

    classification: str
    reason: str
    author: str
    expires_on: date | None = None
    effective_on: date | None = None


@dataclass(frozen=True, slots=True)
class Loan:
    """Everything the status rules read about one loan."""

    loan_id: str
    terms: LoanTerms
    schedule: tuple[Installment, ...]
    payments: tuple[Payment, ...] = ()
    pauses: tuple[Pause, ...] = ()
    overrides: tuple[Override, ...] = ()
    restructured_on: date | None = None
    written_off_on: date | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)
