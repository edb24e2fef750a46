"""`arrears portfolio` and `arrears report` on a database holding the example book and snapshots
written by the single-loan rules (as the close of business would)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from arrears.catalog import load_catalog
from arrears.cli import app
from arrears.loans import RULES_VERSION
from arrears.reports.html import render_report
from arrears.reports.summary import (
    NoCloseOfBusiness,
    build_portfolio,
    build_report,
    portfolio_json,
)

from .helpers import BOOK_DATES, import_examples, write_snapshots

runner = CliRunner()
AS_OF = "2026-11-30"
BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"]
CHARTS = ["chart-buckets", "chart-classification", "chart-roll", "chart-vintage", "chart-trend"]


def run(url: str, *args: str):
    return runner.invoke(app, ["--business-date", AS_OF, "--db", url, *args])


def test_portfolio_json_keys_and_totals(book_url):
    result = run(book_url, "portfolio", "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in (
        "as_of",
        "loans",
        "outstanding_principal",
        "buckets",
        "classification",
        "stages",
        "par30",
        "par90",
        "npl_ratio",
        "rules_version",
        "bucket_version",
    ):
        assert key in doc, key
    assert doc["as_of"] == AS_OF
    assert doc["rules_version"] == RULES_VERSION
    assert list(doc["buckets"]) == BUCKETS
    assert list(doc["classification"]) == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert list(doc["stages"]) == ["1", "2", "3"]
    assert set(doc["buckets"]["M1"]) == {"count", "balance"}
    # money is decimal text; the distributions add up to the totals
    total = Decimal(doc["outstanding_principal"])
    assert re.fullmatch(r"\d+\.\d\d", doc["outstanding_principal"])
    for part in ("buckets", "classification", "stages"):
        assert sum(v["count"] for v in doc[part].values()) == doc["loans"]
        assert sum(Decimal(v["balance"]) for v in doc[part].values()) == total
    assert 0 <= doc["par90"] <= doc["par30"] <= 1
    assert 0 <= doc["npl_ratio"] <= 1


def test_portfolio_table_is_bilingual(book_url):
    result = run(book_url, "portfolio", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    for text in (
        "Portfolio 资产组合",
        "PAR30",
        "NPL ratio 不良率",
        "Buckets 账龄",
        "substandard 次级",
    ):
        assert text in result.stdout


def test_no_close_of_business_is_one_line_exit_2(book_url):
    result = run(book_url, "portfolio", "--as-of", "2026-11-29", "--json")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error 错误: no close of business for 2026-11-29; run `arrears cob --as-of 2026-11-29`"
    )
    result = run(book_url, "report", "--as-of", "2026-11-29", "--out", "/dev/null")
    assert result.exit_code == 2
    assert "no close of business for 2026-11-29" in result.stderr


def test_report_html_is_self_contained_and_bilingual(book_url, tmp_path):
    out = tmp_path / "report.html"
    result = run(book_url, "report", "--as-of", AS_OF, "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert 'src="http' not in html
    assert not re.search(r"<link[^>]+href=\"http", html)
    assert "<script src" not in html  # everything inline
    assert "echarts" in html and len(html) > 500_000  # the library itself is inlined
    for text in (
        "Portfolio report",
        "资产组合报告",
        "Roll rates",
        "月度迁徙率",
        "Vintage",
        "不良率",
    ):
        assert text in html, text
    for chart in CHARTS:
        assert f'id="{chart}"' in html, chart
    assert RULES_VERSION in html  # R3: the report states the versions it used
    assert "bt-" in html


def test_report_figures(book_engine):
    report = build_report(book_engine, load_catalog(), date(2026, 11, 30))
    assert report.roll_dates == (date(2026, 10, 31), date(2026, 11, 30))
    assert report.trend.get_column("as_of").to_list() == BOOK_DATES
    # every roll-matrix row with a balance sums to 1
    for bucket in report.roll.get_column("from_bucket").unique():
        row = report.roll.filter(report.roll["from_bucket"] == bucket)
        if row.item(0, "row_total") > 0:
            assert abs(row.get_column("rate").sum() - 1) <= 1e-9
    assert report.fpd["eligible_loans"] >= report.fpd["defaulted_loans"] > 0
    assert report.movers_since == date(2026, 10, 31)
    assert report.movers.height > 0
    html = render_report(report)
    assert "2026-10-31 → 2026-11-30" in html


def test_portfolio_on_each_database(engine):
    """The same figures on SQLite and PostgreSQL (the `engine` fixture runs on both)."""
    import_examples(engine)
    dates = [date(2026, 10, 31), date(2026, 11, 30)]
    assert write_snapshots(engine, dates) > 0
    catalog = load_catalog()
    doc = portfolio_json(build_portfolio(engine, catalog, date(2026, 11, 30)))
    assert doc["loans"] == 31
    assert doc["rules_version"] == RULES_VERSION
    assert sum(v["count"] for v in doc["buckets"].values()) == 31
    report = build_report(engine, catalog, date(2026, 11, 30))
    assert report.roll_dates == tuple(dates)
    assert report.fpd["eligible_loans"] > 0
    with pytest.raises(NoCloseOfBusiness):
        build_portfolio(engine, catalog, date(2026, 11, 29))


def test_exclude_restructured_flag_is_reported(book_url):
    result = run(book_url, "portfolio", "--as-of", AS_OF, "--exclude-restructured", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["include_restructured"] is False


def test_echarts_and_template_ship_inside_the_package():
    from importlib import resources

    root = resources.files("arrears.reports")
    assert root.joinpath("static/echarts.min.js").is_file()
    assert root.joinpath("static/ECHARTS_LICENSE").is_file()
    assert root.joinpath("templates/report.html.j2").is_file()
