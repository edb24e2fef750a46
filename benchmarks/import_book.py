"""Benchmark `arrears import`: a synthetic book of N loans into a fresh database.

`python benchmarks/import_book.py --loans 100000 [--format csv|parquet] [--db URL] [--json]`
prints one JSON line: loans, payments, instalments, seconds (total import), validate_seconds,
schedule_seconds, write_seconds, peak_rss_mb and the database kind. Without `--db` a SQLite file
in a temporary directory is used; a PostgreSQL URL must point at an empty database (its tables
are dropped and re-created).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from synthetic_book import synthetic_book, write_book

from arrears.catalog import load_catalog
from arrears.imports import import_book
from arrears.store.db import make_engine, upgrade


def _fresh(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument(
        "--db", default=None, help="database URL (default: a temporary SQLite file)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arrears-bench-") as tmp:
        book = Path(tmp) / "book"
        t0 = time.perf_counter()
        write_book(synthetic_book(args.loans, args.seed), book, args.format)
        if not args.json:
            print(f"synthetic book written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        _fresh(url)
        engine = make_engine(url)
        result = import_book(engine, book, load_catalog())
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "import",
                "format": args.format,
                "loans": result.loans,
                "payments": result.payments,
                "instalments": result.instalments,
                "seconds": result.seconds,
                "validate_seconds": result.validate_seconds,
                "write_seconds": result.write_seconds,
                "schedule_seconds": result.schedule_seconds,
                "peak_rss_mb": round(peak, 1),
                "db": engine.dialect.name,
            }
        )
    )


if __name__ == "__main__":
    main()
