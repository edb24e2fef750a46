"""Close the business day: move the whole book to a date, write its snapshots, transitions and
events, and remember the state for tomorrow.

One run per date, recorded in `cob_runs` (start, end, counts, rules version, engine). A run
re-done for a date replaces that date's results. The state of the previous close is reused when
the database still vouches for it; loans whose history changed since (a back-dated payment, a
reversal, a pause, an import) are rebuilt from their schedule. Snapshots, transitions, events and
the run's completion are committed in one transaction, so a run killed half-way leaves the
previous complete results readable and the next run finishes the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from arrears.catalog import Catalog
from arrears.cob.book import load_book
from arrears.cob.engine import Book, State, advance, initial_state
from arrears.cob.state_store import Manifest, StateStore
from arrears.cob.status import status_frame
from arrears.loans import RULES_VERSION
from arrears.store.bulk import Writer, read_frame
from arrears.store.repository import SNAPSHOT_FIELDS
from arrears.store.tables import CobRun, Event, StatusSnapshot, StatusTransition

# Events after which a loan's stored state can no longer be trusted and is rebuilt.
HISTORY_EVENTS = (
    "payment.received",
    "payment.reversed",
    "loan.paused",
    "loan.disbursed",
    "loan.restructured",
    "loan.written_off",
)
SNAPSHOT_COLUMNS = ("loan_id", "as_of", *SNAPSHOT_FIELDS)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class CobResult:
    run_id: int
    as_of: date
    mode: str  # daily (from a stored state) | rebuild (from the schedules)
    engine: str
    loans: int
    rebuilt: int
    snapshots: int
    transitions: int
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "as_of": self.as_of.isoformat()}


class CobError(RuntimeError):
    """A close of business that cannot run (with the reason)."""


def _checkpoint(stage: str) -> None:
    """Test hook: `ARREARS_COB_HOLD_AT=<stage>` makes the run wait there, so a test can kill a
    real process at a known point."""
    if os.environ.get("ARREARS_COB_HOLD_AT") == stage:
        Path(os.environ.get("ARREARS_COB_HOLD_FILE", "cob-hold")).write_text(stage)
        time.sleep(3600)


def _start_run(engine: Engine, as_of: date, engine_kind: str) -> tuple[int, datetime]:
    started = datetime.now(UTC)
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(CobRun)
            .values(
                as_of=as_of,
                mode="daily",
                engine=engine_kind,
                status="running",
                rules_version=RULES_VERSION,
                started_at=started,
                loans=0,
                snapshots=0,
                transitions=0,
            )
            .returning(CobRun.run_id)
        ).scalar_one()
    return run_id, started


def _fail_run(engine: Engine, run_id: int, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(CobRun)
            .where(CobRun.run_id == run_id)
            .values(status="failed", finished_at=datetime.now(UTC), error=error[:2000])
        )


def _trusted_base(engine: Engine, store: StateStore, as_of: date):
    """The newest stored state before `as_of` that this database's completed runs vouch for."""
    candidates = [d for d in store.dates() if d < as_of]
    if not candidates:
        return None
    with engine.connect() as conn:
        runs = {
            row.run_id: row
            for row in conn.execute(
                select(CobRun.run_id, CobRun.started_at, CobRun.status, CobRun.rules_version)
            )
        }
    for day in reversed(candidates):
        manifest = store.manifest(day)
        run = runs.get(manifest.run_id)
        if run is None or run.status != "complete" or run.rules_version != RULES_VERSION:
            continue
        if run.started_at.astimezone(UTC).isoformat() != manifest.run_started_at:
            continue
        return store.load(day)
    return None


def _changed_loans(engine: Engine, after_seq: int) -> pl.Series:
    with engine.connect() as conn:
        ids = conn.scalars(
            select(Event.loan_id)
            .where(
                Event.seq > after_seq, Event.type.in_(HISTORY_EVENTS), Event.loan_id.is_not(None)
            )
            .distinct()
        ).all()
    return pl.Series("loan_id", ids, pl.String)


def _subset(book: Book, loan_ids: pl.Series) -> Book:
    keep = pl.col("loan_id").is_in(loan_ids.implode())
    return Book(
        loans=book.loans.filter(keep),
        instalments=book.instalments.filter(keep),
        payments=book.payments.filter(keep),
        pauses=book.pauses.filter(keep),
        overrides=book.overrides.filter(keep),
    )


def _refresh(book: Book, state: State, changed: pl.Series) -> tuple[State, int]:
    """Replace the state of changed or new loans with a fresh start from their schedule."""
    known = state.loans.get_column("loan_id")
    new = book.loans.filter(~pl.col("loan_id").is_in(known.implode())).get_column("loan_id")
    redo = pl.concat([changed, new]).unique()
    redo = redo.filter(redo.is_in(book.loans.get_column("loan_id").implode()))
    if redo.is_empty():
        return state, 0
    fresh = initial_state(_subset(book, redo))
    keep = ~pl.col("loan_id").is_in(redo.implode())
    return (
        State(
            open=pl.concat([state.open.filter(keep), fresh.open]),
            closed=pl.concat([state.closed.filter(keep), fresh.closed]),
            loans=pl.concat([state.loans.filter(keep), fresh.loans]),
        ),
        redo.len(),
    )


def _previous_status(engine: Engine, as_of: date, base) -> pl.DataFrame:
    """Each loan's last snapshot before `as_of` (what transitions are measured against)."""
    if base is not None:
        return base.status.with_columns(previous_as_of=pl.lit(base.manifest.as_of))
    with engine.connect() as conn:
        last = conn.scalar(
            select(func.max(CobRun.as_of)).where(CobRun.status == "complete", CobRun.as_of < as_of)
        )
        if last is None:
            return pl.DataFrame(
                schema={
                    "loan_id": pl.String,
                    "bucket": pl.String,
                    "classification": pl.String,
                    "days_past_due": pl.Int64,
                    "outstanding_principal": pl.Int64,
                    "previous_as_of": pl.Date,
                }
            )
        frame = pl.read_database(
            select(
                StatusSnapshot.loan_id,
                StatusSnapshot.bucket,
                StatusSnapshot.classification,
                StatusSnapshot.days_past_due,
                StatusSnapshot.outstanding_principal,
            ).where(StatusSnapshot.as_of == last),
            conn,
        )
    return frame.with_columns(previous_as_of=pl.lit(last))


def transitions_between(previous: pl.DataFrame, status: pl.DataFrame) -> pl.DataFrame:
    """A row per loan whose bucket or classification differs from its previous snapshot (a loan
    seen for the first time enters from nothing)."""
    before = previous.select(
        "loan_id",
        "previous_as_of",
        from_bucket="bucket",
        from_classification="classification",
        from_days_past_due="days_past_due",
        balance_before="outstanding_principal",
    )
    return (
        status.join(before, on="loan_id", how="left")
        .filter(
            pl.col("from_bucket").is_null()
            | (pl.col("from_bucket") != pl.col("bucket"))
            | (pl.col("from_classification") != pl.col("classification"))
        )
        .select(
            "loan_id",
            "as_of",
            "previous_as_of",
            "from_bucket",
            to_bucket="bucket",
            from_classification="from_classification",
            to_classification="classification",
            from_days_past_due="from_days_past_due",
            to_days_past_due="days_past_due",
            balance_before="balance_before",
            balance_after="outstanding_principal",
        )
    )


def _transition_events(transitions: pl.DataFrame, book: Book, occurred_at: str) -> pl.DataFrame:
    payload = pl.struct(
        as_of=pl.col("as_of").cast(pl.String),
        from_bucket="from_bucket",
        to_bucket="to_bucket",
        from_classification="from_classification",
        to_classification="to_classification",
        days_past_due="to_days_past_due",
    ).struct.json_encode()
    return transitions.join(
        book.loans.select("loan_id", "borrower_id"), on="loan_id", how="left"
    ).select(
        type=pl.lit("loan.status_changed"),
        loan_id="loan_id",
        borrower_id="borrower_id",
        payload=payload,
        occurred_at=pl.lit(occurred_at),
    )


def close_business(
    engine: Engine,
    catalog: Catalog,
    as_of: date,
    data_dir: Path,
    *,
    engine_kind: str = "polars",
    spark_master: str | None = None,
    book: Book | None = None,
    progress: Progress | None = None,
) -> CobResult:
    """Run the close of business for `as_of` (see the module docstring)."""
    tick = progress or (lambda _stage: None)
    clock = time.perf_counter()
    run_id, started = _start_run(engine, as_of, engine_kind)
    try:
        with engine.connect() as conn:
            last_seq = conn.scalar(select(func.coalesce(func.max(Event.seq), 0))) or 0
        tick("load")
        store = StateStore(data_dir, engine.url.render_as_string(hide_password=True))
        base = _trusted_base(engine, store, as_of)
        if base is None:
            book = book or load_book(engine, catalog)
            state, rebuilt, mode = initial_state(book), book.loans.height, "rebuild"
        else:
            changed = _changed_loans(engine, base.manifest.last_event_seq)
            if book is None:
                # Read only what the day needs: recent payments, and whole histories of the
                # loans that start again (changed since the state was kept, or new).
                with engine.connect() as conn:
                    ids = read_frame(conn, "SELECT loan_id FROM loans", {"loan_id": pl.String})
                known = base.state.loans.get_column("loan_id").implode()
                new = ids.filter(~pl.col("loan_id").is_in(known)).get_column("loan_id")
                redo = pl.concat([changed, new]).unique().to_list()
                book = load_book(engine, catalog, since=base.manifest.as_of, whole_history=redo)
            state, rebuilt = _refresh(book, base.state, changed)
            mode = "daily"
        tick("advance")
        if engine_kind == "spark":
            from arrears.cob.spark import advance_partitioned

            state, status = advance_partitioned(
                book, state, as_of, catalog, **({"master": spark_master} if spark_master else {})
            )
        else:
            state = advance(book, state, as_of)
            status = status_frame(book, state, as_of, catalog)
        _checkpoint("advanced")
        transitions = transitions_between(_previous_status(engine, as_of, base), status)
        tick("save state")
        manifest = Manifest(as_of, run_id, started.isoformat(), last_seq, RULES_VERSION)
        store.save(manifest, state, status)
        _checkpoint("state-saved")
        tick("write")
        _write_results(engine, book, run_id, as_of, status, transitions, mode, clock)
        store.prune(keep=_states_to_keep(store.dates(), as_of))
    except BaseException as exc:
        _fail_run(engine, run_id, f"{exc.__class__.__name__}: {exc}")
        raise
    return CobResult(
        run_id=run_id,
        as_of=as_of,
        mode=mode,
        engine=engine_kind,
        loans=status.height,
        rebuilt=rebuilt,
        snapshots=status.height,
        transitions=transitions.height,
        seconds=round(time.perf_counter() - clock, 3),
    )


def _states_to_keep(dates: list[date], as_of: date) -> set[date]:
    """Month-ends (for month-by-month catch-up) and the last week of daily states."""
    recent = {d for d in dates if d > as_of - timedelta(days=7)}
    month_ends = {d for d in dates if (d + timedelta(days=1)).day == 1}
    return recent | month_ends | {max(dates)} if dates else set()


def _write_results(
    engine: Engine,
    book: Book,
    run_id: int,
    as_of: date,
    status: pl.DataFrame,
    transitions: pl.DataFrame,
    mode: str,
    clock: float,
) -> None:
    snapshots = status.select(
        *SNAPSHOT_COLUMNS,
        rules_version=pl.lit(RULES_VERSION),
        penalty_accrued=pl.col("penalty_accrued_today"),
    )
    rows = transitions.with_columns(run_id=pl.lit(run_id, pl.Int64))
    with engine.begin() as conn:
        writer = Writer(conn, None)
        conn.execute(delete(StatusSnapshot).where(StatusSnapshot.as_of == as_of))
        conn.execute(delete(StatusTransition).where(StatusTransition.as_of == as_of))
        writer.bulk("status_snapshots", snapshots)
        writer.bulk("status_transitions", rows)
        writer.bulk(
            "events", _transition_events(transitions, book, writer.timestamp(datetime.now(UTC)))
        )
        _checkpoint("written")
        conn.execute(
            update(CobRun)
            .where(CobRun.run_id == run_id)
            .values(
                status="complete",
                mode=mode,
                finished_at=datetime.now(UTC),
                loans=status.height,
                snapshots=status.height,
                transitions=transitions.height,
                seconds=round(time.perf_counter() - clock, 3),
            )
        )
        # Earlier runs of the same date are superseded by this one.
        conn.execute(
            update(CobRun)
            .where(CobRun.as_of == as_of, CobRun.run_id != run_id, CobRun.status != "failed")
            .values(status="superseded")
        )


def business_days(start: date, end: date, monthly: bool) -> list[date]:
    """The dates a catch-up closes: every day, or every month-end (and `end`)."""
    if end < start:
        raise CobError(f"--to {end} is before --from {start}")
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    if not monthly:
        return days
    ends = [d for d in days if (d + timedelta(days=1)).day == 1]
    return ends if ends and ends[-1] == end else [*ends, end]
