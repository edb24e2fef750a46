"""Steering cases by hand: escalation and de-escalation with reason and role check, the manual
stage holding over the daily update, the hardship pause with maker-checker approval."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from arrears.collection.approvals import decide
from arrears.collection.cases import (
    list_cases,
    release_stage,
    request_hardship,
    set_stage,
    show_case,
)
from arrears.collection.common import CollectionRefused, NotAllowed
from arrears.store.db import unit_of_work
from arrears.store.tables import CollectionCase, Event, PauseRow

DAY = date(2024, 2, 20)


def case_of(engine, borrower="B-1"):
    with unit_of_work(engine) as s:
        return s.scalars(
            select(CollectionCase).where(
                CollectionCase.borrower_id == borrower, CollectionCase.status != "closed"
            )
        ).one()


def test_list_has_the_issue_keys_and_filters_by_stage(book, close):
    close(book, DAY)
    rows = list_cases(book)
    assert set(rows[0]) == {
        "case_id",
        "borrower_id",
        "stage",
        "status",
        "days_past_due",
        "amount_overdue",
        "assigned_to",
    }
    assert {r["stage"] for r in list_cases(book, stage="early")} == {"early"}
    assert isinstance(rows[0]["amount_overdue"], str) and "." in rows[0]["amount_overdue"]


def test_collector_escalates_but_may_not_de_escalate(book, close):
    close(book, DAY)
    case = case_of(book)
    set_stage(book, case.case_id, "mid", "refuses to talk", "ann", today=DAY)
    assert case_of(book).stage == "mid"
    with pytest.raises(NotAllowed, match="de-escalate"):
        set_stage(book, case.case_id, "early", "sorry", "ann", today=DAY)
    set_stage(book, case.case_id, "early", "borrower called back", "rita", today=DAY)
    with unit_of_work(book) as s:
        manual = [
            e.payload for e in s.scalars(select(Event).where(Event.type == "case.stage_changed"))
        ]
    assert [(e["to_stage"], e["by"], e["manual"]) for e in manual] == [
        ("mid", "ann", "escalate"),
        ("early", "rita", "de_escalate"),
    ]


def test_stage_change_needs_a_reason_a_known_stage_and_a_known_user(book, close):
    close(book, DAY)
    case = case_of(book)
    with pytest.raises(CollectionRefused, match="reason"):
        set_stage(book, case.case_id, "mid", " ", "ann", today=DAY)
    with pytest.raises(Exception, match="not a stage"):
        set_stage(book, case.case_id, "court", "x", "ann", today=DAY)
    with pytest.raises(CollectionRefused, match="unknown"):
        set_stage(book, case.case_id, "mid", "x", "nobody", today=DAY)
    with pytest.raises(CollectionRefused, match="not found"):
        set_stage(book, "C-NOPE", "mid", "x", "ann", today=DAY)


def test_manual_stage_holds_over_the_daily_update_until_released(book, close):
    close(book, DAY)
    case = case_of(book)
    set_stage(book, case.case_id, "late", "fraud suspicion", "ann", today=DAY)
    close(book, date(2024, 2, 21))
    assert case_of(book).stage == "late"
    release_stage(book, case.case_id, "cleared", "rita", today=date(2024, 2, 21))
    close(book, date(2024, 2, 22))
    assert case_of(book).stage == "reminder"


def test_hardship_within_the_makers_limit_is_approved_at_once_and_pauses_every_loan(book, close):
    close(book, DAY)
    case = case_of(book)
    approval = request_hardship(book, case.case_id, 30, "lost job", "rita", today=DAY)
    # rita (risk) may grant up to 100000.00 alone; the case owes far less → approved at once
    assert approval.state == "approved" and approval.checker is None
    assert case_of(book).status == "paused"
    with unit_of_work(book) as s:
        pauses = s.scalars(select(PauseRow)).all()
    assert sorted(p.loan_id for p in pauses) == ["L-1", "L-2"]
    assert {(p.start_on, p.end_on) for p in pauses} == {(DAY, date(2024, 3, 20))}


def test_collector_hardship_request_needs_approval(book, close):
    close(book, DAY)
    case = case_of(book, "B-3")
    approval = request_hardship(book, case.case_id, 10, "hospital", "ann", today=DAY)
    assert approval.state == "pending" and case_of(book, "B-3").status == "open"
    with pytest.raises(NotAllowed, match="cannot also approve"):
        decide(book, approval.approval_id, "ann", True, "ok", today=DAY)
    with pytest.raises(NotAllowed, match="may not approve"):
        decide(book, approval.approval_id, "bob", True, "ok", today=DAY)
    decide(book, approval.approval_id, "rita", True, "documents seen", today=DAY)
    assert case_of(book, "B-3").status == "paused"
    # the paused loan's DPD stops: after the pause ends the case is open again, DPD frozen
    close(book, date(2024, 2, 25))
    paused = case_of(book, "B-3")
    assert paused.status == "paused" and paused.days_past_due == 4
    with pytest.raises(CollectionRefused, match="already approved"):
        decide(book, approval.approval_id, "ada", True, "again", today=DAY)


def test_show_case_has_loans_and_history(book, close):
    close(book, DAY)
    case = case_of(book)
    data = show_case(book, case.case_id, today=DAY)
    assert data["loans"] == ["L-1", "L-2"] and data["stage"] == "reminder"
    assert data["limitation"]["counted_from"] == "2024-02-15"
    assert data["limitation"]["ends_on"] == "2027-02-15" and not data["limitation"]["warning"]
