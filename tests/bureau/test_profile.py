"""The credit profile: the pure feature functions on small frames, then the whole path on the
example book after four closes of business, checked against a plain per-row computation, with
external reports merged in (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select

from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.profile import credit_profile, credit_profiles, internal_features
from arrears.bureau.service import pull_report, record_consent
from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.imports import import_book
from arrears.store.db import unit_of_work
from arrears.store.tables import Loan, StatusSnapshot

BOOK = Path(__file__).resolve().parents[2] / "examples" / "book"
CLOSES = [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)]
AS_OF = date(2026, 11, 30)


def test_internal_features_on_a_small_frame() -> None:
    loans = pl.DataFrame(
        {
            "borrower_id": ["A", "A", "B", "C"],
            "loan_id": ["a1", "a2", "b1", "c1"],
            "currency": ["CNY", "CNY", "CNY", "USD"],
            "principal": [100_00, 200_00, 50_00, 70_00],
            "disbursed_on": [
                date(2025, 1, 10),
                date(2026, 6, 1),
                date(2026, 1, 1),
                date(2027, 1, 1),
            ],
        }
    )
    snaps = pl.DataFrame(
        {
            "loan_id": ["a1", "a1", "a1", "a2", "b1"],
            "as_of": [
                date(2025, 6, 30),
                date(2026, 9, 30),
                date(2026, 11, 30),
                date(2026, 11, 30),
                date(2026, 10, 31),
            ],
            "status": ["overdue", "overdue", "paid_off", "overdue", "active"],
            "days_past_due": [65, 40, 0, 12, 0],
            "outstanding_principal": [80_00, 30_00, 0, 150_00, 50_00],
            "overdue": [10_00, 5_00, 0, 7_00, 0],
        }
    )
    out = internal_features(loans, snaps, AS_OF)
    assert out.get_column("borrower_id").to_list() == ["A", "B"]  # C disbursed after as_of
    a = out.row(0, named=True)
    assert a["loans_total"] == 2 and a["loans_open"] == 1  # a1 paid off
    assert a["outstanding_principal"] == 150_00 and a["current_overdue"] == 7_00
    assert a["current_dpd"] == 12 and a["max_dpd_3m"] == 40 and a["max_dpd_12m"] == 40
    assert a["max_dpd_ever"] == 65 and a["months_30plus_12m"] == 1
    assert a["months_on_book"] == 22 and a["currency"] == "CNY"
    b = out.row(1, named=True)
    assert b["max_dpd_ever"] == 0 and b["outstanding_principal"] == 50_00


def test_mixed_currencies_leave_amounts_null() -> None:
    loans = pl.DataFrame(
        {
            "borrower_id": ["A", "A"],
            "loan_id": ["a1", "a2"],
            "currency": ["CNY", "USD"],
            "principal": [100, 200],
            "disbursed_on": [date(2026, 1, 1)] * 2,
        }
    )
    snaps = pl.DataFrame(
        schema={
            "loan_id": pl.String,
            "as_of": pl.Date,
            "status": pl.String,
            "days_past_due": pl.Int64,
            "outstanding_principal": pl.Int64,
            "overdue": pl.Int64,
        }
    )
    row = internal_features(loans, snaps, AS_OF).row(0, named=True)
    assert row["currency"] == "mixed" and row["outstanding_principal"] is None
    assert row["loans_open"] == 2 and row["current_dpd"] == 0


@pytest.fixture
def closed_book(engine: Engine, tmp_path: Path) -> Engine:
    catalog = load_catalog()
    import_book(engine, BOOK, catalog)
    for day in CLOSES:
        close_business(engine, catalog, day, tmp_path / "data")
    return engine


def test_profiles_match_the_snapshots_row_by_row(closed_book: Engine) -> None:
    frame = credit_profiles(closed_book, AS_OF)
    with unit_of_work(closed_book) as session:
        loans = {r.loan_id: r.borrower_id for r in session.scalars(select(Loan))}
        snaps = list(session.scalars(select(StatusSnapshot)))
    assert frame.height == len(set(loans.values()))
    for row in frame.iter_rows(named=True):
        mine = [s for s in snaps if loans[s.loan_id] == row["borrower_id"]]
        newest = {}
        for s in sorted(mine, key=lambda s: s.as_of):
            newest[s.loan_id] = s
        assert row["max_dpd_ever"] == max((s.days_past_due for s in mine), default=0)
        assert row["current_dpd"] == max((s.days_past_due for s in newest.values()), default=0)
        assert row["current_overdue"] == sum(
            s.overdue_principal + s.overdue_interest + s.overdue_fee + s.overdue_penalty
            for s in newest.values()
        )
        assert row["max_dpd_3m"] == max(
            (s.days_past_due for s in mine if s.as_of > date(2026, 8, 30)), default=0
        )
    assert frame.get_column("max_dpd_ever").max() > 0  # the example book has delinquencies


def test_profile_merges_external_reports(closed_book: Engine) -> None:
    from arrears.bureau.breaker import CircuitBreaker
    from arrears.bureau.client import HttpSource
    from arrears.bureau.settings import BureauSettings

    borrower = "B0006"
    t0 = datetime(2026, 11, 30, 10, tzinfo=UTC)
    record_consent(closed_book, borrower, "post_loan_monitoring", "ops", now=t0)
    with FakeBureau(port=0) as bureau:
        settings = BureauSettings(base_url=bureau.url, backoff_s=0)
        for name in ("credit_report", "enforcement"):
            source = HttpSource(name, settings, breaker=CircuitBreaker())
            pull_report(
                closed_book,
                source,
                borrower,
                purpose="post_loan_monitoring",
                requested_by="ops",
                ttl_s=3600,
                now=t0,
            )
            source.close()
        expected = bureau.reports.report("credit_report", borrower)
    profile = credit_profile(closed_book, borrower, AS_OF, now=t0)
    f = profile["features"]
    assert f["bureau_score"] == expected["bureau_score"]
    assert f["other_lenders_debt"] == expected["other_lenders_debt"]
    assert f["enforcement_listed"] in (True, False) and f["tax_grade"] is None
    assert f["current_dpd"] > 0  # B0006's loan is 159 days past due on the business date
    assert set(profile["sources"]) == {"credit_report", "enforcement"}
    assert profile["sources"]["credit_report"]["stale"] is False
    later = credit_profile(closed_book, borrower, AS_OF, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert later["sources"]["credit_report"]["stale"] is True


def test_a_long_list_of_ids_reads_the_book_once_and_filters(
    closed_book: Engine, monkeypatch
) -> None:
    from arrears.bureau import profile

    every = credit_profiles(closed_book, AS_OF)
    monkeypatch.setattr(profile, "_MAX_IN_LIST", 2)
    ids = [*every.get_column("borrower_id").to_list()[:5], "NOPE"]
    some = credit_profiles(closed_book, AS_OF, ids)
    assert some.get_column("borrower_id").to_list() == ids
    assert some.head(5).equals(every.head(5).select(some.columns))
    assert some.row(5, named=True)["loans_total"] == 0
