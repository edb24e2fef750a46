"""Repayment plans and settlements: maker-checker approval, the re-age into a new schedule with
restructured status (and the COB agreeing with the single-loan rules), settlement with a waiver
closing the case as settled."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from arrears.collection.approvals import decide
from arrears.collection.arrangements import (
    complete_settlement,
    propose_plan,
    propose_settlement,
    reaged_schedule,
)
from arrears.collection.common import CollectionRefused, NotAllowed
from arrears.loans.allocation import replay
from arrears.loans.status import loan_status
from arrears.loans.terms import Payment
from arrears.servicing import post_payment
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.tables import CollectionCase, Event, StatusSnapshot

from ..conftest import _sample_loan
from .conftest import CATALOG

PRODUCT = CATALOG.get("consumer")


def case_id(engine, borrower):
    with unit_of_work(engine) as s:
        return s.scalars(
            select(CollectionCase.case_id).where(CollectionCase.borrower_id == borrower)
        ).first()


def case(engine, borrower):
    with unit_of_work(engine) as s:
        return s.get(CollectionCase, case_id(engine, borrower))


@settings(max_examples=200, deadline=None)
@example(paid=[1, 2744], as_of_day=18, count=6)  # took four correction rounds, not three
@given(
    paid=st.lists(st.integers(1, 150_000), max_size=3),
    as_of_day=st.integers(16, 120),
    count=st.integers(1, 6),
)
def test_reage_keeps_what_is_owed_and_leaves_nothing_past_due(paid, as_of_day, count):
    """Invariant: the re-aged schedule owes exactly what the old one still owed (principal,
    interest, fee) and nothing is past due on the day; the first new date is after it."""
    loan = _sample_loan("L-P")
    as_of = date.fromordinal(date(2024, 2, 1).toordinal() + as_of_day)
    pays = tuple(
        Payment(f"P{i}", date.fromordinal(date(2024, 2, 16).toordinal() + 3 * i), amount)
        for i, amount in enumerate(paid)
        if date.fromordinal(date(2024, 2, 16).toordinal() + 3 * i) <= as_of
    )
    loan = replace(loan, payments=pays)
    first_due = date.fromordinal(as_of.toordinal() + 10)
    schedule = reaged_schedule(loan, PRODUCT, as_of, first_due, count)
    before = replay(loan, PRODUCT, as_of)
    after_loan = replace(loan, schedule=schedule, restructured_on=as_of)
    after = replay(after_loan, PRODUCT, as_of)
    for part in ("principal", "interest", "fee"):
        owed = [sum(getattr(s, part) for s in r.instalments) for r in (before, after)]
        if part == "principal":
            owed = [owed[0] - before.credit_balance, owed[1] - after.credit_balance]
        assert owed[0] == owed[1], part
    assert [i.seq for i in schedule] == list(range(1, len(schedule) + 1))
    assert [i.due_on for i in schedule] == sorted(i.due_on for i in schedule)
    assert loan_status(after_loan, PRODUCT, as_of).days_past_due == 0


def test_plan_above_the_makers_limit_is_approved_by_another_and_re_ages(book, close):
    day = date(2024, 3, 20)
    close(book, date(2024, 2, 20))
    close(book, day)
    cid = case_id(book, "B-1")
    plan = propose_plan(book, cid, "ann", count=3, first_due=date(2024, 4, 1), today=day)
    # arrears 6100.00 exceed a collector's 5000.00: the plan waits for a checker
    assert plan["state"] == "proposed" and plan["amount"] == "6100.00"
    with pytest.raises(CollectionRefused, match="in progress"):
        propose_plan(book, cid, "ann", count=2, first_due=date(2024, 4, 1), today=day)
    with pytest.raises(NotAllowed):
        decide(book, plan["approval_id"], "ann", True, "mine", today=day)
    decide(book, plan["approval_id"], "rita", True, "income proven", today=day)
    with unit_of_work(book) as s:
        record = repo.load_loan(s, "L-1")
        types = [e.type for e in s.scalars(select(Event).order_by(Event.seq))]
    assert record.loan.restructured_on == day
    assert [i.due_on for i in record.loan.schedule] == [
        date(2024, 2, 15),
        date(2024, 3, 15),
        date(2024, 4, 1),
        date(2024, 4, 15),
        date(2024, 5, 1),
        date(2024, 6, 1),
    ]
    status = loan_status(record.loan, PRODUCT, day)
    assert (status.status, status.days_past_due, status.in_observation) == ("restructured", 0, True)
    assert types.count("loan.restructured") == 2 and "plan.approved" in types
    # the COB rebuilds the restructured loans and agrees with the single-loan rules
    close(book, date(2024, 3, 21))
    with unit_of_work(book) as s:
        snap = s.get(StatusSnapshot, ("L-1", date(2024, 3, 21)))
        truth = loan_status(repo.load_loan(s, "L-1").loan, PRODUCT, date(2024, 3, 21))
    assert (snap.status, snap.days_past_due, snap.classification) == (
        truth.status,
        truth.days_past_due,
        truth.classification,
    )
    after = case(book, "B-1")
    assert (after.status, after.close_reason) == ("closed", "cured")


def test_rejected_plan_frees_the_case_for_another_proposal(book, close):
    close(book, date(2024, 2, 20))
    cid = case_id(book, "B-1")
    plan = propose_plan(
        book, cid, "bob", count=2, first_due=date(2024, 3, 1), today=date(2024, 2, 20)
    )
    assert plan["state"] == "approved"  # 3060.00 within a collector's limit: no checker needed
    cid3 = case_id(book, "B-2")
    big = propose_settlement(
        book, cid3, "ann", amount="100.00", pay_by=date(2024, 3, 1), today=date(2024, 2, 20)
    )
    decide(book, big["approval_id"], "rita", False, "too low", today=date(2024, 2, 20))
    again = propose_settlement(
        book, cid3, "ann", amount="2500.00", pay_by=date(2024, 3, 1), today=date(2024, 2, 20)
    )
    assert again["state"] == "proposed"


def test_settlement_with_waiver_closes_the_case_as_settled(book, close):
    day = date(2024, 2, 20)
    close(book, day)
    cid = case_id(book, "B-3")
    with pytest.raises(CollectionRefused, match="less than"):
        propose_settlement(book, cid, "ann", amount="99999.00", pay_by=date(2024, 3, 1), today=day)
    deal = propose_settlement(
        book, cid, "ann", amount="2000.00", pay_by=date(2024, 3, 1), today=day
    )
    assert deal["amount"] == "2000.00" and deal["state"] == "proposed"
    assert deal["waived"].startswith("10")  # 3000.00 principal + 30.00 interest + penalty − 2000
    decide(book, deal["approval_id"], "rita", True, "hardship file", today=day)
    with pytest.raises(CollectionRefused, match=r"of the 2000\.00 agreed"):
        complete_settlement(book, deal["arrangement_id"], "rita", today=day)
    post_payment(book, CATALOG, "L-4", "2000.00", date(2024, 2, 21), today=date(2024, 2, 21))
    done = complete_settlement(book, deal["arrangement_id"], "rita", today=date(2024, 2, 21))
    assert done["state"] == "completed"
    close(book, date(2024, 2, 21))
    closed = case(book, "B-3")
    assert (closed.status, closed.close_reason) == ("closed", "settled")
    with unit_of_work(book) as s:
        off = s.scalars(select(Event).where(Event.type == "loan.written_off")).one()
    assert off.loan_id == "L-4" and off.payload["reason"] == "settlement"


def test_daily_update_completes_a_paid_settlement_and_lapses_an_unpaid_one(book, close):
    day = date(2024, 2, 20)
    close(book, day)
    paid_case, late_case = case_id(book, "B-3"), case_id(book, "B-2")
    paid = propose_settlement(
        book, paid_case, "rita", amount="2000.00", pay_by=date(2024, 2, 25), today=day
    )
    late = propose_settlement(
        book, late_case, "rita", amount="2000.00", pay_by=date(2024, 2, 22), today=day
    )
    assert paid["state"] == late["state"] == "approved"  # within a risk manager's limit
    post_payment(book, CATALOG, "L-4", "1500.00", date(2024, 2, 21), today=date(2024, 2, 21))
    post_payment(book, CATALOG, "L-4", "500.00", date(2024, 2, 22), today=date(2024, 2, 22))
    close(book, date(2024, 2, 22))
    assert (case(book, "B-3").status, case(book, "B-3").close_reason) == ("closed", "settled")
    assert case(book, "B-2").status == "open"
    close(book, date(2024, 2, 23))
    with unit_of_work(book) as s:
        types = [e.type for e in s.scalars(select(Event).where(Event.type.like("settlement.%")))]
    assert types.count("settlement.completed") == 1 and types.count("settlement.lapsed") == 1
    assert case(book, "B-2").status == "open"  # a lapsed settlement leaves the case to collection
