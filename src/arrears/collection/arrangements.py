"""Repayment plans and settlements (还款计划与和解), each proposed, approved (maker-checker above the
maker's limit) and carried out with an event at every step.

- A **plan** re-ages a case's arrears: on each delinquent loan, what is unpaid of the instalments
  already due is moved into `count` new monthly instalments from `first_due`; the past
  instalments keep what was paid on them (so they are settled and DPD restarts at 0); the loan is
  marked restructured on the day (status `restructured`, the product's observation period, at
  least special mention — the rules in `loans.status`). Penalty interest on the moved arrears is
  waived with them. The old schedule is kept in the `loan.restructured` event.
- A **settlement** accepts `amount` (less than owed) by `pay_by`; the rest is the waiver that the
  approval weighs. `complete_settlement`, once the case's payments since the proposal reach the
  amount, writes the remaining balance of every loan off as waived (`loan.written_off` with the
  reason) and the case closes as `settled`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from arrears.catalog import Catalog, load_catalog
from arrears.collection import approvals
from arrears.collection.approvals import FollowUp
from arrears.collection.common import CollectionRefused, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.loans import RULES_VERSION
from arrears.loans.allocation import replay
from arrears.loans.dates import add_months
from arrears.loans.money import format_amount, parse_amount
from arrears.loans.product import Product
from arrears.loans.status import loan_status
from arrears.loans.terms import Installment, Loan
from arrears.store import repository as repo
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import ApprovalRow, ArrangementRow, CaseLoan, Instalment, Payment
from arrears.store.tables import Loan as LoanRow

MAX_PLAN_INSTALMENTS = 36
PARTS = ("principal", "interest", "fee")


# ------------------------------------------------------------------ the pure re-age rule


# The first new instalment is corrected until the loan owes what it owed; each correction moves
# where payments fall (penalty on the shrunken past instalments), so it takes a few rounds.
REAGE_ITERATIONS = 50


def _split(total: int, parts: int) -> list[int]:
    """`total` in `parts` equal whole amounts, the last absorbing the remainder."""
    each = total // parts
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def _owed(loan: Loan, product: Product, as_of: date) -> dict[str, int]:
    """Unpaid principal, interest and fee on `as_of`, with any credit taken off the principal."""
    r = replay(loan, product, as_of)
    owed = {part: sum(getattr(s, part) for s in r.instalments) for part in PARTS}
    owed["principal"] -= r.credit_balance
    return owed


def reaged_schedule(
    loan: Loan, product: Product, as_of: date, first_due: date, count: int
) -> tuple[Installment, ...]:
    """The loan's schedule after re-ageing its arrears on `as_of` into `count` monthly
    instalments from `first_due` (see the module doc). Future instalments are unchanged; a new
    instalment falling on an existing due date is added to it. Seqs are renumbered in due order.

    The replay recomputes penalty on the shrunken past instalments, so money that had paid
    penalty on the re-aged part may now land elsewhere; the first new instalment is corrected so
    that the loan owes exactly what it owed before (the invariant the tests hold).
    """
    states = replay(loan, product, as_of).instalments
    past, future = [], []
    arrears = dict.fromkeys(PARTS, 0)
    for s in states:
        item = s.item
        if item.due_on < as_of:
            for part in PARTS:
                arrears[part] += getattr(s, part)
            past.append(
                replace(
                    item,
                    principal=item.principal - s.principal,
                    interest=item.interest - s.interest,
                    fee=item.fee - s.fee,
                )
            )
        else:
            future.append(item)
    by_date: dict[date, dict[str, int]] = {}
    for item in future:
        by_date[item.due_on] = {part: getattr(item, part) for part in PARTS}
    splits = {part: _split(total, count) for part, total in arrears.items()}
    for k in range(count):
        due = add_months(first_due, k, first_due.day)
        slot = by_date.setdefault(due, dict.fromkeys(PARTS, 0))
        for part in PARTS:
            slot[part] += splits[part][k]

    def build() -> tuple[Installment, ...]:
        ordered = [(i.due_on, i.principal, i.interest, i.fee) for i in past] + [
            (d, v["principal"], v["interest"], v["fee"]) for d, v in sorted(by_date.items())
        ]
        return tuple(
            Installment(seq=n, due_on=d, principal=p, interest=i, fee=f)
            for n, (d, p, i, f) in enumerate(ordered, start=1)
        )

    before = _owed(loan, product, as_of)
    first = by_date[first_due]
    for _ in range(REAGE_ITERATIONS):
        schedule = build()
        after = _owed(replace(loan, schedule=schedule), product, as_of)
        if after == before:
            break
        for part in PARTS:
            first[part] += before[part] - after[part]
    else:
        raise CollectionRefused(
            f"loan {loan.loan_id}: no re-aged schedule owes exactly what is owed ({before}); "
            "choose another first date or count (无法生成等额重组计划，请调整首期日或期数)"
        )
    return schedule


# ------------------------------------------------------------------ services


def _view(a: ArrangementRow) -> dict[str, Any]:
    return {
        "arrangement_id": a.arrangement_id,
        "case_id": a.case_id,
        "kind": a.kind,
        "state": a.state,
        "amount": format_amount(a.amount, a.currency),
        "waived": format_amount(a.waived, a.currency),
        "terms": a.terms,
        "approval_id": a.approval_id,
    }


def _case_loans(session: Session, case_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id).order_by(CaseLoan.loan_id)
        )
    )


def _open(session: Session, case_id: str) -> None:
    busy = session.scalar(
        select(func.count())
        .select_from(ArrangementRow)
        .where(
            ArrangementRow.case_id == case_id, ArrangementRow.state.in_(("proposed", "approved"))
        )
    )
    if busy:
        raise CollectionRefused(
            f"case {case_id} already has a plan or settlement in progress (已有进行中的计划/和解)"
        )


def _propose(
    engine: Engine,
    case_id: str,
    username: str,
    kind: str,
    amount_of: Any,
    terms: dict[str, Any],
    today: date,
    policy: StagePolicy,
    catalog: Catalog,
) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        case = require_case(session, case_id, lock=True)
        if case.status == "closed":
            raise CollectionRefused(f"case {case_id} is closed (案件已结案)")
        _open(session, case_id)
        amount, waived, weighed = amount_of(session, case)
        row = ArrangementRow(
            case_id=case_id,
            kind=kind,
            state="proposed",
            amount=amount,
            waived=waived,
            currency=case.currency,
            terms=terms,
            made_by=username,
            made_on=today,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            f"{kind}.proposed",
            borrower_id=case.borrower_id,
            payload=_view(row) | {"by": username},
        )
        approval, follow = approvals.request(
            session,
            policy,
            kind,
            case,
            weighed,
            username,
            {"arrangement_id": row.arrangement_id},
            today,
        )
        row.approval_id = approval.approval_id
        view = _view(row)
    for step in follow:
        step(catalog)
    with unit_of_work(engine) as session:
        return _view(session.get(ArrangementRow, view["arrangement_id"]))  # type: ignore[arg-type]


def _live_status(session: Session, catalog: Catalog, loan_id: str, today: date):  # -> LoanStatus
    record = repo.load_loan(session, loan_id)
    return record, loan_status(record.loan, catalog.get(record.product), today)


def propose_plan(
    engine: Engine,
    case_id: str,
    username: str,
    *,
    count: int,
    first_due: date,
    today: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Propose re-ageing the case's arrears into `count` monthly instalments from `first_due`.
    The amount weighed for approval is the arrears re-aged."""
    policy, catalog = policy or load_policy(), catalog or load_catalog()
    if not 1 <= count <= MAX_PLAN_INSTALMENTS:
        raise CollectionRefused(
            f"a plan has 1 to {MAX_PLAN_INSTALMENTS} instalments, not {count} (期数无效)"
        )
    if first_due <= today:
        raise CollectionRefused(
            f"the first plan date {first_due} must be after today {today} (首期日须晚于今天)"
        )

    def amount_of(session: Session, case) -> tuple[int, int, int]:
        arrears = 0
        for loan_id in _case_loans(session, case.case_id):
            _, status = _live_status(session, catalog, loan_id, today)
            if status.days_past_due > 0:
                arrears += status.overdue_principal + status.overdue_interest + status.overdue_fee
        if arrears <= 0:
            raise CollectionRefused(f"case {case.case_id} has no arrears to re-age (无逾期可重组)")
        return arrears, 0, arrears

    terms = {"count": count, "first_due": first_due.isoformat()}
    return _propose(engine, case_id, username, "plan", amount_of, terms, today, policy, catalog)


def propose_settlement(
    engine: Engine,
    case_id: str,
    username: str,
    *,
    amount: str,
    pay_by: date,
    today: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Propose settling the case for `amount` (decimal text) paid by `pay_by`; the waiver (what
    is owed today beyond it: principal, overdue interest, fees and penalty) is what the approval
    weighs."""
    policy, catalog = policy or load_policy(), catalog or load_catalog()
    if pay_by < today:
        raise CollectionRefused(f"pay-by date {pay_by} is before today {today} (付款期限已过)")

    def amount_of(session: Session, case) -> tuple[int, int, int]:
        owed = 0
        for loan_id in _case_loans(session, case.case_id):
            _, s = _live_status(session, catalog, loan_id, today)
            if s.status not in ("paid_off", "written_off"):
                owed += s.outstanding_principal + s.overdue_interest + s.overdue_fee
                owed += s.overdue_penalty
        agreed = parse_amount(amount, case.currency)
        if not 0 < agreed < owed:
            raise CollectionRefused(
                f"a settlement of {amount} must be more than 0 and less than the "
                f"{format_amount(owed, case.currency)} owed (和解金额须小于欠款)"
            )
        return agreed, owed - agreed, owed - agreed

    terms = {"pay_by": pay_by.isoformat()}
    return _propose(
        engine, case_id, username, "settlement", amount_of, terms, today, policy, catalog
    )


def _arrangement(session: Session, approval: ApprovalRow) -> ArrangementRow:
    row = session.get(ArrangementRow, approval.payload["arrangement_id"])
    assert row is not None  # written with the approval
    return row


@approvals.on_approved("plan")
def _plan_approved(session: Session, approval: ApprovalRow, today: date) -> list[FollowUp]:
    row = _arrangement(session, approval)
    row.state, row.decided_on = "approved", today
    case = require_case(session, row.case_id)
    engine = session.get_bind()
    record_event(session, "plan.approved", borrower_id=case.borrower_id, payload=_view(row))
    loan_ids = _case_loans(session, row.case_id)
    first_due = date.fromisoformat(row.terms["first_due"])
    count = int(row.terms["count"])
    # The re-age runs after the approval commits, one loan at a time, each in its own unit of
    # work with its `loan.restructured` event (the COB rebuilds those loans from the new schedule).
    return [
        lambda catalog: _reage_case(
            engine, catalog, row.arrangement_id, loan_ids, first_due, count, today
        )
    ]


def _reage_case(
    engine: Engine,
    catalog: Catalog,
    arrangement_id: int,
    loan_ids: list[str],
    first_due: date,
    count: int,
    today: date,
) -> None:
    with unit_of_work(engine) as session:
        for loan_id in loan_ids:
            record = repo.load_loan(session, loan_id)
            product = catalog.get(record.product)
            if loan_status(record.loan, product, today).days_past_due <= 0:
                continue
            old = record.loan.schedule
            schedule = reaged_schedule(record.loan, product, today, first_due, count)
            session.execute(delete(Instalment).where(Instalment.loan_id == loan_id))
            session.add_all(
                Instalment(
                    loan_id=loan_id,
                    seq=i.seq,
                    due_on=i.due_on,
                    principal=i.principal,
                    interest=i.interest,
                    fee=i.fee,
                )
                for i in schedule
            )
            session.get(LoanRow, loan_id).restructured_on = today  # type: ignore[union-attr]
            loan = replace(record.loan, schedule=schedule, restructured_on=today)
            repo.replace_allocations(session, loan_id, replay(loan, product, today).lines)
            status = loan_status(loan, product, today)
            repo.save_snapshot(session, status, RULES_VERSION)
            record_event(
                session,
                "loan.restructured",
                loan_id=loan_id,
                borrower_id=record.borrower_id,
                payload={
                    "arrangement_id": arrangement_id,
                    "on": today,
                    "first_due": first_due,
                    "instalments": count,
                    "old_schedule": [
                        [i.seq, i.due_on, i.principal, i.interest, i.fee] for i in old
                    ],
                    "status_after": status.status,
                    "days_past_due_after": status.days_past_due,
                },
            )


@approvals.on_approved("settlement")
def _settlement_approved(session: Session, approval: ApprovalRow, today: date) -> list[FollowUp]:
    row = _arrangement(session, approval)
    row.state, row.decided_on = "approved", today
    case = require_case(session, row.case_id)
    record_event(session, "settlement.approved", borrower_id=case.borrower_id, payload=_view(row))
    return []


@approvals.on_rejected("plan")
@approvals.on_rejected("settlement")
def _arrangement_rejected(session: Session, approval: ApprovalRow, today: date) -> None:
    row = _arrangement(session, approval)
    row.state, row.decided_on = "rejected", today


def complete_settlement(
    engine: Engine,
    arrangement_id: int,
    username: str,
    *,
    today: date,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Close an approved settlement once the case's payments since it was proposed reach the
    agreed amount: the rest of every loan is written off as waived."""
    catalog = catalog or load_catalog()
    with unit_of_work(engine) as session:
        row = session.get(ArrangementRow, arrangement_id)
        if row is None or row.kind != "settlement":
            raise CollectionRefused(f"settlement {arrangement_id} not found (和解不存在)")
        if row.state != "approved":
            raise CollectionRefused(
                f"settlement {arrangement_id} is {row.state}, not approved (和解未获批准)"
            )
        case = require_case(session, row.case_id, lock=True)
        loan_ids = _case_loans(session, row.case_id)
        paid = int(
            session.scalar(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    Payment.loan_id.in_(loan_ids),
                    Payment.reversed_at.is_(None),
                    Payment.paid_on >= row.made_on,
                    Payment.paid_on <= today,
                )
            )
            or 0
        )
        if paid < row.amount:
            raise CollectionRefused(
                f"paid {format_amount(paid, row.currency)} of the "
                f"{format_amount(row.amount, row.currency)} agreed (和解款未付清)"
            )
        for loan_id in loan_ids:
            record, status = _live_status(session, catalog, loan_id, today)
            if status.status in ("paid_off", "written_off"):
                continue
            waived = status.outstanding_principal + status.overdue_interest + status.overdue_fee
            session.get(LoanRow, loan_id).written_off_on = today  # type: ignore[union-attr]
            loan = replace(record.loan, written_off_on=today)
            repo.save_snapshot(
                session, loan_status(loan, catalog.get(record.product), today), RULES_VERSION
            )
            record_event(
                session,
                "loan.written_off",
                loan_id=loan_id,
                borrower_id=record.borrower_id,
                payload={
                    "on": today,
                    "reason": "settlement",
                    "arrangement_id": arrangement_id,
                    "waived_principal_and_arrears": format_amount(waived, row.currency),
                },
            )
        row.state = "completed"
        record_event(
            session,
            "settlement.completed",
            borrower_id=case.borrower_id,
            payload=_view(row) | {"paid": format_amount(paid, row.currency), "by": username},
        )
        return _view(row)


def list_arrangements(engine: Engine, case_id: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        query = select(ArrangementRow).order_by(ArrangementRow.arrangement_id)
        if case_id:
            query = query.where(ArrangementRow.case_id == case_id)
        return [_view(a) for a in session.scalars(query)]


def review_settlements(engine: Engine, as_of: date, catalog: Catalog | None) -> dict[str, int]:
    """The daily look at approved settlements: complete those whose payments reached the agreed
    amount by `as_of`, lapse those whose pay-by date passed without it (`settlement.lapsed`)."""
    with unit_of_work(engine) as session:
        approved = [
            (
                a.arrangement_id,
                date.fromisoformat(a.terms["pay_by"]),
                a.amount,
                a.made_on,
                a.case_id,
            )
            for a in session.scalars(
                select(ArrangementRow).where(
                    ArrangementRow.kind == "settlement", ArrangementRow.state == "approved"
                )
            )
        ]
    done = {"completed": 0, "lapsed": 0}
    if approved and catalog is None:
        catalog = load_catalog()
    for arrangement_id, pay_by, amount, made_on, case_id in approved:
        with unit_of_work(engine) as session:
            loan_ids = _case_loans(session, case_id)
            paid = int(
                session.scalar(
                    select(func.coalesce(func.sum(Payment.amount), 0)).where(
                        Payment.loan_id.in_(loan_ids),
                        Payment.reversed_at.is_(None),
                        Payment.paid_on >= made_on,
                        Payment.paid_on <= min(as_of, pay_by),
                    )
                )
                or 0
            )
            if paid < amount and as_of > pay_by:
                row = session.get(ArrangementRow, arrangement_id)
                assert row is not None
                row.state = "lapsed"
                case = require_case(session, case_id)
                record_event(
                    session,
                    "settlement.lapsed",
                    borrower_id=case.borrower_id,
                    payload=_view(row) | {"paid": format_amount(paid, row.currency)},
                )
                done["lapsed"] += 1
        if paid >= amount:
            complete_settlement(
                engine, arrangement_id, "daily-update", today=as_of, catalog=catalog
            )
            done["completed"] += 1
    return done
