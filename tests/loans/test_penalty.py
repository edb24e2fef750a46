"""Penalty interest (罚息): per calendar day on overdue amounts, capped by the all-in cost cap."""

from decimal import Decimal

from arrears.loans.allocation import replay
from arrears.loans.status import loan_status
from arrears.loans.terms import Pause

from .helpers import d, loan, product, simple_schedule, terms

# 10,000.00 principal, contract rate 5%, penalty 18.25% a year = 0.05% a day = 5.00 a day.
T = terms(principal=1000000, rate="0.05", penalty_rate=Decimal("0.1825"))
ONE = simple_schedule(("2026-01-31", 1000000, 4167))


def test_penalty_accrues_from_the_day_after_the_due_date():
    assert replay(loan(ONE, t=T), product(), d("2026-01-31")).instalments[0].penalty == 0
    assert replay(loan(ONE, t=T), product(), d("2026-02-01")).instalments[0].penalty == 500
    assert replay(loan(ONE, t=T), product(), d("2026-02-10")).instalments[0].penalty == 5000


def test_penalty_stops_once_the_principal_is_paid():
    """Paid in full on 5 Feb (5 days × 5.00 of penalty first): no penalty accrues after."""
    paid = loan(ONE, [("2026-02-05", 1000000 + 4167 + 2500)], T)
    status = loan_status(paid, product(), d("2026-03-31"))
    assert status.overdue_penalty == 0 and status.days_past_due == 0 and status.status == "paid_off"


def test_penalty_base_can_include_interest():
    """Base principal + interest: (10,000.00 + 1,000.00) × 18.25% / 365 = 5.50 a day."""
    p = product(penalty={"rate": "0.1825", "base": "principal_and_interest"})
    one = simple_schedule(("2026-01-31", 1000000, 100000))
    assert replay(loan(one, t=T), p, d("2026-02-02")).instalments[0].penalty == 1100


def test_penalty_rate_is_capped_so_contract_plus_penalty_stays_within_the_cost_cap():
    """Contract 18% + penalty 12% would be 30% a year; the 24% cap leaves 6% for penalty."""
    t = terms(principal=1000000, rate="0.18", penalty_rate=Decimal("0.12"))
    status = loan_status(loan(ONE, t=t), product(), d("2026-02-01"))
    assert status.applied_penalty_rate == Decimal("0.06")
    assert status.penalty_rate_capped is True
    assert status.penalty_accrued_today == 164  # 10,000.00 × 6% / 365 = 1.6438… → 1.64


def test_no_penalty_on_paused_days():
    """A hardship pause 5–14 Feb (10 days): by 20 Feb only 10 of the 20 late days accrue."""
    status = loan_status(
        loan(ONE, t=T, pauses=[Pause(d("2026-02-05"), d("2026-02-14"), "hardship")]),
        product(),
        d("2026-02-20"),
    )
    assert status.overdue_penalty == 5000


def test_no_penalty_after_write_off():
    written_off = loan(ONE, t=T, written_off_on=d("2026-02-10"))
    assert replay(written_off, product(), d("2026-06-30")).instalments[0].penalty == 5000


def test_penalty_through_a_date_does_not_depend_on_intermediate_closes():
    """Each day's amount is rounded alone, so day-by-day and one jump agree to the cent."""
    t = terms(principal=1234567, rate="0.05", penalty_rate=Decimal("0.1777"))
    one = simple_schedule(("2026-01-31", 1234567, 0))
    daily = sum(
        loan_status(loan(one, t=t), product(), d(f"2026-02-{k:02d}")).penalty_accrued_today
        for k in range(1, 29)
    )
    assert daily == replay(loan(one, t=t), product(), d("2026-02-28")).instalments[0].penalty
