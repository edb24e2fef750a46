"""The daily case update on a real database: one case per borrower, stages from the policy,
closing with a reason, events for every change, idempotent per date."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from arrears.collection.common import CollectionRefused
from arrears.collection.update import update_cases
from arrears.servicing import post_payment
from arrears.store.db import unit_of_work
from arrears.store.tables import CaseLoan, CollectionCase, Event

from .conftest import CATALOG


def cases(engine):
    with unit_of_work(engine) as s:
        return {c.borrower_id: c for c in s.scalars(select(CollectionCase))}


def events(engine, type_):
    with unit_of_work(engine) as s:
        return [e.payload for e in s.scalars(select(Event).where(Event.type == type_))]


def test_one_case_per_borrower_groups_their_overdue_loans(book, close):
    result = close(book, date(2024, 2, 20))
    assert result.opened == 3
    by_borrower = cases(book)
    one = by_borrower["B-1"]
    assert (one.status, one.stage, one.days_past_due, one.loans) == ("open", "reminder", 5, 2)
    # both loans' first instalments: 100000+3000 and 200000+3000 minor units, plus penalty
    assert one.amount_overdue >= 103_000 + 203_000
    assert by_borrower["B-2"].stage == "early"  # enterprise skips reminder (policy rule)
    with unit_of_work(book) as s:
        linked = s.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == one.case_id)).all()
    assert sorted(linked) == ["L-1", "L-2"]
    assert len(events(book, "case.opened")) == 3


def test_stage_moves_with_dpd_and_each_change_is_an_event(book, close):
    close(book, date(2024, 2, 20))
    close(book, date(2024, 2, 25))  # DPD 10
    result = close(book, date(2024, 3, 20))  # DPD 34
    assert cases(book)["B-1"].stage == "mid"
    assert result.stage_changes >= 1
    changes = [
        e for e in events(book, "case.stage_changed") if e["case_id"] == cases(book)["B-1"].case_id
    ]
    assert [(e["from_stage"], e["to_stage"]) for e in changes] == [
        ("reminder", "early"),
        ("early", "mid"),
    ]


def test_paid_up_case_closes_cured_and_paid_off_closes_paid_off(book, close):
    close(book, date(2024, 2, 20))
    post_payment(book, CATALOG, "L-4", 200_000, date(2024, 2, 21), today=date(2024, 2, 21))
    for loan in ("L-1", "L-2"):
        post_payment(book, CATALOG, loan, 10_000_000, date(2024, 2, 21), today=date(2024, 2, 21))
    result = close(book, date(2024, 2, 22))
    after = cases(book)
    assert result.closed == 2
    assert (after["B-3"].status, after["B-3"].close_reason) == ("closed", "cured")
    assert (after["B-1"].status, after["B-1"].close_reason) == ("closed", "paid_off")
    assert after["B-2"].status == "open"
    reasons = sorted(e["reason"] for e in events(book, "case.closed"))
    assert reasons == ["cured", "paid_off"]


def test_a_borrower_delinquent_again_gets_a_new_case(book, close):
    close(book, date(2024, 2, 20))
    post_payment(book, CATALOG, "L-4", 200_000, date(2024, 2, 21), today=date(2024, 2, 21))
    close(book, date(2024, 2, 22))
    close(book, date(2024, 3, 20))  # second instalment missed
    with unit_of_work(book) as s:
        rows = s.scalars(select(CollectionCase).where(CollectionCase.borrower_id == "B-3")).all()
    assert sorted(r.status for r in rows) == ["closed", "open"]


def test_same_date_twice_is_a_no_op_and_an_earlier_date_is_refused(book, close):
    first = close(book, date(2024, 2, 20))
    again = update_cases(book, date(2024, 2, 20))
    assert again.already_done and again.opened == first.opened
    assert len(cases(book)) == 3
    with pytest.raises(CollectionRefused, match="earlier"):
        update_cases(book, date(2024, 2, 19))


def test_no_snapshots_for_the_date_is_refused(book):
    with pytest.raises(CollectionRefused, match="arrears cob"):
        update_cases(book, date(2024, 2, 20))


def test_invariant_open_cases_are_exactly_the_delinquent_borrowers_day_by_day(book, close):
    """Every day: one open case per borrower with a delinquent loan, none for the others; each
    open case's DPD and overdue amount are its borrower's worst DPD and total overdue."""
    from datetime import timedelta

    from arrears.store.tables import Loan, StatusSnapshot

    payments = {
        date(2024, 2, 18): ("L-4", "1031.00"),
        date(2024, 2, 27): ("L-1", "500.00"),
        date(2024, 3, 2): ("L-1", "600.00"),
        date(2024, 3, 18): ("L-3", "5000.00"),
    }
    day = date(2024, 2, 14)
    while day <= date(2024, 3, 20):
        if day in payments:
            loan, amount = payments[day]
            post_payment(book, CATALOG, loan, amount, day, today=day)
        close(book, day)
        with unit_of_work(book) as s:
            rows = s.execute(
                select(Loan.borrower_id, StatusSnapshot)
                .join(StatusSnapshot, StatusSnapshot.loan_id == Loan.loan_id)
                .where(StatusSnapshot.as_of == day)
            ).all()
            open_cases = {
                c.borrower_id: c
                for c in s.scalars(select(CollectionCase).where(CollectionCase.status != "closed"))
            }
        worst: dict[str, tuple[int, int]] = {}
        for borrower, snap in rows:
            if snap.days_past_due > 0 and snap.status not in ("paid_off", "written_off"):
                dpd, amount = worst.get(borrower, (0, 0))
                owed = (
                    snap.overdue_principal
                    + snap.overdue_interest
                    + snap.overdue_fee
                    + snap.overdue_penalty
                )
                worst[borrower] = (max(dpd, snap.days_past_due), amount + owed)
        assert set(open_cases) == set(worst), day
        for borrower, (dpd, amount) in worst.items():
            c = open_cases[borrower]
            assert (c.days_past_due, c.amount_overdue, c.updated_on) == (dpd, amount, day), day
        day += timedelta(days=3)


def test_cob_command_runs_the_case_update_unless_told_not_to(tmp_path):
    from typer.testing import CliRunner

    from arrears.cli import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'b.db'}"
    examples = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples" / "book"
    env = {"ARREARS_DATA_DIR": str(tmp_path / "data")}
    base = ["--db", url, "--business-date", "2026-11-30"]
    assert runner.invoke(app, [*base, "db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(app, [*base, "import", str(examples)], env=env).exit_code == 0
    assert runner.invoke(app, [*base, "cob", "--no-cases"], env=env).exit_code == 0
    assert runner.invoke(app, [*base, "case", "list", "--json"], env=env).stdout.strip() == "[]"
    assert runner.invoke(app, [*base, "cob"], env=env).exit_code == 0
    assert runner.invoke(app, [*base, "case", "list", "--json"], env=env).stdout.strip() != "[]"
