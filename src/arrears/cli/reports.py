"""Commands on portfolio figures: `arrears portfolio` (one date's figures) and `arrears report`
(the self-contained HTML report). Both read what the close of business stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arrears.cli.common import JsonOpt, app, ctx, emit_json, fail, out, parse_date, user_errors

AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Business date YYYY-MM-DD (default today). 业务日期。"),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(help="Currency of the loans to report (needed if the book has several). 币种。"),
]
RestructuredOpt = Annotated[
    bool,
    typer.Option(
        "--include-restructured/--exclude-restructured",
        help="Count restructured loans as at risk in PAR (default: include). 重组贷款计入PAR。",
    ),
]


@contextmanager
def _report_errors() -> Iterator[None]:
    from arrears.reports.summary import CurrencyChoice, NoCloseOfBusiness

    with user_errors():
        try:
            yield
        except (NoCloseOfBusiness, CurrencyChoice) as exc:
            fail(str(exc))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


@app.command("portfolio")
def portfolio_cmd(
    as_of: AsOfOpt = None,
    currency: CurrencyOpt = None,
    include_restructured: RestructuredOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Portfolio on a date: buckets, classes, stages, PAR30/90, NPL. 资产组合概览。"""
    from arrears.reports.labels import CLASS_NAMES, STAGE_NAMES, bilingual
    from arrears.reports.summary import build_portfolio, portfolio_json

    day = parse_date(as_of, "--as-of") if as_of else ctx().settings.today()
    with _report_errors():
        p = build_portfolio(
            ctx().engine(),
            ctx().catalog(),
            day,
            currency=currency,
            include_restructured=include_restructured,
        )
    doc = portfolio_json(p)
    if as_json:
        emit_json(doc)
        return
    ccy = doc["currency"]
    head = Table(title=f"Portfolio 资产组合 — as of 截至 {doc['as_of']}", show_header=False)
    head.add_column("")
    head.add_column("", justify="right")
    for label, value in (
        ("loans on book 在贷笔数", str(doc["loans"])),
        (f"outstanding principal 剩余本金 ({ccy})", doc["outstanding_principal"]),
        ("PAR30", _pct(doc["par30"])),
        ("PAR90", _pct(doc["par90"])),
        ("NPL ratio 不良率", _pct(doc["npl_ratio"])),
        (
            "written off 已核销",
            f"{doc['written_off']['count']} / {doc['written_off']['balance']}",
        ),
        ("rules version 规则版本", doc["rules_version"]),
        ("bucket table 账龄表", doc["bucket_version"]),
        ("restructured in PAR 重组计入PAR", "yes 是" if doc["include_restructured"] else "no 否"),
    ):
        head.add_row(label, value)
    out.print(head)
    total = int(p.kpis["outstanding_principal"] or 0)
    for title, header, frame, key, names in (
        ("Buckets 账龄", "bucket 账龄", p.buckets, "bucket", None),
        ("Classification 五级分类", "class 分类", p.classification, "classification", CLASS_NAMES),
        ("IFRS 9 stages 阶段", "stage 阶段", p.stages, "ifrs9_stage", STAGE_NAMES),
    ):
        table = Table(title=title)
        table.add_column(header)
        table.add_column("loans 笔数", justify="right")
        table.add_column(f"balance 余额 ({ccy})", justify="right")
        table.add_column("share 占比", justify="right")
        shaped = doc[{"bucket": "buckets", "ifrs9_stage": "stages"}.get(key, key)]
        for row in frame.iter_rows(named=True):
            cell = shaped[str(row[key])]
            name = bilingual(row[key], names) if names else str(row[key])
            table.add_row(
                name,
                str(cell["count"]),
                cell["balance"],
                _pct(row["balance"] / total if total else None),
            )
        out.print(table)


@app.command("report")
def report_cmd(
    out_path: Annotated[
        Path, typer.Option("--out", help="HTML file to write. 输出的 HTML 文件。")
    ] = Path("report.html"),
    as_of: AsOfOpt = None,
    currency: CurrencyOpt = None,
    include_restructured: RestructuredOpt = True,
    days: Annotated[
        int, typer.Option(help="DPD threshold of vintages and FPD (X+). 逾期天数阈值。")
    ] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Write the portfolio report: one self-contained HTML file. 生成资产组合报告（单个HTML）。"""
    from arrears.reports.html import write_report
    from arrears.reports.summary import build_report

    day = parse_date(as_of, "--as-of") if as_of else ctx().settings.today()
    with _report_errors():
        report = build_report(
            ctx().engine(),
            ctx().catalog(),
            day,
            currency=currency,
            include_restructured=include_restructured,
            days=days,
        )
    from arrears.reports.collection import collection_section  # the collections section
    from arrears.reports.models import models_section

    try:
        from arrears.reports.contact import contact_section  # the contact section (issue 6)

        path = write_report(
            report,
            out_path,
            collection_section(ctx().engine(), day),
            models=models_section(ctx().engine()),  # the models section (reports.models)
            contact=contact_section(ctx().engine(), day, zone=ctx().settings.lender_timezone),
        )
    except OSError as exc:
        fail(f"{out_path}: cannot write the report: {exc.strerror}")
    if as_json:
        emit_json({"as_of": day.isoformat(), "out": str(path), "bytes": path.stat().st_size})
        return
    out.print(f"report 报告: {path} ({path.stat().st_size:,} bytes) as of 截至 {day}")
