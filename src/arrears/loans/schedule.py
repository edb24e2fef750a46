"""Terms → repayment schedule (还款计划).

Five methods: `equal_installment` (等额本息, annuity), `equal_principal` (等额本金),
`interest_only` (先息后本), `bullet` (一次性还本付息) and `custom` (given rows). Periods are monthly;
the first due date defaults to disbursement + 1 month on the same day, clamped to the month's end.
Every component is rounded to the minor unit by the product's rule; the last instalment takes
whatever principal remains, so principal parts always sum to the principal exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from arrears.loans.dates import add_months
from arrears.loans.money import RoundingRule, round_minor
from arrears.loans.product import InterestBasis
from arrears.loans.terms import Installment, LoanTerms


class ScheduleError(ValueError):
    """Terms or custom rows that do not make a valid schedule."""


def due_dates(terms: LoanTerms, periods: int) -> list[date]:
    """The `periods` monthly due dates of a loan."""
    if terms.first_due_on is not None:
        if terms.first_due_on <= terms.disbursed_on:
            raise ScheduleError(
                f"first due date {terms.first_due_on} is not after disbursement {terms.disbursed_on}"
            )
        first, anchor = terms.first_due_on, terms.first_due_on.day
    else:
        first, anchor = add_months(terms.disbursed_on, 1), terms.disbursed_on.day
    return [add_months(first, k, anchor) for k in range(periods)]


def period_interest(
    balance: int,
    annual_rate: Decimal,
    start: date,
    end: date,
    basis: InterestBasis,
    months: int = 1,
    rounding: RoundingRule = "half_up",
) -> int:
    """Interest on `balance` (minor units) for the period (start, end].

    `monthly`: annual rate / 12 for each of the period's `months`; `act365`/`act360`: the actual
    days of the period over 365/360.
    """
    if basis == "monthly":
        exact = Decimal(balance) * annual_rate * months / 12
    else:
        days = (end - start).days
        exact = Decimal(balance) * annual_rate * days / (365 if basis == "act365" else 360)
    return round_minor(exact, rounding)


def annuity_payment(
    principal: int, annual_rate: Decimal, periods: int, rounding: RoundingRule = "half_up"
) -> int:
    """The equal instalment P·r / (1 − (1 + r)^−n) with r = annual rate / 12, rounded."""
    if annual_rate == 0:
        return round_minor(Decimal(principal) / periods, rounding)
    r = annual_rate / 12
    factor = (1 + r) ** periods
    return round_minor(Decimal(principal) * r * factor / (factor - 1), rounding)


def build_schedule(
    terms: LoanTerms,
    basis: InterestBasis = "monthly",
    rounding: RoundingRule = "half_up",
) -> tuple[Installment, ...]:
    """The schedule for generated methods (every method but `custom`)."""
    basis = terms.interest_basis or basis
    n = terms.term_months
    if terms.principal <= 0:
        raise ScheduleError(f"principal must be positive, got {terms.principal}")
    if n <= 0:
        raise ScheduleError(f"term must be at least one month, got {n}")
    if terms.annual_rate < 0:
        raise ScheduleError(f"annual rate must be ≥ 0, got {terms.annual_rate}")
    if terms.method == "custom":
        raise ScheduleError("a custom schedule is given as rows, not generated")
    if terms.method == "bullet":
        (due,) = due_dates(terms, 1) if terms.first_due_on else [add_months(terms.disbursed_on, n)]
        interest = period_interest(
            terms.principal, terms.annual_rate, terms.disbursed_on, due, basis, n, rounding
        )
        return (Installment(1, due, terms.principal, interest),)

    dates = due_dates(terms, n)
    starts = [terms.disbursed_on, *dates[:-1]]
    pmt = annuity_payment(terms.principal, terms.annual_rate, n, rounding)
    level = round_minor(Decimal(terms.principal) / n, rounding)
    balance = terms.principal
    rows: list[Installment] = []
    for k, (start, due) in enumerate(zip(starts, dates, strict=True), start=1):
        interest = period_interest(balance, terms.annual_rate, start, due, basis, 1, rounding)
        if k == n:
            principal = balance
        elif terms.method == "equal_installment":
            principal = pmt - interest
        elif terms.method == "equal_principal":
            principal = level
        else:  # interest_only
            principal = 0
        # Clamp so that rounding on tiny loans can never overdraw or go negative.
        principal = min(max(principal, 0), balance)
        rows.append(Installment(k, due, principal, interest))
        balance -= principal
    return tuple(rows)


def check_custom_schedule(terms: LoanTerms, rows: Sequence[Installment]) -> tuple[Installment, ...]:
    """Validate given rows: sequence 1…n, due dates strictly increasing after disbursement,
    non-negative amounts, principal parts summing to the principal."""
    if not rows:
        raise ScheduleError("a custom schedule needs at least one row")
    ordered = sorted(rows, key=lambda row: row.seq)
    seqs = [row.seq for row in ordered]
    if seqs != list(range(1, len(ordered) + 1)):
        raise ScheduleError(f"instalment numbers must be 1…{len(ordered)}, got {seqs}")
    previous = terms.disbursed_on
    for row in ordered:
        if row.due_on <= previous:
            raise ScheduleError(f"instalment {row.seq} due {row.due_on} is not after {previous}")
        if min(row.principal, row.interest, row.fee) < 0:
            raise ScheduleError(f"instalment {row.seq} has a negative amount")
        previous = row.due_on
    total = sum(row.principal for row in ordered)
    if total != terms.principal:
        raise ScheduleError(
            f"custom schedule principal sums to {total}, loan principal is {terms.principal} (minor units)"
        )
    return tuple(ordered)
