"""Commands on the loan book: products, schedules, loans, payments, the database and imports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arrears.cli.common import (
    JsonOpt,
    app,
    ctx,
    db_app,
    emit_json,
    err,
    fail,
    loan_app,
    out,
    parse_date,
    parse_rate,
    payment_app,
    progress_bar,
    user_errors,
)
from arrears.loans.money import format_amount, parse_amount
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import LoanTerms

# --- arrears products ------------------------------------------------------------------------


@app.command("products")
def products_cmd(as_json: JsonOpt = False) -> None:
    """Show the effective product catalog. 查看生效的产品目录。"""
    with user_errors():
        catalog = ctx().catalog()
    if as_json:
        emit_json(
            {
                "sources": list(catalog.sources),
                "products": {c: p.model_dump(mode="json") for c, p in catalog.products.items()},
            }
        )
        return
    table = Table(title="Products 产品目录")
    for header in (
        "code 代码",
        "name 名称",
        "basis 计息",
        "allocation 冲账",
        "penalty 罚息",
        "cap 上限",
        "classes 分类",
    ):
        table.add_column(header)
    for code, p in catalog.products.items():
        card = p.classification.name_for(121) == "doubtful"
        table.add_row(
            code,
            f"{p.name_zh} / {p.name_en}",
            p.interest_basis,
            f"{p.allocation.method}, {'→'.join(p.allocation.order)}, {p.allocation.overpayment}",
            f"{p.penalty.rate} on {p.penalty.base}",
            str(p.cost_cap),
            "card 信用卡" if card else "standard 标准",
        )
    out.print(table)
    out.print("sources 来源: " + ", ".join(catalog.sources))


# --- arrears schedule ------------------------------------------------------------------------


@app.command("schedule")
def schedule_cmd(
    principal: Annotated[str, typer.Option(help="Principal in major units, e.g. 120000. 本金。")],
    annual_rate: Annotated[
        str, typer.Option(help="Annual rate as a fraction, e.g. 0.12. 年利率。")
    ],
    term: Annotated[int, typer.Option(help="Term in months. 期数（月）。")],
    method: Annotated[
        str,
        typer.Option(
            help="equal_installment | equal_principal | interest_only | bullet. 还款方式。"
        ),
    ],
    disbursed_on: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD. 放款日。")],
    first_due_on: Annotated[str | None, typer.Option(help="First due date. 首期还款日。")] = None,
    interest_basis: Annotated[
        str | None,
        typer.Option(
            help="monthly | act365 | act360 (default: the product's, else monthly). 计息基础。"
        ),
    ] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency. 币种。")] = "CNY",
    product: Annotated[
        str | None,
        typer.Option(help="Take interest basis and rounding from this product. 按产品规则计算。"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a repayment schedule from terms. 根据贷款条件生成还款计划。"""
    with user_errors():
        rules = ctx().catalog().get(product) if product else None
    interest_basis = interest_basis or (rules.interest_basis if rules else "monthly")
    rounding = rules.rounding if rules else "half_up"
    if method not in ("equal_installment", "equal_principal", "interest_only", "bullet"):
        fail(
            f"--method: {method!r} is not one of equal_installment, equal_principal, interest_only, bullet"
        )
    if interest_basis not in ("monthly", "act365", "act360"):
        fail(f"--interest-basis: {interest_basis!r} is not one of monthly, act365, act360")
    if term <= 0 or term > 600:
        fail(f"--term: {term} is outside 1 … 600 months")
    with user_errors():
        terms = LoanTerms(
            principal=parse_amount(principal, currency),
            annual_rate=parse_rate(annual_rate, "--annual-rate"),
            term_months=term,
            method=method,  # type: ignore[arg-type]
            disbursed_on=parse_date(disbursed_on, "--disbursed-on"),
            currency=currency,
            first_due_on=parse_date(first_due_on, "--first-due-on") if first_due_on else None,
        )
        rows = build_schedule(terms, basis=interest_basis, rounding=rounding)  # type: ignore[arg-type]
    money: Callable[[int], str] = lambda v: format_amount(v, currency)  # noqa: E731
    result = {
        "installments": [
            {
                "seq": r.seq,
                "due_on": r.due_on.isoformat(),
                "principal": money(r.principal),
                "interest": money(r.interest),
                "fee": money(r.fee),
                "total": money(r.total),
            }
            for r in rows
        ],
        "total_principal": money(sum(r.principal for r in rows)),
        "total_interest": money(sum(r.interest for r in rows)),
        "currency": currency,
    }
    if as_json:
        emit_json(result)
        return
    table = Table(title=f"Repayment schedule 还款计划 ({method}, {interest_basis}, {currency})")
    for header in ("#", "due 应还日", "principal 本金", "interest 利息", "fee 费用", "total 合计"):
        table.add_column(header, justify="right")
    for row in result["installments"]:
        table.add_row(
            str(row["seq"]),
            row["due_on"],
            row["principal"],
            row["interest"],
            row["fee"],
            row["total"],
        )
    table.add_section()
    table.add_row("", "total 合计", result["total_principal"], result["total_interest"], "", "")
    out.print(table)


# --- arrears loan ----------------------------------------------------------------------------

STATUS_LABELS = {
    "active": "active 正常还款",
    "overdue": "overdue 逾期",
    "paid_off": "paid off 已结清",
    "written_off": "written off 已核销",
    "restructured": "restructured 重组观察",
}
CLASS_LABELS = {
    "normal": "normal 正常",
    "special_mention": "special mention 关注",
    "substandard": "substandard 次级",
    "doubtful": "doubtful 可疑",
    "loss": "loss 损失",
}


def print_loan(view: dict[str, Any]) -> None:
    table = Table(
        title=f"Loan 贷款 {view['loan_id']} — as of 截至 {view['as_of']}", show_header=False
    )
    table.add_column("field", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("status 状态", STATUS_LABELS.get(view["status"], view["status"])),
        ("days past due 逾期天数", str(view["days_past_due"])),
        ("bucket 账龄", view["bucket"]),
        (
            "classification 五级分类",
            CLASS_LABELS.get(view["classification"], view["classification"]),
        ),
        ("IFRS 9 stage 阶段", str(view["ifrs9_stage"])),
        ("outstanding principal 剩余本金", view["outstanding_principal"]),
        ("overdue principal 逾期本金", view["overdue_principal"]),
        ("overdue interest 逾期利息", view["overdue_interest"]),
        ("overdue fee 逾期费用", view["overdue_fee"]),
        ("overdue penalty 罚息", view["overdue_penalty"]),
        ("next due 下期应还", f"{view['next_due_on'] or '—'}  {view['next_due_amount'] or ''}"),
        (
            "penalty rate 罚息利率",
            view["applied_penalty_rate"]
            + (" (capped 已按上限)" if view["penalty_rate_capped"] else ""),
        ),
        ("currency 币种", view["currency"]),
    ]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)


@loan_app.command("show")
def loan_show(
    loan_id: str,
    as_of: Annotated[
        str | None, typer.Option(help="Business date (default today). 业务日期。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A loan's status on a date, computed live from the rules. 查询贷款在某日的状态。"""
    from arrears.servicing import show_loan

    day = parse_date(as_of, "--as-of") if as_of else ctx().settings.today()
    with user_errors():
        view = show_loan(ctx().engine(), ctx().catalog(), loan_id, day).to_dict()
    emit_json(view) if as_json else print_loan(view)


@loan_app.command("list")
def loan_list(
    as_of: Annotated[
        str | None, typer.Option(help="Business date (default today). 业务日期。")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many loans. 最多显示条数。")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Status of the book's loans on a date. 贷款状态一览。"""
    from arrears.servicing import list_loans

    day = parse_date(as_of, "--as-of") if as_of else ctx().settings.today()
    with user_errors():
        views = [v.to_dict() for v in list_loans(ctx().engine(), ctx().catalog(), day, limit)]
    if as_json:
        emit_json(views)
        return
    table = Table(title=f"Loan book 贷款簿 — as of 截至 {day}")
    for header in (
        "loan 贷款",
        "product 产品",
        "status 状态",
        "DPD 逾期天数",
        "bucket 账龄",
        "class 分类",
        "stage 阶段",
        "outstanding 剩余本金",
        "overdue 逾期金额",
        "ccy",
    ):
        table.add_column(
            header,
            justify="right"
            if header.startswith(("DPD", "stage", "outstanding", "overdue"))
            else "left",
        )
    for v in views:
        overdue = sum(
            Decimal(v[k])
            for k in ("overdue_principal", "overdue_interest", "overdue_fee", "overdue_penalty")
        )
        table.add_row(
            v["loan_id"],
            v["product"],
            STATUS_LABELS.get(v["status"], v["status"]),
            str(v["days_past_due"]),
            v["bucket"],
            CLASS_LABELS.get(v["classification"], v["classification"]),
            str(v["ifrs9_stage"]),
            v["outstanding_principal"],
            str(overdue),
            v["currency"],
        )
    out.print(table)


@loan_app.command("pause")
def loan_pause(
    loan_id: str,
    start: Annotated[str, typer.Option(help="First paused day YYYY-MM-DD. 暂停开始日。")],
    end: Annotated[str, typer.Option(help="Last paused day YYYY-MM-DD. 暂停结束日。")],
    reason: Annotated[str, typer.Option(help="Why (hardship). 原因（困难）。")],
    as_json: JsonOpt = False,
) -> None:
    """Hardship pause: the days neither count towards DPD nor accrue penalty. 困难暂停。"""
    from arrears.servicing import pause_loan

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    with user_errors():
        view = pause_loan(
            ctx().engine(),
            ctx().catalog(),
            loan_id,
            first,
            last,
            reason,
            today=ctx().settings.today(),
        ).to_dict()
    emit_json(view) if as_json else print_loan(view)


@loan_app.command("override")
def loan_override(
    loan_id: str,
    classification: Annotated[
        str, typer.Option(help="special_mention | substandard | doubtful | loss. 五级分类。")
    ],
    reason: Annotated[str, typer.Option(help="Why. 原因。")],
    author: Annotated[str, typer.Option(help="Who decides. 审批人。")],
    expires_on: Annotated[str | None, typer.Option(help="Last day it applies. 失效日。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Downgrade the five-category class by hand (never upgrade). 人工下调五级分类。"""
    from arrears.servicing import override_classification

    expiry = parse_date(expires_on, "--expires-on") if expires_on else None
    with user_errors():
        view = override_classification(
            ctx().engine(),
            ctx().catalog(),
            loan_id,
            classification,
            reason,
            author,
            expires_on=expiry,
            today=ctx().settings.today(),
        ).to_dict()
    emit_json(view) if as_json else print_loan(view)


# --- arrears payment -------------------------------------------------------------------------


@payment_app.command("post")
def payment_post(
    loan_id: str,
    amount: Annotated[str, typer.Option(help="Amount in major units, e.g. 1066.18. 金额。")],
    paid_on: Annotated[str, typer.Option(help="Date received YYYY-MM-DD. 到账日期。")],
    reference: Annotated[str | None, typer.Option(help="Payer's reference. 付款参考号。")] = None,
    payment_id: Annotated[
        str | None, typer.Option(help="Payment id (default: generated). 还款编号。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Post a payment; the loan's status changes at once. 还款入账，状态即时更新。"""
    from arrears.servicing import post_payment

    c = ctx()
    day = parse_date(paid_on, "--paid-on")
    with user_errors():
        pid, view = post_payment(
            c.engine(),
            c.catalog(),
            loan_id,
            amount,
            day,
            reference=reference,
            payment_id=payment_id,
            today=c.settings.today(),
        )
    result = {"payment_id": pid, "amount": amount, "loan": view.to_dict()}
    if as_json:
        emit_json(result)
        return
    out.print(f"posted 已入账 {pid}: {amount} {view.currency} on {day}")
    print_loan(result["loan"])


@payment_app.command("reverse")
def payment_reverse(
    payment_id: str,
    reason: Annotated[str, typer.Option(help="Why it is reversed. 冲正原因。")],
    as_json: JsonOpt = False,
) -> None:
    """Reverse a payment with a reason; allocation is recomputed. 冲正一笔还款。"""
    from arrears.servicing import reverse_payment

    with user_errors():
        view = reverse_payment(
            ctx().engine(), ctx().catalog(), payment_id, reason, today=ctx().settings.today()
        )
    result = {"payment_id": payment_id, "reversed": True, "loan": view.to_dict()}
    if as_json:
        emit_json(result)
        return
    out.print(f"reversed 已冲正 {payment_id}: {reason}")
    print_loan(result["loan"])


# --- arrears db / import ---------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema. 创建或升级数据库结构。"""
    from arrears.store.db import current_revision, upgrade

    url = ctx().settings.database_url
    try:
        upgrade(url)
        revision = current_revision(url)
    except Exception as exc:  # a bad URL or an unreachable server is the user's to fix
        fail(f"cannot upgrade {url}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    out.print(f"database 数据库 at revision {revision}", markup=False)


@app.command("import")
def import_cmd(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder with borrowers, loans, payments[, schedules] (.csv/.parquet). 数据目录。"
        ),
    ],
    allow_extra: Annotated[
        bool, typer.Option("--allow-extra", help="Ignore extra columns. 忽略多余列。")
    ] = False,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Skip ids already stored. 跳过已存在的记录。")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a loan book: all rows land or none do. 导入贷款数据：要么全部成功，要么全部不写入。"""

    from arrears.imports import ImportRejected, import_book

    c = ctx()
    if not directory.is_dir():
        fail(f"{directory}: not a directory")
    with user_errors():
        engine = c.engine()
        catalog = c.catalog()
        try:
            with progress_bar(disable=as_json) as progress:
                tasks: dict[str, Any] = {}

                def report(step: str, done: int, total: int) -> None:
                    if step not in tasks:
                        tasks[step] = progress.add_task(step, total=total)
                    progress.update(tasks[step], completed=done, total=total)

                result = import_book(
                    engine,
                    directory,
                    catalog,
                    allow_extra=allow_extra,
                    skip_existing=skip_existing,
                    progress=report,
                )
        except ImportRejected as rejected:
            if as_json:
                emit_json({"ok": False, **rejected.to_dict()})
            else:
                table = Table(
                    title=f"Import rejected, nothing written 导入被拒绝，未写入任何数据 — {rejected.total} error(s)"
                )
                for header in ("file 文件", "row 行", "column 列", "value 值", "reason 原因"):
                    table.add_column(header)
                for issue in rejected.issues[:50]:
                    d = issue.to_dict()
                    table.add_row(
                        str(d["file"]),
                        str(d["row"] or ""),
                        str(d["column"] or ""),
                        str(d["value"] or ""),
                        str(d["reason"]),
                    )
                err.print(table)
                if rejected.total > 50:
                    err.print(
                        f"… and {rejected.total - 50} more (use --json for the first 1000) 更多错误请用 --json 查看"
                    )
            raise typer.Exit(2) from None
    summary = result.to_dict()
    if as_json:
        emit_json({"ok": True, **summary})
        return
    out.print(
        f"imported 已导入: {summary['borrowers']} borrowers 借款人, {summary['loans']} loans 贷款, "
        f"{summary['payments']} payments 还款, {summary['instalments']} instalments 期供 "
        f"in {summary['seconds']:.1f}s"
    )
