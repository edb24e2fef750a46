"""Collector performance: contact, right-party-contact, promise and kept rates, amount collected,
and the quality measures (compliance blocks, disputes) beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from arrears.collection.performance import collector_performance
from arrears.collection.queues import next_case, set_collector
from arrears.collection.work import log_contact, open_dispute, record_promise
from arrears.servicing import post_payment

from .conftest import CATALOG

DAY = date(2024, 2, 20)


def at(day, hour=10):
    return datetime(2024, 2, day, hour, tzinfo=UTC)


def test_figures_for_a_collector(book, close):
    close(book, DAY)
    set_collector(book, "ann", "ada", max_open_cases=5)
    set_collector(book, "bob", "ada", max_open_cases=5)
    case = next_case(book, "ann", DAY)
    assert case["borrower_id"] == "B-1"  # the largest of the equally old
    cid = case["case_id"]
    log_contact(book, cid, "ann", "sms", outcome="right_party_contact", at=at(20))
    log_contact(book, cid, "ann", "call", outcome="no_answer", at=at(20, 11))
    open_dispute(book, cid, "ann", "L-2 was never received", today=DAY, loan_id="L-2")
    log_contact(book, cid, "ann", "sms", loan_id="L-2", at=at(20, 12))  # blocked
    record_promise(book, cid, "ann", [("100.00", date(2024, 2, 21))], today=DAY)
    post_payment(book, CATALOG, "L-1", "100.00", date(2024, 2, 21), today=date(2024, 2, 21))
    close(book, date(2024, 2, 24))
    ann, bob = collector_performance(book, date(2024, 2, 20), date(2024, 2, 29))
    assert ann == {
        "collector": "ann",
        "attempts": 2,
        "blocked": 1,
        "right_party_contacts": 1,
        "rpc_rate": 0.5,
        "promises": 1,
        "promise_rate": 1.0,
        "promises_due": 1,
        "kept": 1,
        "kept_rate": 1.0,
        "kept_amount_rate": 1.0,
        "collected": {"CNY": "100.00"},
        "compliance_block_rate": 0.3333,
        "dispute_rate": 1.0,
    }
    assert bob["attempts"] == 0 and bob["rpc_rate"] is None and bob["collected"] == {}
    # outside the period nothing counts
    (early, _) = collector_performance(book, date(2024, 1, 1), date(2024, 1, 31))
    assert early["attempts"] == 0 and early["promises"] == 0 and early["collected"] == {}
