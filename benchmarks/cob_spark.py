"""The close of business through Polars (one process) and through Spark (`advance_partitioned`).

`python benchmarks/cob_spark.py --loans 10000 [--partitions 8] [--master local[2]] [--json]`

The book is `synthetic_book.py`'s (its few custom schedules made annuities; schedules by
`cob.schedules`; payments in minor units; no pauses, overrides, restructuring or write-offs). Two runs are timed on each engine:

* rebuild: every loan from the evening before its disbursement to AS_OF (the heavy case);
* daily:   the state of the day before → AS_OF (the nightly case).

Spark's session start (the JVM) is timed apart (`spark_start_seconds`); `spark_seconds` and
`spark_daily_seconds` are warm runs on the started session. `equal` is true when both runs give
the same status frame and state (every column) on both engines. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_book import synthetic_book

from arrears.catalog import load_catalog
from arrears.cob.book import (
    LOAN_SCHEMA,
    OVERRIDE_SCHEMA,
    PAUSE_SCHEMA,
    assemble,
)
from arrears.cob.engine import Book, State, advance, initial_state
from arrears.cob.schedules import GENERATED_METHODS, build_schedules
from arrears.cob.status import status_frame

AS_OF = date(2025, 6, 30)


def _minor(column: str) -> pl.Expr:
    return (pl.col(column).str.replace(r"\.", "").cast(pl.Int64)).alias(column)


def benchmark_book(loans: int, seed: int = 7) -> Book:
    catalog = load_catalog()
    frames = synthetic_book(loans, seed)
    loan_frame = frames["loans"].with_columns(
        # custom schedules become annuities: every loan gets a generated schedule
        pl.when(pl.col("repayment_method").is_in(GENERATED_METHODS))
        .then(pl.col("repayment_method"))
        .otherwise(pl.lit("equal_installment"))
        .alias("repayment_method"),
        _minor("principal"),
        pl.col("term_months").cast(pl.Int64),
        pl.col("disbursed_on").str.to_date(),
    )
    instalments = build_schedules(loan_frame, catalog)
    payments = (
        frames["payments"]
        .join(loan_frame.select("loan_id"), on="loan_id")
        .select("loan_id", pl.col("paid_on").str.to_date(), _minor("amount"))
    )
    loans_in = loan_frame.with_columns(
        penalty_rate=pl.lit(None, pl.String),
        restructured_on=pl.lit(None, pl.Date),
        written_off_on=pl.lit(None, pl.Date),
    ).select(list(LOAN_SCHEMA))
    return assemble(
        loans_in,
        instalments,
        payments,
        pl.DataFrame(schema=PAUSE_SCHEMA),
        pl.DataFrame(schema=OVERRIDE_SCHEMA),
        catalog,
    )


def _same(a: tuple[State, pl.DataFrame], b: tuple[State, pl.DataFrame]) -> bool:
    (sa, fa), (sb, fb) = a, b
    keyed = (("open", ["loan_id", "seq"]), ("closed", ["loan_id", "seq"]), ("loans", ["loan_id"]))
    return fa.sort("loan_id").equals(fb.sort("loan_id")) and all(
        getattr(sa, n).sort(k).equals(getattr(sb, n).sort(k)) for n, k in keyed
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()

    from arrears.cob.spark import advance_partitioned, local_session

    catalog = load_catalog()
    book = benchmark_book(args.loans, args.seed)
    start = initial_state(book)
    yesterday = advance(book, start, AS_OF - timedelta(days=1))

    def polars(state: State) -> tuple[State, pl.DataFrame]:
        new = advance(book, state, AS_OF)
        return new, status_frame(book, new, AS_OF, catalog)

    t = time.perf_counter()
    p_rebuild = polars(start)
    polars_seconds = time.perf_counter() - t
    t = time.perf_counter()
    p_daily = polars(yesterday)
    polars_daily = time.perf_counter() - t

    t = time.perf_counter()
    spark = local_session(args.master, args.partitions)
    spark_start = time.perf_counter() - t

    def on_spark(state: State) -> tuple[State, pl.DataFrame]:
        return advance_partitioned(
            book, state, AS_OF, catalog, partitions=args.partitions, spark=spark
        )

    on_spark(yesterday)  # warm the Python workers (imports of polars and arrears)
    t = time.perf_counter()
    s_rebuild = on_spark(start)
    spark_seconds = time.perf_counter() - t
    t = time.perf_counter()
    s_daily = on_spark(yesterday)
    spark_daily = time.perf_counter() - t
    spark.stop()

    result = {
        "loans": book.loans.height,
        "instalments": book.instalments.height,
        "payments": book.payments.height,
        "as_of": AS_OF.isoformat(),
        "master": args.master,
        "partitions": args.partitions,
        "cpus": os.cpu_count(),
        "polars_seconds": round(polars_seconds, 3),
        "spark_seconds": round(spark_seconds, 3),
        "polars_daily_seconds": round(polars_daily, 3),
        "spark_daily_seconds": round(spark_daily, 3),
        "spark_start_seconds": round(spark_start, 3),
        "equal": _same(p_rebuild, s_rebuild) and _same(p_daily, s_daily),
    }
    if not args.json:
        print(f"COB rebuild of {result['loans']} loans to {AS_OF}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
