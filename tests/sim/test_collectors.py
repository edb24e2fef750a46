"""The demo's simulated collection team on the example book, November 2026 (real closes, real case
updates, real services; SQLite and PostgreSQL): borrowers promise what the book says they pay,
so a promise is kept exactly when the book has the money; capacity holds; lawsuits follow the
legal stage; the report's collections section shows the same figures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arrears.catalog import load_catalog
from arrears.cob.runner import business_days, close_business
from arrears.collection.update import update_cases
from arrears.imports import import_book
from arrears.reports.collection import collection_section
from arrears.sim.collectors import DEFAULT_TEAM, collection_figures, simulate_collection
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    CaseLoan,
    CollectionCase,
    ContactRow,
    LegalCaseRow,
    Payment,
    PromiseRow,
)

BOOK = Path(__file__).resolve().parents[2] / "examples" / "book"
START, END = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def worked(engine, tmp_path):  # type: ignore[no-untyped-def]
    catalog = load_catalog()
    import_book(engine, BOOK, catalog)
    for day in business_days(date(2026, 8, 31), date(2026, 10, 31), True):
        close_business(engine, catalog, day, tmp_path)
        update_cases(engine, day, catalog=catalog)
    result = simulate_collection(
        engine, catalog, business_days(START, END, False), tmp_path, seed=7
    )
    return engine, result


def test_promises_are_kept_exactly_when_the_book_has_the_payment(worked) -> None:  # type: ignore[no-untyped-def]
    engine, result = worked
    assert result.days == 30 and result.contacts > 50 and result.promises > 5
    with unit_of_work(engine) as session:
        promises = session.scalars(select(PromiseRow)).all()
        assert len(promises) == result.promises  # one amount each, as the team records them
        judged = [p for p in promises if p.state in ("kept", "broken")]
        assert {p.state for p in judged} == {"kept", "broken"}
        for p in judged:
            loans = select(CaseLoan.loan_id).where(CaseLoan.case_id == p.case_id)
            paid = session.scalar(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    Payment.loan_id.in_(loans),
                    Payment.reversed_at.is_(None),
                    Payment.paid_on.between(p.made_on, p.due_on + timedelta(days=p.grace_days)),
                )
            )
            assert (p.state == "kept") == (paid >= p.amount), (p.promise_id, p.state, paid)
        # every contact is on a weekday, by a team member, and none was blocked
        contacts = session.scalars(select(ContactRow)).all()
        assert len(contacts) == result.contacts
        assert all(c.at.date().weekday() < 5 and c.sent for c in contacts), sorted(
            {(c.rule_ids, c.blocked_reasons) for c in contacts if not c.sent}
        )
        team = {m.username: m for m in DEFAULT_TEAM}
        assert {c.by_user for c in contacts} <= set(team)
        # capacity: nobody holds more working cases than their profile allows
        loads = session.execute(
            select(CollectionCase.assigned_to, func.count())
            .where(CollectionCase.status != "closed", CollectionCase.assigned_to.is_not(None))
            .group_by(CollectionCase.assigned_to)
        ).all()
        assert all(n <= team[user].max_open_cases for user, n in loads if user in team)
        # lawsuits only on legal-stage cases, filed ones with a court
        for suit in session.scalars(select(LegalCaseRow)):
            assert session.get(CollectionCase, suit.case_id).stage == "legal"
            assert suit.state in ("prepare", "filed")
            assert (suit.state == "filed") == (suit.court is not None)


def test_the_report_section_counts_what_happened(worked) -> None:  # type: ignore[no-untyped-def]
    engine, result = worked
    section = collection_section(engine, END)
    figures = collection_figures(engine, START, END)
    assert section is not None
    with unit_of_work(engine) as session:
        opened = session.scalar(select(func.count()).select_from(CollectionCase))
        kept = session.scalar(select(func.count()).where(PromiseRow.state == "kept"))
        broken = session.scalar(select(func.count()).where(PromiseRow.state == "broken"))
    assert section["opened"] == opened
    assert section["promises"].get("kept", 0) == kept == figures["promises"].get("kept", 0)
    assert section["kept_rate"] == f"{kept / (kept + broken) * 100:.1f}%"
    funnel = {f["stage"]: f["cases"] for f in section["funnel"]}
    assert funnel["legal"] >= sum(figures["lawsuits"].values()) > 0
    assert [r["collector"] for r in section["collectors"]] == sorted(
        m.username for m in DEFAULT_TEAM
    )
    assert sum(r["attempts"] for r in section["collectors"]) <= result.contacts


def test_no_cases_no_section(engine) -> None:  # type: ignore[no-untyped-def]
    assert collection_section(engine, END) is None


def test_the_demo_command_prints_its_figures(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from arrears.cli import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("ARREARS_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--business-date", "2026-11-30", "--db", url, *args])

    assert run("db", "upgrade").exit_code == 0
    assert run("import", str(BOOK), "--json").exit_code == 0
    assert run("cob", "--from", "2026-09-30", "--to", "2026-10-31", "--monthly").exit_code == 0
    result = run("collector", "simulate", "--from", "2026-11-02", "--to", "2026-11-06", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["days"] == 5 and doc["contacts"] > 0
    assert doc["contacts"] == sum(r["attempts"] for r in doc["collectors"])
    assert set(doc["open_by_stage"]) <= {"reminder", "early", "mid", "late", "legal"}
    # worked days are not worked twice: one line, exit 2
    again = run("collector", "simulate", "--from", "2026-11-02", "--to", "2026-11-06")
    assert again.exit_code == 2 and "already updated up to 2026-11-06" in again.output
    backwards = run("collector", "simulate", "--from", "2026-11-06", "--to", "2026-11-02")
    assert backwards.exit_code == 2
