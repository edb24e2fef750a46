"""The loan page's read on both databases: on PostgreSQL it is one statement (each part a JSON
array, the newest snapshots and events limited inside correlated subqueries), elsewhere several.
Either way the page must show this loan's rows only, in order, with nothing lost in JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, event

from arrears.catalog import load_catalog
from arrears.loans.status import loan_status
from arrears.loans.terms import Override, Pause, Payment
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.repository import (
    LoanNotFound,
    add_override,
    add_pause,
    add_payment,
    load_loan,
    mark_payment_reversed,
    read_loan_from,
    save_snapshot,
)
from arrears.web import queries

AS_OF = date(2024, 5, 20)


@pytest.fixture
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def _book(engine: Engine, seed_loan, make_loan) -> None:  # type: ignore[no-untyped-def]
    big = 9_000_000_000_00  # beyond 32 bits, and beyond a float's exact integers once summed
    with unit_of_work(engine) as session:
        seed_loan(session, replace(make_loan("L-1", principal=big)), borrower_id="B-1")
        seed_loan(session, make_loan("L-2"), borrower_id="B-2")
        add_payment(session, "L-1", "P-1", date(2024, 2, 15), big // 3, reference="银行流水 001")
        add_payment(session, "L-1", "P-2", date(2024, 2, 20), 7, reference=None)
        add_payment(session, "L-1", "P-3", date(2024, 3, 15), 5)
        add_payment(session, "L-2", "P-9", date(2024, 2, 15), 100)
        add_pause(session, "L-1", Pause(date(2024, 4, 1), date(2024, 4, 10), "hospital"))
        add_override(session, "L-1", Override("substandard", "fraud", "risk-1", date(2024, 12, 31)))
    with unit_of_work(engine) as session:
        mark_payment_reversed(session, "P-2", "bounced 退票", datetime(2024, 2, 21, tzinfo=UTC))
    with unit_of_work(engine) as session:
        for loan_id in ("L-1", "L-2"):
            for k in range(70):  # more than the page's 60, two loans interleaved
                day = date(2024, 2, 1) + timedelta(days=k)
                record = load_loan(session, loan_id)
                status = loan_status(record.loan, _product(), day)
                save_snapshot(session, status, "test")
            for k in range(55):  # more than the page's 50
                record_event(session, f"test.{loan_id}", loan_id=loan_id, payload={"k": k})


def _product():  # type: ignore[no-untyped-def]
    return load_catalog().get("consumer")


def test_the_page_shows_this_loans_rows_in_order(engine: Engine, seed_loan, make_loan, catalog):  # type: ignore[no-untyped-def]
    _book(engine, seed_loan, make_loan)
    page = queries.loan_page(engine, catalog, "L-1", AS_OF)

    assert page.borrower_id == "B-1" and page.borrower_name == "张三"
    assert [p["payment_id"] for p in page.payments] == ["P-1", "P-2", "P-3"]
    assert page.payments[0]["reference"] == "银行流水 001"
    assert page.payments[0]["amount"] == queries.money(9_000_000_000_00 // 3, "CNY")
    assert page.payments[1]["reversed"] and page.payments[1]["reversal_reason"] == "bounced 退票"
    assert not page.payments[2]["reversed"] and page.payments[2]["reference"] == ""

    # the status history: the days on which status, bucket, class or stage changed, and the
    # newest day, newest first, of L-1 only (L-2 has snapshots on the same days)
    record = read_loan_from(engine, "L-1")
    product = catalog.get("consumer")
    days = [date(2024, 2, 1) + timedelta(days=k) for k in range(70)]
    daily = [loan_status(record.loan, product, d) for d in days]

    def key(s):  # type: ignore[no-untyped-def]
        return (s.status, s.bucket, s.classification, s.ifrs9_stage)

    changed = [s for k, s in enumerate(daily) if k == 0 or k == 69 or key(s) != key(daily[k - 1])]
    assert 2 < len(changed) < 20  # the loan does move in these 70 days
    assert page.history == [
        {
            "as_of": s.as_of.isoformat(),
            "status": s.status,
            "days_past_due": s.days_past_due,
            "bucket": s.bucket,
            "classification": s.classification,
            "ifrs9_stage": str(s.ifrs9_stage),
            "outstanding": queries.money(s.outstanding_principal, "CNY"),
        }
        for s in reversed(changed)
    ]

    # the newest 20 events, newest first, of L-1 only; then older ones, 50 at a time
    assert [e["payload"] for e in page.events] == [f"k={k}" for k in range(54, 34, -1)]
    assert {e["type"] for e in page.events} == {"test.L-1"}
    seqs = [e["seq"] for e in page.events]
    assert seqs == sorted(seqs, reverse=True)
    older = queries.loan_events(engine, "L-1", seqs[-1])
    assert [e["payload"] for e in older] == [f"k={k}" for k in range(34, -1, -1)]
    assert queries.loan_events(engine, "L-1", older[-1]["seq"]) == []

    # the loan itself: pause and override reach the rules, the reversed payment does not count
    assert record.loan.pauses == (Pause(date(2024, 4, 1), date(2024, 4, 10), "hospital"),)
    assert record.loan.overrides[0].classification == "substandard"
    assert [p.reversed for p in record.loan.payments] == [False, True, False]
    assert record.loan.payments[0] == Payment("P-1", date(2024, 2, 15), 9_000_000_000_00 // 3)
    expected = loan_status(record.loan, catalog.get("consumer"), AS_OF)
    assert page.status["days_past_due"] == expected.days_past_due
    assert page.status["classification"] == expected.classification == "substandard"
    assert page.delinquent == (expected.days_past_due > 0)


def test_a_loan_with_nothing_yet(engine: Engine, seed_loan, make_loan, catalog) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as session:
        seed_loan(session, make_loan("L-3"), borrower_id="B-3")
    page = queries.loan_page(engine, catalog, "L-3", date(2024, 1, 20))
    assert page.payments == [] and page.history == [] and page.events == []
    assert len(page.schedule) == 3 and not page.delinquent


def test_an_unknown_loan(engine: Engine, catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LoanNotFound):
        queries.loan_page(engine, catalog, "L-404", AS_OF)
    with pytest.raises(LoanNotFound):
        read_loan_from(engine, "L-404")


def test_one_round_trip_on_postgresql(engine: Engine, seed_loan, make_loan, catalog) -> None:  # type: ignore[no-untyped-def]
    _book(engine, seed_loan, make_loan)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        queries.loan_page(engine, catalog, "L-1", AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == (1 if engine.dialect.name == "postgresql" else 9)
