"""The portfolio report as ONE self-contained HTML file: Jinja2 (autoescaped) with Apache ECharts
inlined from `static/echarts.min.js` — no network is needed to view it, no CDN is referenced.
Chinese and English are both on the page (a toggle can show one of them)."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from arrears.loans.money import format_amount
from arrears.reports import portfolio as pf
from arrears.reports.labels import CLASS_NAMES, STAGE_NAMES, STATE_NAMES, bilingual
from arrears.reports.summary import Report

# Vintage chart: at most this many cohorts (the latest), so the lines stay readable.
VINTAGE_COHORTS = 12


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("arrears.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def echarts_source() -> str:
    return resources.files("arrears.reports").joinpath("static/echarts.min.js").read_text("utf-8")


def _money(minor: int | None, currency: str) -> str:
    return f"{Decimal(format_amount(int(minor or 0), currency)):,}"


def _major(minor: int | None, currency: str) -> float:
    return float(Decimal(format_amount(int(minor or 0), currency)))


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _share(minor: int, total: int) -> float | None:
    return round(minor / total * 100, 4) if total else None


def _bands_text(tables: dict[str, list[list[object]]]) -> str:
    """`M0 0 · M1 1–30 · … · M6+ 181+` for each distinct table (products sharing one, joined)."""
    by_table: dict[str, list[str]] = {}
    for code, bands in tables.items():
        text = " · ".join(
            f"{n} {lo}+" if hi is None else (f"{n} {lo}" if lo == hi else f"{n} {lo}–{hi}")
            for n, lo, hi in bands
        )
        by_table.setdefault(text, []).append(code)
    if len(by_table) == 1:
        return next(iter(by_table))
    return "; ".join(f"{', '.join(codes)}: {text}" for text, codes in by_table.items())


def report_context(report: Report) -> dict[str, Any]:
    """Everything the template shows, as plain values (strings for money, floats for charts)."""
    p = report.portfolio
    ccy = p.book.currency
    k = p.kpis
    buckets = p.book.buckets
    total = int(k["outstanding_principal"] or 0)

    roll: dict[str, Any] | None = None
    if report.roll is not None and report.roll_dates is not None:
        rows = report.roll.get_column("from_bucket").unique(maintain_order=True).to_list()
        cols = report.roll.get_column("to_state").unique(maintain_order=True).to_list()
        cells = [
            [cols.index(r["to_state"]), rows.index(r["from_bucket"]), round(r["rate"] * 100, 2)]
            for r in report.roll.iter_rows(named=True)
            if r["rate"] is not None
        ]
        totals = (
            report.roll.group_by("from_bucket", maintain_order=True)
            .agg(pl.col("row_total").first())
            .iter_rows()
        )
        roll = {
            "from": report.roll_dates[0].isoformat(),
            "to": report.roll_dates[1].isoformat(),
            "rows": [f"{r} ({_money(total, ccy)})" for r, total in totals],
            "cols": [bilingual(c, STATE_NAMES) for c in cols],
            "cells": cells,
        }

    flows = []
    if report.flows is not None and report.cures is not None:
        cure = {r["bucket"]: r for r in report.cures.iter_rows(named=True)}
        for r in report.flows.iter_rows(named=True):
            flows.append(
                {
                    "bucket": r["from_bucket"],
                    "balance": _money(r["balance"], ccy),
                    "flow": f"{r['from_bucket']}→{r['to_bucket']} {_pct(r['rate'], 1)}",
                    "cure": _pct(cure[r["from_bucket"]]["rate"], 1)
                    if r["from_bucket"] in cure
                    else "—",
                }
            )
        last = buckets[-1]
        if last in cure:
            flows.append(
                {
                    "bucket": last,
                    "balance": _money(cure[last]["balance"], ccy),
                    "flow": "—",
                    "cure": _pct(cure[last]["rate"], 1),
                }
            )

    cohorts = report.vintage.get_column("cohort").unique().sort().to_list()[-VINTAGE_COHORTS:]
    vintage = [
        {
            "name": cohort,
            "points": [
                [r["mob"], round(r["ever_amount"] * 100, 2)]
                for r in report.vintage.filter(pl.col("cohort") == cohort).iter_rows(named=True)
                if r["ever_amount"] is not None
            ],
        }
        for cohort in cohorts
    ]

    trend = report.trend
    current = p.buckets.filter(pl.col("bucket") == buckets[0]).row(0, named=True)
    charts = {
        "currency": ccy,
        "buckets": [
            {
                "name": str(r["bucket"]),
                "count": r["count"],
                "balance": _major(r["balance"], ccy),
                "share": _share(r["balance"], total),
            }
            for r in p.buckets.iter_rows(named=True)
            if r["bucket"] != buckets[0]
        ],
        "classification": [
            {
                "name": bilingual(r["classification"], CLASS_NAMES),
                "count": r["count"],
                "balance": _major(r["balance"], ccy),
                "npl": r["classification"] in pf.NPL_CLASSES,
                "share": _share(r["balance"], total),
            }
            for r in p.classification.iter_rows(named=True)
        ],
        "roll": roll,
        "vintage": vintage,
        "vintage_days": report.vintage_days,
        "trend": {
            "dates": [d.isoformat() for d in trend.get_column("as_of").to_list()],
            "par30": [None if v is None else round(v * 100, 3) for v in trend["par30"]],
            "par90": [None if v is None else round(v * 100, 3) for v in trend["par90"]],
            "npl": [None if v is None else round(v * 100, 3) for v in trend["npl_ratio"]],
        },
    }
    fpd = report.fpd
    wo_count, wo_balance = p.written_off
    return {
        "as_of": p.as_of.isoformat(),
        "currency": ccy,
        "rules_version": ", ".join(report.rules_versions or p.rules_versions),
        "bucket_version": p.book.bucket_version,
        "bucket_bands": _bands_text(p.book.bucket_tables),
        "include_restructured": p.include_restructured,
        "kpis": [
            ("Loans on book", "在贷笔数", f"{k['loans']:,}", ""),
            ("Outstanding principal", "剩余本金", _money(k["outstanding_principal"], ccy), ccy),
            ("PAR30", "逾期30天以上", _pct(k["par30"]), "DPD > 30"),
            ("PAR90", "逾期90天以上", _pct(k["par90"]), "DPD > 90"),
            ("NPL ratio", "不良率", _pct(k["npl_ratio"]), "次级+可疑+损失"),
            (
                "Cure rate",
                "回正率",
                _pct(report.cure_rate),
                f"{report.roll_dates[0]} → {report.roll_dates[1]}" if report.roll_dates else "",
            ),
            (
                f"FPD{fpd.get('days', 30)}",
                f"首期逾期{fpd.get('days', 30)}+",
                _pct(fpd.get("rate_count")),
                f"{fpd.get('defaulted_loans', 0)} / {fpd.get('eligible_loans', 0)}",
            ),
            ("Written off", "已核销", f"{wo_count:,}", _money(wo_balance, ccy)),
        ],
        "stages": [
            {
                "name": bilingual(r["ifrs9_stage"], STAGE_NAMES),
                "count": f"{r['count']:,}",
                "balance": _money(r["balance"], ccy),
                "share": _pct(r["balance"] / k["outstanding_principal"])
                if k["outstanding_principal"]
                else "—",
            }
            for r in p.stages.iter_rows(named=True)
        ],
        "flows": flows,
        "roll": roll,
        "movers_since": report.movers_since.isoformat() if report.movers_since else None,
        "movers": [
            {
                "loan_id": r["loan_id"],
                "move": f"{r['from_bucket']} → {r['to_bucket']}",
                "dpd": f"{r['from_dpd']} → {r['to_dpd']}",
                "balance": _money(r["outstanding_principal"], ccy),
            }
            for r in report.movers.iter_rows(named=True)
        ],
        "vintage_cohorts": len(cohorts),
        "current_bucket": {
            "name": buckets[0],
            "count": f"{current['count']:,}",
            "balance": f"{_money(current['balance'], ccy)} {ccy}",
            "share": _pct(current["balance"] / total if total else None),
        },
        "charts": charts,
        "echarts": echarts_source(),
    }


def render_report(
    report: Report,
    collections: dict[str, Any] | None = None,
    *,
    models: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> str:
    """The report as one HTML document (string); `collections` (from
    `reports.collection.collection_section`) adds the collections section, `models` (from
    `reports.models.models_section`) the models section, `contact` (from
    `reports.contact.contact_section`) the contact compliance section."""
    return (
        _env()
        .get_template("report.html.j2")
        .render(**report_context(report), collections=collections, models=models, contact=contact)
    )


def write_report(
    report: Report,
    path: Path,
    collections: dict[str, Any] | None = None,
    *,
    models: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
) -> Path:
    path = Path(path)
    path.write_text(
        render_report(report, collections, models=models, contact=contact), encoding="utf-8"
    )
    return path
