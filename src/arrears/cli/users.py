"""`arrears user …` and `arrears token …`: accounts and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import make_url

from arrears.cli.common import JsonOpt, app, ctx, emit_json, err, fail, out, user_errors

user_app = typer.Typer(help="Users and roles. 用户与角色。", no_args_is_help=True)
token_app = typer.Typer(help="API tokens. 接口令牌。", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

DEMO_DATABASE = "arrears-demo.db"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("--password-stdin: no password on standard input")
        return line
    return typer.prompt("password 密码", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The username. 用户名。")],
    role: Annotated[
        str,
        typer.Option("--role", help="admin | risk | collector | legal | auditor | borrower"),
    ],
    borrower_id: Annotated[
        str | None, typer.Option("--borrower-id", help="For a borrower user: their borrower.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Token-only user, no password sign-in.")
    ] = False,
) -> None:
    """Create a user (prompts for the password). 新建用户。"""
    from arrears.auth.accounts import AccountError, add_user

    engine = _engine()
    password = None if no_password else _read_password(password_stdin)
    try:
        user = add_user(engine, name, role, password, borrower_id=borrower_id)
    except AccountError as exc:
        fail(str(exc))
    out.print(f"user 用户 {user.username} ({user.role}) created 已创建")


@user_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Users and their roles. 用户列表。"""
    from sqlalchemy import select

    from arrears.store.db import unit_of_work
    from arrears.store.tables import User

    with unit_of_work(_engine()) as session:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "borrower_id": u.borrower_id,
                "active": u.active,
                "created_at": u.created_at.isoformat(),
            }
            for u in session.scalars(select(User).order_by(User.username))
        ]
    if as_json:
        emit_json(rows)
        return
    table = Table("username 用户名", "role 角色", "borrower 借款人", "active 启用")
    for r in rows:
        table.add_row(
            r["username"], r["role"], r["borrower_id"] or "", "yes" if r["active"] else "no"
        )
    out.print(table)


def is_demo_database(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and (parsed.database or "").endswith(DEMO_DATABASE)


@user_app.command("demo-accounts")
def demo_accounts(
    not_production: Annotated[
        bool,
        typer.Option(
            "--i-know-this-is-not-production",
            help="Allow it on a database other than the demo's.",
        ),
    ] = False,
) -> None:
    """Create admin, risk, collector, legal, auditor with password arrears-demo. 演示账户。"""
    from arrears.auth.accounts import DEMO_PASSWORD, add_demo_accounts

    url = ctx().settings.database_url
    if not (is_demo_database(url) or not_production):
        fail(
            f"demo accounts have a published password; refusing on {make_url(url).render_as_string(hide_password=True)} "
            f"(not ./{DEMO_DATABASE}) without --i-know-this-is-not-production"
        )
    created = add_demo_accounts(_engine())
    out.print(
        f"demo accounts 演示账户 (password 密码 {DEMO_PASSWORD}): "
        + (", ".join(created) if created else "already there 已存在")
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token acts as. 用户名。")],
    as_json: JsonOpt = False,
) -> None:
    """A new API token, printed once. 新建接口令牌（只显示一次）。"""
    from arrears.auth.accounts import AccountError, UserNotFound, create_token

    try:
        secret, row = create_token(_engine(), name)
    except (AccountError, UserNotFound) as exc:
        fail(str(exc))
    if as_json:
        emit_json(
            {"token_id": row.token_id, "username": name, "prefix": row.prefix, "token": secret}
        )
        return
    print(secret)
    err.print(
        f"token 令牌 {row.token_id} ({row.prefix}…) for {name}: shown once, keep it now 只显示这一次"
    )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's id.")]) -> None:
    """Revoke a token at once. 吊销令牌。"""
    from arrears.auth.accounts import TokenNotFound, revoke_token

    try:
        revoke_token(_engine(), token_id)
    except TokenNotFound as exc:
        fail(str(exc))
    out.print(f"token 令牌 {token_id} revoked 已吊销")


def _engine():  # type: ignore[no-untyped-def]
    with user_errors():
        return ctx().engine()
