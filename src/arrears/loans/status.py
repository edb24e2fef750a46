"""Loan status on a date (placeholder: being written)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class LoanStatus:
    loan_id: str
    as_of: date
    status: str  # active | overdue | paid_off | written_off | restructured
    days_past_due: int
    bucket: str
    classification: str
    ifrs9_stage: int
    outstanding_principal: int
    overdue_principal: int
    overdue_interest: int
    overdue_fee: int
    overdue_penalty: int
    next_due_on: date | None
    next_due_amount: int | None
    penalty_accrued_today: int
    applied_penalty_rate: Decimal
    penalty_rate_capped: bool
    credit_balance: int
    in_observation: bool
