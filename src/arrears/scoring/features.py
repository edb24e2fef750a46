"""The characteristics each kind of model learns from, built in bulk with Polars.

- **application** (A-card): what is known when a loan is applied for. A lender brings its own
  file; `simulated_applications` builds one from a simulator book (borrower features + the loan
  asked for, target "defaulted within 12 months of disbursement").
- **behaviour** (B-card): an open loan's repayment history as of an observation date, from the
  close of business's `status_snapshots` plus instalments and payments: worst DPD in 3/6/12
  months, months at 30+, paid ÷ due, months on book, balance ÷ principal … Target: reaching
  `bad_dpd` days past due within `horizon_months` after the date.
- **collection** (C-card): a loan that is overdue on the observation date. Target: cured (back to
  0 DPD, or paid off) within `cure_days`. When the database holds collection cases, the
  characteristics of `casefeatures` (attempts, right-party contacts, promises, stage, disputes,
  hardship — as of the date, never after it) join the snapshot ones; a loan with no case keeps
  its snapshot characteristics and `has_case` = 0. With no case anywhere, snapshots only.

The builders are pure functions of a `History` (frames); `read_history` is the one bulk read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from arrears.scoring.casefeatures import (
    CASE_FEATURES,
    CaseHistory,
    case_features,
    read_case_history,
)
from arrears.store.bulk import read_frame

CLOSED = ("paid_off", "written_off")
ID_COLUMNS = ("loan_id", "borrower_id", "as_of")

SNAPSHOT_SCHEMA = {
    "loan_id": pl.String,
    "as_of": pl.Date,
    "status": pl.String,
    "days_past_due": pl.Int64,
    "outstanding_principal": pl.Int64,
    "overdue_amount": pl.Int64,
}
LOAN_SCHEMA = {
    "loan_id": pl.String,
    "borrower_id": pl.String,
    "product": pl.String,
    "principal": pl.Int64,
    "term_months": pl.Int64,
    "disbursed_on": pl.Date,
}
DUE_SCHEMA = {"loan_id": pl.String, "due_on": pl.Date, "amount": pl.Int64}
PAID_SCHEMA = {"loan_id": pl.String, "paid_on": pl.Date, "amount": pl.Int64}

BEHAVIOUR_FEATURES = (
    "product",
    "days_past_due",
    "max_dpd_3m",
    "max_dpd_6m",
    "max_dpd_12m",
    "times_overdue_12m",
    "times_30plus_12m",
    "cures_12m",
    "payment_ratio_6m",
    "months_on_book",
    "balance_ratio",
    "term_months",
)
COLLECTION_FEATURES = (
    "product",
    "days_past_due",
    "overdue_amount",
    "overdue_ratio",
    "balance_ratio",
    "max_dpd_6m",
    "max_dpd_12m",
    "times_overdue_12m",
    "times_30plus_12m",
    "cures_12m",
    "payment_ratio_6m",
    "paid_30d",
    "months_on_book",
)
APPLICATION_FEATURES = (
    "age",
    "monthly_income",
    "employment",
    "inquiries_6m",
    "other_debts",
    "debt_to_income",
    "past_delinquencies",
    "industry",
    "annual_revenue",
    "leverage",
    "years_in_business",
    "product",
    "principal",
    "term_months",
)


class NoHistory(ValueError):
    """The database has too little close-of-business history for what was asked."""


@dataclass(frozen=True)
class History:
    snapshots: pl.DataFrame  # SNAPSHOT_SCHEMA
    loans: pl.DataFrame  # LOAN_SCHEMA
    dues: pl.DataFrame  # DUE_SCHEMA: one row per instalment
    paid: pl.DataFrame  # PAID_SCHEMA: payments not reversed
    cases: CaseHistory | None = None  # the collection module's history (None: not read)

    @property
    def dates(self) -> list[date]:
        return self.snapshots.get_column("as_of").unique().sort().to_list()


def read_history(engine: Engine) -> History:
    """Everything the B- and C-card builders need, one bulk query per table."""
    with engine.connect() as conn:
        complete = "SELECT DISTINCT as_of FROM cob_runs WHERE status = 'complete'"  # only whole-book dates: a lone payment's snapshot is no population
        snapshots = read_frame(
            conn,
            "SELECT s.loan_id, s.as_of, s.status, s.days_past_due, s.outstanding_principal, "
            "s.overdue_principal + s.overdue_interest + s.overdue_fee + s.overdue_penalty "
            f"FROM status_snapshots s WHERE s.as_of IN ({complete})",
            SNAPSHOT_SCHEMA,
        )
        loans = read_frame(
            conn,
            "SELECT loan_id, borrower_id, product, principal, term_months, disbursed_on FROM loans",
            LOAN_SCHEMA,
        )
        dues = read_frame(
            conn, "SELECT loan_id, due_on, principal + interest + fee FROM instalments", DUE_SCHEMA
        )
        paid = read_frame(
            conn,
            "SELECT loan_id, paid_on, amount FROM payments WHERE reversed_at IS NULL",
            PAID_SCHEMA,
        )
        cases = read_case_history(conn)
    return History(snapshots, loans, dues, paid, cases)


# ------------------------------------------------------------------ the snapshot characteristics


def _window_sum(
    frame: pl.DataFrame, column: str, start: date, end: date, name: str
) -> pl.DataFrame:
    return (
        frame.filter((pl.col(column) > start) & (pl.col(column) <= end))
        .group_by("loan_id")
        .agg(pl.col("amount").sum().alias(name))
    )


def account_features(history: History, as_of: date) -> pl.DataFrame:
    """Every characteristic of every loan open on `as_of` (one row per loan)."""
    snaps = history.snapshots
    now = snaps.filter((pl.col("as_of") == as_of) & ~pl.col("status").is_in(CLOSED))
    if now.height == 0:
        return pl.DataFrame()
    year_ago = as_of - timedelta(days=365)
    window = (
        snaps.filter((pl.col("as_of") > year_ago) & (pl.col("as_of") <= as_of))
        .join(now.select("loan_id"), on="loan_id")
        .sort("loan_id", "as_of")
    )
    dpd = pl.col("days_past_due")
    month = pl.col("as_of").dt.truncate("1mo")
    recent = window.with_columns(
        (pl.col("as_of") > as_of - timedelta(days=92)).alias("_3m"),
        (pl.col("as_of") > as_of - timedelta(days=183)).alias("_6m"),
        ((dpd == 0) & (dpd.shift(1).over("loan_id") > 0)).alias("_cure"),
    )
    trail = recent.group_by("loan_id").agg(
        dpd.filter(pl.col("_3m")).max().alias("max_dpd_3m"),
        dpd.filter(pl.col("_6m")).max().alias("max_dpd_6m"),
        dpd.max().alias("max_dpd_12m"),
        month.filter(dpd > 0).n_unique().alias("times_overdue_12m"),
        month.filter(dpd >= 30).n_unique().alias("times_30plus_12m"),
        pl.col("_cure").sum().alias("cures_12m"),
    )
    half_year = as_of - timedelta(days=183)
    due_6m = _window_sum(history.dues.rename({"due_on": "d"}), "d", half_year, as_of, "_due")
    paid_6m = _window_sum(history.paid.rename({"paid_on": "d"}), "d", half_year, as_of, "_paid")
    paid_30d = _window_sum(
        history.paid.rename({"paid_on": "d"}), "d", as_of - timedelta(days=30), as_of, "paid_30d"
    )
    principal = pl.col("principal").cast(pl.Float64)
    return (
        now.join(history.loans, on="loan_id", how="left")
        .join(trail, on="loan_id", how="left")
        .join(due_6m, on="loan_id", how="left")
        .join(paid_6m, on="loan_id", how="left")
        .join(paid_30d, on="loan_id", how="left")
        .with_columns(
            # payment ratio: null (its own bin) when nothing fell due in the window
            pl.when(pl.col("_due") > 0)
            .then(pl.col("_paid").fill_null(0) / pl.col("_due"))
            .otherwise(None)
            .alias("payment_ratio_6m"),
            pl.col("paid_30d").fill_null(0),
            ((as_of - pl.col("disbursed_on")).dt.total_days() / 30.4375)
            .floor()
            .cast(pl.Int64)
            .alias("months_on_book"),
            (pl.col("outstanding_principal") / principal).alias("balance_ratio"),
            (pl.col("overdue_amount") / principal).alias("overdue_ratio"),
            pl.lit(as_of).alias("as_of"),
        )
        .drop("_due", "_paid", "status", "disbursed_on", "outstanding_principal")
    )


def _future(history: History, as_of: date, days: int) -> pl.DataFrame:
    return history.snapshots.filter(
        (pl.col("as_of") > as_of) & (pl.col("as_of") <= as_of + timedelta(days=days))
    )


def observation_dates(history: History, horizon_days: int, count: int) -> list[date]:
    """The latest `count` month-end close dates whose outcome window has fully passed."""
    dates = history.dates
    if not dates:
        raise NoHistory("no close of business has completed: run `arrears cob` first")
    last = dates[-1]
    month_ends = [d for d in dates if (d + timedelta(days=1)).day == 1 or d == last]
    ready = [d for d in month_ends if d + timedelta(days=horizon_days) <= last]
    if not ready:
        raise NoHistory(
            f"the history ends {last}: no observation date has {horizon_days} days of outcome "
            "after it (run the close of business over more months)"
        )
    return ready[-count:]


def behaviour_frame(
    history: History,
    as_of: date,
    *,
    horizon_months: int = 6,
    bad_dpd: int = 60,
    target: bool = True,
) -> pl.DataFrame:
    """B-card rows for the loans open on `as_of` and not yet `bad_dpd` past due; with `target`,
    column `bad` = 1 when the loan reached `bad_dpd` within `horizon_months`."""
    frame = account_features(history, as_of)
    if frame.height == 0:
        return frame
    frame = frame.filter(pl.col("days_past_due") < bad_dpd)
    keep = [*ID_COLUMNS, *BEHAVIOUR_FEATURES]
    if not target:
        return frame.select(keep)
    future = _future(history, as_of, round(horizon_months * 30.4375))
    went_bad = future.group_by("loan_id").agg(
        (pl.col("days_past_due").max() >= bad_dpd).cast(pl.Int8).alias("bad")
    )
    return (
        frame.join(went_bad, on="loan_id", how="left")
        .with_columns(pl.col("bad").fill_null(0))
        .select(*keep, "bad")
    )


def collection_frame(
    history: History, as_of: date, *, cure_days: int = 31, target: bool = True
) -> pl.DataFrame:
    """C-card rows for the loans overdue on `as_of`; with `target`, column `bad` = 1 when the
    loan did **not** cure (reach 0 DPD or pay off) within `cure_days` — so, as for every card,
    the model's probability is of the bad outcome, and 1 − p is the probability to cure."""
    frame = account_features(history, as_of)
    if frame.height == 0:
        return frame
    frame = frame.filter(pl.col("days_past_due") > 0)
    keep = [*ID_COLUMNS, *collection_features(history)]
    if history.cases is not None and not history.cases.empty:
        frame = frame.join(
            case_features(history.cases, frame.get_column("loan_id"), as_of), on="loan_id"
        )
    if not target:
        return frame.select(keep)
    future = _future(history, as_of, cure_days)
    cured = future.group_by("loan_id").agg(
        ((pl.col("days_past_due") == 0) | pl.col("status").is_in(CLOSED)).any().alias("_cured")
    )
    return (
        frame.join(cured, on="loan_id", how="left")
        .with_columns((~pl.col("_cured").fill_null(False)).cast(pl.Int8).alias("bad"))
        .select(*keep, "bad")
    )


def collection_features(history: History) -> tuple[str, ...]:
    """The C-card's characteristics for this history: with case history when there is any."""
    if history.cases is not None and not history.cases.empty:
        return (*COLLECTION_FEATURES, *CASE_FEATURES)
    return COLLECTION_FEATURES


def training_frame(
    history: History,
    kind: str,
    *,
    observations: int = 6,
    horizon_months: int = 6,
    bad_dpd: int = 60,
    cure_days: int = 31,
) -> pl.DataFrame:
    """Stacked rows over the latest `observations` observation dates whose outcomes are known."""
    if kind == "behaviour":
        horizon = round(horizon_months * 30.4375)
        dates = observation_dates(history, horizon, observations)
        parts = [
            behaviour_frame(history, d, horizon_months=horizon_months, bad_dpd=bad_dpd)
            for d in dates
        ]
    elif kind == "collection":
        dates = observation_dates(history, cure_days, observations)
        parts = [collection_frame(history, d, cure_days=cure_days) for d in dates]
    else:
        raise ValueError(f"kind {kind!r} does not train from the database's history")
    parts = [p for p in parts if p.height]
    if not parts:
        raise NoHistory(f"no {kind} rows on the observation dates {dates}")
    frame = pl.concat(parts, how="vertical_relaxed")
    if frame.get_column("bad").n_unique() < 2:
        raise NoHistory(f"every {kind} row on {dates} has the same outcome: nothing to learn")
    return frame


def current_frame(history: History, kind: str, as_of: date | None = None) -> pl.DataFrame:
    """Rows to score now (no target): the latest close date unless `as_of` is given."""
    if not history.dates:
        raise NoHistory("no close of business has completed: run `arrears cob` first")
    day = as_of or history.dates[-1]
    if kind == "behaviour":
        return behaviour_frame(history, day, target=False, bad_dpd=10**6)
    if kind == "collection":
        return collection_frame(history, day, target=False)
    raise ValueError(f"kind {kind!r} is not built from the database's history")


# ------------------------------------------------------------------ applications


def simulated_applications(book_dir: Path, *, performance_months: int = 12) -> pl.DataFrame:
    """A-card rows from a simulator book: each loan with a full `performance_months` window
    before the book's end, its borrower's features at application, `bad` = defaulted within the
    window, and the simulator's `true_pd_12m` (which no model sees; it is the ceiling)."""
    book_dir = Path(book_dir)

    def read(name: str) -> pl.DataFrame:
        for suffix in (".parquet", ".csv"):
            path = book_dir / f"{name}{suffix}"
            if path.exists():
                return (
                    pl.read_parquet(path)
                    if suffix == ".parquet"
                    else pl.read_csv(path, infer_schema_length=None, try_parse_dates=True)
                )
        raise FileNotFoundError(f"{book_dir}: no {name}.parquet or {name}.csv")

    loans = read("loans").with_columns(pl.col("disbursed_on").cast(pl.Date))
    features = read("features")
    truth = read("truth")
    end = loans.get_column("disbursed_on").max()
    cutoff = _add_months(end, -performance_months)
    rows = (
        loans.filter(pl.col("disbursed_on") <= cutoff)
        .join(features, on="borrower_id", how="left")
        .join(truth.drop("borrower_id"), on="loan_id", how="left")
        .with_columns(
            pl.col("principal").cast(pl.Float64),
            (pl.col("other_debts") / (pl.col("monthly_income") * 12)).alias("debt_to_income"),
            pl.col("default_month").str.to_date("%Y-%m", strict=False).alias("_default"),
        )
    )
    window_end = pl.col("disbursed_on").dt.offset_by(f"{performance_months}mo")
    rows = rows.with_columns(
        (pl.col("defaulted").fill_null(False) & (pl.col("_default") <= window_end))
        .cast(pl.Int8)
        .alias("bad")
    )
    return rows.select("loan_id", "borrower_id", *APPLICATION_FEATURES, "bad", "true_pd_12m")


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(day.day, 28))


# The bad-rate direction the business expects, per characteristic the product builds (the
# binning is held to it; anything not listed may be rising or falling, never zig-zag).
EXPECTED_TRENDS: dict[str, str] = {
    "monthly_income": "descending",
    "inquiries_6m": "ascending",
    "debt_to_income": "ascending",
    "past_delinquencies": "ascending",
    "leverage": "ascending",
    "years_in_business": "descending",
    "days_past_due": "ascending",
    "max_dpd_3m": "ascending",
    "max_dpd_6m": "ascending",
    "max_dpd_12m": "ascending",
    "times_overdue_12m": "ascending",
    "times_30plus_12m": "ascending",
    "payment_ratio_6m": "descending",
    "promises_broken": "ascending",
}
