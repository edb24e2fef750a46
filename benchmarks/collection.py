"""Benchmark of the daily case update (`arrears.collection.update.update_cases`).

A synthetic book of N delinquent loans (borrower ids drawn from N/1.25, so about 1.75 loans per
delinquent borrower) is written straight into
the tables the update reads (borrowers, loans, and two days of status snapshots), then:

- `open_seconds`: the first update, which opens a case for every delinquent borrower;
- `daily_seconds`: the next day's update, where every DPD moved on by one, 5% of the loans were
  cured (their cases close) and 2% of borrowers are newly delinquent — the usual daily run.

Prints one JSON line. Usage:
    python benchmarks/collection.py --loans 100000 [--postgres URL-of-an-empty-database]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from arrears.collection.update import update_cases
from arrears.store.bulk import Writer
from arrears.store.db import make_engine, upgrade

DAY = date(2026, 11, 29)


def book(loans: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    borrowers = int(loans / 1.25)
    ids = pl.int_range(loans, eager=True)
    frame = pl.DataFrame({"n": ids}).with_columns(
        loan_id=pl.format("L{}", pl.col("n").cast(pl.String).str.zfill(8)),
        borrower_id=pl.format(
            "B{}", (pl.col("n").hash(seed) % borrowers).cast(pl.String).str.zfill(8)
        ),
        dpd=(pl.col("n").hash(seed + 1) % 200 + 1).cast(pl.Int32),
        overdue=(pl.col("n").hash(seed + 2) % 2_000_000 + 10_000).cast(pl.Int64),
        cured=(pl.col("n").hash(seed + 3) % 100) < 5,
    )
    people = (
        frame.select("borrower_id")
        .unique()
        .with_columns(
            kind=pl.when(pl.col("borrower_id").hash(3) % 10 == 0)
            .then(pl.lit("enterprise"))
            .otherwise(pl.lit("individual")),
            name=pl.lit("测试"),
            timezone=pl.lit("Asia/Shanghai"),
            language=pl.lit("zh"),
            country=pl.lit("CN"),
        )
    )
    loan_rows = frame.select(
        "loan_id",
        "borrower_id",
        product=pl.lit("consumer"),
        currency=pl.lit("CNY"),
        principal=pl.lit(10_000_000, pl.Int64),
        annual_rate=pl.lit("0.12"),
        term_months=pl.lit(12),
        repayment_method=pl.lit("equal_installment"),
        disbursed_on=pl.lit(date(2025, 1, 1)),
    )
    return people, loan_rows, frame


def snapshots(frame: pl.DataFrame, day: date, moved: int) -> pl.DataFrame:
    dpd = pl.when(pl.col("cured") & (moved > 0)).then(0).otherwise(pl.col("dpd") + moved)
    return frame.select(
        "loan_id",
        as_of=pl.lit(day),
        status=pl.when(dpd > 0).then(pl.lit("overdue")).otherwise(pl.lit("active")),
        days_past_due=dpd,
        bucket=pl.lit("M1"),
        classification=pl.lit("special_mention"),
        ifrs9_stage=pl.lit(2),
        outstanding_principal=pl.lit(5_000_000, pl.Int64),
        overdue_principal=pl.when(dpd > 0).then(pl.col("overdue")).otherwise(0),
        overdue_interest=pl.lit(0, pl.Int64),
        overdue_fee=pl.lit(0, pl.Int64),
        overdue_penalty=pl.lit(0, pl.Int64),
        rules_version=pl.lit("bench"),
        penalty_accrued=pl.lit(0, pl.Int64),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        people, loans, frame = book(args.loans)
        # next day: 2% more borrowers' loans newly delinquent (new loans of new borrowers)
        extra = int(args.loans * 0.02)
        more_people, more_loans, more = book(extra, seed=99)
        more_people = more_people.with_columns(pl.format("N{}", "borrower_id").alias("borrower_id"))
        more_loans = more_loans.with_columns(
            pl.format("N{}", "borrower_id").alias("borrower_id"),
            pl.format("N{}", "loan_id").alias("loan_id"),
        )
        more = more.with_columns(pl.format("N{}", "loan_id").alias("loan_id"), cured=pl.lit(False))
        with engine.begin() as conn:
            writer = Writer(conn, None)
            writer.bulk("borrowers", pl.concat([people, more_people]))
            writer.bulk("loans", pl.concat([loans, more_loans]))
            writer.bulk("status_snapshots", snapshots(frame, DAY, 0))
            writer.bulk(
                "status_snapshots",
                pl.concat(
                    [
                        snapshots(frame, DAY + timedelta(days=1), 1),
                        snapshots(more, DAY + timedelta(days=1), 0),
                    ]
                ),
            )
        clock = time.perf_counter()
        first = update_cases(engine, DAY)
        open_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        daily = update_cases(engine, DAY + timedelta(days=1))
        daily_seconds = time.perf_counter() - clock
        engine.dispose()
    print(
        json.dumps(
            {
                "benchmark": "collection_daily_update",
                "database": "postgresql" if args.postgres else "sqlite",
                "delinquent_loans": args.loans,
                "cases_opened": first.opened,
                "open_seconds": round(open_seconds, 3),
                "daily_loans": args.loans + extra,
                "daily_updated": daily.updated,
                "daily_opened": daily.opened,
                "daily_closed": daily.closed,
                "daily_stage_changes": daily.stage_changes,
                "daily_seconds": round(daily_seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
