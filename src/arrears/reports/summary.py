"""The portfolio figures for one business date, read from the database and computed by
`reports.portfolio`: what `arrears portfolio` prints and what the HTML report draws.

Every summary states the rules version(s) of the snapshots it used and the bucket tables (with a
fingerprint, `bucket_version`) it ordered buckets by (R3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine

from arrears.catalog import Catalog
from arrears.loans.money import format_amount
from arrears.reports import data
from arrears.reports import portfolio as pf


class NoCloseOfBusiness(LookupError):
    """No snapshot exists for the requested date."""

    def __init__(self, as_of: date) -> None:
        super().__init__(as_of)
        self.as_of = as_of

    def __str__(self) -> str:
        d = self.as_of.isoformat()
        return f"no close of business for {d}; run `arrears cob --as-of {d}`"


class CurrencyChoice(ValueError):
    """The book has several currencies and none was chosen, or the chosen one is not there."""


@dataclass
class Book:
    """The loans of one currency, the products they use and the bucket order (R3)."""

    currency: str
    loans: pl.DataFrame
    buckets: list[str]
    bucket_version: str
    bucket_tables: dict[str, list[list[object]]]


@dataclass
class Portfolio:
    """The figures of one date (the `arrears portfolio` answer)."""

    as_of: date
    book: Book
    snapshot: pl.DataFrame
    include_restructured: bool
    kpis: dict[str, Any]
    buckets: pl.DataFrame
    classification: pl.DataFrame
    stages: pl.DataFrame
    written_off: tuple[int, int]
    rules_versions: list[str]


@dataclass
class Report:
    """Everything the HTML report shows."""

    portfolio: Portfolio
    trend: pl.DataFrame
    roll_dates: tuple[date, date] | None = None
    roll: pl.DataFrame | None = None
    flows: pl.DataFrame | None = None
    cures: pl.DataFrame | None = None
    cure_rate: float | None = None
    vintage: pl.DataFrame = field(default_factory=pl.DataFrame)
    vintage_days: int = 30
    fpd: dict[str, Any] = field(default_factory=dict)
    movers_since: date | None = None
    movers: pl.DataFrame = field(default_factory=pl.DataFrame)
    rules_versions: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ building


def load_book(conn: Any, catalog: Catalog, currency: str | None = None) -> Book:
    loans = data.loans(conn)
    currencies = sorted(set(loans.get_column("currency").to_list()))
    if currency is None:
        if len(currencies) > 1:
            raise CurrencyChoice(
                f"the book holds several currencies ({', '.join(currencies)}); choose one with --currency"
            )
        currency = currencies[0] if currencies else "CNY"
    elif currencies and currency not in currencies:
        raise CurrencyChoice(f"no loans in {currency}; the book holds {', '.join(currencies)}")
    loans = loans.filter(pl.col("currency") == currency)
    codes = sorted(set(loans.get_column("product").to_list()))
    products = [catalog.get(code) for code in codes] or [catalog.get(next(iter(catalog.products)))]
    return Book(
        currency=currency,
        loans=loans,
        buckets=pf.bucket_names(products),
        bucket_version=pf.bucket_version(products),
        bucket_tables=pf.bucket_tables(products),
    )


def _of_book(frame: pl.DataFrame, book: Book) -> pl.DataFrame:
    return frame.join(book.loans.select("loan_id"), on="loan_id", how="semi")


def _versions(frame: pl.DataFrame) -> list[str]:
    return sorted(set(frame.get_column("rules_version").to_list()))


def _summarise(
    as_of: date, book: Book, snapshot: pl.DataFrame, include_restructured: bool
) -> Portfolio:
    snapshot = pf.with_restructured(snapshot, book.loans)
    kpis = snapshot.select(pf.kpi_exprs(snapshot, include_restructured=include_restructured))
    return Portfolio(
        as_of=as_of,
        book=book,
        snapshot=snapshot,
        include_restructured=include_restructured,
        kpis=kpis.row(0, named=True),
        buckets=snapshot.pipe(pf.by_bucket, book.buckets),
        classification=snapshot.pipe(pf.by_classification),
        stages=snapshot.pipe(pf.by_stage),
        written_off=pf.written_off_totals(snapshot),
        rules_versions=_versions(snapshot),
    )


def build_portfolio(
    engine: Engine,
    catalog: Catalog,
    as_of: date,
    *,
    currency: str | None = None,
    include_restructured: bool = True,
) -> Portfolio:
    """The distributions, PAR30/90 and NPL of the book on `as_of`; `NoCloseOfBusiness` if the
    close of business has not run for that date."""
    with engine.connect() as conn:
        if as_of not in data.snapshot_dates(conn, until=as_of):
            raise NoCloseOfBusiness(as_of)
        book = load_book(conn, catalog, currency)
        snapshot = _of_book(data.snapshots(conn, [as_of]), book)
    if snapshot.height == 0:
        raise NoCloseOfBusiness(as_of)
    return _summarise(as_of, book, snapshot, include_restructured)


def build_report(
    engine: Engine,
    catalog: Catalog,
    as_of: date,
    *,
    currency: str | None = None,
    include_restructured: bool = True,
    days: int = 30,
    movers: int = 15,
    months: int = 24,
) -> Report:
    """Everything the HTML report shows for `as_of`: the portfolio, PAR/NPL trends over the last
    `months` month-ends, the latest month's roll matrix with flow and cure rates, vintages (ever
    and current `days`+), FPD_`days` and the top movers since the previous month-end."""
    with engine.connect() as conn:
        book = load_book(conn, catalog, currency)
        dates = data.snapshot_dates(conn, until=as_of)
        if as_of not in dates:
            raise NoCloseOfBusiness(as_of)
        ends = pf.month_ends(dates, as_of)
        points = sorted({*ends[-months:], as_of})
        frames = _of_book(data.snapshots(conn, sorted({*ends, as_of})), book)
        history = _of_book(data.delinquent_history(conn, as_of, days), book)
        first = data.first_dues(conn)
    frames = pf.with_restructured(frames, book.loans)
    snapshot = frames.filter(pl.col("as_of") == as_of)
    portfolio = _summarise(as_of, book, snapshot, include_restructured)
    report = Report(
        portfolio=portfolio,
        trend=frames.filter(pl.col("as_of").is_in(points)).pipe(
            pf.trend, include_restructured=include_restructured
        ),
        vintage_days=days,
        rules_versions=_versions(frames),
    )
    at = {d: frames.filter(pl.col("as_of") == d) for d in {*ends, as_of}}
    if len(ends) >= 2:
        t0, t1 = ends[-2], ends[-1]
        report.roll_dates = (t0, t1)
        report.roll = pf.roll_matrix(at[t0], at[t1], book.buckets)
        report.flows = pf.flow_rates(report.roll, book.buckets)
        report.cures = pf.cure_rates(report.roll, book.buckets)
        report.cure_rate = pf.overall_cure_rate(report.roll, book.buckets)
    report.vintage = pf.vintage(
        frames, book.loans.filter(pl.col("disbursed_on") <= as_of), days=days, history=history
    )
    first = first.join(book.loans.select("loan_id", "principal"), on="loan_id", how="inner")
    report.fpd = pf.first_payment_default(history, first, as_of, days=days)
    before = [d for d in ends if d < as_of]
    if before:
        report.movers_since = before[-1]
        report.movers = pf.top_movers(at[before[-1]], snapshot, book.buckets, limit=movers)
    return report


# ------------------------------------------------------------------------------ JSON


def _money(value: int, currency: str) -> str:
    return format_amount(int(value), currency)


def _shape(frame: pl.DataFrame, key: str, currency: str) -> dict[str, dict[str, Any]]:
    return {
        str(row[key]): {"count": row["count"], "balance": _money(row["balance"], currency)}
        for row in frame.iter_rows(named=True)
    }


def portfolio_json(p: Portfolio) -> dict[str, Any]:
    """The `arrears portfolio --json` document. Money is decimal text in the book's currency."""
    ccy = p.book.currency
    wo_count, wo_balance = p.written_off
    return {
        "as_of": p.as_of.isoformat(),
        "currency": ccy,
        "loans": p.kpis["loans"],
        "outstanding_principal": _money(p.kpis["outstanding_principal"] or 0, ccy),
        "buckets": _shape(p.buckets, "bucket", ccy),
        "classification": _shape(p.classification, "classification", ccy),
        "stages": _shape(p.stages, "ifrs9_stage", ccy),
        "par30": p.kpis["par30"],
        "par90": p.kpis["par90"],
        "npl_ratio": p.kpis["npl_ratio"],
        "include_restructured": p.include_restructured,
        "written_off": {"count": wo_count, "balance": _money(wo_balance, ccy)},
        "rules_version": ", ".join(p.rules_versions),
        "bucket_version": p.book.bucket_version,
        "bucket_tables": p.book.bucket_tables,
    }
