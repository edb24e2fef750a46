"""`simulate`: a whole synthetic portfolio with known ground truth, and `write_book`: its files
in the import format (`docs/data-format.md`) plus `truth` and `features`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from arrears.cob.schedules import build_schedules
from arrears.sim import portfolio as pf
from arrears.sim.behaviour import Behaviour, simulate_payments

Progress = Callable[[str, int, int], None]
STEPS = ("borrowers", "loans", "schedules", "behaviour", "write")
FILES = ("borrowers", "loans", "payments", "schedules", "truth", "features")


@dataclass(frozen=True)
class SimConfig:
    loans: int
    months: int
    seed: int
    end: date
    stress: date | None = None  # the first day of the stress month
    currency: str = "CNY"


@dataclass
class SimBook:
    config: SimConfig
    frames: dict[str, pl.DataFrame]  # the files, as written
    behaviour: Behaviour  # per-instalment outcomes, for analysis and tests
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        truth = self.frames["truth"]
        return {
            "loans": self.frames["loans"].height,
            "borrowers": self.frames["borrowers"].height,
            "payments": self.frames["payments"].height,
            "schedule_rows": self.frames["schedules"].height,
            "instalments": self.behaviour.instalments.height,
            "default_rate": round(float(truth.get_column("defaulted").mean() or 0.0), 4),
            "mean_true_pd_12m": round(float(truth.get_column("true_pd_12m").mean() or 0.0), 4),
            "behaviour": dict(truth.group_by("behaviour").len().sort("behaviour").iter_rows()),
            "end": self.config.end.isoformat(),
            "seconds": self.seconds,
        }


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _money(minor: pl.Expr) -> pl.Expr:
    """Minor units (≥ 0) → major-unit text with two decimals."""
    return pl.concat_str(
        (minor // 100).cast(pl.String), pl.lit("."), (minor % 100).cast(pl.String).str.zfill(2)
    )


def _ids(prefix: str, count: int, width: int) -> pl.Series:
    return prefix + pl.Series(np.arange(1, count + 1)).cast(pl.String).str.zfill(width)


def simulate(config: SimConfig, catalog: Any, progress: Progress | None = None) -> SimBook:
    """Draw the portfolio for `config`. Same config (seed) → the same frames, bit for bit."""

    def tick(step: str) -> None:
        if progress is not None:
            progress(step, STEPS.index(step), len(STEPS))

    if config.loans <= 0 or config.months <= 0:
        raise ValueError("loans and months must be positive")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(6)]
    end_days = _days(config.end)
    stress_month = (
        None if config.stress is None else int(pf.month_index(np.array([_days(config.stress)]))[0])
    )

    # Loans (shells), then the borrowers they need: individuals for retail products,
    # enterprises for the others.
    tick("borrowers")
    shells = pf.make_loans(streams[0], config.loans, config.months, end_days)
    product = shells.get_column("product").to_numpy()
    kinds = pl.Series(product).replace_strict({c: v[1] for c, v in pf.PRODUCT_MIX.items()})
    retail = (kinds == "individual").to_numpy()
    n_ind = max(1, round(0.85 * int(retail.sum())))
    n_ent = max(1, round(0.75 * int((~retail).sum())))
    ind_b, ind_f, ind_z = pf.individuals(streams[1], n_ind, 1)
    ent_b, ent_f, ent_z = pf.enterprises(streams[2], n_ent, n_ind + 1)
    borrowers = pl.concat([ind_b, ent_b])
    features = pl.concat([ind_f, ent_f], how="diagonal")
    borrower_logit = np.concatenate([ind_z.get_column("logit"), ent_z.get_column("logit")])
    seconds["borrowers"] = round(time.perf_counter() - clock, 3)

    # Latent risk per loan: the borrower's log-odds, the product's, and an unobserved part.
    tick("loans")
    rng = streams[3]
    borrower_idx = np.where(
        retail,
        rng.integers(0, n_ind, config.loans),
        n_ind + rng.integers(0, n_ent, config.loans),
    )
    product_effect = pl.Series(product).replace_strict(
        {c: v[2] for c, v in pf.PRODUCT_MIX.items()}, return_dtype=pl.Float64
    )
    logit = (
        borrower_logit[borrower_idx]
        + product_effect.to_numpy()
        + rng.normal(0.0, 0.35, config.loans)
    )
    pd12 = np.clip(pf.sigmoid(logit), 0.001, 0.7)
    grade = np.searchsorted(pf.GRADE_EDGES, pd12, side="right")
    disbursed = shells.get_column("disbursed_on").to_numpy().astype(np.int64)
    terms = pf.loan_terms(rng, product, grade, disbursed)
    loan_ids = _ids("L", config.loans, 7)
    loans = pl.DataFrame(
        {
            "loan_idx": np.arange(config.loans),
            "loan_id": loan_ids,
            "borrower_id": borrowers.get_column("borrower_id").gather(borrower_idx),
            "product": product,
            "principal": terms["principal"],
            "bp": terms["bp"],
            "term_months": terms["term_months"],
            "repayment_method": terms["repayment_method"],
            "disbursed_on": disbursed,
            "first_due": terms["first_due"],
            "pd12": pd12,
            "grade": pl.Series(pf.GRADES).gather(grade),
        }
    ).with_columns(
        pl.concat_str(pl.lit("0."), pl.col("bp").cast(pl.String).str.zfill(4)).alias("annual_rate"),
        pl.col("disbursed_on").cast(pl.Int32).cast(pl.Date).alias("disbursed_date"),
        pl.when(pl.col("first_due") >= 0)
        .then(pl.col("first_due"))
        .cast(pl.Int32)
        .cast(pl.Date)
        .alias("first_due_on"),
    )
    seconds["loans"] = round(time.perf_counter() - clock - sum(seconds.values()), 3)

    # The real schedules: the catalog's rule for generated methods, milestones for projects.
    tick("schedules")
    generated = loans.filter(pl.col("repayment_method") != "custom")
    built = build_schedules(
        generated.select(
            "loan_id",
            "product",
            "principal",
            "annual_rate",
            "term_months",
            "repayment_method",
            pl.col("disbursed_date").alias("disbursed_on"),
            "first_due_on",
            pl.lit(None, dtype=pl.String).alias("interest_basis"),
        ),
        catalog,
    )
    periods = generated.select(
        pl.when(pl.col("repayment_method") == "bullet").then(1).otherwise(pl.col("term_months"))
    ).to_series()
    built = built.with_columns(
        pl.Series("loan_idx", np.repeat(generated.get_column("loan_idx").to_numpy(), periods)),
        pl.col("due_on").cast(pl.Int32).cast(pl.Int64).alias("due_days"),
    )
    custom = pf.project_schedules(loans)
    instalments = pl.concat(
        [
            built.select(
                "loan_idx",
                "seq",
                pl.col("due_days").alias("due_on"),
                (pl.col("principal") + pl.col("interest")).alias("total"),
            ),
            custom.select(
                "loan_idx",
                "seq",
                "due_on",
                (pl.col("principal") + pl.col("interest")).alias("total"),
            ),
        ]
    ).sort("loan_idx", "seq")
    seconds["schedules"] = round(time.perf_counter() - clock - sum(seconds.values()), 3)

    # Behaviour.
    tick("behaviour")
    products = {code: catalog.get(code) for code in pf.PRODUCT_MIX}
    rate = loans.get_column("bp").to_numpy() / 10000.0
    penalty = np.zeros(config.loans)
    for code, prod in products.items():
        m = product == code
        cap = float(prod.cost_cap) - rate[m]
        penalty[m] = np.clip(np.minimum(float(prod.penalty.rate), cap), 0.0, None)
    behaviour = simulate_payments(
        streams[4],
        loans.select("loan_idx", "pd12", "product", "disbursed_on"),
        instalments,
        penalty + 1e-9,
        end_days,
        stress_month,
    )
    seconds["behaviour"] = round(time.perf_counter() - clock - sum(seconds.values()), 3)

    frames = _frames(config, borrowers, features, loans, custom, behaviour)
    return SimBook(config=config, frames=frames, behaviour=behaviour, seconds=seconds)


def _frames(
    config: SimConfig,
    borrowers: pl.DataFrame,
    features: pl.DataFrame,
    loans: pl.DataFrame,
    custom: pl.DataFrame,
    behaviour: Behaviour,
) -> dict[str, pl.DataFrame]:
    loan_ids = loans.get_column("loan_id")
    loans_out = loans.select(
        "loan_id",
        "borrower_id",
        "product",
        pl.lit(config.currency).alias("currency"),
        _money(pl.col("principal")).alias("principal"),
        "annual_rate",
        "term_months",
        "repayment_method",
        pl.col("disbursed_date").alias("disbursed_on"),
        "first_due_on",
    )
    pay = behaviour.payments
    payments = pl.DataFrame(
        {
            "payment_id": _ids("P", pay.height, 9),
            "loan_id": loan_ids.gather(pay.get_column("loan_idx")),
            "paid_on": pay.get_column("paid_on").cast(pl.Int32).cast(pl.Date),
            "amount": pay.select(_money(pl.col("amount"))).to_series(),
        }
    )
    schedules = custom.sort("loan_idx", "seq").select(
        loan_ids.gather(custom.sort("loan_idx", "seq").get_column("loan_idx")).alias("loan_id"),
        "seq",
        pl.col("due_on").cast(pl.Int32).cast(pl.Date),
        _money(pl.col("principal")).alias("principal"),
        _money(pl.col("interest")).alias("interest"),
        pl.lit("0.00").alias("fee"),
    )
    truth = loans.select("loan_id", "borrower_id").with_columns(
        pl.Series("true_pd_12m", np.round(loans.get_column("pd12").to_numpy(), 6)),
        loans.get_column("grade").alias("risk_grade"),
        behaviour.loans.get_column("behaviour"),
        behaviour.loans.get_column("defaulted"),
        pl.when(behaviour.loans.get_column("default_due") >= 0)
        .then(behaviour.loans.get_column("default_due"))
        .cast(pl.Int32)
        .cast(pl.Date)
        .dt.strftime("%Y-%m")
        .alias("default_month"),
    )
    return {
        "borrowers": borrowers,
        "loans": loans_out,
        "payments": payments,
        "schedules": schedules,
        "truth": truth,
        "features": features,
    }


def write_book(book: SimBook, out: Path, fmt: str = "csv") -> dict[str, Path]:
    """Write every frame as `out/<name>.<fmt>`; returns the paths."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, got {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in FILES:
        for other in ("csv", "parquet"):  # never leave both extensions behind
            stale = out / f"{name}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        path = out / f"{name}.{fmt}"
        frame = book.frames[name]
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path, statistics=False)
        paths[name] = path
    return paths
