"""Contact commands: `arrears contact check|attempt|opt-out|flag|person|remind|stats` and
`arrears worker`.
Thin: parse, call `arrears.contact.service` / `arrears.contact.worker`, print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

from arrears.cli.common import JsonOpt, app, ctx, emit_json, fail, out, user_errors

contact_app = typer.Typer(help="Contact compliance: the guard, attempts, opt-outs. 联系合规。")
app.add_typer(contact_app, name="contact")

BorrowerOpt = Annotated[str, typer.Option("--borrower", help="Borrower id. 客户编号。")]
ChannelOpt = Annotated[
    str, typer.Option("--channel", help="sms|email|voice|robot|push|letter. 渠道。")
]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="ISO time with offset (default now). 联系时间（含时区）。"),
]
PartyOpt = Annotated[str, typer.Option("--party", help="debtor | contact:<id>. 联系对象。")]
PurposeOpt = Annotated[
    str, typer.Option("--purpose", help="collection | reminder | location … 目的。")
]
LoanOpt = Annotated[str | None, typer.Option("--loan", help="The debt (loan id). 贷款编号。")]


@contextmanager
def errors() -> Iterator[None]:
    from arrears.contact.compliance import GuardNotBound
    from arrears.contact.policy import ContactPolicyError
    from arrears.contact.service import ContactRefused
    from arrears.documents.pdf import LetterheadProblem

    with user_errors():
        try:
            yield
        except (ContactRefused, ContactPolicyError, GuardNotBound, LetterheadProblem) as exc:
            fail(str(exc))


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--at: {text!r} is not an ISO time such as 2026-11-28T23:30:00+08:00 (时间格式无效)")
    if at.tzinfo is None:
        fail(f"--at: {text!r} needs a UTC offset, e.g. +08:00 (需带时区)")
    return at


def _show(result: dict, as_json: bool, zone: str | None = None) -> None:
    """A decision: JSON as the guard answered (ISO times with offset); text with the next
    allowed time in the borrower's zone, named."""
    if as_json:
        emit_json(result)
        return
    if result["allowed"]:
        out.print("allowed 允许", f"(rules 规则: {', '.join(result['rule_ids'])})")
    else:
        out.print("blocked 拦截:", "; ".join(result["reasons"]), markup=False)
        out.print("rules 规则:", ", ".join(result["rule_ids"]), markup=False)
        if result["next_allowed_at"]:
            from arrears.contact.localtime import local_text

            when = local_text(datetime.fromisoformat(result["next_allowed_at"]), zone)
            out.print("next allowed 下次可联系:", when, markup=False)


def _zone_of(borrower_id: str) -> str:
    from arrears.contact.views import borrower_zone

    return borrower_zone(ctx().engine(), borrower_id)


@contact_app.command("check")
def check_cmd(
    borrower: BorrowerOpt,
    channel: ChannelOpt,
    at: AtOpt = None,
    party: PartyOpt = "debtor",
    purpose: PurposeOpt = "collection",
    loan: LoanOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the contact guard (the decision is logged). 合规检查（决定会被记录）。"""
    from arrears.contact.service import check_contact

    when = parse_at(at)
    with errors():
        decision = check_contact(
            ctx().engine(), borrower, channel, when, party=party, purpose=purpose, loan_id=loan
        )
    _show(decision.to_dict(), as_json, _zone_of(borrower))


@contact_app.command("attempt")
def attempt_cmd(
    borrower: BorrowerOpt,
    channel: ChannelOpt,
    outcome: Annotated[
        str,
        typer.Option(help="no_answer|conversation|refused|wrong_number. 结果。"),
    ],
    at: AtOpt = None,
    party: PartyOpt = "debtor",
    purpose: PurposeOpt = "collection",
    loan: LoanOpt = None,
    user: Annotated[str | None, typer.Option("--user", help="Who dialled. 操作人。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the guard and, only when allowed, record the attempt. 经合规检查后记录联系。"""
    from arrears.contact.service import record_attempt

    when = parse_at(at)
    with errors():
        result = record_attempt(
            ctx().engine(),
            borrower,
            channel,
            when,
            outcome,
            party=party,
            purpose=purpose,
            loan_id=loan,
            by_user=user,
        )
    _show(result, as_json, _zone_of(borrower))
    if not as_json and result["attempt_id"] is not None:
        out.print(f"attempt 联系记录 {result['attempt_id']} recorded 已记录")


@contact_app.command("opt-out")
def opt_out_cmd(
    borrower: BorrowerOpt,
    channel: Annotated[str, typer.Option("--channel", help="A channel or all. 渠道或 all。")],
    as_json: JsonOpt = False,
) -> None:
    """Record an opt-out; it holds before the next send. 记录退订，下一次发送前生效。"""
    from arrears.contact.service import opt_out

    with errors():
        result = opt_out(ctx().engine(), borrower, channel)
    if as_json:
        emit_json(result)
    else:
        out.print(f"{borrower} opted out of 已退订 {result['channel']}")


@contact_app.command("flag")
def flag_cmd(
    borrower: BorrowerOpt,
    flag: Annotated[
        str,
        typer.Option(help="do_not_contact|deceased|hardship|unreachable|cease_written. 标记。"),
    ],
    by: Annotated[str, typer.Option("--by", help="Who sets it. 操作人。")],
    clear: Annotated[bool, typer.Option("--clear", help="Remove the flag. 取消标记。")] = False,
) -> None:
    """Set or clear a contact flag on a borrower. 设置或取消联系标记。"""
    from arrears.contact.service import set_flag

    with errors():
        set_flag(ctx().engine(), borrower, flag, by, on=not clear)
    out.print(f"{borrower}: {flag} {'cleared 已取消' if clear else 'set 已设置'}")


@contact_app.command("person")
def person_cmd(
    borrower: BorrowerOpt,
    contact_id: Annotated[str, typer.Option("--id", help="Contact person id. 联系人编号。")],
    name: Annotated[str, typer.Option("--name", help="Name. 姓名。")],
    relation: Annotated[str | None, typer.Option(help="Relation. 关系。")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone. 电话。")] = None,
) -> None:
    """Add a borrower's contact person. 添加联系人。"""
    from arrears.contact.service import add_contact_person

    with errors():
        add_contact_person(
            ctx().engine(), borrower, contact_id, name, relation=relation, phone=phone
        )
    out.print(f"contact person 联系人 {contact_id} added 已添加")


@app.command("worker")
def worker_cmd(
    once: Annotated[
        bool, typer.Option("--once", help="Stop when nothing is due. 无待发即退出。")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="A fixed clock (ISO time with offset), for tests and demos. 固定时钟。"
        ),
    ] = None,
    gateway: Annotated[
        str | None,
        typer.Option(envvar="ARREARS_GATEWAY_URL", help="SMS/voice gateway URL. 短信网关。"),
    ] = None,
    gateway_secret: Annotated[
        str | None, typer.Option(envvar="ARREARS_GATEWAY_SECRET", help="Signing secret. 签名密钥。")
    ] = None,
    smtp: Annotated[
        str | None,
        typer.Option(envvar="ARREARS_SMTP", help="HOST:PORT of the SMTP server. 邮件服务器。"),
    ] = None,
    letters: Annotated[
        str | None,
        typer.Option(
            envvar="ARREARS_LETTER_DIR",
            help="The print vendor's drop folder for PDF letters. 信函（PDF）投递目录。",
        ),
    ] = None,
    letterhead: Annotated[
        str | None,
        typer.Option(
            envvar="ARREARS_LETTERHEAD",
            help="Letterhead YAML (lender name, contact lines). 信函抬头文件。",
        ),
    ] = None,
    webhook_port: Annotated[
        int | None, typer.Option(help="Serve gateway callbacks on this port. 回调端口。")
    ] = None,
    lease_seconds: Annotated[float, typer.Option(help="Claim lease. 租约秒数。")] = 60.0,
    backoff_seconds: Annotated[float, typer.Option(help="First retry delay. 重试间隔。")] = 30.0,
    batch: Annotated[int, typer.Option(help="Messages per claim. 每批条数。")] = 50,
    linger: Annotated[
        float,
        typer.Option(
            help="With --once and --webhook-port: keep receiving receipts after the last send "
            "until none came for 0.5 s, at most this long. 发送完毕后继续接收回执（最长秒数）。",
            min=0,
            max=60,
        ),
    ] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Send due outbox messages through the guard and the channel adapters. 发送待发消息。"""
    from datetime import timedelta
    from pathlib import Path

    from arrears.contact import webhooks
    from arrears.contact.channels.email import SmtpEmail
    from arrears.contact.channels.gateway import HttpGateway
    from arrears.contact.channels.letter import PdfLetters
    from arrears.contact.worker import run
    from arrears.documents.pdf import load_letterhead

    fixed = parse_at(now) if now else None
    with errors():
        db = ctx().engine()
        callback = None
        if webhook_port is not None:
            if not gateway_secret:
                fail("--webhook-port needs --gateway-secret (回调需签名密钥)")
            server = webhooks.start(db, gateway_secret, webhook_port, today=ctx().settings.today)
            callback = server.url
        adapters: dict = {}
        if gateway:
            if not gateway_secret:
                fail("--gateway needs --gateway-secret (网关需签名密钥)")
            gw = HttpGateway(gateway, gateway_secret, callback_url=callback)
            adapters |= {c: gw for c in gw.channels}
        if smtp:
            host, _, port = smtp.rpartition(":")
            if not host or not port.isdigit():
                fail(f"--smtp: {smtp!r} is not HOST:PORT (格式应为 主机:端口)")
            adapters["email"] = SmtpEmail(host, int(port))
        if letters:
            adapters["letter"] = PdfLetters(Path(letters), load_letterhead(letterhead))
        if not adapters:
            fail("no channel configured: give --gateway, --smtp or --letters (未配置任何渠道)")
        stats = run(
            db,
            adapters,
            clock=(lambda: fixed) if fixed else (lambda: datetime.now(UTC)),
            once=once,
            batch=batch,
            lease=timedelta(seconds=lease_seconds),
            backoff=backoff_seconds,
        )
        if callback is not None and linger > 0:
            server.wait_quiet(0.5, linger)  # receipts of the last batches still on their way
    if as_json:
        emit_json(stats.to_dict())
    else:
        out.print(
            f"sent 已发送 {stats.sent}, deferred 延后 {stats.deferred}, blocked 拦截 {stats.blocked}, "
            f"retried 重试 {stats.retried}, failed 失败 {stats.failed}, expired 过期 {stats.expired}"
        )


template_app = typer.Typer(help="Message templates: save a version, preview. 消息模板。")
contact_app.add_typer(template_app, name="template")


@template_app.command("save")
def template_save_cmd(
    name: Annotated[str, typer.Option("--name", help="Template name. 模板名。")],
    language: Annotated[str, typer.Option("--language", help="zh | en. 语言。")],
    channel: Annotated[str, typer.Option("--channel", help="sms|email|push|robot|letter. 渠道。")],
    file: Annotated[str, typer.Option("--file", help="The Jinja2 text. 模板文件。")],
    by: Annotated[str, typer.Option("--by", help="Who saves it. 操作人。")],
    subject: Annotated[str | None, typer.Option("--subject", help="Subject. 标题。")] = None,
    audience: Annotated[
        str, typer.Option("--audience", help="debtor | contact_person. 对象。")
    ] = "debtor",
) -> None:
    """Check a template against the content rules and save it as a new version.
    检查内容规则后保存为新版本。"""
    from pathlib import Path

    from arrears.contact.content import TemplateRejected
    from arrears.contact.templates import TemplateProblem, save_template

    try:
        body = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"--file: {file}: {exc.strerror} (无法读取)")
    with errors():
        try:
            version = save_template(
                ctx().engine(),
                name,
                language,
                channel,
                body,
                by=by,
                subject=subject,
                audience=audience,
            )
        except (TemplateRejected, TemplateProblem) as exc:
            fail(f"{file}: {exc}")
    out.print(f"template 模板 {name} ({language}) saved as version 已保存为版本 {version}")


@template_app.command("preview")
def template_preview_cmd(
    name: Annotated[str, typer.Option("--name", help="Template name. 模板名。")],
    language: Annotated[str, typer.Option("--language", help="zh | en. 语言。")],
    loan: Annotated[str, typer.Option("--loan", help="A real loan. 贷款编号。")],
    version: Annotated[
        int | None, typer.Option("--version", help="Default: latest. 版本。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Render a template with a real loan's figures. 用真实贷款预览模板。"""
    from arrears.contact.templates import TemplateProblem, preview, seed_templates

    with errors():
        db = ctx().engine()
        seed_templates(db)
        try:
            shown = preview(db, name, language, loan, version)
        except TemplateProblem as exc:
            fail(str(exc))
    if as_json:
        emit_json(shown)
    else:
        if shown["subject"]:
            out.print(shown["subject"], markup=False)
        out.print(shown["body"], markup=False)


@contact_app.command("remind")
def remind_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="The closed business date. 业务日期。")],
    as_json: JsonOpt = False,
) -> None:
    """Plan a date's reminders through the guard (what `arrears cob` does after a close).
    排定某日的自动提醒（经合规检查）。"""
    from arrears.cli.common import parse_date
    from arrears.contact.reminders import plan_reminders

    day = parse_date(as_of, "--as-of")
    with errors():
        r = plan_reminders(ctx().engine(), day)
    if as_json:
        emit_json(r.to_dict())
        return
    out.print(
        f"reminders 提醒 {day}: queued 已排队 {r.queued} (deferred to the window 顺延 {r.deferred}), "
        f"blocked 拦截 {r.blocked}, already 已排 {r.already} in 用时 {r.seconds:.1f}s",
        markup=False,
        highlight=False,
    )
    if r.blocked_by_rule:
        rules = ", ".join(f"{k} {v}" for k, v in sorted(r.blocked_by_rule.items()))
        out.print(f"blocked by rule 按规则拦截: {rules}", markup=False, highlight=False)


@contact_app.command("stats")
def stats_cmd(as_json: JsonOpt = False) -> None:
    """Messages by channel and status, blocked decisions by rule. 消息与拦截统计。"""
    from rich.table import Table

    from arrears.contact.views import message_figures

    with errors():
        f = message_figures(ctx().engine())
    if as_json:
        emit_json(f)
        return
    statuses = sorted({s for v in f["by_channel"].values() for s in v})
    table = Table(title="Messages 消息 (by channel and status 按渠道与状态)")
    table.add_column("channel 渠道")
    for s in statuses:
        table.add_column(s, justify="right")
    for channel, counts in sorted(f["by_channel"].items()):
        table.add_row(channel, *(str(counts.get(s, 0)) for s in statuses))
    out.print(table)
    rules = ", ".join(
        f"{k} {v}" for k, v in sorted(f["blocked_by_rule"].items(), key=lambda kv: -kv[1])
    )
    out.print(
        f"guard decisions 合规决定 {f['decisions']}, blocked 拦截 {f['blocked']}"
        + (f" — by rule 按规则: {rules}" if rules else ""),
        markup=False,
        highlight=False,
    )


def _clock(local: str | None) -> str | None:
    """ "2026-12-01 10:05 Asia/Shanghai (UTC+08:00)" → "2026-12-01 10:05 +08:00"."""
    return None if local is None else f"{local[:16]} {local[-7:-1]}"


@contact_app.command("messages")
def messages_cmd(
    borrower: Annotated[
        str | None, typer.Option("--borrower", help="Borrower id. 客户号。")
    ] = None,
    case: Annotated[str | None, typer.Option("--case", help="Case id. 案件号。")] = None,
    limit: Annotated[int, typer.Option(help="At most this many. 最多条数。", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """A borrower's (or a case's) messages, newest first, with the guard's decision; times in
    the borrower's time zone. 消息记录（借款人当地时间）。"""

    from arrears.contact import views

    if (borrower is None) == (case is None):
        fail("give --borrower or --case (须指定客户或案件)")
    with errors():
        db = ctx().engine()
        rows = (
            views.borrower_messages(db, borrower, limit)
            if borrower
            else views.case_messages(db, case, limit)
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        out.print("no messages 暂无消息")
        return
    # one borrower, one zone: the heading names it, each line shows its wall clock and offset;
    # lines rather than a table, so a narrow terminal never cuts a time short
    out.print(
        f"messages 消息 · {borrower or case} · times in 时间为 {rows[0]['timezone']}",
        markup=False,
        highlight=False,
    )
    for m in rows:
        d = m["decision"]
        verdict = (
            "—"
            if d is None
            else f"#{d['decision_id']} " + ("allowed 允许" if d["allowed"] else "blocked 拦截")
        )
        done = m["local"]["delivered_at"] or m["local"]["sent_at"]
        body = " ".join(m["body"].split())
        out.print(
            f"{_clock(m['local']['not_before'])}  {m['channel']}  {m['status']}  {verdict}  "
            + (f"sent 发送 {_clock(done)}" if done else (m["last_error"] or "—"))
            + f"  {body[:60]}{'…' if len(body) > 60 else ''}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@contact_app.command("decisions")
def decisions_cmd(
    borrower: Annotated[
        str | None, typer.Option("--borrower", help="Borrower id. 客户号。")
    ] = None,
    blocked: Annotated[bool, typer.Option("--blocked", help="Only refusals. 仅拦截。")] = False,
    rule: Annotated[str | None, typer.Option("--rule", help="Rule id. 规则编号。")] = None,
    limit: Annotated[int, typer.Option(help="At most this many. 最多条数。", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The guard's decision log, newest first; times in each borrower's time zone.
    合规决定记录（借款人当地时间）。"""

    from arrears.contact.views import decision_log

    with errors():
        page = decision_log(
            ctx().engine(),
            borrower_id=borrower,
            allowed=False if blocked else None,
            rule_id=rule,
            limit=limit,
        )
    if as_json:
        emit_json(page)
        return
    out.print(
        f"guard decisions 合规决定 {len(page['decisions'])} / {page['total']}, "
        "times in each borrower's zone 借款人当地时间",
        markup=False,
        highlight=False,
    )
    for d in page["decisions"]:
        rules = ", ".join(d["rule_ids"]) if not d["allowed"] else f"{len(d['rule_ids'])} checked"
        nxt = d["local"]["next_allowed_at"]
        out.print(
            f"#{d['decision_id']}  {d['local']['at']}  {d['borrower_id']}  {d['channel']}  "
            f"{'allowed 允许' if d['allowed'] else 'blocked 拦截'}  {rules}"
            + (f"  next 下次可联系 {nxt}" if nxt else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
