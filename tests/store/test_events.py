"""Events: same transaction as the change, ordered, UTC, JSON-safe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from arrears.store import tables
from arrears.store.db import unit_of_work
from arrears.store.events import list_events, record_event, to_json_payload
from arrears.store.repository import LoanRecord, add_payment

SeedLoan = Callable[..., LoanRecord]


def _count(engine: Engine, table: type[tables.Base]) -> int:
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_to_json_payload_converts_dates_and_decimals() -> None:
    payload = to_json_payload(
        {
            "paid_on": date(2024, 2, 15),
            "at": datetime(2024, 2, 15, 9, 30, tzinfo=timezone(timedelta(hours=8))),
            "rate": Decimal("0.1235"),
            "amounts": (1, 2),
            "nested": {"due": [date(2024, 3, 15)]},
            "flag": True,
            "none": None,
        }
    )
    assert payload == {
        "paid_on": "2024-02-15",
        "at": "2024-02-15T01:30:00+00:00",
        "rate": "0.1235",
        "amounts": [1, 2],
        "nested": {"due": ["2024-03-15"]},
        "flag": True,
        "none": None,
    }


@pytest.mark.parametrize(
    ("payload", "error", "where"),
    [
        ({"x": object()}, TypeError, r"payload\.x"),
        ({"x": {1: "a"}}, TypeError, "key 1"),
        ({"x": float("nan")}, ValueError, r"payload\.x"),
        ({"x": [datetime(2024, 1, 1)]}, ValueError, r"payload\.x\[0\]: naive"),
    ],
)
def test_to_json_payload_rejects_what_json_cannot_hold(
    payload: dict[str, object], error: type[Exception], where: str
) -> None:
    with pytest.raises(error, match=where):
        to_json_payload(payload)


def _pay_with_event(engine: Engine, seed_loan: SeedLoan, fail: bool) -> None:
    with unit_of_work(engine) as session:
        seed_loan(session)
        add_payment(session, "L-1", "P-1", date(2024, 2, 15), 101_000)
        record_event(
            session,
            "payment_received",
            loan_id="L-1",
            borrower_id="B-1",
            payload={"payment_id": "P-1", "amount": 101_000, "paid_on": date(2024, 2, 15)},
        )
        if fail:
            raise RuntimeError("allocation failed")


def test_rolled_back_change_leaves_neither_change_nor_event(
    engine: Engine, seed_loan: SeedLoan
) -> None:
    with pytest.raises(RuntimeError):
        _pay_with_event(engine, seed_loan, fail=True)
    assert _count(engine, tables.Event) == 0
    assert _count(engine, tables.Payment) == 0


def test_committed_change_keeps_change_and_event(engine: Engine, seed_loan: SeedLoan) -> None:
    _pay_with_event(engine, seed_loan, fail=False)
    assert _count(engine, tables.Event) == 1
    assert _count(engine, tables.Payment) == 1
    with unit_of_work(engine) as session:
        (event,) = list_events(session, loan_id="L-1")
        assert event.payload == {"payment_id": "P-1", "amount": 101_000, "paid_on": "2024-02-15"}


def test_record_event_does_not_commit(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        record_event(session, "credit_data_changed", borrower_id="B-9", payload={})
        assert session.in_transaction()
        assert _count(engine, tables.Event) == 0  # another connection sees nothing yet
    assert _count(engine, tables.Event) == 1


def test_seq_increases_and_list_events_pages(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        seqs = [
            record_event(session, "t", loan_id=f"L-{n % 2}", payload={"n": n}).seq for n in range(5)
        ]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    with unit_of_work(engine) as session:
        assert [e.seq for e in list_events(session)] == seqs
        assert [e.payload["n"] for e in list_events(session, loan_id="L-0")] == [0, 2, 4]
        assert [e.seq for e in list_events(session, after_seq=seqs[1], limit=2)] == seqs[2:4]


def test_occurred_at_comes_back_utc_aware(engine: Engine) -> None:
    before = datetime.now(UTC)
    with unit_of_work(engine) as session:
        record_event(session, "t", payload={})
    with unit_of_work(engine) as session:
        (event,) = list_events(session)
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= event.occurred_at <= datetime.now(UTC)
