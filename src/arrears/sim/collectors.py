"""Simulated collection work for the demo: a team of collectors (capacity-limited profiles) and a
legal officer work the cases day by day, between the days' closes of business.

Each simulated day: the close of business and the daily case update (exactly what `arrears cob`
runs), the assignment of unassigned cases, then each collector presses "next case" up to their
daily number of calls and logs what happened. The borrower's side comes from the simulated book
itself: the payments it holds after the day are what the borrower will really do. A reached
borrower who will pay within the week promises that payment (so the promise is kept when the
book has it); one who will not may still promise (then it is broken) or refuses. The promises
are judged by the real daily case update, not here; two broken promises escalate by the stage
policy; cases in the legal stage get lawsuits that move on. Every change goes through the
collection services (contact guard, stage policy, events), as a person's would.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine, func, select

from arrears.catalog import Catalog
from arrears.collection import legal, queues, work
from arrears.collection.common import CollectionRefused
from arrears.collection.policy import StagePolicy, load_policy
from arrears.contact.service import check_contact
from arrears.loans.money import format_amount
from arrears.store.bulk import read_frame
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    Borrower,
    CaseLoan,
    CaseUpdateRun,
    CollectionCase,
    LegalCaseRow,
    PromiseRow,
    User,
)

# Who answers: the chance a call reaches the debtor, and what else happens.
REACH = 0.45
WRONG_NUMBER = 0.05
PROMISE_WITHOUT_MEANS = 0.2  # a reached borrower with no payment coming promises anyway
PROMISE_WINDOW_DAYS = 7  # a payment this soon is what the borrower promises
LAWSUITS_PER_DAY = 3
FILE_AFTER_DAYS = 5  # a lawsuit prepared this long is filed


@dataclass(frozen=True)
class Member:
    username: str
    max_open_cases: int
    calls_per_day: int
    stages: tuple[str, ...]


DEFAULT_TEAM = (
    Member("col_li", 60, 6, ("reminder",)),
    Member("col_wang", 60, 6, ("early",)),
    Member("col_zhao", 60, 6, ("mid",)),
    Member("col_chen", 80, 6, ("late",)),
    Member("col_sun", 80, 6, ("late",)),
)
LEGAL_OFFICER = "legal_zhou"
MANAGER = "mgr_qian"


@dataclass
class WorkResult:
    days: int = 0
    contacts: int = 0
    right_party: int = 0
    passed_over: int = 0  # cases the guard protected that day (not called)
    promises: int = 0
    escalations_by_hand: int = 0
    lawsuits_opened: int = 0
    lawsuits_filed: int = 0
    seconds_cob: float = 0.0
    seconds_work: float = 0.0
    notes: list[str] = field(default_factory=list)


def set_up_team(engine: Engine, team: tuple[Member, ...] = DEFAULT_TEAM) -> None:
    """The demo's people: collectors with profiles, a legal officer and a manager (no passwords:
    they only act through the services). Existing ones are left as they are."""
    from arrears.auth import add_user

    with unit_of_work(engine) as session:
        existing = set(session.scalars(select(User.username)))
    for name, role in (
        (MANAGER, "risk"),
        (LEGAL_OFFICER, "legal"),
        *((m.username, "collector") for m in team),
    ):
        if name not in existing:
            add_user(engine, name, role, None)
    for m in team:
        queues.set_collector(
            engine, m.username, MANAGER, max_open_cases=m.max_open_cases, stages=list(m.stages)
        )
    if "collector" in existing:  # the demo's sign-in account works the early stages by hand
        queues.set_collector(
            engine, "collector", MANAGER, max_open_cases=30, stages=["reminder", "early", "mid"]
        )


def _future_payments(engine: Engine, start: date, end: date) -> dict[str, list[tuple[date, int]]]:
    """The book's payments from `start` to `end` per loan: what each borrower will do."""
    with engine.connect() as conn:
        frame = read_frame(
            conn,
            "SELECT loan_id, paid_on, amount FROM payments "
            f"WHERE reversed_at IS NULL AND paid_on >= '{start.isoformat()}' "
            f"AND paid_on <= '{end.isoformat()}'",
            {"loan_id": pl.String, "paid_on": pl.Date, "amount": pl.Int64},
        )
    out: dict[str, list[tuple[date, int]]] = {}
    for loan_id, paid_on, amount in frame.sort("paid_on").iter_rows():
        out.setdefault(loan_id, []).append((paid_on, amount))
    return out


def _pending_cases(engine: Engine) -> set[str]:
    with unit_of_work(engine) as session:
        return set(session.scalars(select(PromiseRow.case_id).where(PromiseRow.state == "pending")))


def work_day(
    engine: Engine,
    day: date,
    rng: random.Random,
    payments: dict[str, list[tuple[date, int]]],
    team: tuple[Member, ...],
    result: WorkResult,
) -> None:
    """One day of collection work after that day's close and case update."""
    if day.weekday() >= 5:  # the team works Monday to Friday; the closes run every day
        return
    policy = load_policy()  # read once: each service would otherwise parse the YAML again
    queues.assign_cases(engine, day)
    waiting = _pending_cases(engine)  # a case with a promise running is left alone
    for member in team:
        calls = 0
        for _pull in range(2 * member.calls_per_day):
            if calls == member.calls_per_day:
                break
            try:
                case = queues.next_case(engine, member.username, day)
            except CollectionRefused:
                break
            if case is None:
                break
            if case["case_id"] in waiting or case["stage"] == "legal":
                continue
            # a dialler calls in the borrower's own morning (the guard's windows are local)
            at = _local_time(engine, case["borrower_id"], day, 10 * 60 + 7 * calls)
            # … and, like a real dialler, asks the guard before dialling: a borrower the rules
            # protect today (a conversation this week, a cap reached) is passed over
            if not check_contact(engine, case["borrower_id"], "call", at).allowed:
                result.passed_over += 1
                continue
            _call(engine, case, member, day, at, rng, payments, result, policy)
            calls += 1
    _legal_work(engine, day, result, policy)


def _local_time(engine: Engine, borrower_id: str, day: date, minutes: int) -> datetime:
    with unit_of_work(engine) as session:
        zone = session.scalar(select(Borrower.timezone).where(Borrower.borrower_id == borrower_id))
    local = datetime.combine(day, datetime.min.time(), ZoneInfo(zone or "Asia/Shanghai"))
    return (local + timedelta(minutes=minutes)).astimezone(UTC)


def _call(
    engine: Engine,
    case: dict[str, Any],
    member: Member,
    day: date,
    at: datetime,
    rng: random.Random,
    payments: dict[str, list[tuple[date, int]]],
    result: WorkResult,
    policy: StagePolicy,
) -> None:
    case_id, stage = case["case_id"], case["stage"]
    action = "call"
    draw = rng.random()
    # only money paid on the case's own loans keeps a promise (a current loan's instalment does not)
    with unit_of_work(engine) as session:
        loan_ids = session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id))
        coming = sorted(
            (paid_on, amount)
            for loan_id in loan_ids
            for paid_on, amount in payments.get(loan_id, ())
            if day < paid_on <= day + timedelta(days=PROMISE_WINDOW_DAYS)
        )
    if draw >= REACH:
        outcome = "wrong_number" if draw > 1 - WRONG_NUMBER else "no_answer"
        work.log_contact(
            engine, case_id, member.username, action, outcome=outcome, at=at, policy=policy
        )
        result.contacts += 1
        return
    result.contacts += 1
    result.right_party += 1
    if coming:
        # the borrower promises the next payment the book says they will make on these loans
        due_on, amount = coming[0]
        currency = _currency(engine, case_id)
        promise = [(format_amount(amount, currency), due_on)]
    elif rng.random() < PROMISE_WITHOUT_MEANS:
        # a promise without the means: half the arrears in five days (it will be broken)
        currency = _currency(engine, case_id)
        overdue = _overdue(engine, case_id)
        promise = [(format_amount(max(overdue // 2, 100), currency), day + timedelta(days=5))]
    else:
        outcome = "hardship" if rng.random() < 0.3 else "refusal"
        work.log_contact(
            engine, case_id, member.username, action, outcome=outcome, at=at, policy=policy
        )
        if outcome == "refusal" and stage == "late" and rng.random() < 0.1:
            _escalate(engine, case_id, member.username, day, result, policy)
        return
    work.log_contact(
        engine, case_id, member.username, action, outcome="promise", at=at, policy=policy
    )
    work.record_promise(engine, case_id, member.username, promise, today=day, policy=policy)
    result.promises += 1


def _currency(engine: Engine, case_id: str) -> str:
    with unit_of_work(engine) as session:
        return session.get(CollectionCase, case_id).currency  # type: ignore[union-attr]


def _overdue(engine: Engine, case_id: str) -> int:
    with unit_of_work(engine) as session:
        return session.get(CollectionCase, case_id).amount_overdue  # type: ignore[union-attr]


def _escalate(
    engine: Engine, case_id: str, username: str, day: date, result: WorkResult, policy: StagePolicy
) -> None:
    from arrears.collection.cases import set_stage

    try:
        set_stage(
            engine,
            case_id,
            "legal",
            "refuses to pay in the late stage 后期仍拒绝还款",
            username,
            today=day,
            policy=policy,
        )
        result.escalations_by_hand += 1
    except CollectionRefused as exc:
        result.notes.append(str(exc))


def _legal_work(engine: Engine, day: date, result: WorkResult, policy: StagePolicy) -> None:
    """The legal officer opens a few lawsuits a day on legal-stage cases (largest first) and
    files those prepared for a while."""
    with unit_of_work(engine) as session:
        sued = select(LegalCaseRow.case_id)
        todo = list(
            session.scalars(
                select(CollectionCase.case_id)
                .where(
                    CollectionCase.stage == "legal",
                    CollectionCase.status == "open",
                    CollectionCase.case_id.not_in(sued),
                )
                .order_by(CollectionCase.amount_overdue.desc())
                .limit(LAWSUITS_PER_DAY)
            )
        )
        ready = list(
            session.scalars(
                select(LegalCaseRow.legal_id).where(
                    LegalCaseRow.state == "prepare",
                    LegalCaseRow.opened_on <= day - timedelta(days=FILE_AFTER_DAYS),
                )
            )
        )
    for case_id in todo:
        legal.open_lawsuit(engine, case_id, LEGAL_OFFICER, today=day, policy=policy)
        result.lawsuits_opened += 1
    for legal_id in ready:
        legal.advance_lawsuit(
            engine,
            legal_id,
            "filed",
            LEGAL_OFFICER,
            on=day,
            court="上海市浦东新区人民法院",
            fees="800.00",
        )
        result.lawsuits_filed += 1


def simulate_collection(
    engine: Engine,
    catalog: Catalog,
    days: list[date],
    data_dir: Path,
    *,
    seed: int = 2026,
    team: tuple[Member, ...] = DEFAULT_TEAM,
    on_day: Callable[[date], None] | None = None,
) -> WorkResult:
    """Close each day, update the cases, then let the team work them (see the module doc)."""
    from arrears.cob.book import load_book
    from arrears.cob.runner import close_business
    from arrears.collection.update import update_cases

    with unit_of_work(engine) as session:
        last = session.scalar(select(func.max(CaseUpdateRun.as_of)))
    if days and last is not None and days[0] <= last:
        # a worked day is not worked twice (its contacts and promises are already there)
        raise CollectionRefused(
            f"cases are already updated up to {last}; simulate from a later day "
            f"(案件已更新至 {last}，请从之后的日期开始)"
        )
    set_up_team(engine, team)
    rng = random.Random(seed)
    payments = _future_payments(engine, days[0], days[-1] + timedelta(days=PROMISE_WINDOW_DAYS))
    result = WorkResult()
    # The work changes no loan (no payment, plan or write-off), so the book read once holds.
    book = load_book(engine, catalog)
    policy = load_policy()
    for day in days:
        started = time.perf_counter()
        close_business(engine, catalog, day, data_dir, book=book)
        update_cases(engine, day, policy, catalog=catalog)
        result.seconds_cob += time.perf_counter() - started
        started = time.perf_counter()
        work_day(engine, day, rng, payments, team, result)
        result.seconds_work += time.perf_counter() - started
        result.days += 1
        if on_day:
            on_day(day)
    return result


def collection_figures(engine: Engine, start: date, end: date) -> dict[str, Any]:
    """What the demo prints: cases by stage and status, closes by reason, promises by state,
    lawsuits by state, and the team's performance over the period."""
    from arrears.collection.performance import collector_performance

    with unit_of_work(engine) as session:
        by_stage = dict(
            session.execute(
                select(CollectionCase.stage, func.count())
                .where(CollectionCase.status != "closed")
                .group_by(CollectionCase.stage)
            ).all()
        )
        closed = dict(
            session.execute(
                select(CollectionCase.close_reason, func.count())
                .where(CollectionCase.closed_on.between(start, end))
                .group_by(CollectionCase.close_reason)
            ).all()
        )
        opened = session.scalar(
            select(func.count()).where(CollectionCase.opened_on.between(start, end))
        )
        promises = dict(
            session.execute(
                select(PromiseRow.state, func.count())
                .where(PromiseRow.made_on.between(start, end))
                .group_by(PromiseRow.state)
            ).all()
        )
        lawsuits = dict(
            session.execute(
                select(LegalCaseRow.state, func.count()).group_by(LegalCaseRow.state)
            ).all()
        )
    return {
        "open_by_stage": by_stage,
        "opened": opened or 0,
        "closed_by_reason": closed,
        "promises": promises,
        "lawsuits": lawsuits,
        "collectors": collector_performance(engine, start, end),
    }
