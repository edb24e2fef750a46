"""Collection commands: `arrears case …`, `arrears promise …`, `arrears collector …`,
`arrears queue`, `arrears approval …`, `arrears legal …`, `arrears agency …`. Each is a thin call
of a service in `arrears.collection`; the acting person is `--user` (their role is checked by the
service against the stage policy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arrears.cli.common import JsonOpt, app, ctx, emit_json, fail, out, parse_date, user_errors

case_app = typer.Typer(help="Collection cases. 催收案件。", no_args_is_help=True)
promise_app = typer.Typer(help="Promises to pay. 还款承诺。", no_args_is_help=True)
collector_app = typer.Typer(help="Collectors and their skills. 催收员。", no_args_is_help=True)
approval_app = typer.Typer(help="Maker-checker approvals. 审批。", no_args_is_help=True)
legal_app = typer.Typer(help="Lawsuits. 诉讼。", no_args_is_help=True)
agency_app = typer.Typer(help="Collection agencies. 委外机构。", no_args_is_help=True)
for sub, name in (
    (case_app, "case"),
    (promise_app, "promise"),
    (collector_app, "collector"),
    (approval_app, "approval"),
    (legal_app, "legal"),
    (agency_app, "agency"),
):
    app.add_typer(sub, name=name)

UserOpt = Annotated[str, typer.Option("--user", help="Who is acting (a user). 操作人。")]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="A lender's stage policy YAML. 催收阶段策略文件。")
]


@contextmanager
def errors() -> Iterator[None]:
    """`user_errors` plus the collection's own: a bad policy file, an unknown stage."""
    from arrears.collection.policy import PolicyError

    with user_errors():
        try:
            yield
        except PolicyError as exc:
            fail(str(exc))


def _policy(path: Path | None):  # -> StagePolicy
    from arrears.collection.policy import load_policy

    with errors():
        return load_policy(path)


def _table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out.print(table)


# ------------------------------------------------------------------ cases


@case_app.command("list")
def case_list(
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage. 阶段。")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open | paused | closed. 状态。")
    ] = None,
    assigned_to: Annotated[str | None, typer.Option("--assigned-to", help="催收员。")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Cases by priority. 按优先级列出案件。"""
    from arrears.collection.cases import list_cases

    with errors():
        rows = list_cases(
            ctx().engine(), stage=stage, status=status, assigned_to=assigned_to, limit=limit
        )
    if as_json:
        emit_json(rows)
        return
    keys = [
        "case_id",
        "borrower_id",
        "stage",
        "status",
        "days_past_due",
        "amount_overdue",
        "assigned_to",
    ]
    _table(
        "Cases 催收案件",
        [
            "case 案件",
            "borrower 借款人",
            "stage 阶段",
            "status 状态",
            "DPD 逾期天数",
            "overdue 逾期金额",
            "assigned 催收员",
        ],
        [[r[k] for k in keys] for r in rows],
    )


@case_app.command("show")
def case_show(
    case_id: Annotated[str, typer.Argument(help="The case id. 案件号。")],
    as_json: JsonOpt = False,
) -> None:
    """One case in full: loans, contacts, promises, disputes, approvals, lawsuits. 案件详情。"""
    from arrears.collection.cases import show_case

    with errors():
        data = show_case(ctx().engine(), case_id, today=ctx().settings.today())
    if as_json:
        emit_json(data)
        return
    simple = {k: v for k, v in data.items() if not isinstance(v, list | dict)}
    _table(f"Case 案件 {case_id}", ["field 字段", "value 值"], [[k, v] for k, v in simple.items()])
    out.print(f"loans 贷款: {', '.join(data['loans'])}")
    if data.get("limitation"):
        out.print(data["limitation"]["message"])
    for title, key in (
        ("Contacts 联系记录", "contacts"),
        ("Promises 还款承诺", "promises"),
        ("Disputes 争议", "disputes"),
        ("Approvals 审批", "approvals"),
        ("Arrangements 还款计划/和解", "arrangements"),
        ("Lawsuits 诉讼", "legal"),
        ("Placements 委外", "placements"),
    ):
        if data[key]:
            headers = list(data[key][0])
            _table(title, headers, [[r[h] for h in headers] for r in data[key]])


@case_app.command("update")
def case_update(
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The daily case update from the date's snapshots (run after the COB). 每日案件更新。"""
    from arrears.collection.update import update_cases

    c = ctx()
    day = parse_date(as_of, "--as-of") if as_of else c.settings.today()
    with errors():
        result = update_cases(c.engine(), day, _policy(policy), c.catalog())
    if as_json:
        emit_json(result.to_dict())
        return
    note = " (already done 已更新过)" if result.already_done else ""
    out.print(
        f"{day}{note}: opened 新开 {result.opened}, updated 更新 {result.updated}, closed 结案 "
        f"{result.closed}, stage changes 阶段变化 {result.stage_changes}, promises kept 承诺兑现 "
        f"{result.promises_kept}, broken 违约 {result.promises_broken} ({result.seconds:.2f}s)"
    )


@case_app.command("escalate")
def case_escalate(
    case_id: Annotated[str, typer.Argument()],
    to: Annotated[str, typer.Option("--to", help="The stage. 目标阶段。")],
    reason: Annotated[str, typer.Option("--reason", help="Why. 理由。")],
    user: UserOpt,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Escalate or de-escalate a case by hand (role-checked). 人工升级/降级案件。"""
    from arrears.collection.cases import set_stage

    c = ctx()
    with errors():
        row = set_stage(
            c.engine(), case_id, to, reason, user, today=c.settings.today(), policy=_policy(policy)
        )
    if as_json:
        emit_json(row)
        return
    out.print(f"case 案件 {case_id} → {row['stage']}")


@case_app.command("release")
def case_release(
    case_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    user: UserOpt,
) -> None:
    """Clear a manual stage; the policy decides again. 取消人工阶段。"""
    from arrears.collection.cases import release_stage

    c = ctx()
    with errors():
        release_stage(c.engine(), case_id, reason, user, today=c.settings.today())
    out.print(f"case 案件 {case_id}: stage back to the policy 阶段恢复由策略决定")


@case_app.command("assign")
def case_assign(
    reassign: Annotated[
        bool, typer.Option("--reassign", help="First take back stale cases. 先收回长期未联系案件。")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Assign unassigned cases to collectors (capacity, skills, balance). 分配案件。"""
    from arrears.collection.queues import assign_cases, reassign_stale

    c = ctx()
    with errors():
        engine = c.engine()
        stale = reassign_stale(engine, c.settings.today()) if reassign else None
        given = assign_cases(engine, c.settings.today())
    if as_json:
        emit_json({"assigned": given, "reassignment": stale})
        return
    if stale:
        out.print(
            f"taken back 收回 {stale['taken_back']}, reassigned 重新分配 {stale['reassigned']}"
        )
    _table("Assigned 分配", ["collector 催收员", "cases 案件"], [[k, v] for k, v in given.items()])


@case_app.command("next")
def case_next(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Take the next case to work. 领取下一个案件。"""
    from arrears.collection.queues import next_case

    c = ctx()
    with errors():
        row = next_case(c.engine(), user, c.settings.today())
    if as_json:
        emit_json(row)
        return
    if row is None:
        out.print("no case for you now 暂无可领取的案件")
        return
    out.print(
        f"case 案件 {row['case_id']} borrower 借款人 {row['borrower_id']} stage 阶段 {row['stage']} "
        f"DPD {row['days_past_due']} overdue 逾期 {row['amount_overdue']}"
    )


@case_app.command("contact")
def case_contact(
    case_id: Annotated[str, typer.Argument()],
    action: Annotated[str, typer.Option("--action", help="call|sms|email|visit|letter|robot_call")],
    user: UserOpt,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="e.g. right_party_contact")
    ] = None,
    party: Annotated[
        str, typer.Option("--party", help="debtor|guarantor|contact_person")
    ] = "debtor",
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    loan_id: Annotated[str | None, typer.Option("--loan", help="About this loan only.")] = None,
    inbound: Annotated[bool, typer.Option("--inbound", help="The borrower contacted us.")] = False,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a contact; outbound ones ask the contact guard first. 记录联系（外呼先经合规检查）。"""
    from arrears.collection.work import log_contact

    with errors():
        result = log_contact(
            ctx().engine(),
            case_id,
            user,
            action,
            party=party,
            outcome=outcome,
            notes=notes,
            direction="inbound" if inbound else "outbound",
            loan_id=loan_id,
            policy=_policy(policy),
        )
    if as_json:
        emit_json(result)
        return
    if result["sent"]:
        out.print(f"contact 联系 {result['contact_id']} logged 已记录")
    else:
        out.print(f"blocked 已拦截, not sent 未发送: {'; '.join(result['blocked_reasons'])}")


@case_app.command("dispute")
def case_dispute(
    case_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    user: UserOpt,
    loan_id: Annotated[str | None, typer.Option("--loan")] = None,
) -> None:
    """Record a dispute; contact on that debt stops. 登记争议（暂停该债务催收）。"""
    from arrears.collection.work import open_dispute

    c = ctx()
    with errors():
        number = open_dispute(
            c.engine(), case_id, user, reason, today=c.settings.today(), loan_id=loan_id
        )
    out.print(f"dispute 争议 {number} opened 已登记")


@case_app.command("resolve-dispute")
def case_resolve_dispute(
    dispute_id: Annotated[int, typer.Argument()],
    resolution: Annotated[str, typer.Option("--resolution")],
    user: UserOpt,
) -> None:
    """Resolve a dispute; contact may resume. 处理争议。"""
    from arrears.collection.work import resolve_dispute

    c = ctx()
    with errors():
        resolve_dispute(c.engine(), dispute_id, user, resolution, today=c.settings.today())
    out.print(f"dispute 争议 {dispute_id} resolved 已处理")


@case_app.command("hardship")
def case_hardship(
    case_id: Annotated[str, typer.Argument()],
    days: Annotated[int, typer.Option("--days", help="Pause length. 暂停天数。")],
    reason: Annotated[str, typer.Option("--reason")],
    user: UserOpt,
    policy: PolicyOpt = None,
) -> None:
    """Ask for a hardship pause (approval above the maker's limit). 申请困难暂停。"""
    from arrears.collection.cases import request_hardship

    c = ctx()
    with errors():
        row = request_hardship(
            c.engine(),
            case_id,
            days,
            reason,
            user,
            today=c.settings.today(),
            policy=_policy(policy),
            catalog=c.catalog(),
        )
    out.print(f"approval 审批 {row.approval_id}: {row.state}")


@case_app.command("document")
def case_document(
    case_id: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option("--kind", help="demand_letter | complaint_summary")],
    out_file: Annotated[
        Path, typer.Option("--out", help="FILE.html, or FILE.pdf for the demand letter")
    ],
    lender: Annotated[
        str, typer.Option("--lender", help="The lender's name (HTML). 机构名称。")
    ] = "Arrears",
    letterhead: Annotated[
        Path | None,
        typer.Option(
            envvar="ARREARS_LETTERHEAD",
            help="Letterhead YAML for the PDF (lender name, contact lines). 信函抬头文件。",
        ),
    ] = None,
) -> None:
    """Write a demand letter (HTML or PDF) or complaint summary (HTML).
    生成催收函（HTML 或 PDF）/起诉摘要（HTML）。"""
    from arrears.collection.legal import demand_letter_pdf, render_document
    from arrears.documents.pdf import LetterheadProblem, load_letterhead

    c = ctx()
    as_pdf = out_file.suffix.lower() == ".pdf"
    if as_pdf and kind != "demand_letter":
        fail(f"--out {out_file}: only the demand letter is made as PDF (仅催收函可生成 PDF)")
    with errors():
        try:
            if as_pdf:
                data = demand_letter_pdf(
                    c.engine(),
                    case_id,
                    today=c.settings.today(),
                    letterhead=load_letterhead(letterhead),
                )
            else:
                text = render_document(
                    c.engine(), case_id, kind, today=c.settings.today(), lender=lender
                )
        except LetterheadProblem as exc:
            fail(str(exc))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if as_pdf:
        out_file.write_bytes(data)
    else:
        out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote 已写入 {out_file}")


# ------------------------------------------------------------------ promises


@promise_app.command("add")
def promise_add(
    case_id: Annotated[str, typer.Argument()],
    amount: Annotated[list[str], typer.Option("--amount", help="Decimal, repeatable. 金额。")],
    due: Annotated[list[str], typer.Option("--due", help="YYYY-MM-DD, one per amount. 日期。")],
    user: UserOpt,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a promise to pay: one or several amounts and dates. 记录还款承诺。"""
    from arrears.collection.work import record_promise

    if len(amount) != len(due):
        fail(f"give one --due per --amount ({len(amount)} amounts, {len(due)} dates)")
    c = ctx()
    pairs = [(a, parse_date(d, "--due")) for a, d in zip(amount, due, strict=True)]
    with errors():
        rows = record_promise(
            c.engine(), case_id, user, pairs, today=c.settings.today(), policy=_policy(policy)
        )
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        out.print(f"promise 承诺 {r['promise_id']}: {r['amount']} by 于 {r['due_on']}")


@promise_app.command("list")
def promise_list(
    state: Annotated[
        str | None, typer.Option("--state", help="pending | kept | broken. 状态。")
    ] = None,
    case_id: Annotated[str | None, typer.Option("--case")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Promises to pay. 还款承诺列表。"""
    from arrears.collection.work import list_promises

    with errors():
        rows = list_promises(ctx().engine(), state=state, case_id=case_id)
    if as_json:
        emit_json(rows)
        return
    _table(
        "Promises 还款承诺",
        ["promise 承诺", "case 案件", "amount 金额", "due 日期", "state 状态"],
        [[r["promise_id"], r["case_id"], r["amount"], r["due_on"], r["state"]] for r in rows],
    )


# ------------------------------------------------------------------ collectors and queues


def _split(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


@collector_app.command("set")
def collector_set(
    username: Annotated[str, typer.Argument()],
    max_open: Annotated[int, typer.Option("--max-open", help="Capacity. 最大在手案件。")],
    by: Annotated[str, typer.Option("--by", help="The admin/risk user acting. 操作人。")],
    stages: Annotated[str | None, typer.Option("--stages", help="comma-separated")] = None,
    segments: Annotated[str | None, typer.Option("--segments")] = None,
    languages: Annotated[str | None, typer.Option("--languages")] = None,
    products: Annotated[str | None, typer.Option("--products")] = None,
    regions: Annotated[str | None, typer.Option("--regions")] = None,
    agency: Annotated[str | None, typer.Option("--agency")] = None,
) -> None:
    """Create or replace a collector's profile. 设置催收员。"""
    from arrears.collection.queues import set_collector

    with errors():
        set_collector(
            ctx().engine(),
            username,
            by,
            max_open_cases=max_open,
            stages=_split(stages),
            segments=_split(segments),
            languages=_split(languages),
            products=_split(products),
            regions=_split(regions),
            agency_id=agency,
        )
    out.print(f"collector 催收员 {username} saved 已保存")


@collector_app.command("list")
def collector_list(as_json: JsonOpt = False) -> None:
    """Collectors with their load. 催收员列表。"""
    from arrears.collection.queues import list_collectors

    with errors():
        rows = list_collectors(ctx().engine())
    if as_json:
        emit_json(rows)
        return
    _table(
        "Collectors 催收员",
        ["user 用户", "open 在手", "max 容量", "stages 阶段", "agency 机构"],
        [
            [
                r["username"],
                r["open_cases"],
                r["max_open_cases"],
                ",".join(r["stages"]),
                r["agency_id"],
            ]
            for r in rows
        ],
    )


@app.command("queue")
def queue_cmd(as_json: JsonOpt = False) -> None:
    """Open cases per stage and segment. 各队列案件量。"""
    from arrears.collection.queues import queue_volumes

    with errors():
        rows = queue_volumes(ctx().engine())
    if as_json:
        emit_json(rows)
        return
    _table(
        "Queues 队列",
        ["stage 阶段", "segment 客群", "cases 案件", "unassigned 未分配"],
        [[r["stage"], r["segment"], r["cases"], r["unassigned"]] for r in rows],
    )


# ------------------------------------------------------------------ approvals


@approval_app.command("list")
def approval_list(
    state: Annotated[
        str, typer.Option("--state", help="pending|approved|rejected|all")
    ] = "pending",
    as_json: JsonOpt = False,
) -> None:
    """Approvals. 审批列表。"""
    from arrears.collection.approvals import list_approvals

    with errors():
        data = list_approvals(ctx().engine(), None if state == "all" else state)
    if as_json:
        emit_json(data)
        return
    headers = list(data[0]) if data else ["approval_id"]
    _table("Approvals 审批", headers, [[d[h] for h in headers] for d in data])


@approval_app.command("decide")
def approval_decide(
    approval_id: Annotated[int, typer.Argument()],
    user: UserOpt,
    reason: Annotated[str, typer.Option("--reason")],
    approve: Annotated[bool, typer.Option("--approve/--reject")] = True,
    policy: PolicyOpt = None,
) -> None:
    """Approve or reject (never your own request). 审批（不可审批本人申请）。"""
    from arrears.collection.approvals import decide

    c = ctx()
    with errors():
        row = decide(
            c.engine(),
            approval_id,
            user,
            approve,
            reason,
            today=c.settings.today(),
            policy=_policy(policy),
            catalog=c.catalog(),
        )
    out.print(f"approval 审批 {approval_id}: {row.state}")


# ------------------------------------------------------------------ legal


@legal_app.command("open")
def legal_open(case_id: Annotated[str, typer.Argument()], user: UserOpt) -> None:
    """Start a lawsuit on a case in the legal stage. 立案准备。"""
    from arrears.collection.legal import open_lawsuit

    c = ctx()
    with errors():
        row = open_lawsuit(c.engine(), case_id, user, today=c.settings.today())
    out.print(f"lawsuit 诉讼 {row.legal_id}: prepare 准备中")


@legal_app.command("advance")
def legal_advance(
    legal_id: Annotated[int, typer.Argument()],
    to: Annotated[str, typer.Option("--to", help="filed|hearing|judgment|enforcement|closed")],
    user: UserOpt,
    on: Annotated[str | None, typer.Option("--on", help="YYYY-MM-DD (default today)")] = None,
    court: Annotated[str | None, typer.Option("--court")] = None,
    fees: Annotated[str | None, typer.Option("--fees", help="Fees paid now. 诉讼费。")] = None,
    awarded: Annotated[str | None, typer.Option("--awarded", help="判决金额。")] = None,
    recovered: Annotated[str | None, typer.Option("--recovered", help="执行回款。")] = None,
) -> None:
    """Move a lawsuit to its next step. 推进诉讼。"""
    from arrears.collection.legal import advance_lawsuit

    c = ctx()
    day = parse_date(on, "--on") if on else c.settings.today()
    with errors():
        row = advance_lawsuit(
            c.engine(),
            legal_id,
            to,
            user,
            on=day,
            court=court,
            fees=fees,
            awarded=awarded,
            recovered=recovered,
        )
    out.print(f"lawsuit 诉讼 {legal_id}: {row.state}")


@legal_app.command("list")
def legal_list(
    state: Annotated[str | None, typer.Option("--state")] = None, as_json: JsonOpt = False
) -> None:
    """Lawsuits. 诉讼列表。"""
    from arrears.collection.legal import list_lawsuits

    with errors():
        rows = list_lawsuits(ctx().engine(), state)
    if as_json:
        emit_json(rows)
        return
    headers = ["legal_id", "case_id", "state", "court", "claimed", "awarded", "recovered"]
    _table("Lawsuits 诉讼", headers, [[r[h] for h in headers] for r in rows])


# ------------------------------------------------------------------ plans, settlements, write-off


@case_app.command("plan")
def case_plan(
    case_id: Annotated[str, typer.Argument()],
    count: Annotated[int, typer.Option("--count", help="New monthly instalments. 期数。")],
    first_due: Annotated[str, typer.Option("--first-due", help="YYYY-MM-DD. 首期日。")],
    user: UserOpt,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a repayment plan re-ageing the arrears (approval above the maker's limit).
    提出还款计划（重组逾期款）。"""
    from arrears.collection.arrangements import propose_plan

    c = ctx()
    with errors():
        row = propose_plan(
            c.engine(),
            case_id,
            user,
            count=count,
            first_due=parse_date(first_due, "--first-due"),
            today=c.settings.today(),
            policy=_policy(policy),
            catalog=c.catalog(),
        )
    if as_json:
        emit_json(row)
        return
    out.print(
        f"plan 还款计划 {row['arrangement_id']}: {row['amount']} in 分 {count} instalments 期, "
        f"{row['state']} (approval 审批 {row['approval_id']})"
    )


@case_app.command("settle")
def case_settle(
    case_id: Annotated[str, typer.Argument()],
    amount: Annotated[str, typer.Option("--amount", help="Agreed amount. 和解金额。")],
    pay_by: Annotated[str, typer.Option("--pay-by", help="YYYY-MM-DD. 付款期限。")],
    user: UserOpt,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a settlement for less than owed (the waiver needs approval). 提出和解（减免需审批）。"""
    from arrears.collection.arrangements import propose_settlement

    c = ctx()
    with errors():
        row = propose_settlement(
            c.engine(),
            case_id,
            user,
            amount=amount,
            pay_by=parse_date(pay_by, "--pay-by"),
            today=c.settings.today(),
            policy=_policy(policy),
            catalog=c.catalog(),
        )
    if as_json:
        emit_json(row)
        return
    out.print(
        f"settlement 和解 {row['arrangement_id']}: pay 付 {row['amount']}, waive 减免 "
        f"{row['waived']}, {row['state']} (approval 审批 {row['approval_id']})"
    )


@case_app.command("settle-complete")
def case_settle_complete(
    arrangement_id: Annotated[int, typer.Argument()], user: UserOpt, as_json: JsonOpt = False
) -> None:
    """Close a paid settlement: the rest is written off as waived. 和解结清（余额减免核销）。"""
    from arrears.collection.arrangements import complete_settlement

    c = ctx()
    with errors():
        row = complete_settlement(
            c.engine(), arrangement_id, user, today=c.settings.today(), catalog=c.catalog()
        )
    if as_json:
        emit_json(row)
        return
    out.print(f"settlement 和解 {arrangement_id}: completed 已结清")


@case_app.command("write-off")
def case_write_off(
    case_id: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    user: UserOpt,
    policy: PolicyOpt = None,
) -> None:
    """Request a write-off of the case's loans (maker-checker). 申请核销。"""
    from arrears.collection.writeoff import request_write_off

    c = ctx()
    with errors():
        row = request_write_off(
            c.engine(),
            case_id,
            user,
            reason,
            today=c.settings.today(),
            policy=_policy(policy),
            catalog=c.catalog(),
        )
    out.print(f"approval 审批 {row.approval_id}: {row.state}")


recovery_app = typer.Typer(help="Recoveries after write-off. 核销后回收。", no_args_is_help=True)
app.add_typer(recovery_app, name="recovery")


@recovery_app.command("add")
def recovery_add(
    loan_id: Annotated[str, typer.Argument()],
    amount: Annotated[str, typer.Option("--amount")],
    user: UserOpt,
    source: Annotated[
        str, typer.Option("--source", help="borrower|agency|legal|guarantor|collateral")
    ] = "borrower",
    on: Annotated[str | None, typer.Option("--on", help="YYYY-MM-DD (default today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record money received on a written-off loan. 登记核销后回收款。"""
    from arrears.collection.writeoff import record_recovery

    c = ctx()
    day = parse_date(on, "--on") if on else c.settings.today()
    with errors():
        row = record_recovery(c.engine(), loan_id, amount, user, received_on=day, source=source)
    if as_json:
        emit_json(row)
        return
    out.print(f"recovery 回收 {row['recovery_id']}: {row['amount']} on {row['loan_id']}")


@recovery_app.command("list")
def recovery_list(as_json: JsonOpt = False) -> None:
    """Recoveries after write-off per loan. 核销后回收汇总。"""
    from arrears.collection.writeoff import recoveries

    with errors():
        rows = recoveries(ctx().engine())
    if as_json:
        emit_json(rows)
        return
    headers = ["loan_id", "written_off_on", "recovered", "recoveries"]
    _table("Recoveries 核销后回收", headers, [[r[h] for h in headers] for r in rows])


# ------------------------------------------------------------------ agencies


@agency_app.command("add")
def agency_add(
    agency_id: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option("--name")],
    commission: Annotated[str, typer.Option("--commission", help="Rate, e.g. 0.15. 佣金率。")],
    user: UserOpt,
    evaluated_on: Annotated[str | None, typer.Option("--evaluated-on")] = None,
) -> None:
    """Add a collection agency. 新增委外机构。"""
    from arrears.collection.writeoff import add_agency

    day = parse_date(evaluated_on, "--evaluated-on") if evaluated_on else None
    with errors():
        add_agency(ctx().engine(), agency_id, name, commission, user, evaluated_on=day)
    out.print(f"agency 机构 {agency_id} added 已新增")


@agency_app.command("evaluate")
def agency_evaluate(
    agency_id: Annotated[str, typer.Argument()],
    user: UserOpt,
    notes: Annotated[str, typer.Option("--notes")],
    on: Annotated[str | None, typer.Option("--on")] = None,
) -> None:
    """Record an agency's evaluation (needed yearly for new placements). 登记机构评估。"""
    from arrears.collection.writeoff import evaluate_agency

    c = ctx()
    day = parse_date(on, "--on") if on else c.settings.today()
    with errors():
        evaluate_agency(c.engine(), agency_id, user, on=day, notes=notes)
    out.print(f"agency 机构 {agency_id} evaluated 已评估 {day}")


@agency_app.command("place")
def agency_place(
    case_id: Annotated[str, typer.Argument()],
    agency: Annotated[str, typer.Option("--agency")],
    user: UserOpt,
    policy: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Place a case with an agency. 案件委外。"""
    from arrears.collection.writeoff import place_case

    c = ctx()
    with errors():
        row = place_case(
            c.engine(), case_id, agency, user, today=c.settings.today(), policy=_policy(policy)
        )
    if as_json:
        emit_json(row)
        return
    out.print(f"placement 委外 {row['placement_id']}: {case_id} → {agency}")


@agency_app.command("result")
def agency_result(
    placement_id: Annotated[int, typer.Argument()],
    recovered: Annotated[str, typer.Option("--recovered")],
    user: UserOpt,
    result: Annotated[str | None, typer.Option("--result")] = None,
) -> None:
    """Add an agency's recovered amount (commission follows). 登记委外回款。"""
    from arrears.collection.writeoff import record_agency_result

    with errors():
        row = record_agency_result(ctx().engine(), placement_id, recovered, user, result=result)
    out.print(
        f"placement 委外 {placement_id}: recovered 回款 {row['recovered']}, commission 佣金 {row['commission']}"
    )


@agency_app.command("recall")
def agency_recall(
    placement_id: Annotated[int, typer.Argument()],
    user: UserOpt,
    result: Annotated[str, typer.Option("--result")],
) -> None:
    """Recall a placed case. 撤回委外。"""
    from arrears.collection.writeoff import recall_case

    c = ctx()
    with errors():
        recall_case(c.engine(), placement_id, user, today=c.settings.today(), result=result)
    out.print(f"placement 委外 {placement_id} recalled 已撤回")


@agency_app.command("list")
def agency_list(as_json: JsonOpt = False) -> None:
    """Agencies, evaluation status and results. 委外机构列表。"""
    from arrears.collection.writeoff import list_agencies

    c = ctx()
    with errors():
        rows = list_agencies(c.engine(), c.settings.today())
    if as_json:
        emit_json(rows)
        return
    headers = ["agency_id", "name", "commission_rate", "evaluated_on", "may_place", "placements"]
    _table("Agencies 委外机构", headers, [[r[h] for h in headers] for r in rows])


@collector_app.command("performance")
def collector_performance_cmd(
    from_: Annotated[str, typer.Option("--from", help="YYYY-MM-DD. 起始日期。")],
    to: Annotated[str, typer.Option("--to", help="YYYY-MM-DD. 截止日期。")],
    as_json: JsonOpt = False,
) -> None:
    """Collector performance: contacts, RPC, promise and kept rates, collected, quality.
    催收员绩效（不只看回款）。"""
    from arrears.collection.performance import collector_performance

    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    if end < start:
        fail(f"--to {end} is before --from {start}")
    with errors():
        rows = collector_performance(ctx().engine(), start, end)
    if as_json:
        emit_json(rows)
        return
    pct = lambda v: "" if v is None else f"{v:.0%}"  # noqa: E731
    _table(
        f"Collector performance 催收员绩效 {start} … {end}",
        [
            "collector 催收员",
            "attempts 外呼",
            "RPC rate 接通本人率",
            "promise rate 承诺率",
            "kept rate 兑现率",
            "collected 回款",
            "blocked 合规拦截",
            "disputes 争议率",
        ],
        [
            [
                r["collector"],
                r["attempts"],
                pct(r["rpc_rate"]),
                pct(r["promise_rate"]),
                pct(r["kept_rate"]),
                ", ".join(f"{v} {k}" for k, v in r["collected"].items()),
                pct(r["compliance_block_rate"]),
                pct(r["dispute_rate"]),
            ]
            for r in rows
        ],
    )


@collector_app.command("simulate")
def collector_simulate_cmd(
    from_: Annotated[str, typer.Option("--from", help="First business day. 起始日期。")],
    to: Annotated[str, typer.Option("--to", help="Last business day. 截止日期。")],
    seed: Annotated[int, typer.Option(help="Random seed of who answers. 随机种子。")] = 2026,
    as_json: JsonOpt = False,
) -> None:
    """Demo: close each day, update the cases, and let a simulated team (collectors with
    capacity, a legal officer) work them; borrowers act as the simulated book says.
    演示：逐日日终并更新案件，模拟催收团队处理案件（借款人行为取自模拟贷款簿）。"""
    from arrears.cli.common import progress_bar
    from arrears.cob.runner import CobError, business_days
    from arrears.sim.collectors import collection_figures, simulate_collection

    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    try:
        days = business_days(start, end, False)
    except CobError as exc:
        fail(str(exc))
    c = ctx()
    with errors(), progress_bar(disable=as_json) as progress:
        task = progress.add_task("collection 催收", total=len(days))
        result = simulate_collection(
            c.engine(),
            c.catalog(),
            days,
            c.settings.data_dir,
            seed=seed,
            on_day=lambda _day: progress.advance(task),
        )
        figures = collection_figures(c.engine(), start, end)
    summary = {
        "days": result.days,
        "contacts": result.contacts,
        "right_party_contacts": result.right_party,
        "passed_over_by_guard": result.passed_over,
        "promises_made": result.promises,
        "escalated_by_hand": result.escalations_by_hand,
        "lawsuits_opened": result.lawsuits_opened,
        "lawsuits_filed": result.lawsuits_filed,
        "seconds_cob_and_cases": round(result.seconds_cob, 2),
        "seconds_collection_work": round(result.seconds_work, 2),
    }
    if as_json:
        emit_json(summary | {k: v for k, v in figures.items()})
        return
    promises = figures["promises"]
    judged = promises.get("kept", 0) + promises.get("broken", 0)
    _table(
        f"Collection {start} … {end} 催收概况",
        ["figure 指标", "value 数值"],
        [
            ["cases opened 新开案件", figures["opened"]],
            *(
                [f"closed {k} 结案", v]
                for k, v in sorted(figures["closed_by_reason"].items(), key=lambda kv: str(kv[0]))
            ),
            *(
                [f"open in {s} 在办", figures["open_by_stage"].get(s, 0)]
                for s in ("reminder", "early", "mid", "late", "legal")
            ),
            ["contacts 联系", result.contacts],
            ["right-party contacts 接通本人", result.right_party],
            ["passed over: guard said not now 合规暂不可联系", result.passed_over],
            ["promises made 承诺", result.promises],
            *([f"promises {k} 承诺", v] for k, v in sorted(promises.items())),
            [
                "kept rate 履约率",
                f"{promises.get('kept', 0) / judged:.1%}" if judged else "—",
            ],
            ["escalated by hand 人工升级", result.escalations_by_hand],
            *([f"lawsuits {k} 诉讼", v] for k, v in sorted(figures["lawsuits"].items())),
            ["seconds: COB + cases 日终与案件(秒)", f"{result.seconds_cob:.1f}"],
            ["seconds: collection work 催收作业(秒)", f"{result.seconds_work:.1f}"],
        ],
    )
    pct = lambda v: "—" if v is None else f"{v:.0%}"  # noqa: E731
    _table(
        "Collectors 催收员",
        [
            "collector 催收员",
            "attempts 联系",
            "RPC rate 接通率",
            "promise rate 承诺率",
            "kept rate 履约率",
            "collected 回款",
            "blocked 合规拦截",
        ],
        [
            [
                r["collector"],
                r["attempts"],
                pct(r["rpc_rate"]),
                pct(r["promise_rate"]),
                pct(r["kept_rate"]),
                ", ".join(f"{v} {k}" for k, v in r["collected"].items()),
                pct(r["compliance_block_rate"]),
            ]
            for r in figures["collectors"]
        ],
    )
