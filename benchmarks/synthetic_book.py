"""A deterministic synthetic loan book for benchmarks and tests.

`python benchmarks/synthetic_book.py --loans 1000 --out DIR [--format csv|parquet] [--seed 7]`
writes borrowers, loans, payments and schedules (for the custom loans) in the import format of
`docs/data-format.md`: a mix of repayment methods and of the default catalog's products, about 12
payments per loan, amounts with two decimals (CNY).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl

PRODUCTS = ["consumer", "sme", "project", "supply_chain", "card"]
PRODUCT_WEIGHTS = [0.5, 0.2, 0.1, 0.1, 0.1]
METHODS = ["equal_installment", "equal_principal", "interest_only", "bullet", "custom"]
METHOD_WEIGHTS = [0.5, 0.2, 0.12, 0.13, 0.05]
TERMS = [3, 6, 12, 24, 36]


def _money(minor: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        (minor // 100).cast(pl.String), pl.lit("."), (minor % 100).cast(pl.String).str.zfill(2)
    )


def synthetic_book(loans: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Frames (all text columns, as a CSV holds them) for a book of `loans` loans."""
    rng = np.random.default_rng(seed)
    n_borrowers = max(1, int(loans * 0.8))
    borrowers = pl.DataFrame(
        {
            "borrower_id": [f"B{i:08d}" for i in range(n_borrowers)],
            "kind": np.where(rng.random(n_borrowers) < 0.9, "individual", "enterprise"),
            "name": [f"Borrower {i}" for i in range(n_borrowers)],
            "phone": [f"+86138{i:08d}" for i in range(n_borrowers)],
            "timezone": np.where(rng.random(n_borrowers) < 0.95, "Asia/Shanghai", "Asia/Hong_Kong"),
            "language": np.where(rng.random(n_borrowers) < 0.8, "zh", "en"),
            "country": ["CN"] * n_borrowers,
        }
    )
    method = rng.choice(METHODS, size=loans, p=METHOD_WEIGHTS)
    term = rng.choice(TERMS, size=loans)
    principal = rng.integers(1_000, 500_000, size=loans) * 100 + rng.integers(0, 100, size=loans)
    disbursed = np.datetime64("2022-01-01") + rng.integers(0, 3 * 365, size=loans).astype(
        "timedelta64[D]"
    )
    rate = rng.integers(400, 2400, size=loans)  # basis points of 0.01 %: 0.0400 … 0.2399
    loan_frame = pl.DataFrame(
        {
            "loan_id": [f"L{i:08d}" for i in range(loans)],
            "borrower_id": [f"B{i:08d}" for i in rng.integers(0, n_borrowers, size=loans)],
            "product": rng.choice(PRODUCTS, size=loans, p=PRODUCT_WEIGHTS),
            "currency": ["CNY"] * loans,
            "__principal": principal,
            "annual_rate": [f"0.{r:04d}" for r in rate],
            "term_months": term.astype(str),
            "repayment_method": method,
            "disbursed_on": disbursed,
        }
    ).with_columns(
        _money(pl.col("__principal")).alias("principal"),
        pl.col("disbursed_on").cast(pl.Date).cast(pl.String),
    )
    # About 12 payments per loan, on or after disbursement.
    count = rng.integers(6, 19, size=loans)
    owner = np.repeat(np.arange(loans), count)
    k = np.concatenate([np.arange(c) for c in count]) if loans else np.array([], dtype=np.int64)
    paid = disbursed[owner] + (30 * (k + 1) + rng.integers(-5, 6, size=owner.size)).astype(
        "timedelta64[D]"
    )
    payments = (
        pl.DataFrame(
            {
                "payment_id": [f"P{i:09d}" for i in range(owner.size)],
                "loan_id": [f"L{i:08d}" for i in owner],
                "paid_on": paid,
                "__amount": rng.integers(10_000, 500_000, size=owner.size),
            }
        )
        .with_columns(
            pl.col("paid_on").cast(pl.Date).cast(pl.String),
            _money(pl.col("__amount")).alias("amount"),
        )
        .drop("__amount")
    )
    # Custom schedules: equal principal parts (the last takes the remainder), monthly-ish dates.
    custom = np.flatnonzero(method == "custom")
    n_rows = term[custom]
    loan_of_row = np.repeat(custom, n_rows)
    seq = (
        np.concatenate([np.arange(1, n + 1) for n in n_rows])
        if custom.size
        else np.array([], dtype=np.int64)
    )
    part = principal[loan_of_row] // term[loan_of_row]
    last = seq == term[loan_of_row]
    part = np.where(last, principal[loan_of_row] - part * (term[loan_of_row] - 1), part)
    schedules = (
        pl.DataFrame(
            {
                "loan_id": [f"L{i:08d}" for i in loan_of_row],
                "seq": seq.astype(str),
                "due_on": disbursed[loan_of_row] + (30 * seq).astype("timedelta64[D]"),
                "__principal": part,
                "__interest": principal[loan_of_row] * rate[loan_of_row] // 120_000,
            }
        )
        .with_columns(
            pl.col("due_on").cast(pl.Date).cast(pl.String),
            _money(pl.col("__principal")).alias("principal"),
            _money(pl.col("__interest")).alias("interest"),
            pl.lit("0.00").alias("fee"),
        )
        .drop("__principal", "__interest")
    )
    return {
        "borrowers": borrowers,
        "loans": loan_frame.drop("__principal"),
        "payments": payments,
        "schedules": schedules,
    }


def write_book(frames: dict[str, pl.DataFrame], out: Path, fmt: str = "csv") -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "csv":
            frame.write_csv(out / f"{name}.csv")
        else:
            typed = frame
            for column in ("disbursed_on", "paid_on", "due_on"):
                if column in typed.columns:  # Parquet keeps real dates and integers
                    typed = typed.with_columns(pl.col(column).str.to_date())
            for column in ("term_months", "seq"):
                if column in typed.columns:
                    typed = typed.with_columns(pl.col(column).cast(pl.Int32))
            typed.write_parquet(out / f"{name}.parquet")
    return {name: frame.height for name, frame in frames.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = write_book(synthetic_book(args.loans, args.seed), args.out, args.format)
    print(json.dumps({"out": str(args.out), "format": args.format, **counts}))


if __name__ == "__main__":
    main()
