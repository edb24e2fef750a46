"""The collection pages: the collector's workbench (my queue, "next case"), the case page (masked
borrower, loans and amounts, contact history, promises, plan proposal, script hints, an outcome
logged in two clicks), the manager's page (queues, stage volumes, collector performance) and the
legal officer's litigation list and lawsuit page.

Outer ring only: every figure and every change comes from the services of `arrears.collection`
(through the same helpers as the API routes), so the pages hold no collection rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.requests import Request

from arrears.api.routes.collection import case_view
from arrears.auth.accounts import CurrentUser
from arrears.collection import approvals, arrangements, cases, legal, performance, queues, work
from arrears.collection.common import CollectionRefused
from arrears.collection.policy import load_policy
from arrears.loans.money import MoneyError, format_amount
from arrears.store.db import unit_of_work
from arrears.store.tables import CaseLoan, CollectionCase, LegalCaseRow, StatusSnapshot
from arrears.web import i18n
from arrears.web.app import Pages, _Forbidden, _form, _is_htmx, _NotFound, request_lang
from arrears.web.security import WebUser, allowed

# What to say, per stage: short bilingual prompts for the collector (not legal advice; a lender
# replaces them with its own approved scripts).
SCRIPT_HINTS: dict[str, list[tuple[str, str]]] = {
    "reminder": [
        (
            "Confirm you speak to the borrower before naming the debt.",
            "先确认对方是借款人本人，再说明欠款。",
        ),
        (
            "A friendly reminder: the due date passed, ask when they can pay.",
            "友好提醒：已过还款日，询问何时能还款。",
        ),
        (
            "Offer the payment channels; note any date they give as a promise.",
            "告知还款渠道；对方给出日期即记录为还款承诺。",
        ),
    ],
    "early": [
        (
            "Verify identity; state the overdue amount and days past due.",
            "核实身份；说明逾期金额和天数。",
        ),
        (
            "Ask why the payment was missed; listen for hardship.",
            "询问未还款原因，留意是否存在经济困难。",
        ),
        (
            "Agree a specific amount and date; repeat it back.",
            "约定具体金额和日期，并向对方复述确认。",
        ),
    ],
    "mid": [
        (
            "Explain the effect on credit records and penalty interest, calmly and factually.",
            "平和、如实说明对征信记录和罚息的影响。",
        ),
        (
            "If they cannot pay in full, offer a repayment plan (needs approval above your limit).",
            "无法一次还清时可提出还款计划（超出权限需审批）。",
        ),
        (
            "Never threaten, never contact third parties about the debt.",
            "不得威胁，不得向第三方透露债务。",
        ),
    ],
    "late": [
        (
            "Last in-house stage: a settlement or plan may be proposed.",
            "内部催收最后阶段：可提出和解或还款计划。",
        ),
        (
            "Tell them the case may go to an agency or to court, as a fact, not a threat.",
            "如实告知案件可能委外或诉讼，不作威胁。",
        ),
        (
            "Record every acknowledgement of the debt: it restarts the limitation period.",
            "记录每次对债务的确认：诉讼时效将重新起算。",
        ),
    ],
    "legal": [
        (
            "The case is with the legal team: only letters and agreed calls.",
            "案件已转法务：仅可发函或约定的通话。",
        ),
        (
            "Direct the borrower to the legal officer for any settlement.",
            "和解事宜请借款人联系法务人员。",
        ),
    ],
}
QUICK_OUTCOMES = ("no_answer", "right_party_contact", "promise", "refusal", "wrong_number", "paid")


def _current(user: WebUser) -> CurrentUser:
    return CurrentUser(user.username, user.role, user.borrower_id)


def _case_row(pages: Pages, request: Request, user: WebUser, page: str, case_id: str):  # type: ignore[no-untyped-def]
    with unit_of_work(pages.engine) as session:
        row = session.get(CollectionCase, case_id)
        if row is None:
            raise _NotFound(f"case {case_id}")
        session.expunge(row)
    if user.role == "collector" and row.assigned_to != user.username:
        pages.security.log_access(request, user, page, False)
        raise _Forbidden(user, page)
    return row


def _loan_figures(pages: Pages, case_id: str, currency: str) -> list[dict[str, Any]]:
    """Each loan of the case on its latest close on or before today."""
    today = pages.today()
    with unit_of_work(pages.engine) as session:
        loan_ids = list(
            session.scalars(select(CaseLoan.loan_id).where(CaseLoan.case_id == case_id))
        )
        newest = (
            select(StatusSnapshot.loan_id, func.max(StatusSnapshot.as_of).label("as_of"))
            .where(StatusSnapshot.loan_id.in_(loan_ids), StatusSnapshot.as_of <= today)
            .group_by(StatusSnapshot.loan_id)
            .subquery()
        )
        rows = session.scalars(
            select(StatusSnapshot)
            .join(
                newest,
                (StatusSnapshot.loan_id == newest.c.loan_id)
                & (StatusSnapshot.as_of == newest.c.as_of),
            )
            .order_by(StatusSnapshot.loan_id)
        ).all()
        money = lambda v: format_amount(int(v or 0), currency)  # noqa: E731
        return [
            {
                "loan_id": r.loan_id,
                "as_of": r.as_of.isoformat(),
                "status": r.status,
                "days_past_due": r.days_past_due,
                "bucket": r.bucket,
                "outstanding": money(r.outstanding_principal),
                "overdue": money(
                    r.overdue_principal + r.overdue_interest + r.overdue_fee + r.overdue_penalty
                ),
                "penalty": money(r.overdue_penalty),
            }
            for r in rows
        ]


def build_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    sec = pages.security

    def render(request: Request, template: str, ctx: dict[str, Any], user: WebUser, **kw: Any):  # type: ignore[no-untyped-def]
        labels = i18n.Labels(request_lang(request))
        ctx = {"C": lambda kind, value: i18n.collection_code(labels, kind, value), **ctx}
        return pages.render(request, template, ctx, user=user, **kw)

    async def checked_form(request: Request, user: WebUser) -> dict[str, str] | Response:
        form = await _form(request)
        if not sec.verify_csrf(request, form.get("csrf_token")):
            return pages.render(
                request,
                "_error.html.j2" if _is_htmx(request) else "error.html.j2",
                {"code": 403, "message": ("Invalid form token.", "表单令牌无效。")},
                user=user,
                status_code=403,
            )
        return form

    # ------------------------------------------------------------------ workbench

    @router.get("/work")
    def workbench(request: Request) -> Response:
        user = pages.user(request, "workbench")
        today = pages.today()
        mine = cases.list_cases(pages.engine, assigned_to=user.username, limit=500)
        working = [c for c in mine if c["status"] != "closed"]
        figures = performance.collector_performance(pages.engine, today - timedelta(days=29), today)
        me = next((f for f in figures if f["collector"] == user.username), None)
        profile = next(
            (c for c in queues.list_collectors(pages.engine) if c["username"] == user.username),
            None,
        )
        note = request.query_params.get("note")
        return render(
            request,
            "collection_workbench.html.j2",
            {
                "cases": working,
                "closed": [c for c in mine if c["status"] == "closed"][:20],
                "me": me,
                "profile": profile,
                "note": note,
            },
            user,
        )

    @router.post("/work/next")
    async def take_next(request: Request) -> Response:
        user = pages.user(request, "workbench")
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        try:
            case = queues.next_case(pages.engine, user.username, pages.today())
        except CollectionRefused:
            return RedirectResponse("/work?note=profile", status_code=303)
        if case is None:
            return RedirectResponse("/work?note=empty", status_code=303)
        return RedirectResponse(f"/cases/{quote(case['case_id'])}", status_code=303)

    # ------------------------------------------------------------------ case page

    def case_context(user: WebUser, case_id: str) -> dict[str, Any]:
        today = pages.today()
        data = case_view(pages.engine, _current(user), case_id, today)
        promise_default = data["amount_overdue"]
        return {
            "c": data,
            "loans": _loan_figures(pages, case_id, data["currency"]),
            "hints": SCRIPT_HINTS.get(data["stage"], []),
            "quick": QUICK_OUTCOMES,
            "can_work": allowed(user, "work_case") and data["status"] != "closed",
            "can_legal": allowed(user, "legal_action"),
            "stages": load_policy().stage_names,
            "promise_default": {"amount": promise_default, "due_on": (today + timedelta(days=7))},
            "plan_default": {"count": 3, "first_due": today + timedelta(days=14)},
        }

    @router.get("/cases/{case_id}")
    def case_page(request: Request, case_id: str) -> Response:
        user = pages.user(request, "case")
        _case_row(pages, request, user, "case", case_id)
        return render(request, "collection_case.html.j2", case_context(user, case_id), user)

    async def act(request: Request, case_id: str, run) -> Response:  # type: ignore[no-untyped-def]
        """Run one change on a case from a form; answer the case body (htmx) or the page."""
        user = pages.user(request, "work_case")
        _case_row(pages, request, user, "work_case", case_id)
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        done: tuple[str, str] | None = None
        error: tuple[str, str] | None = None
        try:
            done = run(user, form)
        except (CollectionRefused, MoneyError, ValueError) as exc:
            error = (str(exc), str(exc))
        ctx = case_context(user, case_id) | {"done": done, "error": error}
        template = (
            "_collection_case_body.html.j2" if _is_htmx(request) else "collection_case.html.j2"
        )
        return render(request, template, ctx, user, status_code=422 if error else 200)

    @router.post("/cases/{case_id}/contact")
    async def log_contact(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            outcome = form.get("outcome") or None
            result = work.log_contact(
                pages.engine,
                case_id,
                user.username,
                form.get("action") or "call",
                party=form.get("party") or "debtor",
                outcome=outcome,
                notes=form.get("notes") or None,
            )
            if not result["sent"]:
                reasons = "; ".join(result["blocked_reasons"])
                return (f"Not sent: {reasons}", f"未发出：{reasons}")
            return ("Contact logged.", "联系记录已保存。")

        return await act(request, case_id, run)

    @router.post("/cases/{case_id}/promise")
    async def record_promise(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            due = date.fromisoformat(form.get("due_on", ""))
            made = work.record_promise(
                pages.engine,
                case_id,
                user.username,
                [(form.get("amount", "").strip(), due)],
                today=pages.today(),
            )
            p = made[0]
            return (
                f"Promise recorded: {p['amount']} by {p['due_on']}.",
                f"已记录还款承诺：{p['due_on']} 前还 {p['amount']}。",
            )

        return await act(request, case_id, run)

    @router.post("/cases/{case_id}/plan")
    async def propose_plan(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            made = arrangements.propose_plan(
                pages.engine,
                case_id,
                user.username,
                count=int(form.get("count") or 0),
                first_due=date.fromisoformat(form.get("first_due", "")),
                today=pages.today(),
                catalog=pages.catalog,
            )
            if made["state"] == "proposed":
                return (
                    f"Plan proposed for {made['amount']}: awaiting approval.",
                    f"还款计划（{made['amount']}）已提交，待审批。",
                )
            return (f"Plan {made['state']}.", f"还款计划状态：{made['state']}。")

        return await act(request, case_id, run)

    @router.post("/cases/{case_id}/settlement")
    async def propose_settlement(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            made = arrangements.propose_settlement(
                pages.engine,
                case_id,
                user.username,
                amount=form.get("amount", "").strip(),
                pay_by=date.fromisoformat(form.get("pay_by", "")),
                today=pages.today(),
                catalog=pages.catalog,
            )
            return (
                f"Settlement for {made['amount']} (waiver {made['waived']}): {made['state']}.",
                f"和解 {made['amount']}（减免 {made['waived']}）："
                f"{i18n.collection_code(i18n.Labels('zh'), 'arrangement', made['state'])}。",
            )

        return await act(request, case_id, run)

    @router.post("/cases/{case_id}/dispute")
    async def open_dispute(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            work.open_dispute(
                pages.engine, case_id, user.username, form.get("reason", ""), today=pages.today()
            )
            return (
                "Dispute recorded: outbound contact on this debt stops until it is resolved.",
                "已登记争议：争议解决前暂停对该债务的催收联系。",
            )

        return await act(request, case_id, run)

    @router.post("/approvals/{approval_id}/decision")
    async def decide(request: Request, approval_id: str) -> Response:
        user = pages.user(request, "approve")
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        note = "decided"
        try:
            approvals.decide(
                pages.engine,
                int(approval_id) if approval_id.isdigit() and len(approval_id) < 10 else 0,
                user.username,
                form.get("approve") == "1",
                form.get("reason", ""),
                today=pages.today(),
                catalog=pages.catalog,
            )
        except CollectionRefused as exc:
            note = str(exc)
        return RedirectResponse(f"/collection?note={quote(note)}", status_code=303)

    @router.post("/cases/{case_id}/escalate")
    async def escalate(request: Request, case_id: str) -> Response:
        def run(user: WebUser, form: dict[str, str]) -> tuple[str, str]:
            to = form.get("to_stage", "")
            cases.set_stage(
                pages.engine,
                case_id,
                to,
                form.get("reason", ""),
                user.username,
                today=pages.today(),
            )
            return (f"Stage set to {to}.", f"阶段已调整为 {to}。")

        return await act(request, case_id, run)

    # ------------------------------------------------------------------ manager

    @router.get("/collection")
    def manager(request: Request) -> Response:
        user = pages.user(request, "collection")
        today = pages.today()
        p = request.query_params
        try:
            end = date.fromisoformat(p.get("to") or today.isoformat())
            start = date.fromisoformat(p.get("from") or (end - timedelta(days=29)).isoformat())
        except ValueError:
            end, start = today, today - timedelta(days=29)
        stages = load_policy().stage_names
        volumes = sorted(
            queues.queue_volumes(pages.engine),
            key=lambda q: (stages.index(q["stage"]) if q["stage"] in stages else 99, q["segment"]),
        )
        by_stage = {s: {"cases": 0, "unassigned": 0} for s in stages}
        for q in volumes:
            row = by_stage.setdefault(q["stage"], {"cases": 0, "unassigned": 0})
            row["cases"] += q["cases"]
            row["unassigned"] += q["unassigned"]
        peak = max([v["cases"] for v in by_stage.values()] + [1])
        with unit_of_work(pages.engine) as session:
            closed = dict(
                session.execute(
                    select(CollectionCase.close_reason, func.count())
                    .where(CollectionCase.status == "closed")
                    .group_by(CollectionCase.close_reason)
                ).all()
            )
        return render(
            request,
            "collection_manager.html.j2",
            {
                "volumes": volumes,
                "by_stage": by_stage,
                "peak": peak,
                "closed": closed,
                "perf": performance.collector_performance(pages.engine, start, end),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "collectors": queues.list_collectors(pages.engine),
                "approvals": approvals.list_approvals(pages.engine, "pending"),
                "can_approve": allowed(user, "approve"),
                "note": request.query_params.get("note"),
            },
            user,
        )

    # ------------------------------------------------------------------ legal

    @router.get("/legal")
    def legal_list(request: Request) -> Response:
        user = pages.user(request, "legal")
        lawsuits = legal.list_lawsuits(pages.engine, request.query_params.get("state") or None)
        with unit_of_work(pages.engine) as session:
            sued = select(LegalCaseRow.case_id).where(LegalCaseRow.state != "closed")
            waiting = [
                cases.case_summary(c)
                for c in session.scalars(
                    select(CollectionCase)
                    .where(
                        CollectionCase.stage == "legal",
                        CollectionCase.status != "closed",
                        CollectionCase.case_id.not_in(sued),
                    )
                    .order_by(CollectionCase.priority.desc())
                    .limit(200)
                )
            ]
        return render(
            request,
            "collection_legal.html.j2",
            {
                "lawsuits": lawsuits,
                "waiting": waiting,
                "can_act": allowed(user, "legal_action"),
                "states": legal.STATES,
            },
            user,
        )

    def lawsuit_context(legal_id: int) -> dict[str, Any]:
        found = [r for r in legal.list_lawsuits(pages.engine) if r["legal_id"] == legal_id]
        if not found:
            raise _NotFound(f"lawsuit {legal_id}")
        suit = found[0]
        state = suit["state"]
        nxt = legal.STATES[legal.STATES.index(state) + 1] if state != "closed" else None
        with unit_of_work(pages.engine) as session:
            row = session.get(CollectionCase, suit["case_id"])
            case = cases.case_summary(row) if row else None
        return {
            "s": suit,
            "case": case,
            "next_state": nxt,
            "limitation": legal.limitation_status(pages.engine, suit["case_id"], pages.today()),
        }

    def legal_id_of(text: str) -> int:
        if not text.isdigit() or len(text) > 9:
            raise _NotFound(f"lawsuit {text}")
        return int(text)

    @router.get("/legal/{legal_id}")
    def lawsuit(request: Request, legal_id: str) -> Response:
        user = pages.user(request, "legal")
        ctx = lawsuit_context(legal_id_of(legal_id)) | {"can_act": allowed(user, "legal_action")}
        return render(request, "collection_lawsuit.html.j2", ctx, user)

    @router.post("/legal/{legal_id}/advance")
    async def advance(request: Request, legal_id: str) -> Response:
        user = pages.user(request, "legal_action")
        number = legal_id_of(legal_id)
        lawsuit_context(number)
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        error = None
        try:
            legal.advance_lawsuit(
                pages.engine,
                number,
                form.get("to_state", ""),
                user.username,
                on=date.fromisoformat(form.get("on") or pages.today().isoformat()),
                court=form.get("court") or None,
                fees=form.get("fees") or None,
                awarded=form.get("awarded") or None,
                recovered=form.get("recovered") or None,
            )
        except (CollectionRefused, MoneyError, ValueError) as exc:
            error = (str(exc), str(exc))
        ctx = lawsuit_context(number) | {"can_act": True, "error": error}
        return render(
            request,
            "collection_lawsuit.html.j2",
            ctx,
            user,
            status_code=422 if error else 200,
        )

    @router.post("/cases/{case_id}/lawsuit")
    async def open_lawsuit(request: Request, case_id: str) -> Response:
        user = pages.user(request, "legal_action")
        _case_row(pages, request, user, "legal_action", case_id)
        form = await checked_form(request, user)
        if isinstance(form, Response):
            return form
        try:
            row = legal.open_lawsuit(pages.engine, case_id, user.username, today=pages.today())
        except CollectionRefused as exc:
            return render(
                request,
                "error.html.j2",
                {"code": 409, "message": (str(exc), str(exc))},
                user,
                status_code=409,
            )
        return RedirectResponse(f"/legal/{row.legal_id}", status_code=303)

    return router


def add_collection_pages(app: Any, pages: Pages) -> None:
    """Register the collection pages on the app that already has the others (`add_pages`)."""
    app.include_router(build_router(pages))
