"""`arrears simulate`: write a synthetic loan book with known ground truth."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.cli.common import (
    JsonOpt,
    app,
    ctx,
    emit_json,
    fail,
    out,
    parse_date,
    progress_bar,
    user_errors,
)


@app.command("simulate")
def simulate_cmd(
    loans: Annotated[int, typer.Option("--loans", help="Number of loans. 贷款笔数。")],
    months: Annotated[
        int, typer.Option("--months", help="Months of monthly vintages before the end. 放款月数。")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the book into. 输出目录。")
    ],
    seed: Annotated[int, typer.Option("--seed", help="Random seed. 随机种子。")] = 1,
    end: Annotated[
        str | None,
        typer.Option(
            "--end", help="Last day of history (default: the business date). 历史截止日。"
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | parquet. 文件格式。")] = "csv",
    stress: Annotated[
        str | None,
        typer.Option(
            "--stress",
            help="Stress scenario from this month YYYY-MM: default hazard ×3. 压力情景起始月。",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a loan book (borrowers, loans, payments, schedules) with ground truth.
    模拟贷款组合（借款人、贷款、还款、还款计划）并输出真实违约标签。"""

    from arrears.sim import SimConfig, simulate, write_book

    if loans <= 0 or loans > 50_000_000:
        fail(f"--loans: {loans} is outside 1 … 50000000")
    if months <= 0 or months > 240:
        fail(f"--months: {months} is outside 1 … 240")
    if fmt not in ("csv", "parquet"):
        fail(f"--format: {fmt!r} is not one of csv, parquet")
    c = ctx()
    end_day = parse_date(end, "--end") if end else c.settings.today()
    stress_day: date | None = None
    if stress:
        stress_day = parse_date(f"{stress}-01", "--stress") if len(stress) == 7 else None
        if stress_day is None:
            fail(f"--stress: {stress!r} is not a month (YYYY-MM expected)")
    with user_errors():
        catalog = c.catalog()
    started = time.perf_counter()
    config = SimConfig(loans=loans, months=months, seed=seed, end=end_day, stress=stress_day)
    with progress_bar(disable=as_json) as progress:
        task = progress.add_task("simulate 模拟", total=5)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=f"{step} 模拟")

        book = simulate(config, catalog, report)
        report("write", 4, 5)
        paths = write_book(book, out_dir, fmt)
        report("done", 5, 5)
    summary: dict[str, Any] = book.summary()
    summary["seconds"]["total"] = round(time.perf_counter() - started, 3)
    summary["files"] = {
        name: {"path": str(path), "rows": book.frames[name].height} for name, path in paths.items()
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"simulated 已模拟: {summary['borrowers']} borrowers 借款人, {summary['loans']} loans 贷款, "
        f"{summary['payments']} payments 还款, {summary['instalments']} instalments 期供; "
        f"default rate 违约率 {summary['default_rate']:.2%}; "
        f"in {summary['seconds']['total']:.1f}s → {out_dir}"
    )
