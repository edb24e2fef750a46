"""`arrears bureau …`: third-party data — record a borrower's consent, pull a source, read the
pull log and the credit profile, and run the local fake bureau (docs/bureau.md)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arrears.cli.common import JsonOpt, app, ctx, emit_json, err, fail, out, parse_date, user_errors

bureau_app = typer.Typer(
    help="Third-party data: consent, pulls, credit profile, the fake bureau. 第三方数据。",
    no_args_is_help=True,
)
app.add_typer(bureau_app, name="bureau")

ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who asks (recorded with the pull; default cli:<login>). 操作人。"),
]


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _bureau_errors() -> Iterator[None]:
    from arrears.bureau.sources import BureauError
    from arrears.config import SettingsError

    with user_errors():
        try:
            yield
        except (BureauError, SettingsError, ValueError) as exc:
            fail(str(exc))


PARTY_HELP = (
    "The borrower id, or applicant:<national id> for an applicant not yet a borrower. "
    "借款人编号，或 applicant:<证件号码>（尚未成为借款人的申请人）。"
)


def _party(text: str, name: str | None = None):  # -> Party
    from arrears.bureau.party import applicant, borrower

    kind, _, rest = text.partition(":")
    return applicant(rest, name) if kind == "applicant" and rest else borrower(text)


def _settings():  # -> BureauSettings
    from arrears.bureau.settings import BureauSettings

    return BureauSettings.from_env()


@bureau_app.command("consent")
def consent_cmd(
    borrower_id: Annotated[str, typer.Argument(help=PARTY_HELP)],
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            help="credit_assessment | post_loan_monitoring | collection. 查询用途。",
        ),
    ],
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Sources covered (repeat; default all). 授权的数据来源。"),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(help="How long it lasts (default ARREARS_BUREAU_CONSENT_DAYS, 365)."),
    ] = None,
    evidence: Annotated[
        str | None, typer.Option(help="Reference of the signed consent. 授权书编号。")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="An applicant's name. 申请人姓名。")
    ] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a borrower's or an applicant's consent to query external data. 记录征信查询授权。"""
    from arrears.bureau.service import record_consent

    with _bureau_errors():
        settings = _settings()
        row = record_consent(
            ctx().engine(),
            _party(borrower_id, name),
            purpose,
            _who(by),
            sources=source or None,
            days=days or settings.consent_days,
            evidence=evidence,
        )
    result = {
        "consent_id": row.id,
        "party": row.party,
        "borrower_id": row.borrower_id,
        "purpose": row.purpose,
        "sources": row.sources.split(","),
        "granted_by": row.granted_by,
        "granted_at": row.granted_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }
    if as_json:
        emit_json(result)
        return
    out.print(
        f"consent 授权 #{row.id} recorded 已记录: {row.borrower_id or row.party} · {row.purpose} · "
        f"{row.sources} · until 至 {row.expires_at:%Y-%m-%d}"
    )


@bureau_app.command("revoke")
def revoke_cmd(
    consent_id: Annotated[int, typer.Argument(help="The consent number. 授权编号。")],
    by: ByOpt = None,
) -> None:
    """Revoke a consent: no further pulls under it. 撤销授权。"""
    from arrears.bureau.service import revoke_consent

    with _bureau_errors():
        row = revoke_consent(ctx().engine(), consent_id, _who(by))
    out.print(f"consent 授权 #{row.id} revoked 已撤销")


@bureau_app.command("pull")
def pull_cmd(
    borrower_id: Annotated[str, typer.Argument(help=PARTY_HELP)],
    source: Annotated[
        list[str],
        typer.Option(
            "--source",
            help="credit_report | enforcement | business_registry | tax | all (repeat). 数据来源。",
        ),
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why (must be consented). 查询用途。")
    ] = "credit_assessment",
    force: Annotated[
        bool, typer.Option("--force", help="Ignore the cache and call the source. 忽略缓存。")
    ] = False,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pull reports from external sources (consent first; cached within the TTL). 查询外部数据。"""
    from arrears.bureau.client import http_sources
    from arrears.bureau.service import pull_report
    from arrears.bureau.sources import SOURCES, BureauError, UnknownSubject

    names = list(SOURCES) if "all" in source else source
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    with _bureau_errors():
        settings = _settings()
        engine = ctx().engine()
        for name in names:
            if name not in SOURCES:
                fail(f"--source: unknown source {name!r}; known 已知: {', '.join(SOURCES)}, all")
        adapters = http_sources(settings)
        for name in names:
            try:
                result = pull_report(
                    engine,
                    adapters[name],
                    _party(borrower_id),
                    purpose=purpose,
                    requested_by=_who(by),
                    ttl_s=settings.ttl_s,
                    force=force,
                )
            except UnknownSubject as exc:
                # An answer, not a failure: an individual has no business registry record.
                results.append({"source": name, "outcome": "no_record", "error": str(exc)})
                continue
            except BureauError as exc:
                failures.append(f"{name}: {exc}")
                results.append({"source": name, "outcome": "error", "error": str(exc)})
                continue
            results.append(result.as_json())
    if as_json:
        emit_json(results)
    else:
        for r in results:
            if r["outcome"] == "error":
                continue
            if r["outcome"] == "no_record":
                out.print(f"{r['source']}: no record 无记录")
                continue
            note = " (changed 有变化)" if r["changed"] else ""
            out.print(
                f"{r['source']}: {r['outcome']} 已{'查询' if r['outcome'] == 'fetched' else '取自缓存'}"
                f"{note} · report 报告 #{r['report_id']} · {r['fetched_at']}"
            )
    if failures:
        for line in failures:
            err.print(f"error 错误: {line}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)


@bureau_app.command("refresh")
def refresh_cmd(
    source: Annotated[
        str,
        typer.Option(
            "--source", help="credit_report | enforcement | business_registry | tax. 数据来源。"
        ),
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why (must be consented). 查询用途。")
    ] = "post_loan_monitoring",
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pull one source for every borrower who consented (e.g. the enforcement list for the whole
    book), with a progress bar; failures are counted, not fatal. 批量更新外部数据。"""
    from arrears.bureau.client import HttpSource
    from arrears.bureau.service import consented_borrowers, refresh_source
    from arrears.cli.common import progress_bar

    with _bureau_errors():
        settings = _settings()
        engine = ctx().engine()
        adapter = HttpSource(source, settings)
        ids = consented_borrowers(engine, purpose, source)
        with progress_bar(disable=as_json or not ids) as progress:
            task = progress.add_task(f"{source} 更新", total=len(ids))
            counts = refresh_source(
                engine, adapter, purpose=purpose, requested_by=_who(by), ttl_s=settings.ttl_s,
                borrower_ids=ids, on_pull=lambda _b, _o: progress.advance(task),
            )  # fmt: skip
        adapter.close()
    if as_json:
        emit_json({"source": source, "purpose": purpose, "borrowers": len(ids), "outcomes": counts})
        return
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "—"
    out.print(f"{source}: {len(ids)} borrowers 借款人 · {shown}")


@bureau_app.command("pulls")
def pulls_cmd(
    borrower_id: Annotated[str, typer.Argument(help=PARTY_HELP)],
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Every pull for a borrower, newest first: who, why, when, outcome. 查询记录。"""
    from arrears.bureau.service import pull_log

    with _bureau_errors():
        rows = pull_log(ctx().engine(), _party(borrower_id), limit)
    if as_json:
        emit_json(rows)
        return
    table = Table(
        "when 时间", "source 来源", "purpose 用途", "by 操作人", "outcome 结果", "tries 次数"
    )
    for r in rows:
        table.add_row(
            r["requested_at"][:19],
            r["source"],
            r["purpose"],
            r["requested_by"],
            r["outcome"],
            str(r["attempts"]),
        )
    out.print(table)


def _show(value: Any, feature: str, currency: str | None) -> str:
    from arrears.bureau.profile import MONEY_FEATURES
    from arrears.loans.money import format_amount

    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes 是" if value else "no 否"
    if feature in MONEY_FEATURES and isinstance(value, int):
        cur = currency if currency and currency != "mixed" else "CNY"
        return f"{format_amount(value, cur)} {cur}"
    return str(value)


@bureau_app.command("profile")
def profile_cmd(
    borrower_id: Annotated[str, typer.Argument(help="The borrower. 借款人编号。")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Business date (default today). 业务日期。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The borrower's credit profile: internal history and external data. 借款人信用画像。"""
    from arrears.bureau.profile import LABELS
    from arrears.bureau.service import UnknownBorrower
    from arrears.store.db import unit_of_work
    from arrears.store.tables import Borrower

    day = parse_date(as_of, "--as-of") if as_of else ctx().settings.today()
    with _bureau_errors():
        engine = ctx().engine()
        with unit_of_work(engine) as session:
            if session.get(Borrower, borrower_id) is None:
                raise UnknownBorrower(borrower_id)
        from arrears.bureau.profile import credit_profile

        profile = credit_profile(engine, borrower_id, day)
    if as_json:
        emit_json(profile)
        return
    features = profile["features"]
    table = Table("feature 指标", "value 值", title=f"{borrower_id} · {day}")
    for name, (en, zh) in LABELS.items():
        table.add_row(f"{en} {zh}", _show(features.get(name), name, features.get("currency")))
    out.print(table)
    for source, info in profile["sources"].items():
        stale = " stale 已过期" if info["stale"] else ""
        out.print(f"{source}: fetched 查询于 {info['fetched_at'][:19]}{stale}")
    if not profile["sources"]:
        out.print("no external report yet 尚无外部数据 (arrears bureau pull)")


@bureau_app.command("fake-server")
def fake_server_cmd(
    port: Annotated[int, typer.Option(help="Port (0: any free port). 端口。")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on. 监听地址。")] = "127.0.0.1",
    features: Annotated[
        Path | None,
        typer.Option(help="The simulator's features file: reports follow it. 模拟器特征文件。"),
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="Require this X-Api-Key.")] = None,
    latency_ms: Annotated[int, typer.Option(min=0, help="Delay every answer. 注入延迟。")] = 0,
    fail_every: Annotated[
        int, typer.Option(min=0, help="Fail every Nth request with 503. 注入故障。")
    ] = 0,
) -> None:
    """Run the local fake credit bureau (a real HTTP server) until interrupted. 本地模拟征信服务。"""
    from arrears.bureau.fake_server import FakeBureau, Faults

    if features is not None and not features.exists():
        fail(f"--features: {features} does not exist / 文件不存在")
    try:
        bureau = FakeBureau(
            host,
            port,
            features=features,
            api_key=api_key,
            faults=Faults(latency_ms=latency_ms, fail_every=fail_every),
        )
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc} / 无法监听端口")
    err.print(f"fake bureau 模拟征信 at {bureau.url} (Ctrl-C to stop 按 Ctrl-C 停止)")
    with suppress(KeyboardInterrupt):
        bureau.serve_forever()
