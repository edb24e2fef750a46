"""Invariants that hold for every loan, checked on random terms and payments (hypothesis)."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.loans.allocation import replay
from arrears.loans.product import INTEREST_BASES
from arrears.loans.schedule import annuity_payment, build_schedule
from arrears.loans.status import loan_status
from arrears.loans.terms import Loan, LoanTerms, Payment

from .helpers import product

GENERATED = ("equal_installment", "equal_principal", "interest_only", "bullet")

principals = st.integers(min_value=1, max_value=10**12)
rates = st.decimals(min_value=0, max_value=Decimal("0.36"), places=4)
months = st.integers(min_value=1, max_value=360)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def loan_terms(draw, max_months=360):
    return LoanTerms(
        principal=draw(principals),
        annual_rate=draw(rates),
        term_months=draw(st.integers(min_value=1, max_value=max_months)),
        method=draw(st.sampled_from(GENERATED)),
        disbursed_on=draw(days),
        interest_basis=draw(st.sampled_from(INTEREST_BASES)),
    )


@given(loan_terms())
def test_schedule_principal_sums_to_the_principal(terms):
    rows = build_schedule(terms)
    assert sum(r.principal for r in rows) == terms.principal
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    assert [r.due_on for r in rows] == sorted({r.due_on for r in rows})


@settings(max_examples=1000)
@given(
    st.integers(min_value=1, max_value=10**10),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.36"), places=4),
    months,
)
def test_equal_instalment_matches_numpy_financial_pmt(principal, rate, n):
    """The annuity formula agrees with numpy_financial.pmt, rounded half-up to the cent.

    Compared up to 100 million (10^10 minor units) and from 0.1% a year: beyond that numpy's
    float formula itself loses cents to cancellation in (1 + r)^n − 1, while ours stays exact.
    """
    exact = float(-npf.pmt(float(rate) / 12, n, principal))
    ours = annuity_payment(principal, rate, n)
    rounded = int(Decimal(exact).quantize(Decimal(1), ROUND_HALF_UP))
    # A float carries ~16 digits: where numpy's value sits within its own error of a half cent,
    # either neighbour is the same answer; everywhere else the cents must be identical.
    near_half = abs(abs(exact - int(exact)) - 0.5) < 1e-9 * max(1.0, exact)
    assert ours == rounded or (near_half and abs(ours - rounded) == 1)


@st.composite
def loans_with_payments(draw):
    terms = draw(loan_terms(max_months=36))
    terms = LoanTerms(
        **{
            **{f: getattr(terms, f) for f in terms.__slots__},
            "principal": draw(st.integers(100, 10**9)),
            "penalty_rate": draw(st.sampled_from([None, Decimal(0), Decimal("0.18")])),
        }
    )
    rows = build_schedule(terms)
    horizon = (rows[-1].due_on - terms.disbursed_on).days + 120
    n = draw(st.integers(0, 12))
    payments = tuple(
        Payment(
            f"p{k}",
            terms.disbursed_on + timedelta(days=draw(st.integers(0, horizon))),
            draw(st.integers(1, max(1, terms.principal // 3))),
        )
        for k in range(n)
    )
    code = draw(st.sampled_from(["consumer", "sme", "project", "supply_chain", "card"]))
    return Loan("L", terms, rows, payments), product(code)


@settings(max_examples=150, deadline=None)
@given(loans_with_payments(), st.integers(0, 2000))
def test_allocations_sum_to_each_payment(case, offset):
    """Every payment is spread in full: over instalments and components, or held as credit."""
    lo, p = case
    as_of = lo.terms.disbursed_on + timedelta(days=offset)
    rep = replay(lo, p, as_of)
    for payment in lo.payments:
        expected = payment.amount if payment.paid_on <= as_of else 0
        assert rep.paid_by(payment.payment_id) == expected
    assert all(
        s.principal >= 0 and s.interest >= 0 and s.fee >= 0 and s.penalty >= 0
        for s in rep.instalments
    )


@settings(max_examples=100, deadline=None)
@given(loans_with_payments(), st.integers(0, 400), st.integers(1, 400))
def test_dpd_never_decreases_without_payments(case, start, step):
    lo, p = case
    last = max([pay.paid_on for pay in lo.payments], default=lo.terms.disbursed_on)
    first_day = last + timedelta(days=start)
    earlier = loan_status(lo, p, first_day).days_past_due
    later = loan_status(lo, p, first_day + timedelta(days=step)).days_past_due
    assert later >= earlier


@settings(max_examples=100, deadline=None)
@given(loans_with_payments(), st.integers(0, 1500))
def test_paying_everything_due_brings_dpd_to_zero(case, offset):
    lo, p = case
    as_of = lo.terms.disbursed_on + timedelta(days=offset)
    lo = Loan(
        lo.loan_id, lo.terms, lo.schedule, tuple(x for x in lo.payments if x.paid_on <= as_of)
    )
    rep = replay(lo, p, as_of)
    due = sum(s.unpaid + s.penalty for s in rep.instalments if s.item.due_on <= as_of)
    if due:
        lo = Loan(lo.loan_id, lo.terms, lo.schedule, (*lo.payments, Payment("settle", as_of, due)))
    status = loan_status(lo, p, as_of)
    assert status.days_past_due == 0
    assert status.overdue_principal == status.overdue_interest == status.overdue_penalty == 0
