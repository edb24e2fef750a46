"""Portfolio analytics as pure functions over Polars frames (RULES.md §2.2, §8.1 R3–R6).

No database, no clock, no file: every function takes frames and dates and returns a frame or a
number, so each metric can be checked by hand on a five-row frame. `reports.data` reads the
frames from the database; `reports.summary` composes these functions into one report.

Frames
------
- **snapshot** (`status_snapshots` rows): `loan_id`, `as_of`, `status`, `days_past_due`,
  `bucket`, `classification`, `ifrs9_stage`, `outstanding_principal` (integer minor units),
  `rules_version`; optionally `restructured` (bool, see `with_restructured`). One date or many.
- **loans**: `loan_id`, `principal` (original, minor units), `disbursed_on`; optionally
  `restructured_on`, `product`.
- **first_dues**: `loan_id`, `first_due_on`, `second_due_on` (null for a one-instalment loan),
  `principal`.

Money stays in integer minor units; ratios are floats; a ratio over an empty denominator is
`None`. Paid-off and written-off loans are *off book*: they are not counted in the bucket,
classification and stage distributions, and written-off loans are excluded from the numerator
and the denominator of PAR and NPL (R5).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import polars as pl

from arrears.loans.bands import CLASSIFICATIONS
from arrears.loans.product import Product

PAID_OFF = "paid_off"
WRITTEN_OFF = "written_off"
OFF_BOOK = (PAID_OFF, WRITTEN_OFF)
NPL_CLASSES = ("substandard", "doubtful", "loss")
STAGES = (1, 2, 3)

# ------------------------------------------------------------------------------ dates


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def month_ends(dates: Iterable[date], as_of: date) -> list[date]:
    """The month-end dates among `dates` on or before `as_of`, ascending."""
    return sorted({d for d in dates if d <= as_of and is_month_end(d)})


def _month_index(column: str) -> pl.Expr:
    """Months since year 0 (year·12 + month − 1): differences are whole calendar months."""
    return (
        pl.col(column).dt.year().cast(pl.Int64) * 12 + pl.col(column).dt.month().cast(pl.Int64) - 1
    )


# ------------------------------------------------------------------------------ buckets (R3)


def bucket_names(products: Iterable[Product]) -> list[str]:
    """Bucket names in order, from the products' bucket tables (a name first seen in a later
    product's table is placed after the names it follows)."""
    names: list[str] = []
    for product in products:
        for name in product.buckets.names():
            if name not in names:
                names.append(name)
    return names


def bucket_tables(products: Iterable[Product]) -> dict[str, list[list[object]]]:
    """`{product code: [[name, min_dpd, max_dpd], …]}` — the tables the figures were bucketed by."""
    return {
        p.code: [[b.name, b.min_dpd, b.max_dpd] for b in p.buckets.bands]
        for p in sorted(products, key=lambda p: p.code)
    }


def bucket_version(products: Iterable[Product]) -> str:
    """A short, stable fingerprint of the distinct bucket tables used (R3: every report states
    which bucket-table version it used). Equal tables give equal versions."""
    tables = sorted({json.dumps(t) for t in bucket_tables(products).values()})
    return "bt-" + hashlib.sha256("\n".join(tables).encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------ book


def on_book(snapshot: pl.DataFrame) -> pl.DataFrame:
    """The loans still on the book: neither paid off nor written off."""
    return snapshot.filter(~pl.col("status").is_in(OFF_BOOK))


def with_restructured(snapshot: pl.DataFrame, loans: pl.DataFrame) -> pl.DataFrame:
    """Add `restructured`: the loan was restructured on or before the snapshot's date."""
    if "restructured_on" not in loans.columns:
        return snapshot.with_columns(restructured=pl.lit(False))
    return (
        snapshot.join(loans.select("loan_id", "restructured_on"), on="loan_id", how="left")
        .with_columns(restructured=(pl.col("restructured_on") <= pl.col("as_of")).fill_null(False))
        .drop("restructured_on")
    )


def _restructured(frame: pl.DataFrame) -> pl.Expr:
    if "restructured" in frame.columns:
        return pl.col("restructured").fill_null(False)
    return pl.col("status") == "restructured"


def count_balance_by(snapshot: pl.DataFrame, column: str, order: Sequence[object]) -> pl.DataFrame:
    """`column`, `count`, `balance` for the loans on book, one row per value of `order` (zeros
    where none), then any value met that `order` does not list."""
    live = on_book(snapshot)
    grouped = live.group_by(column).agg(
        count=pl.len().cast(pl.Int64), balance=pl.col("outstanding_principal").sum().cast(pl.Int64)
    )
    seen = grouped.get_column(column).to_list()
    keys = list(order) + sorted((v for v in seen if v not in order), key=str)
    dtype = snapshot.schema[column]
    frame = pl.DataFrame({column: keys}, schema={column: dtype})
    return (
        frame.join(grouped, on=column, how="left")
        .with_columns(pl.col("count").fill_null(0), pl.col("balance").fill_null(0))
        .select(column, "count", "balance")
    )


def by_bucket(snapshot: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    return count_balance_by(snapshot, "bucket", buckets)


def by_classification(snapshot: pl.DataFrame) -> pl.DataFrame:
    return count_balance_by(snapshot, "classification", CLASSIFICATIONS)


def by_stage(snapshot: pl.DataFrame) -> pl.DataFrame:
    return count_balance_by(snapshot, "ifrs9_stage", STAGES)


def written_off_totals(snapshot: pl.DataFrame) -> tuple[int, int]:
    """(count, outstanding principal) of the written-off loans in the snapshot."""
    off = snapshot.filter(pl.col("status") == WRITTEN_OFF)
    return off.height, int(off.get_column("outstanding_principal").sum() or 0)


# ------------------------------------------------------------------------------ PAR, NPL (R5)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def kpi_exprs(frame: pl.DataFrame, *, include_restructured: bool = True) -> list[pl.Expr]:
    """Aggregations giving `loans`, `outstanding_principal`, `par30`, `par90`, `npl_ratio` for one
    date's snapshot (use in `select`, or in `group_by("as_of").agg` for a trend)."""
    balance = pl.col("outstanding_principal")
    live = ~pl.col("status").is_in(OFF_BOOK)  # written-off out of both sides (R5)
    total = balance.filter(live).sum()
    restructured = _restructured(frame) if include_restructured else pl.lit(False)

    def par_expr(days: int) -> pl.Expr:
        at_risk = live & ((pl.col("days_past_due") > days) | restructured)
        return _ratio(balance.filter(at_risk).sum(), total)

    npl = balance.filter(live & pl.col("classification").is_in(NPL_CLASSES)).sum()
    return [
        live.sum().cast(pl.Int64).alias("loans"),
        total.cast(pl.Int64).alias("outstanding_principal"),
        par_expr(30).alias("par30"),
        par_expr(90).alias("par90"),
        _ratio(npl, total).alias("npl_ratio"),
    ]


def par(snapshot: pl.DataFrame, days: int, *, include_restructured: bool = True) -> float | None:
    """PAR_X = Σ outstanding principal of loans with DPD > X (+ restructured loans' balances when
    `include_restructured`) / Σ outstanding principal; written-off loans in neither (R5)."""
    balance = pl.col("outstanding_principal")
    live = ~pl.col("status").is_in(OFF_BOOK)
    restructured = _restructured(snapshot) if include_restructured else pl.lit(False)
    at_risk = live & ((pl.col("days_past_due") > days) | restructured)
    row = snapshot.select(_ratio(balance.filter(at_risk).sum(), balance.filter(live).sum()))
    return row.item() if row.height else None


def npl_ratio(snapshot: pl.DataFrame) -> float | None:
    """NPL = (次级 + 可疑 + 损失) outstanding principal / total outstanding; written-off excluded."""
    balance = pl.col("outstanding_principal")
    live = ~pl.col("status").is_in(OFF_BOOK)
    npl = balance.filter(live & pl.col("classification").is_in(NPL_CLASSES)).sum()
    row = snapshot.select(_ratio(npl, balance.filter(live).sum()))
    return row.item() if row.height else None


def trend(snapshots: pl.DataFrame, *, include_restructured: bool = True) -> pl.DataFrame:
    """One row per snapshot date: `as_of`, `loans`, `outstanding_principal`, `par30`, `par90`,
    `npl_ratio`."""
    return (
        snapshots.group_by("as_of")
        .agg(kpi_exprs(snapshots, include_restructured=include_restructured))
        .sort("as_of")
    )


# ------------------------------------------------------------------------------ roll rates (R4)


def states(buckets: Sequence[str]) -> list[str]:
    """The states of the roll matrix's columns: the buckets, then the absorbing states."""
    return [*buckets, PAID_OFF, WRITTEN_OFF]


def roll_matrix(
    previous: pl.DataFrame,
    current: pl.DataFrame,
    buckets: Sequence[str],
    *,
    weight: str = "balance",
) -> pl.DataFrame:
    """The month-over-month roll-rate (transition) matrix, long form.

    R_ij = Σ_{a: s(t−1)=i, s(t)=j} B_a(t−1) / Σ_{a: s(t−1)=i} B_a(t−1) (`weight="balance"`; or
    loan counts with `weight="count"`). Rows are the buckets of the loans on book at t−1; columns
    are the buckets plus `paid_off` (paid off at t, or gone from the book) and `written_off`
    (absorbing). Returns `from_bucket`, `to_state`, `weight` (minor units or loans), `row_total`
    and `rate`; every row with a positive total sums to 1; an empty row has null rates.
    """
    start = on_book(previous).select(
        "loan_id",
        pl.col("bucket").alias("from_bucket"),
        (pl.col("outstanding_principal") if weight == "balance" else pl.lit(1))
        .cast(pl.Int64)
        .alias("w"),
    )
    end = current.select(
        "loan_id", pl.col("status").alias("to_status"), pl.col("bucket").alias("b")
    )
    moved = start.join(end, on="loan_id", how="left").with_columns(
        to_state=pl.when(pl.col("to_status").is_null() | (pl.col("to_status") == PAID_OFF))
        .then(pl.lit(PAID_OFF))
        .when(pl.col("to_status") == WRITTEN_OFF)
        .then(pl.lit(WRITTEN_OFF))
        .otherwise(pl.col("b"))
    )
    cells = moved.group_by("from_bucket", "to_state").agg(weight=pl.col("w").sum())
    rows = list(buckets) + sorted(set(moved.get_column("from_bucket").to_list()) - set(buckets))
    cols = states(rows)
    grid = pl.DataFrame({"from_bucket": rows}).join(pl.DataFrame({"to_state": cols}), how="cross")
    return (
        grid.join(cells, on=["from_bucket", "to_state"], how="left")
        .with_columns(pl.col("weight").fill_null(0).cast(pl.Int64))
        .with_columns(row_total=pl.col("weight").sum().over("from_bucket"))
        .with_columns(rate=_ratio(pl.col("weight"), pl.col("row_total")))
    )


def roll_matrix_wide(matrix: pl.DataFrame) -> pl.DataFrame:
    """The long roll matrix as a table: `from_bucket`, `row_total`, one rate column per state."""
    order = matrix.get_column("to_state").unique(maintain_order=True).to_list()
    wide = matrix.pivot(on="to_state", index=["from_bucket", "row_total"], values="rate")
    return wide.select("from_bucket", "row_total", *order)


def flow_rates(matrix: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    """Flow (roll-forward) rate k→k+1: FR_k = R[k, k+1] (R4), for each bucket but the last.
    Returns `from_bucket`, `to_bucket`, `balance` (B(t−1) in k), `rate`."""
    pairs = pl.DataFrame(
        {"from_bucket": list(buckets[:-1]), "to_state": list(buckets[1:])},
        schema={"from_bucket": pl.String, "to_state": pl.String},
    )
    return pairs.join(matrix, on=["from_bucket", "to_state"], how="left").select(
        "from_bucket",
        pl.col("to_state").alias("to_bucket"),
        pl.col("row_total").fill_null(0).alias("balance"),
        "rate",
    )


def cure_rates(matrix: pl.DataFrame, buckets: Sequence[str]) -> pl.DataFrame:
    """Cure rate CR_k = R[k, M0]: share of bucket k's balance at t−1 that is current (the first
    bucket) at t, for every delinquent bucket. Paid off is not a cure (it is its own state).
    Returns `bucket`, `balance`, `cured`, `rate`."""
    current = buckets[0]
    return (
        pl.DataFrame({"from_bucket": list(buckets[1:])}, schema={"from_bucket": pl.String})
        .join(matrix.filter(pl.col("to_state") == current), on="from_bucket", how="left")
        .select(
            pl.col("from_bucket").alias("bucket"),
            pl.col("row_total").fill_null(0).alias("balance"),
            pl.col("weight").fill_null(0).alias("cured"),
            "rate",
        )
    )


def overall_cure_rate(matrix: pl.DataFrame, buckets: Sequence[str]) -> float | None:
    """Balance in any delinquent bucket at t−1 that is current at t / delinquent balance at t−1."""
    cures = cure_rates(matrix, buckets)
    total = int(cures.get_column("balance").sum() or 0)
    return int(cures.get_column("cured").sum() or 0) / total if total else None


# ------------------------------------------------------------------------------ vintages (R6)


def vintage(
    points: pl.DataFrame,
    loans: pl.DataFrame,
    *,
    days: int = 30,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Vintage curves by origination month and months on book (R6).

    `points`: snapshots at the observation dates (month-ends, and the report date): "current X+"
    at MOB m reads the loan's last snapshot in that calendar month. `history` (default `points`):
    every snapshot known to be X+ (for instance all dates with DPD ≥ X): "ever X+" by MOB m is
    any of them on or before the end of that month. A loan is X+ when DPD ≥ X, or written off.
    MOB = calendar months from the disbursement month (MOB0 = disbursement to month end).

    Returns `cohort` ("YYYY-MM"), `mob`, `loans`, `principal` (Σ original principal P0), and
    `ever_amount` = Σ P0·ever / Σ P0, `current_amount`, `ever_count`, `current_count`.
    """
    history = points if history is None else history
    bad = (pl.col("days_past_due") >= days) | (pl.col("status") == WRITTEN_OFF)
    cohort = loans.select("loan_id", "principal", _month_index("disbursed_on").alias("cohort_m"))
    observed = points.select(_month_index("as_of").alias("m")).unique()
    current = (
        points.with_columns(m=_month_index("as_of"), bad=bad)
        .sort("as_of")
        .group_by("loan_id", "m")
        .agg(current=pl.col("bad").last())
    )
    first_bad = history.filter(bad).group_by("loan_id").agg(first_bad_m=_month_index("as_of").min())
    grid = (
        cohort.join(observed, how="cross")
        .filter(pl.col("m") >= pl.col("cohort_m"))
        .join(current, on=["loan_id", "m"], how="left")
        .join(first_bad, on="loan_id", how="left")
        .with_columns(
            current=pl.col("current").fill_null(False),
            ever=(pl.col("first_bad_m") <= pl.col("m")).fill_null(False),
            mob=pl.col("m") - pl.col("cohort_m"),
        )
    )
    p0 = pl.col("principal")
    return (
        grid.group_by("cohort_m", "mob")
        .agg(
            loans=pl.len().cast(pl.Int64),
            principal=p0.sum().cast(pl.Int64),
            ever_p=p0.filter(pl.col("ever")).sum(),
            current_p=p0.filter(pl.col("current")).sum(),
            ever_n=pl.col("ever").sum(),
            current_n=pl.col("current").sum(),
        )
        .with_columns(
            cohort=pl.format(
                "{}-{}",
                (pl.col("cohort_m") // 12).cast(pl.String),
                (pl.col("cohort_m") % 12 + 1).cast(pl.String).str.zfill(2),
            ),
            ever_amount=_ratio(pl.col("ever_p"), pl.col("principal")),
            current_amount=_ratio(pl.col("current_p"), pl.col("principal")),
            ever_count=_ratio(pl.col("ever_n"), pl.col("loans")),
            current_count=_ratio(pl.col("current_n"), pl.col("loans")),
        )
        .sort("cohort_m", "mob")
        .select(
            "cohort",
            "mob",
            "loans",
            "principal",
            "ever_amount",
            "current_amount",
            "ever_count",
            "current_count",
        )
    )


# ------------------------------------------------------------------------------ FPD


def first_payment_default(
    history: pl.DataFrame, first_dues: pl.DataFrame, as_of: date, *, days: int = 30
) -> dict[str, object]:
    """FPD_x: loans whose first instalment reached > x DPD / loans whose first instalment fell
    due at least x+1 days before `as_of` (the only ones that could have), by count and amount
    (original principal).

    The first instalment is the overdue one at a snapshot when DPD > x and the oldest unpaid due
    date (snapshot date − DPD) is before the second instalment's due date. `history` holds the
    snapshots to look in (every date is best; month-ends alone miss an instalment that went
    past x DPD and was paid before the month ended).
    """
    eligible = first_dues.filter(pl.col("first_due_on") + timedelta(days=days + 1) <= as_of)
    hits = (
        history.filter((pl.col("as_of") <= as_of) & (pl.col("days_past_due") > days))
        .join(eligible, on="loan_id", how="inner")
        .filter(
            pl.col("second_due_on").is_null()
            | (
                pl.col("as_of") - pl.duration(days=pl.col("days_past_due"))
                < pl.col("second_due_on")
            )
        )
        .select("loan_id")
        .unique()
    )
    defaulted = eligible.join(hits, on="loan_id", how="semi")
    n, d = eligible.height, defaulted.height
    amount = int(eligible.get_column("principal").sum() or 0)
    bad_amount = int(defaulted.get_column("principal").sum() or 0)
    return {
        "days": days,
        "eligible_loans": n,
        "defaulted_loans": d,
        "rate_count": d / n if n else None,
        "eligible_principal": amount,
        "defaulted_principal": bad_amount,
        "rate_amount": bad_amount / amount if amount else None,
    }


# ------------------------------------------------------------------------------ top movers


def top_movers(
    previous: pl.DataFrame, current: pl.DataFrame, buckets: Sequence[str], *, limit: int = 10
) -> pl.DataFrame:
    """Loans on book at `current` whose bucket worsened since `previous` (a loan absent then
    counts as current, DPD 0), largest bucket jump first, then largest balance, then largest DPD
    increase. Returns `loan_id`, `from_bucket`, `to_bucket`, `from_dpd`, `to_dpd`, `steps`,
    `dpd_increase`, `outstanding_principal`."""
    rank = {name: i for i, name in enumerate(buckets)}
    before = previous.select(
        "loan_id", pl.col("bucket").alias("from_bucket"), pl.col("days_past_due").alias("from_dpd")
    )
    return (
        on_book(current)
        .select(
            "loan_id",
            pl.col("bucket").alias("to_bucket"),
            pl.col("days_past_due").alias("to_dpd"),
            "outstanding_principal",
        )
        .join(before, on="loan_id", how="left")
        .with_columns(pl.col("from_bucket").fill_null(buckets[0]), pl.col("from_dpd").fill_null(0))
        .with_columns(
            steps=pl.col("to_bucket").replace_strict(
                rank, default=len(buckets), return_dtype=pl.Int64
            )
            - pl.col("from_bucket").replace_strict(
                rank, default=len(buckets), return_dtype=pl.Int64
            ),
            dpd_increase=pl.col("to_dpd") - pl.col("from_dpd"),
        )
        .filter(pl.col("steps") > 0)
        .sort(
            ["steps", "outstanding_principal", "dpd_increase", "loan_id"],
            descending=[True, True, True, False],
        )
        .head(limit)
        .select(
            "loan_id",
            "from_bucket",
            "to_bucket",
            "from_dpd",
            "to_dpd",
            "steps",
            "dpd_increase",
            "outstanding_principal",
        )
    )
