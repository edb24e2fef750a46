"""Payment allocation: oldest instalment first, components in the product's order."""

from decimal import Decimal

from arrears.loans.allocation import replay
from arrears.loans.terms import Payment

from .helpers import d, loan, product, simple_schedule, terms

NO_PENALTY = terms(principal=200000, penalty_rate=Decimal(0))
TWO = simple_schedule(("2026-02-15", 100000, 10000), ("2026-03-15", 100000, 9000))


def owed(rep):
    return [(s.principal, s.interest) for s in rep.instalments]


def test_horizontal_settles_the_oldest_instalment_first():
    """1,500.00 paid on 20 Mar against two overdue instalments (1,100.00 and 1,090.00):
    the first is settled whole, the remaining 400.00 pays the second's interest then principal."""
    rep = replay(loan(TWO, [("2026-03-20", 150000)], NO_PENALTY), product(), d("2026-03-20"))
    assert owed(rep) == [(0, 0), (69000, 0)]
    assert [(line.seq, line.component, line.amount) for line in rep.lines] == [
        (1, "interest", 10000),
        (1, "principal", 100000),
        (2, "interest", 9000),
        (2, "principal", 31000),
    ]


def test_horizontal_partial_payment_leaves_later_instalments_untouched():
    """1,000.00 on 20 Mar: instalment 1 gets interest 100.00 then 900.00 of principal."""
    rep = replay(loan(TWO, [("2026-03-20", 100000)], NO_PENALTY), product(), d("2026-03-20"))
    assert owed(rep) == [(10000, 0), (100000, 9000)]


def test_vertical_pays_one_component_across_instalments_first():
    """1,000.00 on 20 Mar, vertical: both interests (100.00 + 90.00) first, then 810.00 of the
    oldest principal."""
    p = product(allocation={"method": "vertical"})
    rep = replay(loan(TWO, [("2026-03-20", 100000)], NO_PENALTY), p, d("2026-03-20"))
    assert owed(rep) == [(19000, 0), (100000, 0)]


def test_custom_component_order():
    """Order principal → interest: 1,050.00 pays the first principal, then 50.00 of interest."""
    p = product(allocation={"order": ["principal", "interest", "fee", "penalty"]})
    rep = replay(loan(TWO, [("2026-02-20", 105000)], NO_PENALTY), p, d("2026-02-20"))
    assert owed(rep)[0] == (0, 5000)


def test_nothing_is_due_before_its_due_date_so_surplus_goes_to_future_instalments():
    """Overpayment `future`: 1,200.00 on 15 Feb pays instalment 1 (1,100.00) and the next 100.00
    goes to instalment 2 (interest 90.00, then 10.00 principal)."""
    rep = replay(loan(TWO, [("2026-02-15", 120000)], NO_PENALTY), product(), d("2026-02-15"))
    assert owed(rep) == [(0, 0), (99000, 0)]
    assert rep.credit_balance == 0


def test_surplus_held_as_credit_is_applied_when_the_next_instalment_falls_due():
    """Overpayment `credit`: the extra 100.00 waits as credit until 15 Mar."""
    p = product(allocation={"overpayment": "credit"})
    early = replay(loan(TWO, [("2026-02-15", 120000)], NO_PENALTY), p, d("2026-03-14"))
    assert owed(early)[1] == (100000, 9000) and early.credit_balance == 10000
    due = replay(loan(TWO, [("2026-02-15", 120000)], NO_PENALTY), p, d("2026-03-15"))
    assert owed(due)[1] == (99000, 0) and due.credit_balance == 0
    assert due.paid_by("p0") == 120000


def test_money_beyond_the_whole_loan_is_credit():
    rep = replay(loan(TWO, [("2026-02-15", 250000)], NO_PENALTY), product(), d("2026-02-15"))
    assert owed(rep) == [(0, 0), (0, 0)]
    assert rep.credit_balance == 250000 - 219000
    assert rep.lines[-1].component == "credit"


def test_penalty_is_paid_first_by_default():
    """5 days late on 1,000.00 principal at 36.5% penalty (0.10% a day = 1.00 a day): a payment of
    exactly the instalment leaves 5.00 of principal unpaid, because 5.00 went to penalty."""
    t = terms(principal=100000, rate="0", penalty_rate=Decimal("0.365"))
    p = product(cost_cap="1")
    one = simple_schedule(("2026-02-15", 100000, 0))
    rep = replay(loan(one, [("2026-02-20", 100000)], t), p, d("2026-02-20"))
    assert [(line.component, line.amount) for line in rep.lines] == [
        ("penalty", 500),
        ("principal", 99500),
    ]
    assert rep.instalments[0].principal == 500


def test_reversed_payment_counts_for_nothing():
    base = loan(TWO, [("2026-02-15", 110000)], NO_PENALTY)
    reversed_payment = Payment("p0", d("2026-02-15"), 110000, reversed=True)
    undone = base.__class__(
        **{**{f: getattr(base, f) for f in base.__slots__}, "payments": (reversed_payment,)}
    )
    assert owed(replay(undone, product(), d("2026-03-01")))[0] == (100000, 10000)
    assert owed(replay(base, product(), d("2026-03-01")))[0] == (0, 0)


def test_payments_after_as_of_are_ignored():
    rep = replay(loan(TWO, [("2026-03-20", 150000)], NO_PENALTY), product(), d("2026-03-19"))
    assert rep.lines == []
