"""A loan's status on any date: days past due, bucket, five-category class, IFRS 9 stage.

Everything is derived from the terms, the schedule and the payments dated on or before `as_of`
(see `allocation.replay`), so the status of any past date can be recomputed exactly.

- `days_past_due` counts calendar days from the oldest due date whose scheduled amount is still
  unpaid above the product's tolerance; on the due date itself nothing is overdue yet; paused
  days do not count.
- `bucket` and `classification` come from the product's DPD band tables. A restructured loan is at
  least special mention during its observation period and at least substandard if it went overdue
  in that period; a live manual override can only make the class worse; a written-off loan is loss.
- `ifrs9_stage`: 3 at 91+ DPD or written off, 2 at 31–90 DPD or restructured in observation, else 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from arrears.loans.allocation import Repayment, merge_pauses, paused_days, replay
from arrears.loans.bands import worse_classification
from arrears.loans.dates import add_months
from arrears.loans.product import Product
from arrears.loans.terms import Loan

STAGE_2_DPD = 31
STAGE_3_DPD = 91


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


def observation_end(loan: Loan, product: Product) -> date | None:
    """Last day of a restructured loan's observation period (R12), or None if not restructured.

    The period starts at the first due date of the new terms and lasts at least
    `observation_months` and at least `observation_periods` repayment periods.
    """
    if loan.restructured_on is None:
        return None
    new_dues = [i.due_on for i in loan.schedule if i.due_on > loan.restructured_on]
    if not new_dues:
        return loan.restructured_on
    by_months = add_months(new_dues[0], product.observation_months)
    by_periods = new_dues[min(product.observation_periods, len(new_dues)) - 1]
    return max(by_months, by_periods)


def days_past_due(repayment: Repayment, pauses: list[tuple[date, date]]) -> int:
    """DPD at `repayment.as_of` from the replayed instalments."""
    as_of = repayment.as_of
    for state in repayment.instalments:  # schedule order = due order
        if state.item.due_on < as_of and (state.settled_on is None or state.settled_on > as_of):
            due = state.item.due_on
            return (as_of - due).days - paused_days(due, as_of, pauses)
    return 0


def went_overdue_between(repayment: Repayment, start: date, end: date) -> bool:
    """Whether any instalment was past due on some day in [start, end]."""
    for state in repayment.instalments:
        first_late = state.item.due_on + timedelta(days=1)
        last_late = end if state.settled_on is None else state.settled_on - timedelta(days=1)
        if max(first_late, start) <= min(last_late, end):
            return True
    return False


def loan_status(
    loan: Loan, product: Product, as_of: date, repayment: Repayment | None = None
) -> LoanStatus:
    """The status of `loan` at the end of business on `as_of`. A caller that has already
    replayed the loan to `as_of` (`replay(loan, product, as_of)`) may pass it as `repayment`."""
    if repayment is None:
        repayment = replay(loan, product, as_of)
    pauses = merge_pauses(loan.pauses)
    dpd = days_past_due(repayment, pauses)
    states = repayment.instalments
    overdue = [s for s in states if s.item.due_on < as_of]
    written_off = loan.written_off_on is not None and loan.written_off_on <= as_of

    classification = product.classification.name_for(dpd)
    obs_end = observation_end(loan, product)
    in_observation = (
        obs_end is not None
        and loan.restructured_on is not None
        and loan.restructured_on <= as_of <= obs_end
    )
    if in_observation:
        classification = worse_classification(classification, "special_mention")
        if went_overdue_between(repayment, loan.restructured_on, as_of):  # type: ignore[arg-type]
            classification = worse_classification(classification, "substandard")
    for override in loan.overrides:
        live = (override.effective_on is None or override.effective_on <= as_of) and (
            override.expires_on is None or as_of <= override.expires_on
        )
        if live:
            classification = worse_classification(classification, override.classification)
    if written_off:
        classification = "loss"

    if written_off or dpd >= STAGE_3_DPD:
        stage = 3
    elif dpd >= STAGE_2_DPD or in_observation:
        stage = 2
    else:
        stage = 1

    penalty_unpaid = sum(s.penalty for s in states)
    everything_paid = all(s.unpaid == 0 for s in states) and penalty_unpaid == 0
    if written_off:
        status = "written_off"
    elif everything_paid and as_of >= loan.terms.disbursed_on:
        status = "paid_off"
    elif dpd > 0:
        status = "overdue"
    elif in_observation:
        status = "restructured"
    else:
        status = "active"

    upcoming = next((s for s in states if s.item.due_on >= as_of and s.unpaid > 0), None)
    terms = loan.terms
    wanted_rate = product.penalty.rate if terms.penalty_rate is None else terms.penalty_rate
    return LoanStatus(
        loan_id=loan.loan_id,
        as_of=as_of,
        status=status,
        days_past_due=dpd,
        bucket=product.buckets.name_for(dpd),
        classification=classification,
        ifrs9_stage=stage,
        outstanding_principal=sum(s.principal for s in states),
        overdue_principal=sum(s.principal for s in overdue),
        overdue_interest=sum(s.interest for s in overdue),
        overdue_fee=sum(s.fee for s in overdue),
        overdue_penalty=penalty_unpaid,
        next_due_on=upcoming.item.due_on if upcoming else None,
        next_due_amount=upcoming.unpaid if upcoming else None,
        penalty_accrued_today=repayment.penalty_today,
        applied_penalty_rate=repayment.penalty_rate,
        penalty_rate_capped=repayment.penalty_rate < wanted_rate,
        credit_balance=repayment.credit_balance,
        in_observation=in_observation,
    )
