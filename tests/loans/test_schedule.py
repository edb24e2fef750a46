"""Terms → schedule: the five methods, due dates, interest bases and rounding."""

from datetime import date
from decimal import Decimal

import pytest

from arrears.loans.dates import add_months
from arrears.loans.schedule import (
    ScheduleError,
    annuity_payment,
    build_schedule,
    check_custom_schedule,
)
from arrears.loans.terms import Installment

from .helpers import d, terms


def test_equal_installment_120k_at_12_percent_over_12_months():
    """等额本息: 120,000.00 at 12% a year for 12 months pays 10,661.85 a month; the first month's
    interest is 1% of 120,000 = 1,200.00, the rest of the instalment repays principal."""
    rows = build_schedule(terms())
    assert annuity_payment(12000000, Decimal("0.12"), 12) == 1066185
    assert rows[0] == Installment(1, d("2026-02-15"), 946185, 120000)
    assert rows[1].interest == 110538  # 1% of 110,538.15 → 1,105.3815 → 1,105.38
    assert all(r.total == 1066185 for r in rows[:-1])
    # The last instalment takes whatever principal remains: 10,556.35, so it totals 10,661.91.
    assert rows[-1] == Installment(12, d("2027-01-15"), 1055635, 10556)
    assert sum(r.principal for r in rows) == 12000000


def test_equal_principal_repays_the_same_principal_each_month():
    """等额本金: 120,000 over 12 months repays 10,000 of principal each month; interest falls
    with the balance: 1,200.00, 1,100.00, … 100.00."""
    rows = build_schedule(terms(method="equal_principal"))
    assert [r.principal for r in rows] == [1000000] * 12
    assert [r.interest for r in rows] == [120000 - 10000 * k for k in range(12)]


def test_equal_principal_last_instalment_absorbs_rounding():
    """100.00 over 3 months: 33.33 + 33.33 + 33.34."""
    rows = build_schedule(terms(principal=10000, months=3, method="equal_principal"))
    assert [r.principal for r in rows] == [3333, 3333, 3334]


def test_interest_only_pays_interest_monthly_and_principal_at_maturity():
    """先息后本: 12 × 1,200.00 interest, the 120,000 principal with the last instalment."""
    rows = build_schedule(terms(method="interest_only"))
    assert [r.interest for r in rows] == [120000] * 12
    assert [r.principal for r in rows] == [0] * 11 + [12000000]


def test_bullet_single_period_of_n_months_earns_n_months():
    """一次性还本付息: 6 months at 12% on 50,000 → one instalment on 2026-07-15 of 50,000 + 3,000."""
    rows = build_schedule(terms(principal=5000000, months=6, method="bullet"))
    assert rows == (Installment(1, d("2026-07-15"), 5000000, 300000),)


def test_bullet_act365_counts_actual_days():
    """90 days at 10% on 100,000 on act/365: 100,000 × 0.10 × 90/365 = 2,465.753… → 2,465.75."""
    t = terms(principal=10000000, rate="0.10", months=3, method="bullet", disbursed="2026-01-01")
    (row,) = build_schedule(t, basis="act365")
    assert row.due_on == d("2026-04-01") and (row.due_on - t.disbursed_on).days == 90
    assert row.interest == 246575


def test_act360_uses_actual_days_over_360():
    """February 2026 has 28 days: 120,000 × 0.12 × 28/360 = 1,120.00 for the second period."""
    rows = build_schedule(terms(method="interest_only", disbursed="2026-01-01"), basis="act360")
    assert (rows[1].due_on - rows[0].due_on).days == 28
    assert rows[1].interest == 112000
    assert rows[0].interest == 124000  # January: 31 days


def test_loan_interest_basis_overrides_product_basis():
    rows = build_schedule(
        terms(method="interest_only", disbursed="2026-01-01", interest_basis="act360")
    )
    assert rows[1].interest == 112000


def test_due_dates_clamp_to_month_end_and_keep_the_anchor_day():
    """Disbursed Jan 31 → due Feb 28 (29 in a leap year) → Mar 31 → Apr 30."""
    rows = build_schedule(terms(months=4, disbursed="2026-01-31"))
    assert [r.due_on for r in rows] == [
        d("2026-02-28"),
        d("2026-03-31"),
        d("2026-04-30"),
        d("2026-05-31"),
    ]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_first_due_on_sets_the_day_of_month():
    rows = build_schedule(terms(months=3, first_due_on=d("2026-02-20")))
    assert [r.due_on for r in rows] == [d("2026-02-20"), d("2026-03-20"), d("2026-04-20")]


def test_first_due_on_must_follow_disbursement():
    with pytest.raises(ScheduleError, match="not after disbursement"):
        build_schedule(terms(first_due_on=d("2026-01-15")))


def test_zero_rate_splits_principal_evenly():
    rows = build_schedule(terms(rate="0", months=3, principal=10000))
    assert [r.principal for r in rows] == [3333, 3333, 3334]
    assert all(r.interest == 0 for r in rows)


def test_half_up_rounding_of_interest():
    """0.5 of a cent rounds up: 150 cents × 1% = 1.5 cents → 2 cents."""
    rows = build_schedule(terms(principal=150, rate="0.12", months=1, method="interest_only"))
    assert rows[0].interest == 2


def test_custom_schedule_must_sum_to_principal():
    t = terms(principal=100000, method="custom")
    rows = [
        Installment(1, d("2026-03-01"), 40000, 100),
        Installment(2, d("2026-06-01"), 50000, 100),
    ]
    with pytest.raises(ScheduleError, match="sums to 90000"):
        check_custom_schedule(t, rows)
    rows[1] = Installment(2, d("2026-06-01"), 60000, 100)
    assert check_custom_schedule(t, rows) == tuple(rows)


def test_custom_schedule_due_dates_must_increase():
    t = terms(principal=100, method="custom")
    rows = [Installment(1, d("2026-03-01"), 50, 0), Installment(2, d("2026-03-01"), 50, 0)]
    with pytest.raises(ScheduleError, match="not after"):
        check_custom_schedule(t, rows)
