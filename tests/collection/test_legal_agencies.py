"""Lawsuits step by step, the demand letter and complaint summary, the limitation warning;
agencies (evaluation within 12 months, placement, results and commission, recall); write-off
with approval and recoveries kept apart."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from arrears.auth import add_user
from arrears.collection.approvals import decide
from arrears.collection.cases import set_stage
from arrears.collection.common import CollectionRefused, NotAllowed
from arrears.collection.legal import (
    advance_lawsuit,
    demand_letter_pdf,
    limitation_status,
    list_lawsuits,
    open_lawsuit,
    render_document,
)
from arrears.collection.queues import next_case, set_collector
from arrears.collection.work import log_contact, record_promise
from arrears.collection.writeoff import (
    add_agency,
    evaluate_agency,
    list_agencies,
    place_case,
    recall_case,
    record_agency_result,
    record_recovery,
    recoveries,
    request_write_off,
)
from arrears.store.db import unit_of_work
from arrears.store.tables import CollectionCase, Event

DAY = date(2024, 2, 20)


def case_id(engine, borrower):
    with unit_of_work(engine) as s:
        return s.scalars(
            select(CollectionCase.case_id).where(CollectionCase.borrower_id == borrower)
        ).first()


def test_lawsuit_moves_step_by_step_with_its_figures(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    with pytest.raises(CollectionRefused, match="escalate it to legal"):
        open_lawsuit(book, cid, "leo", today=DAY)
    set_stage(book, cid, "legal", "refuses every plan", "ann", today=DAY)
    with pytest.raises(NotAllowed):
        open_lawsuit(book, cid, "ann", today=DAY)
    suit = open_lawsuit(book, cid, "leo", today=DAY)
    with pytest.raises(CollectionRefused, match="next step is filed"):
        advance_lawsuit(book, suit.legal_id, "judgment", "leo", on=DAY)
    with pytest.raises(CollectionRefused, match="court"):
        advance_lawsuit(book, suit.legal_id, "filed", "leo", on=DAY)
    advance_lawsuit(
        book,
        suit.legal_id,
        "filed",
        "leo",
        on=date(2024, 3, 1),
        court="上海市浦东新区人民法院",
        fees="350.00",
    )
    with pytest.raises(CollectionRefused, match="before"):
        advance_lawsuit(book, suit.legal_id, "hearing", "leo", on=date(2024, 2, 25))
    advance_lawsuit(book, suit.legal_id, "hearing", "leo", on=date(2024, 4, 1))
    advance_lawsuit(book, suit.legal_id, "judgment", "leo", on=date(2024, 5, 1), awarded="9000.00")
    advance_lawsuit(
        book, suit.legal_id, "enforcement", "leo", on=date(2024, 6, 1), recovered="4000.00"
    )
    advance_lawsuit(
        book, suit.legal_id, "closed", "leo", on=date(2024, 7, 1), recovered="1000.00", fees="50.00"
    )
    [row] = list_lawsuits(book)
    assert (row["state"], row["fees_paid"], row["awarded"], row["recovered"]) == (
        "closed",
        "400.00",
        "9000.00",
        "5000.00",
    )
    with unit_of_work(book) as s:
        types = [e.type for e in s.scalars(select(Event).where(Event.type.like("legal.%")))]
    assert types == [
        "legal.opened",
        "legal.filed",
        "legal.hearing",
        "legal.judgment",
        "legal.enforcement",
        "legal.closed",
    ]


def test_documents_are_bilingual_html_with_the_case_figures(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    letter = render_document(book, cid, "demand_letter", today=DAY, lender="示例银行")
    assert "催 收 函" in letter and "Letter of demand" in letter and "张三" in letter
    assert "2024-03-06" in letter  # pay within 15 days
    from arrears.collection.cases import show_case

    assert show_case(book, cid)["amount_overdue"] in letter
    summary = render_document(book, cid, "complaint_summary", today=DAY)
    assert "起诉材料摘要" in summary and "Summary of the complaint" in summary
    assert "2027-02-15" in summary  # limitation period end
    with pytest.raises(CollectionRefused):
        render_document(book, cid, "poem", today=DAY)


def test_the_demand_letter_is_also_a_bilingual_pdf_on_the_letterhead(book, close):
    import io

    from pypdf import PdfReader

    from arrears.collection.cases import show_case

    close(book, DAY)
    cid = case_id(book, "B-1")
    data = demand_letter_pdf(book, cid, today=DAY)
    assert data.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    case = show_case(book, cid)
    money = f"{case['amount_overdue']} {case['currency']}"
    assert "催 收 函" in text and "Letter of demand" in text
    assert "致 To: 张三" in text and f"编号 Reference: {cid}" in text
    assert f"逾期金额为 {money}" in text and f"the overdue amount is {money}" in text
    assert "请于 2024-03-06 前" in text and "by 2024-03-06" in text  # pay within 15 days
    assert "客服电话：400-800-1234" in text and "Service line: 400-800-1234" in text
    assert "L-1, L-2" in text


def test_limitation_restarts_on_acknowledgement_and_warns_near_the_end(book, close):
    close(book, DAY)
    cid = case_id(book, "B-1")
    assert limitation_status(book, cid, DAY)["ends_on"] == "2027-02-15"
    near = limitation_status(book, cid, date(2026, 12, 1))
    assert near["warning"] and near["days_left"] == 76
    record_promise(book, cid, "ann", [("10.00", date(2024, 3, 1))], today=date(2024, 2, 22))
    assert limitation_status(book, cid, DAY)["counted_from"] == "2024-02-22"
    from datetime import UTC, datetime

    log_contact(book, cid, "ann", "sms", outcome="promise", at=datetime(2024, 2, 23, 9, tzinfo=UTC))
    assert limitation_status(book, cid, DAY)["ends_on"] == "2027-02-23"
    log_contact(book, cid, "ann", "sms", outcome="refusal", at=datetime(2024, 2, 24, 9, tzinfo=UTC))
    assert (
        limitation_status(book, cid, DAY)["ends_on"] == "2027-02-23"
    )  # a refusal is no acknowledgement


def test_agency_needs_an_evaluation_in_12_months_and_only_its_collectors_work_placed_cases(
    book, close
):
    close(book, DAY)
    cid = case_id(book, "B-1")
    add_agency(book, "AG1", "华东催收", "0.15", "ada")
    set_stage(book, cid, "late", "placement", "ann", today=DAY)
    with pytest.raises(CollectionRefused, match="no evaluation"):
        place_case(book, cid, "AG1", "ada", today=DAY)
    evaluate_agency(book, "AG1", "ada", on=date(2023, 2, 19), notes="ok")
    with pytest.raises(CollectionRefused, match="12 months"):
        place_case(book, cid, "AG1", "ada", today=DAY)
    evaluate_agency(book, "AG1", "ada", on=date(2024, 1, 10), notes="annual review")
    with pytest.raises(CollectionRefused, match="does not allow agency"):
        place_case(book, case_id(book, "B-3"), "AG1", "ada", today=DAY)  # reminder stage
    placement = place_case(book, cid, "AG1", "ada", today=DAY)
    add_user(book, "agt", "collector", None)
    set_collector(book, "agt", "ada", max_open_cases=5, agency_id="AG1")
    set_collector(book, "ann", "ada", max_open_cases=5)
    taken_in_house = [next_case(book, "ann", DAY)["case_id"] for _ in range(2)]
    assert cid not in taken_in_house
    assert next_case(book, "agt", DAY)["case_id"] == cid
    result = record_agency_result(book, placement["placement_id"], "1000.00", "ada")
    assert (result["recovered"], result["commission"]) == ("1000.00", "150.00")
    recalled = recall_case(
        book, placement["placement_id"], "ada", today=date(2024, 3, 1), result="partial"
    )
    assert recalled["recalled_on"] == "2024-03-01"
    [agency] = list_agencies(book, DAY)
    assert (agency["placements"], agency["live_placements"], agency["recovered_minor"]) == (
        1,
        0,
        100_000,
    )
    assert agency["may_place"] and agency["evaluation_due"] == "2025-01-10"


def test_write_off_with_approval_then_recoveries_kept_apart(book, close):
    close(book, DAY)
    cid = case_id(book, "B-2")
    approval = request_write_off(book, cid, "ann", "bankrupt", today=DAY)
    assert approval.state == "pending"  # a collector has no write-off limit at all
    with pytest.raises(NotAllowed):
        decide(book, approval.approval_id, "bob", True, "ok", today=DAY)
    with pytest.raises(CollectionRefused, match="not written off"):
        record_recovery(book, "L-3", "100.00", "rita", received_on=DAY)
    decide(book, approval.approval_id, "rita", True, "court order seen", today=DAY)
    close(book, date(2024, 2, 21))
    with unit_of_work(book) as s:
        closed = s.get(CollectionCase, cid)
        assert (closed.status, closed.close_reason) == ("closed", "written_off")
    record_recovery(book, "L-3", "100.00", "rita", received_on=date(2024, 3, 1), source="agency")
    record_recovery(book, "L-3", "20.50", "rita", received_on=date(2024, 3, 2))
    assert recoveries(book) == [
        {"loan_id": "L-3", "written_off_on": "2024-02-20", "recovered": "120.50", "recoveries": 2}
    ]
