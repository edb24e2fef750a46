"""Payment allocation and penalty interest (罚息), replayed from the loan's history.

A loan's repayment state is not stored: it is replayed, day by day in effect, from the schedule
and the payments dated on or before `as_of`. Between two events (a payment, a due date, `as_of`)
nothing changes, so the replay jumps from event to event.

Penalty interest accrues per calendar day, from the day after an instalment's due date until it is
paid, on that instalment's overdue principal (or principal and interest, per product), at the
applied annual penalty rate / 365. Each day's amount is rounded to the minor unit by the product's
rule, so the penalty through a date never depends on how often the book was closed. A day's penalty
accrues on the amount overdue at the start of that day: a payment on day D pays D's penalty first.
Paused days (hardship) and days after a write-off accrue nothing.

A payment pays what is due on its date (instalments with due date ≤ payment date), oldest
instalment first. `horizontal` allocation settles each instalment in the product's component order
before the next; `vertical` pays one component across all due instalments, then the next component.
Money beyond everything due goes to future instalments in order (`future`), or is held as credit
and applied as instalments fall due (`credit`). A reversed payment counts for nothing: reversing
one is a replay without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from arrears.loans.money import minor_units, round_minor
from arrears.loans.product import Product
from arrears.loans.terms import Installment, Loan, Pause, Payment

# `settled_on` of an instalment that never owed more than the tolerance: before any business date.
ALWAYS_SETTLED = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """Part of a payment applied to one component of one instalment (`seq=None`: held as credit)."""

    payment_id: str
    seq: int | None
    component: str  # penalty | fee | interest | principal | credit
    amount: int
    applied_on: date


@dataclass(slots=True)
class InstalmentState:
    """What is still owed on one instalment during the replay (minor units)."""

    item: Installment
    principal: int
    interest: int
    fee: int
    penalty: int = 0  # accrued and unpaid
    penalty_accrued: int = 0  # accrued in total
    accrued_through: date | None = None  # last day whose penalty is counted
    settled_on: date | None = None  # first day the scheduled amount was within tolerance

    @property
    def unpaid(self) -> int:
        """Scheduled amount still unpaid (penalty excluded: it does not make a loan past due)."""
        return self.principal + self.interest + self.fee

    def owed(self, component: str) -> int:
        return getattr(self, component)

    def pay(self, component: str, amount: int) -> None:
        setattr(self, component, getattr(self, component) - amount)


@dataclass(slots=True)
class Repayment:
    """The outcome of replaying a loan to `as_of`."""

    as_of: date
    instalments: list[InstalmentState]
    lines: list[AllocationLine] = field(default_factory=list)
    # Money held as credit, oldest first: (payment_id, amount, received_on).
    credit: list[tuple[str, int, date]] = field(default_factory=list)
    penalty_rate: Decimal = Decimal(0)
    penalty_today: int = 0

    @property
    def credit_balance(self) -> int:
        return sum(amount for _, amount, _ in self.credit)

    def paid_by(self, payment_id: str) -> int:
        return sum(line.amount for line in self.lines if line.payment_id == payment_id)


def merge_pauses(pauses: Iterable[Pause]) -> list[tuple[date, date]]:
    """Pauses as sorted, non-overlapping inclusive ranges."""
    merged: list[tuple[date, date]] = []
    for pause in sorted(pauses, key=lambda p: p.start):
        if merged and pause.start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], pause.end))
        else:
            merged.append((pause.start, pause.end))
    return merged


def paused_days(after: date, through: date, pauses: list[tuple[date, date]]) -> int:
    """Paused days in the span (after, through]."""
    first = after + timedelta(days=1)
    total = 0
    for start, end in pauses:
        lo, hi = max(first, start), min(through, end)
        if hi >= lo:
            total += (hi - lo).days + 1
    return total


def tolerance_minor(product: Product, currency: str) -> int:
    return round_minor(product.tolerance.scaleb(minor_units(currency)), product.rounding)


def daily_penalty(base: int, rate: Decimal, product: Product) -> int:
    """One day's penalty interest on `base` minor units."""
    return round_minor(Decimal(base) * rate / 365, product.rounding)


def replay(loan: Loan, product: Product, as_of: date) -> Repayment:
    """Replay the loan's payments (dated ≤ `as_of`, not reversed) over its schedule."""
    terms = loan.terms
    rate = product.applied_penalty_rate(terms.annual_rate, terms.penalty_rate)
    tolerance = tolerance_minor(product, terms.currency)
    pauses = merge_pauses(loan.pauses)
    accrual_stop = loan.written_off_on
    states = [InstalmentState(i, i.principal, i.interest, i.fee) for i in loan.schedule]
    for state in states:
        if state.unpaid <= tolerance:
            state.settled_on = ALWAYS_SETTLED
    result = Repayment(as_of=as_of, instalments=states, penalty_rate=rate)
    payments = sorted(
        (p for p in loan.payments if not p.reversed and p.paid_on <= as_of),
        key=lambda p: (p.paid_on, p.payment_id),
    )
    due_days = sorted({s.item.due_on for s in states if s.item.due_on <= as_of})
    days = sorted({*(p.paid_on for p in payments), *due_days, as_of})
    overpay_future = product.allocation.overpayment == "future"
    by_day: dict[date, list[Payment]] = {}
    for payment in payments:
        by_day.setdefault(payment.paid_on, []).append(payment)

    def accrue(through: date) -> int:
        """Accrue penalty on every overdue instalment up to and including `through`."""
        added = 0
        stop = through if accrual_stop is None else min(through, accrual_stop)
        for state in states:
            due = state.item.due_on
            start = max(due, state.accrued_through or due)
            if stop <= start:
                continue
            base = state.principal + (state.interest if product.penalty.base != "principal" else 0)
            if base > 0 and rate > 0:
                n = (stop - start).days - paused_days(start, stop, pauses)
                amount = n * daily_penalty(base, rate, product)
                state.penalty += amount
                state.penalty_accrued += amount
                added += amount
            state.accrued_through = stop
        return added

    def apply(payment_id: str, amount: int, day: date, future: bool) -> int:
        """Spread `amount` over what is due on `day` (and the future, if asked); return the rest."""
        due = [s for s in states if s.item.due_on <= day]
        order = product.allocation.order
        if product.allocation.method == "horizontal":
            plan = [(s, c) for s in due for c in order]
        else:
            plan = [(s, c) for c in order for s in due]
        if future:
            plan += [(s, c) for s in states if s.item.due_on > day for c in order]
        for state, component in plan:
            if amount == 0:
                break
            part = min(amount, state.owed(component))
            if part > 0:
                state.pay(component, part)
                amount -= part
                result.lines.append(
                    AllocationLine(payment_id, state.item.seq, component, part, day)
                )
                if state.settled_on is None and state.unpaid <= tolerance:
                    state.settled_on = day
        return amount

    for day in days:
        if day == as_of:
            accrue(as_of - timedelta(days=1))
            before = sum(s.penalty_accrued for s in states)
            accrue(day)
            result.penalty_today = sum(s.penalty_accrued for s in states) - before
        else:
            accrue(day)
        if result.credit and day in due_days:
            held, result.credit = result.credit, []
            for payment_id, amount, received_on in held:
                rest = apply(payment_id, amount, day, future=False)
                if rest:
                    result.credit.append((payment_id, rest, received_on))
        for payment in by_day.get(day, ()):
            rest = apply(payment.payment_id, payment.amount, day, overpay_future)
            if rest:
                result.credit.append((payment.payment_id, rest, day))
    for payment_id, amount, received_on in result.credit:
        result.lines.append(AllocationLine(payment_id, None, "credit", amount, received_on))
    return result
