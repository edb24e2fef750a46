"""The close of business against a real database (SQLite and PostgreSQL): the same answers as the
single-loan rules, idempotent re-runs, back-dated payments picked up, transitions and events, and
a run killed half-way that leaves the previous state readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.imports import import_book
from arrears.loans.status import loan_status
from arrears.servicing import post_payment
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.repository import SNAPSHOT_FIELDS
from arrears.store.tables import CobRun, Event, StatusSnapshot, StatusTransition

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
CATALOG = load_catalog()
DAY = date(2026, 11, 30)


@pytest.fixture
def book(engine):
    import_book(engine, EXAMPLES, CATALOG)
    return engine


def snapshots(engine, day):
    with engine.connect() as conn:
        rows = (
            conn.execute(select(StatusSnapshot).where(StatusSnapshot.as_of == day)).mappings().all()
        )
    return {row["loan_id"]: dict(row) for row in rows}


def single_loan_truth(engine, day):
    with unit_of_work(engine) as session:
        ids = [
            r.loan_id
            for r in session.execute(
                select(StatusSnapshot.loan_id).where(StatusSnapshot.as_of == day)
            )
        ]
        return {
            i: loan_status(
                repo.load_loan(session, i).loan,
                CATALOG.get(repo.load_loan(session, i).product),
                day,
            )
            for i in ids
        }


FIELDS = SNAPSHOT_FIELDS


def assert_matches_rules(engine, day):
    stored = snapshots(engine, day)
    truth = single_loan_truth(engine, day)
    assert stored and set(stored) == set(truth)
    for loan_id, status in truth.items():
        row = stored[loan_id]
        assert {f: row[f] for f in FIELDS} == {f: getattr(status, f) for f in FIELDS}, loan_id
        assert row["penalty_accrued"] == status.penalty_accrued_today


def test_cob_writes_what_the_single_loan_rules_say(book, tmp_path):
    result = close_business(book, CATALOG, DAY, tmp_path)
    assert result.mode == "rebuild" and result.loans == 34
    assert_matches_rules(book, DAY)
    with book.connect() as conn:
        run = conn.execute(select(CobRun)).one()
    assert (run.status, run.loans, run.rules_version) == ("complete", 34, "2026.11.1")


def test_month_by_month_then_daily_agrees_with_a_rebuild(book, tmp_path):
    for day in (date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 29)):
        close_business(book, CATALOG, day, tmp_path / "a")
    daily = close_business(book, CATALOG, DAY, tmp_path / "a")
    assert daily.mode == "daily" and daily.rebuilt == 0
    assert_matches_rules(book, DAY)


def test_rerunning_a_date_replaces_its_results(book, tmp_path):
    first = close_business(book, CATALOG, DAY, tmp_path)
    again = close_business(book, CATALOG, DAY, tmp_path)
    assert again.snapshots == first.snapshots
    with book.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(StatusSnapshot)) == 34
        statuses = sorted(conn.scalars(select(CobRun.status)))
    assert statuses == ["complete", "superseded"]


def test_a_back_dated_payment_is_picked_up_by_the_next_close(book, tmp_path):
    close_business(book, CATALOG, date(2026, 11, 29), tmp_path)
    before = snapshots(book, date(2026, 11, 29))["L00008"]
    assert before["days_past_due"] > 0
    owed = (
        before["overdue_principal"]
        + before["overdue_interest"]
        + before["overdue_penalty"]
        + 10_000
    )
    post_payment(book, CATALOG, "L00008", owed, date(2026, 11, 20), today=date(2026, 11, 30))
    result = close_business(book, CATALOG, DAY, tmp_path)
    assert result.mode == "daily" and result.rebuilt == 1
    assert snapshots(book, DAY)["L00008"]["days_past_due"] == 0
    assert_matches_rules(book, DAY)


def test_transitions_and_their_events(book, tmp_path):
    close_business(book, CATALOG, date(2026, 10, 31), tmp_path)
    result = close_business(book, CATALOG, DAY, tmp_path)
    with book.connect() as conn:
        rows = conn.execute(select(StatusTransition).where(StatusTransition.as_of == DAY)).all()
        events = conn.scalar(
            select(func.count()).select_from(Event).where(Event.type == "loan.status_changed")
        )
    assert len(rows) == result.transitions > 0
    assert all(
        r.from_bucket != r.to_bucket or r.from_classification != r.to_classification for r in rows
    )
    assert all(r.previous_as_of == date(2026, 10, 31) for r in rows if r.from_bucket is not None)
    assert (
        events == 34 + result.transitions
    )  # every loan entered on its first close, then the changes


def test_snapshot_export(book, tmp_path):
    from typer.testing import CliRunner

    from arrears.cli import app

    close_business(book, CATALOG, DAY, tmp_path)
    url = book.url.render_as_string(hide_password=False)
    out = tmp_path / "snap.parquet"
    result = CliRunner().invoke(
        app, ["--db", url, "snapshot", "--as-of", "2026-11-30", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame.height == 34 and {
        "loan_id",
        "days_past_due",
        "bucket",
        "classification",
        "ifrs9_stage",
        "status",
        "outstanding_principal",
    } <= set(frame.columns)
    missing = CliRunner().invoke(
        app, ["--db", url, "snapshot", "--as-of", "2020-01-01", "--out", str(out)]
    )
    assert missing.exit_code == 2 and "arrears cob --as-of 2020-01-01" in missing.stderr


@pytest.mark.parametrize("stage", ["state-saved", "written"])
def test_a_killed_run_leaves_the_previous_results_and_the_next_run_finishes(book, tmp_path, stage):
    """Kill a real `arrears cob` process at a known point; nothing of its date is half-written."""
    data = tmp_path / "data"
    close_business(book, CATALOG, date(2026, 11, 29), data)
    previous = snapshots(book, date(2026, 11, 29))
    url = book.url.render_as_string(hide_password=False)
    hold = tmp_path / "hold"
    env = {
        **os.environ,
        "ARREARS_DATABASE_URL": url,
        "ARREARS_DATA_DIR": str(data),
        "ARREARS_COB_HOLD_AT": stage,
        "ARREARS_COB_HOLD_FILE": str(hold),
    }
    exe = Path(sys.executable).with_name("arrears")
    proc = subprocess.Popen(
        [str(exe), "cob", "--as-of", "2026-11-30"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not hold.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never reached its hold point"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshots(book, date(2026, 11, 29)) == previous
    assert snapshots(book, DAY) == {}
    with book.connect() as conn:
        assert conn.scalar(select(CobRun.status).where(CobRun.as_of == DAY)) == "running"
    result = close_business(book, CATALOG, DAY, data)
    assert result.mode == "daily"
    assert_matches_rules(book, DAY)


def test_a_payment_snapshot_alone_is_not_a_closed_day(book, tmp_path):
    """A payment writes its loan's snapshot at once; that day is still not a portfolio until the
    COB has closed it."""
    from typer.testing import CliRunner

    from arrears.cli import app

    post_payment(book, CATALOG, "L00008", 10_000, date(2026, 12, 3), today=date(2026, 12, 3))
    url = book.url.render_as_string(hide_password=False)
    for args in (
        ["portfolio", "--as-of", "2026-12-03"],
        ["snapshot", "--as-of", "2026-12-03", "--out", str(tmp_path / "s.csv")],
    ):
        result = CliRunner().invoke(app, ["--db", url, *args])
        assert result.exit_code == 2 and "no close of business for 2026-12-03" in result.stderr
    close_business(book, CATALOG, date(2026, 12, 3), tmp_path / "data")
    result = CliRunner().invoke(app, ["--db", url, "portfolio", "--as-of", "2026-12-03", "--json"])
    assert result.exit_code == 0, result.output


def test_loans_imported_after_a_close_join_the_next_one(book, tmp_path):
    """A daily close reads only recent payments, plus whole histories of new or changed loans."""
    close_business(book, CATALOG, date(2026, 11, 29), tmp_path / "data")
    more = tmp_path / "more"
    more.mkdir()
    (more / "borrowers.csv").write_text(
        "borrower_id,kind,name\nB9001,individual,新客户\n", encoding="utf-8"
    )
    (more / "loans.csv").write_text(
        "loan_id,borrower_id,product,principal,annual_rate,term_months,repayment_method,disbursed_on\n"
        "L90001,B9001,consumer,12000,0.12,12,equal_installment,2026-06-15\n",
        encoding="utf-8",
    )
    (more / "payments.csv").write_text(
        "payment_id,loan_id,paid_on,amount\nP90001,L90001,2026-07-15,1066.19\nP90002,L90001,2026-09-01,500\n",
        encoding="utf-8",
    )
    import_book(book, more, CATALOG)
    result = close_business(book, CATALOG, DAY, tmp_path / "data")
    assert result.mode == "daily" and result.rebuilt == 1 and result.loans == 35
    assert snapshots(book, DAY)["L90001"]["days_past_due"] > 0
    assert_matches_rules(book, DAY)


def test_the_book_from_files_equals_the_book_from_the_database(book):
    """Benchmarks and file-based closes read the import files directly; the database path reads
    what the import wrote. Both give the same frames."""
    from arrears.cob.book import load_book, load_book_files

    key = {
        "loans": ["loan_id"],
        "instalments": ["loan_id", "seq"],
        "payments": ["loan_id", "paid_on", "amount"],
    }
    stored, files = load_book(book, CATALOG), load_book_files(EXAMPLES, CATALOG)
    for name, columns in key.items():
        a = getattr(stored, name).sort(columns)
        b = getattr(files, name).sort(columns).select(a.columns)
        assert a.drop("borrower_id", strict=False).equals(b.drop("borrower_id", strict=False)), name
