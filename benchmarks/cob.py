"""Benchmark of the close of business on a simulated book kept as Parquet.

Prints one JSON line:
- `seconds`: the daily close — yesterday's state (Parquet) and the book's loans and payments in,
  today's state and status out (Parquet), for every loan;
- `scan_seconds` and `ratio_to_scan`: the time to merely read the same input columns once (the
  floor), and the daily close over it;
- `rebuild_seconds`: every loan's state for one date rebuilt from its whole history;
- `per_loan_ms` and `speedup_vs_per_loan`: the single-loan rules on 1,000 loans loaded one by one
  through the ORM (the way Fineract's COB works), per loan, over the COB's time per loan;
- `peak_rss_mb` of the process.

Usage: python benchmarks/cob.py --loans 100000 [--months 24] [--json] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from arrears.catalog import load_catalog
from arrears.cob.book import load_book_files
from arrears.cob.engine import State, advance, initial_state
from arrears.cob.status import status_frame

END = date(2026, 11, 30)


def simulate(loans: int, months: int, out: Path) -> None:
    """The simulated book, made in a separate process so its memory is not counted here."""
    exe = Path(sys.executable).with_name("arrears")
    args = [
        str(exe),
        "--business-date",
        END.isoformat(),
        "simulate",
        "--loans",
        str(loans),
        "--months",
        str(months),
        "--seed",
        "7",
        "--out",
        str(out),
        "--format",
        "parquet",
        "--json",
    ]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def write_state(folder: Path, state: State) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state.open.write_parquet(folder / "open.parquet", compression="lz4")
    state.closed.write_parquet(folder / "closed.parquet", compression="lz4")
    state.loans.write_parquet(folder / "loans.parquet", compression="lz4")


def read_state(folder: Path) -> State:
    return State(
        open=pl.read_parquet(folder / "open.parquet"),
        closed=pl.read_parquet(folder / "closed.parquet"),
        loans=pl.read_parquet(folder / "loans.parquet"),
    )


def daily_close(book_dir: Path, state_dir: Path, out_dir: Path, catalog) -> int:
    """One day from files: yesterday's state, the loans and the day's payments in; today's state
    and every loan's status out."""
    day = load_book_files(book_dir, catalog, schedules=False, paid_on=END)
    state = advance(day, read_state(state_dir), END)
    status = status_frame(day, state, END, catalog)
    write_state(out_dir, state)
    status.write_parquet(out_dir / "status.parquet", compression="lz4")
    return status.height


def scan_floor(book_dir: Path, state_dir: Path) -> float:
    """Read the daily close's inputs once and touch every column (the floor)."""
    start = time.perf_counter()
    for path in [*state_dir.glob("*.parquet"), book_dir / "loans.parquet"]:
        frame = pl.read_parquet(path)
        frame.select(pl.all().null_count()).row(0)
    pl.scan_parquet(book_dir / "payments.parquet").filter(pl.col("paid_on") == END).collect()
    return time.perf_counter() - start


def per_loan_orm(book_dir: Path, sample: int, catalog) -> float:
    """Seconds per loan for the single-loan rules, loans loaded one at a time through the ORM."""
    from arrears.imports import import_book
    from arrears.loans.status import loan_status
    from arrears.store import repository as repo
    from arrears.store.db import make_engine, unit_of_work, upgrade

    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / "book"
        part.mkdir()
        loans = pl.read_parquet(book_dir / "loans.parquet").head(sample)
        ids = loans.select("loan_id")
        loans.write_parquet(part / "loans.parquet")
        pl.read_parquet(book_dir / "borrowers.parquet").join(
            loans.select("borrower_id").unique(), on="borrower_id"
        ).write_parquet(part / "borrowers.parquet")
        for name in ("payments", "schedules"):
            if (book_dir / f"{name}.parquet").exists():
                pl.read_parquet(book_dir / f"{name}.parquet").join(ids, on="loan_id").write_parquet(
                    part / f"{name}.parquet"
                )
        url = f"sqlite:///{tmp}/sample.db"
        upgrade(url)
        engine = make_engine(url)
        import_book(engine, part, catalog)
        start = time.perf_counter()
        for loan_id in ids.get_column("loan_id"):
            with unit_of_work(engine) as session:
                record = repo.load_loan(session, loan_id)
            loan_status(record.loan, catalog.get(record.product), END)
        return (time.perf_counter() - start) / sample


def postgres_end_to_end(book_dir: Path, server: str, catalog) -> dict[str, float]:
    """Import the book into a fresh PostgreSQL database, close the day before (a rebuild), then
    time the day's close end to end: book read from the database, state from Parquet, snapshots,
    transitions and events written back with COPY."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from arrears.cob.runner import close_business
    from arrears.imports import import_book
    from arrears.store.db import make_engine, upgrade

    name = "arrears_cob_bench"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = make_engine(url)
        clock = time.perf_counter()
        import_book(engine, book_dir, catalog)
        imported = time.perf_counter() - clock
        with tempfile.TemporaryDirectory() as data:
            clock = time.perf_counter()
            close_business(engine, catalog, END - timedelta(days=1), Path(data))
            rebuilt = time.perf_counter() - clock
            clock = time.perf_counter()
            close_business(engine, catalog, END, Path(data))
            daily = time.perf_counter() - clock
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return {
        "pg_import_seconds": round(imported, 3),
        "pg_rebuild_seconds": round(rebuilt, 3),
        "pg_daily_seconds": round(daily, 3),
    }


def daily_only(book_dir: Path, state_dir: Path, out_dir: Path) -> None:
    clock = time.perf_counter()
    loans = daily_close(book_dir, state_dir, out_dir, load_catalog())
    seconds = time.perf_counter() - clock
    print(json.dumps({"loans": loans, "seconds": round(seconds, 3), "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image (getrusage's
    maxrss would carry the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--daily-only":
        daily_only(*(Path(a) for a in sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="reuse/keep the simulated book in this folder")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also time the close end to end with PostgreSQL as source and sink "
        "(a server URL, e.g. postgresql://postgres@127.0.0.1:5432/test)",
    )
    args = parser.parse_args()
    catalog = load_catalog()
    work = Path(tempfile.mkdtemp(prefix="arrears-cob-bench-"))
    book_dir = args.keep or work / "book"
    try:
        if not (book_dir / "loans.parquet").exists():
            simulate(args.loans, args.months, book_dir)
        book = load_book_files(book_dir, catalog)
        clock = time.perf_counter()
        yesterday = advance(book, initial_state(book), END - timedelta(days=1))
        rebuild_seconds = time.perf_counter() - clock
        write_state(work / "state", yesterday)
        del yesterday
        scan = min(scan_floor(book_dir, work / "state") for _ in range(3))
        # The daily close runs in its own process, so its time and memory are its own.
        daily = subprocess.run(
            [
                sys.executable,
                __file__,
                "--daily-only",
                str(book_dir),
                str(work / "state"),
                str(work / "today"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        daily_result = json.loads(daily.stdout)
        loans, seconds = daily_result["loans"], daily_result["seconds"]
        per_loan = per_loan_orm(book_dir, min(args.sample, loans), catalog)
        result = {
            "benchmark": "cob",
            "loans": loans,
            "instalments": book.instalments.height,
            "payments": book.payments.height,
            "seconds": round(seconds, 3),
            "loans_per_second": round(loans / seconds),
            "scan_seconds": round(scan, 3),
            "ratio_to_scan": round(seconds / scan, 2),
            "rebuild_seconds": round(rebuild_seconds, 3),
            "per_loan_ms": round(per_loan * 1000, 3),
            "speedup_vs_per_loan": round(per_loan / (seconds / loans)),
            "peak_rss_mb": daily_result["peak_rss_mb"],
            "rebuild_peak_rss_mb": peak_rss_mb(),
        }
        if args.postgres:
            result |= postgres_end_to_end(book_dir, args.postgres, catalog)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
