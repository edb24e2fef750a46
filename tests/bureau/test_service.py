"""Pulls through the service, on SQLite and PostgreSQL, against the fake bureau: consent first,
the TTL cache, every pull logged, credit-data changes as events, failures recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.service import (
    UnknownBorrower,
    pull_log,
    pull_report,
    record_consent,
    revoke_consent,
)
from arrears.bureau.sources import CircuitOpen, ConsentMissing, SourceUnavailable
from arrears.store.db import unit_of_work
from arrears.store.tables import BureauPull, BureauReport, Event

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _stats(bureau: FakeBureau) -> int:
    with bureau.lock:
        return bureau.stats.requests


def _events(engine: Engine, type: str) -> list[Event]:
    with unit_of_work(engine) as session:
        return list(session.scalars(select(Event).where(Event.type == type).order_by(Event.seq)))


def test_no_consent_means_no_pull_and_nothing_fetched(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    with pytest.raises(ConsentMissing, match="未授权"):
        pull_report(
            borrowers,
            make_source(),
            "B0001",
            purpose="credit_assessment",
            requested_by="risk1",
            now=T0,
        )
    assert _stats(bureau) == 0
    [row] = pull_log(borrowers, "B0001")
    assert row["outcome"] == "refused" and row["requested_by"] == "risk1"
    assert row["purpose"] == "credit_assessment" and row["source"] == "credit_report"


def test_consent_for_another_purpose_or_source_does_not_count(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    record_consent(borrowers, "B0001", "collection", "ops", now=T0)
    record_consent(borrowers, "B0001", "credit_assessment", "ops", sources=["tax"], now=T0)
    with pytest.raises(ConsentMissing):
        pull_report(
            borrowers,
            make_source(),
            "B0001",
            purpose="credit_assessment",
            requested_by="risk1",
            now=T0,
        )
    assert _stats(bureau) == 0


def test_expired_and_revoked_consents_do_not_count(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    record_consent(borrowers, "B0001", "credit_assessment", "ops", days=30, now=T0)
    later = T0 + timedelta(days=31)
    with pytest.raises(ConsentMissing):
        pull_report(
            borrowers,
            make_source(),
            "B0001",
            purpose="credit_assessment",
            requested_by="risk1",
            now=later,
        )
    consent = record_consent(borrowers, "B0001", "credit_assessment", "ops", now=later)
    revoke_consent(borrowers, consent.id, "ops", now=later)
    with pytest.raises(ConsentMissing):
        pull_report(
            borrowers,
            make_source(),
            "B0001",
            purpose="credit_assessment",
            requested_by="risk1",
            now=later + timedelta(seconds=1),
        )
    assert _stats(bureau) == 0
    assert len(_events(borrowers, "credit_data.consent_revoked")) == 1


def test_pull_fetches_then_serves_from_cache_until_the_ttl(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    record_consent(borrowers, "B0001", "credit_assessment", "ops", now=T0)
    source = make_source()
    first = pull_report(
        borrowers,
        source,
        "B0001",
        purpose="credit_assessment",
        requested_by="risk1",
        ttl_s=3600,
        now=T0,
    )
    assert first.outcome == "fetched" and first.changed and _stats(bureau) == 1
    again = pull_report(
        borrowers,
        source,
        "B0001",
        purpose="credit_assessment",
        requested_by="risk2",
        ttl_s=3600,
        now=T0 + timedelta(minutes=59),
    )
    assert again.outcome == "cached" and again.data == first.data and _stats(bureau) == 1
    stale = pull_report(
        borrowers,
        source,
        "B0001",
        purpose="credit_assessment",
        requested_by="risk1",
        ttl_s=3600,
        now=T0 + timedelta(minutes=61),
    )
    assert stale.outcome == "fetched" and _stats(bureau) == 2
    assert not stale.changed  # the bureau said the same thing: no new credit-data event
    forced = pull_report(
        borrowers,
        source,
        "B0001",
        purpose="credit_assessment",
        requested_by="risk1",
        force=True,
        now=T0 + timedelta(minutes=62),
    )
    assert forced.outcome == "fetched" and _stats(bureau) == 3
    outcomes = [r["outcome"] for r in pull_log(borrowers, "B0001")]
    assert outcomes == ["fetched", "fetched", "cached", "fetched"]
    [event] = _events(borrowers, "credit_data.changed")
    assert event.borrower_id == "B0001" and event.payload["source"] == "credit_report"
    assert (
        event.payload["previous_digest"] is None
        and "bureau_score" in event.payload["fields_changed"]
    )
    with unit_of_work(borrowers) as session:
        assert session.scalar(select(func.count()).select_from(BureauReport)) == 3


def test_a_changed_report_is_an_event_naming_the_fields(
    borrowers: Engine, bureau: FakeBureau, make_source, monkeypatch
) -> None:
    record_consent(borrowers, "B0001", "post_loan_monitoring", "ops", now=T0)
    source = make_source("enforcement")
    pull_report(
        borrowers, source, "B0001", purpose="post_loan_monitoring", requested_by="monitor", now=T0
    )
    original = bureau.reports.enforcement
    monkeypatch.setattr(
        bureau.reports,
        "enforcement",
        lambda b, f: {**original(b, f), "listed": True, "cases": [{"case_no": "X"}]},
    )
    result = pull_report(
        borrowers,
        source,
        "B0001",
        purpose="post_loan_monitoring",
        requested_by="monitor",
        force=True,
        now=T0 + timedelta(hours=1),
    )
    assert result.changed and result.data["listed"] is True
    events = _events(borrowers, "credit_data.changed")
    assert len(events) == 2
    assert "cases" in events[1].payload["fields_changed"]
    assert events[1].payload["previous_digest"] == events[0].payload["digest"]


def test_failures_are_logged_and_the_circuit_refusal_too(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    record_consent(borrowers, "B0001", "credit_assessment", "ops", now=T0)
    source = make_source(retries=1, breaker_failures=1)
    bureau.set_faults(fail_next=10)
    with pytest.raises(SourceUnavailable):
        pull_report(
            borrowers, source, "B0001", purpose="credit_assessment", requested_by="risk1", now=T0
        )
    with pytest.raises(CircuitOpen):
        pull_report(
            borrowers, source, "B0001", purpose="credit_assessment", requested_by="risk1", now=T0
        )
    log = pull_log(borrowers, "B0001")
    assert [r["outcome"] for r in log] == ["circuit_open", "failed"]
    assert log[1]["attempts"] == 2 and log[0]["attempts"] == 0
    with unit_of_work(borrowers) as session:
        assert session.scalar(select(func.count()).select_from(BureauReport)) == 0
        assert session.scalar(select(func.count()).select_from(BureauPull)) == 2


def test_unknown_borrower_and_bad_names(borrowers: Engine, make_source) -> None:
    with pytest.raises(UnknownBorrower):
        record_consent(borrowers, "NOPE", "credit_assessment", "ops")
    with pytest.raises(ValueError, match="unknown purpose"):
        record_consent(borrowers, "B0001", "curiosity", "ops")
    with pytest.raises(ValueError, match="unknown source"):
        record_consent(borrowers, "B0001", "collection", "ops", sources=["horoscope"])
    with pytest.raises(UnknownBorrower):
        pull_report(borrowers, make_source(), "NOPE", purpose="collection", requested_by="x")


def test_refresh_pulls_every_consented_borrower_and_survives_failures(
    borrowers: Engine, bureau: FakeBureau, make_source
) -> None:
    from arrears.bureau.service import consented_borrowers, refresh_source

    record_consent(borrowers, "B0001", "post_loan_monitoring", "ops", now=T0)
    record_consent(borrowers, "B0002", "post_loan_monitoring", "ops", sources=["tax"], now=T0)
    assert consented_borrowers(borrowers, "post_loan_monitoring", "enforcement", now=T0) == [
        "B0001"
    ]
    seen: list[tuple[str, str]] = []
    counts = refresh_source(
        borrowers, make_source("enforcement"), purpose="post_loan_monitoring",
        requested_by="monitor", now=T0, on_pull=lambda b, o: seen.append((b, o)),
    )  # fmt: skip
    assert counts == {"changed": 1} and seen == [("B0001", "changed")]
    # the bureau goes down: each borrower fails, then the open circuit refuses without calling
    source = make_source("enforcement", retries=0, breaker_failures=1)
    bureau.set_faults(fail_next=100)
    before = _stats(bureau)
    counts = refresh_source(
        borrowers, source, purpose="post_loan_monitoring", requested_by="monitor",
        borrower_ids=["B0001", "B0002", "B0001"], now=T0 + timedelta(days=2),
    )  # fmt: skip
    assert counts == {"failed": 1, "refused": 1, "circuit_open": 1}
    assert _stats(bureau) - before == 1
