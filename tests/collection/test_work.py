"""Working a case: the contact guard is asked before every outbound action, disputes stop
contact, promises are judged kept or broken by the daily update, and two broken promises
escalate the case per the policy."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from arrears.collection.common import CollectionRefused
from arrears.collection.work import (
    list_promises,
    log_contact,
    open_dispute,
    record_promise,
    resolve_dispute,
)
from arrears.contact import guard
from arrears.servicing import post_payment
from arrears.store.db import unit_of_work
from arrears.store.tables import CollectionCase, ContactRow, Event

from .conftest import CATALOG

DAY = date(2024, 2, 20)
AT = datetime(2024, 2, 20, 10, 0, tzinfo=UTC)


def case_id(engine, borrower):
    with unit_of_work(engine) as s:
        return s.scalars(
            select(CollectionCase.case_id).where(
                CollectionCase.borrower_id == borrower, CollectionCase.status != "closed"
            )
        ).one()


def case(engine, borrower):
    with unit_of_work(engine) as s:
        return s.get(CollectionCase, case_id(engine, borrower))


class Refuse:
    """A guard that refuses everything and remembers what it was asked."""

    def __init__(self):
        self.asked = []

    def check(self, party, channel, purpose, at):
        self.asked.append((party.borrower_id, party.role, channel, purpose))
        return guard.Decision(False, ("quiet hours 休息时间",), ("C1",), at)


@pytest.fixture
def refusing_guard():
    refuse = Refuse()
    previous = guard.install(refuse)
    yield refuse
    guard.install(previous)


def test_allowed_contact_is_logged_and_right_party_contact_noted(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    result = log_contact(book, cid, "ann", "sms", outcome="right_party_contact", at=AT)
    assert result["sent"] and result["rule_ids"] == []
    assert case(book, "B-1").last_rpc_on == DAY


def test_blocked_contact_is_not_recorded_as_sent(book, close, refusing_guard):
    close(book, DAY)
    cid = case_id(book, "B-1")
    result = log_contact(book, cid, "ann", "call", outcome="right_party_contact", at=AT)
    assert not result["sent"] and result["rule_ids"] == ["C1"]
    assert refusing_guard.asked == [("B-1", "debtor", "call", "collection")]
    with unit_of_work(book) as s:
        row = s.scalars(select(ContactRow)).one()
        assert (row.sent, row.outcome, row.blocked_reasons) == (False, None, "quiet hours 休息时间")
        assert s.scalars(select(Event.type).where(Event.type.like("contact.%"))).all() == [
            "contact.blocked"
        ]
    assert case(book, "B-1").last_rpc_on is None
    # an inbound call (the borrower rings us) is not an outbound action: the guard is not asked
    assert log_contact(book, cid, "ann", "call", direction="inbound", at=AT)["sent"]
    assert len(refusing_guard.asked) == 1


def test_stage_allows_only_its_actions(book, close):
    close(book, DAY)
    with pytest.raises(CollectionRefused, match="visit is not allowed in stage reminder"):
        log_contact(book, case_id(book, "B-1"), "ann", "visit", at=AT)
    with pytest.raises(CollectionRefused, match="outcome 'maybe'"):
        log_contact(book, case_id(book, "B-1"), "ann", "sms", outcome="maybe", at=AT)


def test_dispute_stops_contact_on_that_debt_until_resolved(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    dispute = open_dispute(book, cid, "ann", "never received L-2", today=DAY, loan_id="L-2")
    blocked = log_contact(book, cid, "ann", "sms", loan_id="L-2", at=AT)
    assert not blocked["sent"] and blocked["rule_ids"] == ["dispute-open"]
    assert log_contact(book, cid, "ann", "sms", loan_id="L-1", at=AT)["sent"]  # other debt
    assert not log_contact(book, cid, "ann", "sms", at=AT)["sent"]  # the whole case includes L-2
    resolve_dispute(book, dispute, "rita", "contract signed, debt valid", today=DAY)
    assert log_contact(book, cid, "ann", "sms", loan_id="L-2", at=AT)["sent"]


def test_promise_validation(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    with pytest.raises(CollectionRefused, match="before today"):
        record_promise(book, cid, "ann", [("10.00", date(2024, 2, 19))], today=DAY)
    with pytest.raises(CollectionRefused, match="must increase"):
        record_promise(
            book, cid, "ann", [("10.00", date(2024, 3, 1)), ("5.00", date(2024, 2, 25))], today=DAY
        )
    with pytest.raises(Exception, match="more than 2 decimals"):
        record_promise(book, cid, "ann", [("10.001", date(2024, 3, 1))], today=DAY)
    with pytest.raises(CollectionRefused, match="positive"):
        record_promise(book, cid, "ann", [("0", date(2024, 3, 1))], today=DAY)
    assert list_promises(book) == []


def test_kept_when_paid_by_date_plus_grace_broken_otherwise(book, close):
    close(book, DAY)
    kept_case = case_id(book, "B-3")
    [kept] = record_promise(book, kept_case, "ann", [("500.00", date(2024, 2, 21))], today=DAY)
    assert set(kept) == {"promise_id", "case_id", "amount", "due_on", "state"}
    assert kept["amount"] == "500.00" and kept["state"] == "pending"
    # paid on day 2 of the grace: still kept
    post_payment(book, CATALOG, "L-4", "600.00", date(2024, 2, 23), today=date(2024, 2, 23))
    broken_case = case_id(book, "B-1")
    record_promise(book, broken_case, "ann", [("100.00", date(2024, 2, 21))], today=DAY)
    close(book, date(2024, 2, 22))
    assert {p["state"] for p in list_promises(book)} == {"pending"}
    result = close(book, date(2024, 2, 24))
    assert (result.promises_kept, result.promises_broken) == (1, 1)
    assert [p["case_id"] for p in list_promises(book, state="kept")] == [kept_case]
    assert [p["case_id"] for p in list_promises(book, state="broken")] == [broken_case]


def test_several_amounts_each_judged_cumulatively(book, close):
    close(book, DAY)
    cid = case_id(book, "B-3")
    record_promise(
        book,
        cid,
        "ann",
        [("300.00", date(2024, 2, 21)), ("300.00", date(2024, 2, 26))],
        today=DAY,
    )
    post_payment(book, CATALOG, "L-4", "400.00", date(2024, 2, 21), today=date(2024, 2, 21))
    close(book, date(2024, 2, 22))
    states = [p["state"] for p in list_promises(book, case_id=cid)]
    assert states == ["kept", "pending"]  # 400 covers the first 300, not 600
    close(book, date(2024, 3, 1))
    assert [p["state"] for p in list_promises(book, case_id=cid)] == ["kept", "broken"]


def test_two_broken_promises_escalate_per_policy(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    record_promise(book, cid, "ann", [("100.00", date(2024, 2, 21))], today=DAY)
    close(book, date(2024, 2, 24))
    assert case(book, "B-1").stage == "early" and case(book, "B-1").broken_promises == 1
    record_promise(book, cid, "ann", [("100.00", date(2024, 2, 25))], today=date(2024, 2, 24))
    close(book, date(2024, 2, 28))
    after = case(book, "B-1")
    assert after.broken_promises == 2 and after.stage == "mid"  # DPD 13 alone would be early
    with unit_of_work(book) as s:
        last = s.scalars(
            select(Event).where(Event.type == "case.stage_changed").order_by(Event.seq.desc())
        ).first()
    assert (last.payload["from_stage"], last.payload["to_stage"]) == ("early", "mid")
