"""What case and contact history adds to the collection card (C-card), measured on the simulator.

A simulated book is imported and closed month by month up to `--work-from`; from then on every
day is closed, the cases updated, and the simulated collection team works them
(`arrears.sim.collectors`, as `arrears collector simulate` does). Then a collection scorecard is
trained from the database's history twice on the same rows — snapshot characteristics only, and
with the case and contact characteristics — and each one's validation AUC and KS are printed,
with the time the case characteristics took to build.

Caveat when reading the figures: the simulated borrowers' answers come from the book's own future
(one who will pay within the week promises to), so contact outcomes carry more of the outcome than
a real borrower's word does; the lift here is an upper bound of what a lender should expect.

Prints one JSON line. Usage:
    python benchmarks/collection_card.py --loans 2000 --months 18 --work-from 2026-07-01
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from arrears.catalog import load_catalog
from arrears.cob.book import load_book
from arrears.cob.runner import business_days, close_business
from arrears.collection.update import update_cases
from arrears.imports.book import import_book
from arrears.scoring import features as feats
from arrears.scoring.casefeatures import case_features
from arrears.scoring.service import train_from_history
from arrears.sim import SimConfig, simulate, write_book
from arrears.sim.collectors import simulate_collection
from arrears.store.db import make_engine, upgrade

END = date(2026, 11, 30)


def book_start(book_dir: Path) -> date:
    import polars as pl

    return (
        pl.read_parquet(book_dir / "loans.parquet").get_column("disbursed_on").cast(pl.Date).min()
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=2000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--work-from", type=date.fromisoformat, default=date(2026, 7, 1))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="collection-card-"))
    catalog = load_catalog()
    book = simulate(
        SimConfig(loans=args.loans, months=args.months, seed=args.seed, end=END), catalog
    )
    write_book(book, root / "book", "parquet")
    url = f"sqlite:///{root / 'arrears.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_book(engine, root / "book", catalog, allow_extra=True)
    started = time.perf_counter()
    loaded = load_book(engine, catalog)
    first = book_start(root / "book")
    for day in business_days(first, args.work_from - timedelta(days=1), True):
        close_business(engine, catalog, day, root / "data", book=loaded)
        update_cases(engine, day, catalog=catalog)
    worked = simulate_collection(
        engine, catalog, business_days(args.work_from, END, False), root / "data", seed=args.seed
    )
    setup_seconds = time.perf_counter() - started

    history = feats.read_history(engine)
    frame = feats.training_frame(history, "collection")
    started = time.perf_counter()
    for day in frame.get_column("as_of").unique().to_list():
        ids = frame.filter(frame.get_column("as_of") == day).get_column("loan_id")
        case_features(history.cases, ids, day)  # type: ignore[arg-type]
    case_seconds = time.perf_counter() - started

    results = {}
    for name, used in (("snapshots_only", replace(history, cases=None)), ("with_cases", history)):
        out = root / name
        trained = train_from_history(
            None, kind="collection", method="scorecard", out=out, history=used
        )
        results[name] = {
            "rows": trained.meta["fingerprint"]["rows"],
            "validation_auc": trained.metrics["validation"]["auc"],
            "validation_ks": trained.metrics["validation"]["ks"],
            "features_used": [f["name"] for f in trained.meta["features"]],
        }
    print(
        json.dumps(
            {
                "loans": args.loans,
                "months": args.months,
                "worked_from": str(args.work_from),
                "days_worked": worked.days,
                "contacts": worked.contacts,
                "promises": worked.promises,
                "observation_dates": sorted(
                    str(d) for d in frame.get_column("as_of").unique().to_list()
                ),
                "case_features_seconds": round(case_seconds, 3),
                "setup_seconds": round(setup_seconds, 1),
                **results,
            },
            ensure_ascii=False,
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
