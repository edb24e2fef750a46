"""The portfolio simulator: deterministic, importable as written, and its behaviour agrees with
its ground truth when the rules replay it."""

from __future__ import annotations

import hashlib
from datetime import date
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine

from arrears.catalog import Catalog, load_catalog
from arrears.imports import import_book
from arrears.loans.status import loan_status
from arrears.sim import SimBook, SimConfig, simulate, write_book
from arrears.sim.behaviour import LATE, PARTIAL
from arrears.store.db import session_factory
from arrears.store.repository import load_loan

END = date(2026, 11, 30)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def small(catalog: Catalog) -> SimBook:
    return simulate(SimConfig(loans=600, months=18, seed=11, end=END), catalog)


@pytest.fixture(scope="module")
def large(catalog: Catalog) -> SimBook:
    return simulate(SimConfig(loans=60_000, months=24, seed=5, end=END), catalog)


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_bytes(catalog: Catalog, tmp_path: Path, fmt: str) -> None:
    config = SimConfig(loans=800, months=12, seed=3, end=END, stress=date(2026, 6, 1))
    write_book(simulate(config, catalog), tmp_path / "a", fmt)
    write_book(simulate(config, catalog), tmp_path / "b", fmt)
    write_book(simulate(SimConfig(800, 12, 4, END), catalog), tmp_path / "c", fmt)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert {p.name for p in (tmp_path / "a").iterdir()} == {
        f"{name}.{fmt}"
        for name in ("borrowers", "loans", "payments", "schedules", "truth", "features")
    }


def test_truth_covers_every_loan(small: SimBook) -> None:
    loans = small.frames["loans"].get_column("loan_id")
    truth = small.frames["truth"]
    assert truth.get_column("loan_id").to_list() == loans.to_list()
    assert truth.get_column("true_pd_12m").is_between(0, 1).all()
    assert set(truth.get_column("behaviour")) <= {"on_time", "late_cure", "prepaid", "defaulted"}
    assert (truth.get_column("defaulted") == truth.get_column("default_month").is_not_null()).all()
    features = small.frames["features"].get_column("borrower_id")
    assert features.to_list() == small.frames["borrowers"].get_column("borrower_id").to_list()


def test_payments_within_history(small: SimBook) -> None:
    pay = small.frames["payments"].join(
        small.frames["loans"].select("loan_id", "disbursed_on"), on="loan_id"
    )
    assert (pay.get_column("paid_on") <= END).all()
    assert (pay.get_column("paid_on") >= pay.get_column("disbursed_on")).all()
    disbursed = small.frames["loans"].get_column("disbursed_on")
    assert disbursed.max() < END  # type: ignore[operator]
    assert pay.get_column("amount").str.contains(r"^\d+\.\d{2}$").all()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_written_book_imports_and_replays_to_its_truth(
    small: SimBook, catalog: Catalog, engine: Engine, tmp_path: Path, fmt: str
) -> None:
    write_book(small, tmp_path / "book", fmt)
    result = import_book(engine, tmp_path / "book", catalog)
    assert result.loans == small.frames["loans"].height
    assert result.payments == small.frames["payments"].height
    assert result.instalments == small.behaviour.instalments.height

    truth = small.frames["truth"]
    on_time = truth.filter(pl.col("behaviour") == "on_time").get_column("loan_id")[:40]
    defaulted = truth.filter(pl.col("defaulted")).get_column("loan_id")[:40]
    assert on_time.len() > 10
    assert defaulted.len() > 3
    with session_factory(engine)() as session:
        for loan_id in on_time:
            record = load_loan(session, loan_id)
            status = loan_status(record.loan, catalog.get(record.product), END)
            assert status.days_past_due == 0, loan_id
        for loan_id in defaulted:
            record = load_loan(session, loan_id)
            status = loan_status(record.loan, catalog.get(record.product), END)
            assert status.days_past_due > 0, loan_id
            assert status.status == "overdue", loan_id


def test_higher_true_pd_defaults_more(large: SimBook) -> None:
    truth = large.frames["truth"].with_columns(
        (pl.col("true_pd_12m").rank("ordinal") * 5 // (pl.len() + 1)).alias("quintile")
    )
    rates = (
        truth.group_by("quintile")
        .agg(pl.col("defaulted").mean())
        .sort("quintile")
        .get_column("defaulted")
        .to_list()
    )
    assert all(a < b for a, b in pairwise(rates)), rates


def test_stress_raises_defaults_after_its_month(catalog: Catalog, large: SimBook) -> None:
    stressed = simulate(
        SimConfig(loans=60_000, months=24, seed=5, end=END, stress=date(2026, 3, 1)), catalog
    )

    def monthly(book: SimBook) -> pl.DataFrame:
        return book.frames["truth"].filter(pl.col("defaulted")).group_by("default_month").len()

    base, hit = monthly(large), monthly(stressed)
    joined = base.join(hit, on="default_month", suffix="_stress", how="full", coalesce=True)
    before = joined.filter(pl.col("default_month") < "2026-03")
    after = joined.filter(pl.col("default_month") >= "2026-03")
    assert before.get_column("len_stress").sum() == pytest.approx(
        before.get_column("len").sum(), rel=0.1
    )
    assert after.get_column("len_stress").sum() > 2 * after.get_column("len").sum()


def test_spring_festival_dip(large: SimBook) -> None:
    inst = large.behaviour.instalments.filter(pl.col("outcome") <= PARTIAL)
    late = inst.group_by("festival").agg(pl.col("outcome").is_in([LATE, PARTIAL]).mean())
    rate = dict(late.iter_rows())
    assert rate[True] > 1.5 * rate[False]
    # By due month, February has the lowest share of instalments paid on time.
    by_month = (
        inst.with_columns(
            pl.col("due_on").cast(pl.Int32).cast(pl.Date).dt.month().alias("month"),
            (pl.col("outcome") == 0).alias("on_time"),
        )
        .group_by("month")
        .agg(pl.col("on_time").mean())
        .sort("on_time")
    )
    assert by_month.get_column("month")[0] == 2


def test_vintages_and_products(large: SimBook) -> None:
    loans = large.frames["loans"]
    vintages = loans.get_column("disbursed_on").dt.strftime("%Y-%m").unique()
    assert vintages.len() == 24
    assert set(loans.get_column("product")) == {
        "consumer",
        "card",
        "sme",
        "supply_chain",
        "project",
    }
    custom = loans.filter(pl.col("repayment_method") == "custom").get_column("loan_id")
    rows = large.frames["schedules"]
    assert set(rows.get_column("loan_id")) == set(custom)
    sums = rows.group_by("loan_id").agg(
        pl.col("principal").str.replace(r"\.", "").cast(pl.Int64).sum()
    )
    expected = loans.filter(pl.col("loan_id").is_in(custom.implode())).select(
        "loan_id", pl.col("principal").str.replace(r"\.", "").cast(pl.Int64)
    )
    assert sums.sort("loan_id").equals(expected.sort("loan_id"))
    names = large.frames["borrowers"].get_column("name")
    chinese = names.str.contains(r"[\u4e00-\u9fff]").mean()
    assert 0.8 < chinese < 1.0  # type: ignore[operator]
    assert np.isin(["US", "GB", "HK", "SG"], large.frames["borrowers"]["country"].to_numpy()).all()
