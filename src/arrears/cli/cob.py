"""Commands of the close of business: `arrears cob` and `arrears snapshot`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.table import Table

from arrears.cli.common import (
    JsonOpt,
    app,
    ctx,
    emit_json,
    err,
    fail,
    out,
    parse_date,
    progress_bar,
    user_errors,
)

DateOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]


@app.command("cob")
def cob_cmd(
    as_of: Annotated[str | None, typer.Option(help="Close this business date. 日终日期。")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Catch up from this date. 起始日期。")
    ] = None,
    to: Annotated[str | None, typer.Option(help="… to this date (inclusive). 截止日期。")] = None,
    monthly: Annotated[
        bool, typer.Option("--monthly", help="Catch up month-end by month-end. 按月末追批。")
    ] = False,
    engine: Annotated[str, typer.Option(help="polars | spark. 计算引擎。")] = "polars",
    spark_master: Annotated[
        str | None, typer.Option(help="Spark master URL (default local[2]). Spark 集群地址。")
    ] = None,
    cases: Annotated[
        bool,
        typer.Option(
            "--cases/--no-cases", help="Then the daily collection case update. 随后更新催收案件。"
        ),
    ] = True,
    reminders: Annotated[
        bool,
        typer.Option(
            "--reminders/--no-reminders",
            help="Then plan the day's reminders into the outbox. 随后生成当日提醒。",
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Close of business: move every loan to the date, write snapshots and transitions.
    日终批处理：全部贷款推进到该日，写入快照与迁徙记录。"""
    from arrears.cob.book import load_book
    from arrears.cob.runner import CobError, business_days, close_business

    if engine not in ("polars", "spark"):
        fail(f"--engine: {engine!r} is not one of polars, spark")
    c = ctx()
    if as_of and (from_ or to):
        fail("give either --as-of or --from/--to, not both")
    if from_ or to:
        if not (from_ and to):
            fail("a catch-up needs both --from and --to")
        try:
            days = business_days(parse_date(from_, "--from"), parse_date(to, "--to"), monthly)
        except CobError as exc:
            fail(str(exc))
    else:
        days = [parse_date(as_of, "--as-of") if as_of else c.settings.today()]
    results = []
    with user_errors():
        db = c.engine()
        catalog = c.catalog()
        with progress_bar(
            disable=as_json or len(days) == 1,
        ) as progress:
            task = progress.add_task("COB 日终", total=len(days))
            book = load_book(db, catalog) if len(days) > 1 else None
            for day in days:
                progress.update(task, description=f"COB 日终 {day}")
                results.append(
                    close_business(
                        db,
                        catalog,
                        day,
                        c.settings.data_dir,
                        engine_kind=engine,
                        spark_master=spark_master,
                        book=book,
                    )
                )
                if cases:
                    _update_cases(db, day, catalog)
                if reminders and day == days[-1]:  # a catch-up sends no stale reminders
                    _plan_reminders(db, day)
                progress.advance(task)
    if as_json:
        emit_json([r.to_dict() for r in results] if len(results) > 1 else results[0].to_dict())
        return
    table = Table(title="Close of business 日终批处理")
    for header in (
        "date 日期",
        "mode 方式",
        "loans 贷款",
        "rebuilt 重算",
        "transitions 迁徙",
        "seconds 秒",
    ):
        table.add_column(header, justify="right")
    for r in results[-20:]:
        table.add_row(
            str(r.as_of),
            r.mode,
            str(r.loans),
            str(r.rebuilt),
            str(r.transitions),
            f"{r.seconds:.2f}",
        )
    if len(results) > 20:
        out.print(f"… {len(results) - 20} earlier dates not shown 更早日期未显示")
    out.print(table)


def _update_cases(db, day, catalog) -> None:
    """The collection case update after a close; a date already updated (or an earlier one) is
    left as it is with a note, so re-running an old close never fails on it."""
    from arrears.collection.common import CollectionRefused
    from arrears.collection.update import update_cases

    try:
        update_cases(db, day, catalog=catalog)
    except CollectionRefused as exc:
        err.print(f"cases 案件: {exc}", markup=False, highlight=False)


def _plan_reminders(db, day) -> None:
    """The contact module's reminder planning after a close (queued through the guard)."""
    from arrears.contact.reminders import plan_reminders

    r = plan_reminders(db, day)
    err.print(
        f"reminders 提醒 {day}: queued 已排队 {r.queued}, blocked 拦截 {r.blocked}",
        markup=False,
        highlight=False,
    )


@app.command("snapshot")
def snapshot_cmd(
    as_of: Annotated[str, typer.Option(help="A date the COB has run. 已日终的日期。")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.parquet or FILE.csv. 输出文件。")],
) -> None:
    """Export per-loan snapshot rows of a closed date for BI tools (amounts in minor units, with
    the currency). 导出某日贷款快照（金额以最小货币单位计）。"""
    from sqlalchemy import select

    from arrears.store.tables import CobRun, Loan, StatusSnapshot

    day = parse_date(as_of, "--as-of")
    if out_file.suffix not in (".parquet", ".csv"):
        fail(f"--out: {out_file} must end in .parquet or .csv")
    with user_errors():
        db = ctx().engine()
        columns = [c for c in StatusSnapshot.__table__.columns if c.name != "rules_version"]
        with db.connect() as conn:
            closed = conn.scalar(
                select(CobRun.run_id).where(CobRun.as_of == day, CobRun.status == "complete")
            )
            if closed is None:
                fail(f"no close of business for {day}; run `arrears cob --as-of {day}`")
            # Amounts stay integer minor units (exact for BI sums); `currency` says which.
            frame = pl.read_database(
                select(*columns, Loan.currency, StatusSnapshot.rules_version)
                .join(Loan, Loan.loan_id == StatusSnapshot.loan_id)
                .where(StatusSnapshot.as_of == day)
                .order_by(StatusSnapshot.loan_id),
                conn,
            )
    if frame.is_empty():
        fail(f"no close of business for {day}; run `arrears cob --as-of {day}`")
    frame = frame.with_columns(
        pl.col("as_of").cast(pl.String).str.to_date()
        if frame.schema["as_of"] == pl.String
        else pl.col("as_of")
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    if out_file.suffix == ".parquet":
        frame.write_parquet(out_file)
    else:
        frame.write_csv(out_file)
    out.print(f"wrote 已写入 {frame.height} snapshot rows 快照 to {out_file}")
