"""Litigation (诉讼): a lawsuit on a case moves prepare → filed → hearing → judgment →
enforcement → closed, each step with its date and figures (court, fees paid, amount awarded,
amount recovered) and an event; the demand letter and complaint summary are rendered from
bilingual HTML templates; and the limitation period (PRC Civil Code art. 188: 3 years, restarted
by the debtor's acknowledgement or a payment) is watched so no claim is lost to time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import jinja2
from sqlalchemy import Engine, func, select

from arrears.collection.common import CollectionRefused, NotAllowed, actor, require_case
from arrears.collection.policy import StagePolicy, load_policy
from arrears.loans.dates import add_months
from arrears.loans.money import format_amount, parse_amount
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import (
    Borrower,
    CaseLoan,
    ContactRow,
    Instalment,
    LegalCaseRow,
    Payment,
    PromiseRow,
    StatusSnapshot,
)

STATES = ("prepare", "filed", "hearing", "judgment", "enforcement", "closed")
# the date column each step sets
STEP_DATE = {
    "filed": "filed_on",
    "hearing": "hearing_on",
    "judgment": "judgment_on",
    "enforcement": "enforcement_on",
    "closed": "closed_on",
}
# contact outcomes in which the debtor acknowledges the debt (they restart the period)
ACKNOWLEDGING = ("promise", "paid", "hardship")


def _legal_user(session, policy: StagePolicy, username: str):  # -> Actor
    who = actor(session, username)
    if not policy.allows("legal", who.role):
        raise NotAllowed(f"role {who.role} may not act on lawsuits (无诉讼操作权限)")
    return who


def open_lawsuit(
    engine: Engine, case_id: str, username: str, *, today: date, policy: StagePolicy | None = None
) -> LegalCaseRow:
    """Start preparing a lawsuit on a case in the legal stage; the claim is today's overdue
    amount plus the outstanding principal."""
    policy = policy or load_policy()
    with unit_of_work(engine) as session:
        who = _legal_user(session, policy, username)
        case = require_case(session, case_id, lock=True)
        if case.stage != "legal":
            raise CollectionRefused(
                f"case {case_id} is in stage {case.stage}; escalate it to legal first "
                "(案件须先升级至诉讼阶段)"
            )
        open_ = session.scalar(
            select(func.count())
            .select_from(LegalCaseRow)
            .where(LegalCaseRow.case_id == case_id, LegalCaseRow.state != "closed")
        )
        if open_:
            raise CollectionRefused(
                f"case {case_id} already has an open lawsuit (已有进行中的诉讼)"
            )
        row = LegalCaseRow(
            case_id=case_id,
            state="prepare",
            opened_on=today,
            claimed=case.amount_overdue + case.outstanding_principal,
            currency=case.currency,
            fees_paid=0,
            recovered=0,
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "legal.opened",
            borrower_id=case.borrower_id,
            payload={
                "legal_id": row.legal_id,
                "case_id": case_id,
                "claimed": format_amount(row.claimed, row.currency),
                "by": who.username,
            },
        )
        return row


def advance_lawsuit(
    engine: Engine,
    legal_id: int,
    to_state: str,
    username: str,
    *,
    on: date,
    court: str | None = None,
    fees: str | None = None,
    awarded: str | None = None,
    recovered: str | None = None,
    policy: StagePolicy | None = None,
) -> LegalCaseRow:
    """Move a lawsuit one step on (steps are never skipped or reversed) and record its figures:
    `court` when filing, `fees` paid (added), `awarded` at judgment, `recovered` (added) at
    enforcement or closing. Amounts are decimal text in the lawsuit's currency."""
    policy = policy or load_policy()
    if to_state not in STATES:
        raise CollectionRefused(f"{to_state!r} is not one of {', '.join(STATES)} (诉讼状态无效)")
    with unit_of_work(engine) as session:
        who = _legal_user(session, policy, username)
        row = session.scalars(
            select(LegalCaseRow).where(LegalCaseRow.legal_id == legal_id).with_for_update()
        ).first()
        if row is None:
            raise CollectionRefused(f"lawsuit {legal_id} not found (诉讼不存在)")
        expected = STATES[STATES.index(row.state) + 1] if row.state != "closed" else None
        if to_state != expected:
            raise CollectionRefused(
                f"lawsuit {legal_id} is at {row.state}; the next step is {expected or 'none'}, "
                f"not {to_state} (诉讼步骤不可跳过或回退)"
            )
        if to_state == "filed" and not (court or row.court):
            raise CollectionRefused("filing needs the court (立案需填写法院)")
        previous = [getattr(row, c) for c in STEP_DATE.values() if getattr(row, c) is not None]
        if (previous and on < max(previous)) or on < row.opened_on:
            raise CollectionRefused(
                f"{on} is before the lawsuit's previous step (日期早于上一步骤)"
            )
        row.state = to_state
        setattr(row, STEP_DATE[to_state], on)
        if court:
            row.court = court
        if fees:
            row.fees_paid += parse_amount(fees, row.currency)
        if awarded:
            row.awarded = parse_amount(awarded, row.currency)
        if recovered:
            row.recovered += parse_amount(recovered, row.currency)
        case = require_case(session, row.case_id)
        record_event(
            session,
            f"legal.{to_state}",
            borrower_id=case.borrower_id,
            payload={
                "legal_id": legal_id,
                "case_id": row.case_id,
                "on": on,
                "court": row.court,
                "fees_paid": format_amount(row.fees_paid, row.currency),
                "awarded": None
                if row.awarded is None
                else format_amount(row.awarded, row.currency),
                "recovered": format_amount(row.recovered, row.currency),
                "by": who.username,
            },
        )
        return row


def list_lawsuits(engine: Engine, state: str | None = None) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        query = select(LegalCaseRow).order_by(LegalCaseRow.legal_id)
        if state:
            query = query.where(LegalCaseRow.state == state)
        money = format_amount
        return [
            {
                "legal_id": r.legal_id,
                "case_id": r.case_id,
                "state": r.state,
                "court": r.court,
                "opened_on": r.opened_on.isoformat(),
                "filed_on": r.filed_on.isoformat() if r.filed_on else None,
                "judgment_on": r.judgment_on.isoformat() if r.judgment_on else None,
                "claimed": money(r.claimed, r.currency),
                "fees_paid": money(r.fees_paid, r.currency),
                "awarded": None if r.awarded is None else money(r.awarded, r.currency),
                "recovered": money(r.recovered, r.currency),
            }
            for r in session.scalars(query)
        ]


# ------------------------------------------------------------------ limitation period


def limitation_start(engine: Engine, case_id: str) -> date | None:
    """The day the limitation period last (re)started for a case: the latest of the oldest
    unpaid due date (when the lender could first claim), the last payment, the last promise
    and the last contact in which the debtor acknowledged the debt."""
    with unit_of_work(engine) as session:
        case = require_case(session, case_id)
        loans = select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id).scalar_subquery()
        last_payment = session.scalar(
            select(func.max(Payment.paid_on)).where(
                Payment.loan_id.in_(loans), Payment.reversed_at.is_(None)
            )
        )
        last_promise = session.scalar(
            select(func.max(PromiseRow.made_on)).where(PromiseRow.case_id == case_id)
        )
        acknowledged = session.scalar(
            select(func.max(ContactRow.at)).where(
                ContactRow.case_id == case_id,
                ContactRow.party == "debtor",
                ContactRow.outcome.in_(ACKNOWLEDGING),
            )
        )
        # the oldest due date still unpaid, from the case's worst DPD on its last update
        worst = session.scalar(
            select(func.max(StatusSnapshot.days_past_due)).where(
                StatusSnapshot.loan_id.in_(loans), StatusSnapshot.as_of == case.updated_on
            )
        )
        first_due = session.scalar(
            select(func.min(Instalment.due_on)).where(Instalment.loan_id.in_(loans))
        )
    overdue_since = None
    if worst:
        overdue_since = case.updated_on - timedelta(days=worst)
    candidates = [
        d
        for d in (
            overdue_since or first_due,
            last_payment,
            last_promise,
            acknowledged.date() if acknowledged else None,
        )
        if d is not None
    ]
    return max(candidates) if candidates else None


def limitation_status(
    engine: Engine, case_id: str, today: date, policy: StagePolicy | None = None
) -> dict[str, Any] | None:
    """When the case's limitation period ends and whether to warn (within the policy's warning
    days of the end, or past it)."""
    policy = policy or load_policy()
    start = limitation_start(engine, case_id)
    if start is None:
        return None
    ends = add_months(start, 12 * policy.limitation_years, start.day)
    days_left = (ends - today).days
    return {
        "counted_from": start.isoformat(),
        "ends_on": ends.isoformat(),
        "days_left": days_left,
        "warning": days_left <= policy.limitation_warning_days,
        "message": (
            f"limitation period ends {ends} ({days_left} days left) 诉讼时效将于 {ends} 届满"
            f"（剩余 {days_left} 天）"
            if days_left >= 0
            else f"limitation period ended {ends} 诉讼时效已于 {ends} 届满"
        ),
    }


# ------------------------------------------------------------------ documents

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("arrears.collection", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
DOCUMENTS = ("demand_letter", "complaint_summary")
DEMAND_DAYS = 15  # the demand letter asks for payment within this many days


def _document_context(
    engine: Engine, case_id: str, document: str, today: date, lender: str
) -> dict[str, Any]:
    from arrears.collection.cases import show_case

    if document not in DOCUMENTS:
        raise CollectionRefused(f"{document!r} is not one of {', '.join(DOCUMENTS)} (文书类型无效)")
    case = show_case(engine, case_id)
    with unit_of_work(engine) as session:
        borrower = session.get(Borrower, case["borrower_id"])
        lawsuits = session.scalars(
            select(LegalCaseRow).where(LegalCaseRow.case_id == case_id)
        ).all()
        court = next((r.court for r in reversed(lawsuits) if r.court), None)
    return {
        "case": case,
        "borrower_name": borrower.name if borrower else case["borrower_id"],
        "lender": lender,
        "today": today.isoformat(),
        "court": court,
        "pay_by": (today + timedelta(days=DEMAND_DAYS)).isoformat(),
        "limitation": limitation_status(engine, case_id, today),
    }


def render_document(
    engine: Engine, case_id: str, document: str, *, today: date, lender: str = "Arrears Lender"
) -> str:
    """A demand letter or complaint summary for a case as a self-contained bilingual HTML page."""
    context = _document_context(engine, case_id, document, today, lender)
    return _env.get_template(f"{document}.html").render(**context)


def demand_letter_pdf(
    engine: Engine, case_id: str, *, today: date, letterhead: Any = None
) -> bytes:
    """The demand letter as a bilingual PDF on the lender's letterhead (`documents.pdf`): the
    same facts and words as the HTML page, with the lender's contact lines."""
    from arrears.documents.pdf import Document, Text, load_letterhead, render

    head = letterhead or load_letterhead()
    c = _document_context(engine, case_id, "demand_letter", today, head.name.en)
    case, money = c["case"], f"{c['case']['amount_overdue']} {c['case']['currency']}"
    dpd, pay_by, on = case["days_past_due"], c["pay_by"], c["today"]
    return render(
        Document(
            title=(Text("催 收 函", "zh"), Text("Letter of demand", "en")),
            letterhead=head,
            languages=("zh", "en"),
            recipient=f"{c['borrower_name']}（客户号 Customer {case['borrower_id']}）",
            dated=on,
            reference=case_id,
            paragraphs=(
                Text(f"您在我司的借款已逾期 {dpd} 天，截至 {on} 逾期金额为 {money}。", "zh"),
                Text(
                    f"Your loan with us is {dpd} days past due. As of {on} the overdue amount "
                    f"is {money}.",
                    "en",
                ),
                Text(
                    f"请于 {pay_by} 前归还上述逾期款项，或与我们联系商议还款安排。"
                    "如对欠款有异议，请在此日期前书面提出。",
                    "zh",
                ),
                Text(
                    f"Please pay the overdue amount by {pay_by}, or contact us to agree a "
                    "repayment arrangement. If you dispute this debt, tell us in writing before "
                    "that date.",
                    "en",
                ),
            ),
            table=(
                ("借款 Loans", ", ".join(case["loans"])),
                ("逾期金额 Overdue", money),
                (
                    "剩余本金 Outstanding principal",
                    f"{case['outstanding_principal']} {case['currency']}",
                ),
            ),
        )
    )
