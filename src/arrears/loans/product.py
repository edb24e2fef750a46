"""A loan product: every rule the book applies "per product", as one validated value.

Products are data (a YAML catalog, see `arrears.catalog`); this module only defines and checks
their shape so that the rules in `loans/` can take a `Product` and nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arrears.loans.bands import (
    CARD_CLASSIFICATION,
    CLASSIFICATIONS,
    DEFAULT_BUCKETS,
    STANDARD_CLASSIFICATION,
    Band,
    BandTable,
)
from arrears.loans.money import RoundingRule

InterestBasis = Literal["monthly", "act365", "act360"]
RepaymentMethod = Literal[
    "equal_installment", "equal_principal", "interest_only", "bullet", "custom"
]
Component = Literal["penalty", "fee", "interest", "principal"]
REPAYMENT_METHODS: tuple[str, ...] = (
    "equal_installment",
    "equal_principal",
    "interest_only",
    "bullet",
    "custom",
)
INTEREST_BASES: tuple[str, ...] = ("monthly", "act365", "act360")
COMPONENTS: tuple[str, ...] = ("penalty", "fee", "interest", "principal")


class Allocation(BaseModel):
    """How a payment is spread over what is due.

    `horizontal`: instalment by instalment, oldest first, each in `order`.
    `vertical`: one component across all due instalments (oldest first), then the next component.
    `overpayment`: money beyond everything due goes to `future` instalments in order, or is held
    as `credit` and applied as instalments fall due.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["horizontal", "vertical"] = "horizontal"
    order: tuple[Component, ...] = ("penalty", "fee", "interest", "principal")
    overpayment: Literal["future", "credit"] = "future"

    @field_validator("order")
    @classmethod
    def _permutation(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(order) != sorted(COMPONENTS):
            raise ValueError(
                f"order must name each of {list(COMPONENTS)} exactly once, got {list(order)}"
            )
        return order


class Penalty(BaseModel):
    """Penalty interest (罚息) on overdue amounts, per calendar day at annual rate / 365."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: Decimal = Decimal(0)
    base: Literal["principal", "principal_and_interest"] = "principal"

    @field_validator("rate")
    @classmethod
    def _rate(cls, rate: Decimal) -> Decimal:
        if rate < 0 or rate > 10:
            raise ValueError(f"penalty rate {rate} outside 0 … 10 (annual fraction)")
        return rate


def _band_list(value: object) -> object:
    """A YAML list of bands becomes a checked table; anything else is left for pydantic to judge."""
    if isinstance(value, list):
        return BandTable(bands=tuple(Band.model_validate(item) for item in value))
    return value


class Product(BaseModel):
    """Everything the rules need to know about a product."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name_zh: str
    name_en: str
    kind: Literal["retail", "non_retail"] = "retail"
    interest_basis: InterestBasis = "monthly"
    rounding: RoundingRule = "half_up"
    allocation: Allocation = Field(default_factory=Allocation)
    penalty: Penalty = Field(default_factory=Penalty)
    # All-in annual cost cap: contract rate + applied penalty rate never exceeds it (24% default).
    cost_cap: Decimal = Decimal("0.24")
    # An instalment whose unpaid amount is at or below this (major units) does not count as overdue.
    tolerance: Decimal = Decimal(0)
    buckets: BandTable = DEFAULT_BUCKETS
    classification: BandTable = STANDARD_CLASSIFICATION
    # Restructured-loan observation period: at least this many months and repayment periods.
    observation_months: int = 12
    observation_periods: int = 2

    @field_validator("buckets", mode="before")
    @classmethod
    def _buckets(cls, value: object) -> object:
        return DEFAULT_BUCKETS if value == "default" else _band_list(value)

    @field_validator("classification", mode="before")
    @classmethod
    def _classification(cls, value: object) -> object:
        named = {"standard": STANDARD_CLASSIFICATION, "card": CARD_CLASSIFICATION}
        return named[value] if isinstance(value, str) and value in named else _band_list(value)

    @field_validator("cost_cap", "tolerance")
    @classmethod
    def _non_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("must be ≥ 0")
        return value

    @model_validator(mode="after")
    def _five_categories(self) -> Product:
        if tuple(self.classification.names()) != CLASSIFICATIONS:
            raise ValueError(
                f"classification bands must be exactly {list(CLASSIFICATIONS)} in that order, "
                f"got {self.classification.names()}"
            )
        return self

    def applied_penalty_rate(self, annual_rate: Decimal, penalty_rate: Decimal | None) -> Decimal:
        """The penalty rate actually charged: the loan's (or product's) rate, limited so that
        contract rate + penalty rate ≤ cost cap."""
        wanted = self.penalty.rate if penalty_rate is None else penalty_rate
        room = max(Decimal(0), self.cost_cap - annual_rate)
        return min(wanted, room)
