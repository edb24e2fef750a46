"""The guard on the database: decisions logged with rule ids (allowed or not), the shared
ledger counted (attempts, collection contacts, queued messages), attempts recorded only when
allowed, a contact person's refusal final, and no answer without a bound session."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from arrears.contact import guard
from arrears.contact.compliance import GuardNotBound
from arrears.contact.service import (
    ContactRefused,
    add_contact_person,
    check_contact,
    opt_out,
    record_attempt,
    set_flag,
)
from arrears.store.db import unit_of_work
from arrears.store.tables import ContactAttempt, ContactDecision

from .conftest import sh


def decisions(engine):
    with unit_of_work(engine) as s:
        return s.execute(
            select(
                ContactDecision.allowed, ContactDecision.rule_ids, ContactDecision.jurisdictions
            ).order_by(ContactDecision.decision_id)
        ).all()


def test_every_decision_is_logged_with_rule_ids(people):
    blocked = check_contact(people, "B-CN", "sms", sh(28, 23, 30))
    assert not blocked.allowed and blocked.rule_ids == ("CN-C1",)
    assert blocked.next_allowed_at.isoformat() == "2026-11-29T08:00:00+08:00"
    allowed = check_contact(people, "B-CN", "sms", sh(28, 10))
    assert allowed.allowed
    log = decisions(people)
    assert [r.allowed for r in log] == [False, True]
    assert log[0].rule_ids == "CN-C1" and "CN-C1" in log[1].rule_ids
    assert set(log[0].jurisdictions.split(",")) == {"ALL", "CN"}


def test_cn_fourth_effective_call_of_the_day_is_blocked_and_not_recorded(people):
    for hour, outcome in (
        (9, "conversation"),
        (10, "no_answer"),
        (11, "refused"),
        (12, "conversation"),
    ):
        assert record_attempt(people, "B-CN", "voice", sh(28, hour), outcome)["allowed"]
    fourth = record_attempt(people, "B-CN", "robot", sh(28, 13), "conversation")
    assert (
        not fourth["allowed"] and fourth["rule_ids"] == ["CN-C2"] and fourth["attempt_id"] is None
    )
    assert fourth["next_allowed_at"] == "2026-11-29T08:00:00+08:00"
    with unit_of_work(people) as s:
        assert s.scalar(select(func.count()).select_from(ContactAttempt)) == 4
    assert record_attempt(people, "B-CN", "voice", sh(29, 8), "no_answer")["allowed"]


def test_us_seven_in_seven_then_massachusetts_two(people):
    from datetime import datetime, timedelta

    from .conftest import NY

    start = datetime(2026, 11, 2, 10, tzinfo=NY)
    for i in range(7):
        assert record_attempt(
            people,
            "B-US",
            "voice",
            start + timedelta(days=i, hours=i % 3),
            "no_answer",
            loan_id="L-1",
        )["allowed"]
    eighth = check_contact(
        people, "B-US", "voice", start + timedelta(days=6, hours=5), loan_id="L-1"
    )
    assert not eighth.allowed and eighth.rule_ids == ("US-C2",)
    assert record_attempt(people, "B-MA", "sms", start, "no_answer", loan_id="L-9")["allowed"]
    assert record_attempt(
        people, "B-MA", "voice", start + timedelta(days=1), "no_answer", loan_id="L-9"
    )["allowed"]
    third = check_contact(people, "B-MA", "voice", start + timedelta(days=2), loan_id="L-9")
    assert not third.allowed and "US-MA-C3" in third.rule_ids


def test_contact_person_needs_unreachable_and_refusal_is_final(people):
    add_contact_person(people, "B-CN", "P-1", "李四", relation="friend", phone="+86 13900000000")
    d = check_contact(people, "B-CN", "voice", sh(28, 10), party="contact:P-1")
    assert not d.allowed and d.rule_ids == ("CN-C5",)
    set_flag(people, "B-CN", "unreachable", "ann")
    r = record_attempt(people, "B-CN", "voice", sh(28, 10), "refused", party="contact:P-1")
    assert r["allowed"]
    later = check_contact(people, "B-CN", "voice", sh(30, 10), party="contact:P-1")
    assert not later.allowed and later.next_allowed_at is None and "CN-C5" in later.rule_ids


def test_opt_out_and_flags_block(people):
    opt_out(people, "B-CN", "sms")
    d = check_contact(people, "B-CN", "sms", sh(28, 10))
    assert not d.allowed and d.rule_ids == ("ALL-OPT-OUT",)
    assert check_contact(people, "B-CN", "voice", sh(28, 10)).allowed
    set_flag(people, "B-CN", "do_not_contact", "ann")
    assert "ALL-DNC" in check_contact(people, "B-CN", "letter", sh(28, 10)).rule_ids


def test_bad_input_changes_nothing(people):
    with pytest.raises(ContactRefused, match="channel 'fax'"):
        check_contact(people, "B-CN", "fax", sh(28, 10))
    with pytest.raises(ContactRefused, match="B-404"):
        check_contact(people, "B-404", "sms", sh(28, 10))
    with pytest.raises(ContactRefused, match="outcome"):
        record_attempt(people, "B-CN", "voice", sh(28, 10), "maybe")
    assert decisions(people) == []


def test_the_guard_refuses_to_answer_without_a_session():
    with pytest.raises(GuardNotBound):
        guard.check(guard.Party("B-CN"), "sms", "reminder", sh(28, 10))


def test_collectors_contacts_on_a_case_count_in_the_shared_ledger(people):
    """Calls logged through the collection module (any collector, any agency) are counted."""
    from datetime import date

    from arrears.store.tables import CollectionCase, ContactRow

    with unit_of_work(people) as s:
        s.add(
            CollectionCase(
                case_id="C-1",
                borrower_id="B-CN",
                status="open",
                stage="early",
                segment="individual",
                product="consumer",
                currency="CNY",
                days_past_due=9,
                amount_overdue=1,
                outstanding_principal=1,
                loans=1,
                priority=1,
                opened_on=date(2026, 11, 20),
                updated_on=date(2026, 11, 28),
                stage_since=date(2026, 11, 20),
            )
        )
        for hour, outcome in ((9, "right_party_contact"), (10, "promise"), (11, "refusal")):
            s.add(
                ContactRow(
                    case_id="C-1",
                    action="call",
                    direction="outbound",
                    party="debtor",
                    outcome=outcome,
                    by_user="agency-7",
                    at=sh(28, hour),
                    sent=True,
                )
            )
    d = check_contact(people, "B-CN", "robot", sh(28, 15))
    assert not d.allowed and d.rule_ids == ("CN-C2",)
