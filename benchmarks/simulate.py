"""Benchmark the portfolio simulator: simulate N loans over M months and write the book.

`python benchmarks/simulate.py --loans 1000000 --months 24 [--format csv|parquet] [--seed 1]
[--out DIR] [--json]` prints one JSON line: loans, payments, instalments, seconds (simulate +
write), the step timings, peak_rss_mb. Without `--out` the book goes to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from arrears.catalog import load_catalog
from arrears.sim import SimConfig, simulate, write_book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2026-11-30")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--out", default=None, help="keep the book in this folder")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    config = SimConfig(args.loans, args.months, args.seed, date.fromisoformat(args.end))
    with tempfile.TemporaryDirectory(prefix="arrears-sim-") as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "book"
        started = time.perf_counter()
        book = simulate(config, load_catalog())
        simulated = time.perf_counter()
        write_book(book, out, args.format)
        finished = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = book.summary()
    line = {
        "benchmark": "simulate",
        "format": args.format,
        "loans": summary["loans"],
        "months": args.months,
        "payments": summary["payments"],
        "instalments": summary["instalments"],
        "seconds": round(finished - started, 3),
        "simulate_seconds": round(simulated - started, 3),
        "write_seconds": round(finished - simulated, 3),
        "steps": summary["seconds"],
        "default_rate": summary["default_rate"],
        "peak_rss_mb": round(peak, 1),
    }
    if not args.json:
        print(f"simulated and wrote {args.loans} loans", file=sys.stderr)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
