"""Benchmark third-party data and admission on a simulated book (SQLite in a temporary folder).

`python benchmarks/bureau.py --loans 20000 --pulls 500 --applications 100000 [--json]` simulates
and imports the book, closes it month-end for its last 12 months, then prints one JSON line:
`profiles_s` (the credit profile of every borrower, one frame), `profile_one_ms` (one borrower),
`pulls_per_s` (fresh pulls against the local fake bureau, each a real HTTP request and two
transactions) and `cached_per_s`, and `admit_per_s` (decisions on random applications).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.profile import credit_profile, credit_profiles
from arrears.bureau.service import record_consent, refresh_source
from arrears.bureau.settings import BureauSettings
from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.imports import import_book
from arrears.loans.dates import add_months
from arrears.scoring.admission import Application, admit, default_policy
from arrears.sim import SimConfig, simulate, write_book
from arrears.store.db import make_engine, upgrade

END = date(2026, 11, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--pulls", type=int, default=500)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    catalog = load_catalog()
    with tempfile.TemporaryDirectory(prefix="arrears-bureau-") as tmp:
        root = Path(tmp)
        write_book(simulate(SimConfig(args.loans, 24, 1, END), catalog), root / "book", "parquet")
        url = f"sqlite:///{root / 'b.db'}"
        upgrade(url)
        engine = make_engine(url)
        import_book(engine, root / "book", catalog)
        for months_back in range(12, -1, -1):
            day = add_months(END, -months_back, anchor_day=31)
            close_business(engine, catalog, day, root / "data")
        with engine.connect() as conn:
            snapshots = conn.scalar(text("SELECT count(*) FROM status_snapshots"))

        started = time.perf_counter()
        frame = credit_profiles(engine, END)
        profiles_s = time.perf_counter() - started
        ids = frame.get_column("borrower_id").to_list()
        started = time.perf_counter()
        for borrower_id in ids[:20]:
            credit_profile(engine, borrower_id, END)
        profile_one_ms = (time.perf_counter() - started) / 20 * 1000

        chosen = ids[: args.pulls]
        for borrower_id in chosen:
            record_consent(engine, borrower_id, "post_loan_monitoring", "bench")
        with FakeBureau(port=0, features=root / "book" / "features.parquet") as bureau:
            source = HttpSource(
                "credit_report", BureauSettings(base_url=bureau.url), breaker=CircuitBreaker()
            )
            started = time.perf_counter()
            fresh = refresh_source(engine, source, purpose="post_loan_monitoring",
                                   requested_by="bench", borrower_ids=chosen)  # fmt: skip
            fresh_s = time.perf_counter() - started
            started = time.perf_counter()
            cached = refresh_source(engine, source, purpose="post_loan_monitoring",
                                    requested_by="bench", borrower_ids=chosen)  # fmt: skip
            cached_s = time.perf_counter() - started
            source.close()
        engine.dispose()

    rng = random.Random(1)
    apps = [
        Application(
            f"A{i}",
            "consumer",
            "individual",
            None,
            "CNY",
            rng.randint(1_000_00, 300_000_00),
            rng.choice([12, 24, 36]),
            rng.randint(16, 70),
            rng.randint(2_000_00, 50_000_00),
            rng.randint(0, 5_000_00),
            0,
            0,
            0,
            False,
            rng.random() < 0.02,
            rng.uniform(500, 800),
        )
        for i in range(args.applications)
    ]
    started = time.perf_counter()
    decisions = admit(apps, default_policy())
    admit_s = time.perf_counter() - started

    result = {
        "benchmark": "bureau",
        "loans": args.loans,
        "borrowers": len(ids),
        "snapshots": snapshots,
        "profiles_s": round(profiles_s, 3),
        "profile_one_ms": round(profile_one_ms, 1),
        "pulls": len(chosen),
        "pulls_per_s": round(len(chosen) / fresh_s, 1),
        "cached_per_s": round(len(chosen) / cached_s, 1),
        "pull_outcomes": fresh,
        "cached_outcomes": cached,
        "applications": len(apps),
        "admit_per_s": round(len(apps) / admit_s),
        "approved": sum(d.decision == "approve" for d in decisions),
    }
    if not args.json:
        print("third-party data and admission 第三方数据与准入", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
