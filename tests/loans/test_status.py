"""Status on a date: what days past due, M2, special mention and stage 2 mean, by example."""

from datetime import timedelta
from decimal import Decimal

import pytest

from arrears.loans.schedule import build_schedule
from arrears.loans.status import loan_status, observation_end
from arrears.loans.terms import Installment, Override, Pause

from .helpers import d, loan, product, simple_schedule, terms

T = terms(principal=100000, rate="0", penalty_rate=Decimal(0))
DUE_31_MAR = simple_schedule(("2026-03-31", 100000, 0))


def status_on(day, lo=None, p=None):
    return loan_status(lo or loan(DUE_31_MAR, t=T), p or product(), d(day))


def dpd_at(offset_days, p=None, lo=None):
    return loan_status(
        lo or loan(DUE_31_MAR, t=T), p or product(), d("2026-03-31") + timedelta(days=offset_days)
    )


def test_dpd_counts_days_since_the_oldest_unpaid_due_date():
    """R1: due 31 Mar and unpaid → on 30 Apr the loan is 30 days past due."""
    assert status_on("2026-04-30").days_past_due == 30


def test_nothing_is_overdue_on_the_due_date_itself():
    s = status_on("2026-03-31")
    assert s.days_past_due == 0 and s.overdue_principal == 0 and s.status == "active"
    assert s.next_due_on == d("2026-03-31") and s.next_due_amount == 100000


def test_the_oldest_unpaid_instalment_drives_dpd():
    """Two instalments unpaid: DPD runs from the first due date, not the latest."""
    two = simple_schedule(("2026-03-31", 50000, 0), ("2026-04-30", 50000, 0))
    s = status_on("2026-05-10", loan(two, t=T))
    assert s.days_past_due == 40 and s.overdue_principal == 100000


def test_paying_the_oldest_instalment_moves_dpd_to_the_next():
    two = simple_schedule(("2026-03-31", 50000, 0), ("2026-04-30", 50000, 0))
    s = status_on("2026-05-10", loan(two, [("2026-05-09", 50000)], t=T))
    assert s.days_past_due == 10


def test_fully_paid_means_zero_dpd():
    s = status_on("2026-05-10", loan(DUE_31_MAR, [("2026-05-01", 100000)], t=T))
    assert s.days_past_due == 0 and s.status == "paid_off" and s.bucket == "M0"


def test_tolerance_ignores_a_small_shortfall():
    """The card product tolerates 10.00: paying 995.00 of 1,000.00 is not past due."""
    lo = loan(DUE_31_MAR, [("2026-03-31", 99500)], t=T)
    assert status_on("2026-04-15", lo, product("card")).days_past_due == 0
    assert status_on("2026-04-15", lo, product("consumer")).days_past_due == 15


def test_paused_days_do_not_count():
    """Due 31 Mar, hardship pause 5–14 Apr (10 days): on 20 Apr DPD is 20 − 10 = 10."""
    lo = loan(DUE_31_MAR, t=T, pauses=[Pause(d("2026-04-05"), d("2026-04-14"), "hospital")])
    assert status_on("2026-04-20", lo).days_past_due == 10
    assert status_on("2026-04-10", lo).days_past_due == 4  # frozen during the pause


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, "M0"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M6+"),
        (999, "M6+"),
    ],
)
def test_default_buckets(dpd, bucket):
    """M0 = current, M1 = 1–30 … M6 = 151–180, M6+ = 181 and over."""
    assert dpd_at(dpd).bucket == bucket


@pytest.mark.parametrize(
    ("dpd", "standard", "card"),
    [
        (0, "normal", "normal"),
        (1, "special_mention", "special_mention"),
        (90, "special_mention", "special_mention"),
        (91, "substandard", "substandard"),
        (120, "substandard", "substandard"),
        (121, "substandard", "doubtful"),
        (180, "substandard", "doubtful"),
        (181, "substandard", "loss"),
        (270, "substandard", "loss"),
        (271, "doubtful", "loss"),
        (360, "doubtful", "loss"),
        (361, "loss", "loss"),
    ],
)
def test_five_categories_standard_and_card(dpd, standard, card):
    """2023 rules: 1–90 关注, 91–270 次级, 271–360 可疑, ≥ 361 损失; card: 91–120 / 121–180 / > 180."""
    assert dpd_at(dpd).classification == standard
    assert dpd_at(dpd, product("card")).classification == card


@pytest.mark.parametrize(("dpd", "stage"), [(0, 1), (30, 1), (31, 2), (90, 2), (91, 3), (400, 3)])
def test_ifrs9_stage_by_dpd(dpd, stage):
    assert dpd_at(dpd).ifrs9_stage == stage


def test_written_off_is_stage_3_and_loss():
    lo = loan(DUE_31_MAR, t=T, written_off_on=d("2026-04-05"))
    s = status_on("2026-04-10", lo)
    assert (s.status, s.ifrs9_stage, s.classification) == ("written_off", 3, "loss")
    assert status_on("2026-04-04", lo).status == "overdue"


def test_override_can_only_make_a_loan_worse():
    worse = Override("doubtful", "fraud suspected", "risk.li", expires_on=d("2026-12-31"))
    better = Override("normal", "borrower promised", "collector.wang")
    assert (
        status_on("2026-04-10", loan(DUE_31_MAR, t=T, overrides=(worse,))).classification
        == "doubtful"
    )
    lo = loan(DUE_31_MAR, t=T, overrides=(better,))
    assert status_on("2026-07-10", lo).classification == "substandard"  # 101 DPD, rules win


def test_expired_override_no_longer_applies():
    worse = Override("loss", "court order", "legal.zhao", expires_on=d("2026-04-30"))
    lo = loan(DUE_31_MAR, t=T, overrides=(worse,))
    assert status_on("2026-04-30", lo).classification == "loss"
    assert status_on("2026-05-01", lo).classification == "special_mention"


def restructured_loan(payments):
    """Restructured on 1 Jun 2026 into 24 monthly instalments from 1 Jul 2026."""
    t = terms(
        principal=2400000,
        rate="0",
        months=24,
        method="equal_principal",
        disbursed="2026-06-01",
        penalty_rate=Decimal(0),
    )
    rows = build_schedule(t)
    return loan(rows, payments, t=t, restructured_on=d("2026-06-01"))


def test_observation_period_is_at_least_12_months_and_two_periods():
    """First new due date 1 Jul 2026 → observation ends 1 Jul 2027 (12 months > 2 periods)."""
    assert observation_end(restructured_loan([]), product()) == d("2027-07-01")
    short = loan(
        [Installment(1, d("2026-07-01"), 50000, 0), Installment(2, d("2027-12-01"), 50000, 0)],
        t=T,
        restructured_on=d("2026-06-01"),
    )
    assert observation_end(short, product()) == d("2027-12-01")  # two periods > 12 months


def test_restructured_loan_is_at_least_special_mention_in_observation():
    s = status_on("2026-06-15", restructured_loan([]))
    assert (s.status, s.classification, s.ifrs9_stage, s.days_past_due) == (
        "restructured",
        "special_mention",
        2,
        0,
    )


def test_restructured_loan_overdue_in_observation_is_at_least_substandard():
    """The 1 Jul instalment paid two days late: current again, but substandard for the period."""
    lo = restructured_loan([("2026-07-03", 100000)])
    assert status_on("2026-07-10", lo).days_past_due == 0
    assert status_on("2026-07-10", lo).classification == "substandard"
    on_time = restructured_loan([("2026-07-01", 100000)])
    assert status_on("2026-07-10", on_time).classification == "special_mention"


def test_after_observation_the_rules_apply_again():
    paid = [(f"{2026 + (6 + k) // 12}-{(6 + k) % 12 + 1:02d}-01", 100000) for k in range(14)]
    lo = restructured_loan(paid)
    assert status_on("2027-07-01", lo).classification == "special_mention"
    after = status_on("2027-07-02", lo)
    assert (after.classification, after.status, after.ifrs9_stage) == ("normal", "active", 1)


def test_overdue_amounts_by_component():
    t = terms(principal=200000, rate="0.12", penalty_rate=Decimal("0.0365"))
    two = simple_schedule(("2026-03-31", 100000, 2000), ("2026-04-30", 100000, 1000))
    s = status_on("2026-04-10", loan(two, t=t))
    assert (s.overdue_principal, s.overdue_interest, s.overdue_fee) == (100000, 2000, 0)
    assert s.overdue_penalty == 100  # 10 days × 1,000.00 × 3.65% / 365 = 10 × 0.10
    assert s.outstanding_principal == 200000
    assert (s.next_due_on, s.next_due_amount) == (d("2026-04-30"), 101000)
