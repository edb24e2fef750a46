"""Posting and reversing payments: the status changes at once, with its event, in one transaction
(on SQLite and PostgreSQL)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from arrears.catalog import load_catalog
from arrears.servicing import BusinessRuleRefused, post_payment, reverse_payment, show_loan
from arrears.store import tables
from arrears.store.db import unit_of_work
from arrears.store.repository import DuplicatePayment, LoanNotFound, PaymentNotFound

CATALOG = load_catalog()
TODAY = date(2024, 3, 1)  # the first instalment (due 15 Feb) is 15 days late


@pytest.fixture
def loan_id(engine, seed_loan):
    with unit_of_work(engine) as session:
        seed_loan(session)
    return "L-1"


def count(engine, table):
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(table))


def events(engine):
    with unit_of_work(engine) as session:
        return [
            (e.type, e.payload)
            for e in session.scalars(select(tables.Event).order_by(tables.Event.seq))
        ]


def test_posting_a_payment_cures_the_loan_at_once(engine, loan_id):
    before = show_loan(engine, CATALOG, loan_id, TODAY).status
    assert before.days_past_due == 15 and before.bucket == "M1"
    owed = before.overdue_principal + before.overdue_interest + before.overdue_penalty
    pid, view = post_payment(
        engine, CATALOG, loan_id, owed, TODAY, reference="bank-123", today=TODAY
    )
    assert view.status.days_past_due == 0 and view.status.bucket == "M0"
    assert show_loan(engine, CATALOG, loan_id, TODAY).status == view.status
    [(kind, payload)] = events(engine)
    assert kind == "payment.received"
    assert payload["payment_id"] == pid and payload["days_past_due_before"] == 15
    assert payload["days_past_due_after"] == 0
    with unit_of_work(engine) as session:
        snapshot = session.get(tables.StatusSnapshot, (loan_id, TODAY))
        allocated = session.scalar(select(func.sum(tables.AllocationRow.amount)))
    assert snapshot is not None and snapshot.days_past_due == 0
    assert allocated == owed


def test_reversal_restores_the_arrears_and_is_an_event(engine, loan_id):
    pid, _ = post_payment(engine, CATALOG, loan_id, 200_000, TODAY, today=TODAY)
    view = reverse_payment(engine, CATALOG, pid, "cheque bounced 退票", today=TODAY)
    assert view.status.days_past_due == 15
    assert [kind for kind, _ in events(engine)] == ["payment.received", "payment.reversed"]
    assert events(engine)[1][1]["reason"] == "cheque bounced 退票"
    with pytest.raises(BusinessRuleRefused, match="already reversed"):
        reverse_payment(engine, CATALOG, pid, "again", today=TODAY)


def test_a_refused_payment_changes_nothing(engine, loan_id):
    with pytest.raises(BusinessRuleRefused, match="in the future"):
        post_payment(engine, CATALOG, loan_id, 100, date(2024, 3, 2), today=TODAY)
    with pytest.raises(BusinessRuleRefused, match="before disbursement"):
        post_payment(engine, CATALOG, loan_id, 100, date(2024, 1, 1), today=TODAY)
    with pytest.raises(BusinessRuleRefused, match="positive"):
        post_payment(engine, CATALOG, loan_id, 0, TODAY, today=TODAY)
    assert count(engine, tables.Payment) == 0 and count(engine, tables.Event) == 0


def test_duplicate_payment_id_is_refused_and_changes_nothing(engine, loan_id):
    post_payment(engine, CATALOG, loan_id, 1000, TODAY, payment_id="P-1", today=TODAY)
    with pytest.raises(DuplicatePayment):
        post_payment(engine, CATALOG, loan_id, 1000, TODAY, payment_id="P-1", today=TODAY)
    assert count(engine, tables.Payment) == 1 and count(engine, tables.Event) == 1


def test_unknown_ids_name_the_id(engine, loan_id):
    with pytest.raises(LoanNotFound, match="L-404"):
        post_payment(engine, CATALOG, "L-404", 1000, TODAY, today=TODAY)
    with pytest.raises(PaymentNotFound, match="P-404"):
        reverse_payment(engine, CATALOG, "P-404", "typo", today=TODAY)


def test_paid_off_loan_takes_no_more_payments(engine, loan_id):
    status = show_loan(engine, CATALOG, loan_id, date(2024, 4, 15)).status
    everything = (
        status.outstanding_principal + status.overdue_interest + status.overdue_penalty + 1000
    )
    post_payment(engine, CATALOG, loan_id, everything, date(2024, 4, 15), today=date(2024, 4, 15))
    with pytest.raises(BusinessRuleRefused, match="paid off"):
        post_payment(engine, CATALOG, loan_id, 100, date(2024, 4, 16), today=date(2024, 4, 16))


def test_hardship_pause_freezes_dpd_and_is_an_event(engine, loan_id):
    from arrears.servicing import pause_loan

    view = pause_loan(
        engine, CATALOG, loan_id, date(2024, 2, 20), date(2024, 2, 29), "hospital 住院", today=TODAY
    )
    assert view.status.days_past_due == 15 - 10
    assert events(engine)[-1][0] == "loan.paused"
    with pytest.raises(BusinessRuleRefused, match="before it starts"):
        pause_loan(engine, CATALOG, loan_id, date(2024, 3, 1), date(2024, 2, 1), "x", today=TODAY)


def test_override_only_downgrades(engine, loan_id):
    from arrears.servicing import override_classification

    with pytest.raises(BusinessRuleRefused, match="only make a loan worse"):
        override_classification(
            engine, CATALOG, loan_id, "normal", "looks fine", "risk.li", today=TODAY
        )
    view = override_classification(
        engine,
        CATALOG,
        loan_id,
        "doubtful",
        "fraud suspected",
        "risk.li",
        expires_on=date(2024, 6, 30),
        today=TODAY,
    )
    assert view.status.classification == "doubtful"
    assert show_loan(engine, CATALOG, loan_id, date(2024, 7, 1)).status.classification != "doubtful"
    kind, payload = events(engine)[-1]
    assert kind == "classification.overridden" and payload["from"] == "special_mention"
