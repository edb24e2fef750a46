"""`arrears blacklist add|remove|list`: the internal blacklist admission consults
(docs/admission.md). Every change names its reason and who made it, and is an event."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from arrears.cli.bureau import ByOpt, _who
from arrears.cli.common import JsonOpt, app, ctx, emit_json, fail, out, user_errors

blacklist_app = typer.Typer(
    help="The internal blacklist: add, remove, list. 内部黑名单。", no_args_is_help=True
)
app.add_typer(blacklist_app, name="blacklist")

ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (required). 原因（必填）。")]


@blacklist_app.command("add")
def add_cmd(
    reason: ReasonOpt,
    national_id: Annotated[
        str | None, typer.Option("--national-id", help="National id. 证件号码。")
    ] = None,
    phone: Annotated[
        str | None,
        typer.Option("--phone", help="Phone (a phone-only hit refers, never declines). 手机号码。"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name. 姓名。")] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a national id and/or a phone on the blacklist. 列入黑名单。"""
    from arrears.scoring import blacklist

    with user_errors():
        try:
            entry = blacklist.add(
                ctx().engine(), reason=reason, by=_who(by), national_id=national_id,
                phone=phone, name=name,
            )  # fmt: skip
        except blacklist.BlacklistError as exc:
            fail(str(exc))
    if as_json:
        emit_json(entry.as_json())
        return
    out.print(
        f"blacklist entry 黑名单条目 #{entry.id} added 已列入: "
        f"{entry.national_id or '—'} · {entry.phone or '—'} · {entry.reason}",
        highlight=False,
    )


@blacklist_app.command("remove")
def remove_cmd(
    entry_id: Annotated[int, typer.Argument(help="The entry number. 条目编号。")],
    reason: ReasonOpt,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take an entry off the blacklist (the row stays, stamped). 移出黑名单。"""
    from arrears.scoring import blacklist

    with user_errors():
        try:
            entry = blacklist.remove(ctx().engine(), entry_id, reason=reason, by=_who(by))
        except blacklist.BlacklistError as exc:
            fail(str(exc))
    if as_json:
        emit_json(entry.as_json())
        return
    out.print(f"blacklist entry 黑名单条目 #{entry.id} removed 已移出", highlight=False)


@blacklist_app.command("list")
def list_cmd(
    all_entries: Annotated[
        bool, typer.Option("--all", help="Removed entries too. 含已移出条目。")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The blacklist's entries. 黑名单条目。"""
    from arrears.scoring import blacklist

    with user_errors():
        rows = blacklist.entries(ctx().engine(), include_removed=all_entries)
    if as_json:
        emit_json([e.as_json() for e in rows])
        return
    table = Table(
        "id", "national id 证件号码", "phone 手机", "name 姓名", "reason 原因", "added by 操作人",
        "added 列入时间", "removed 移出",
    )  # fmt: skip
    for e in rows:
        table.add_row(
            str(e.id), e.national_id or "—", e.phone or "—", e.name or "—", e.reason, e.added_by,
            f"{e.added_at:%Y-%m-%d %H:%M}",
            "—" if e.active else f"{e.removed_at:%Y-%m-%d} {e.removed_by}: {e.removal_reason}",
        )  # fmt: skip
    out.print(table)
    out.print(f"{len(rows)} entries 条", highlight=False)
