"""The column engine: the replay of `loans.allocation` for every loan at once.

The single-loan replay walks one loan from event to event (a payment, a due date, the business
date); between two events nothing changes but penalty interest, which grows by the same rounded
amount every day. This engine does the same walk for the whole book, vectorised across loans: at
step *r* every loan moves to its own *r*-th event date. A daily close is the same walk with one
step (yesterday's state → today), a full rebuild starts from the schedule.

State is kept per open instalment (anything still owed, penalty included) and per loan (the date
the state holds for, credit held, the day's penalty). Instalments that are paid in full never
change again and are set aside in `closed`, which keeps the working set small.

Every rule that decides an amount is the one in `loans/`: the same allocation order, the same
per-day rounding of penalty, the same tolerance and pauses. `tests/cob/test_equivalence.py`
checks field by field, day by day, that the two paths agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl

from arrears.cob.params import RATE_SCALE
from arrears.loans.allocation import ALWAYS_SETTLED

FAR_PAST = ALWAYS_SETTLED
DAY = timedelta(days=1)

OWED = ("penalty", "fee", "interest", "principal")


@dataclass(frozen=True)
class Book:
    """What the close of business reads: the loans (with their rule parameters joined, see
    `params`), their schedules, the payments that count (reversed ones already removed), merged
    hardship pauses and classification overrides."""

    loans: pl.DataFrame
    instalments: pl.DataFrame
    payments: pl.DataFrame
    pauses: pl.DataFrame
    overrides: pl.DataFrame


@dataclass(frozen=True)
class State:
    """The book's repayment state at the end of each loan's `state_date`."""

    open: pl.DataFrame  # loan_id, seq, due_on, principal, interest, fee, penalty, settled_on
    closed: pl.DataFrame  # loan_id, seq, due_on, settled_on (paid in full)
    loans: pl.DataFrame  # loan_id, state_date, credit, penalty_today


# --- the start -----------------------------------------------------------------------------


def initial_state(book: Book) -> State:
    """Each loan the evening before its disbursement: the whole schedule owed, nothing accrued."""
    tolerance = book.loans.select("loan_id", "tolerance")
    open_ = (
        book.instalments.join(tolerance, on="loan_id")
        .with_columns(
            penalty=pl.lit(0, pl.Int64),
            settled_on=pl.when(
                pl.col("principal") + pl.col("interest") + pl.col("fee") <= pl.col("tolerance")
            )
            .then(pl.lit(FAR_PAST))
            .otherwise(pl.lit(None, pl.Date)),
        )
        .select("loan_id", "seq", "due_on", "principal", "interest", "fee", "penalty", "settled_on")
    )
    loans = book.loans.select(
        "loan_id",
        state_date=pl.col("disbursed_on") - DAY,
        credit=pl.lit(0, pl.Int64),
        penalty_today=pl.lit(0, pl.Int64),
    )
    return _close_paid(State(open=open_, closed=_empty_closed(), loans=loans))


def _empty_closed() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"loan_id": pl.String, "seq": pl.Int64, "due_on": pl.Date, "settled_on": pl.Date}
    )


def _close_paid(state: State) -> State:
    """Move instalments with nothing owed out of the working set."""
    owed = pl.sum_horizontal(*OWED)
    done = state.open.filter(owed == 0)
    if done.is_empty():
        return state
    return replace(
        state,
        open=state.open.filter(owed != 0),
        closed=pl.concat([state.closed, done.select(state.closed.columns)]),
    )


# --- walking forward -----------------------------------------------------------------------


def advance(book: Book, state: State, as_of: date) -> State:
    """Move every disbursed loan whose state is before `as_of` to the end of `as_of`."""
    movers = (
        state.loans.join(book.loans.select("loan_id", "disbursed_on"), on="loan_id")
        .filter((pl.col("state_date") < as_of) & (pl.col("disbursed_on") <= as_of))
        .select("loan_id", "state_date")
    )
    if movers.is_empty():
        return state
    events = _event_dates(book, state, movers, as_of)
    steps = events.get_column("rank").max()
    for rank in range(int(steps) + 1):  # type: ignore[arg-type]
        targets = events.filter(pl.col("rank") == rank).select("loan_id", "target")
        state = _step(book, state, targets, as_of)
    return state


def _event_dates(book: Book, state: State, movers: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per moving loan, its distinct event dates in (state_date, as_of], ranked."""
    window = (pl.col("day") > pl.col("state_date")) & (pl.col("day") <= as_of)
    paid = book.payments.select("loan_id", day="paid_on").join(movers, on="loan_id").filter(window)
    due = state.open.select("loan_id", day="due_on").join(movers, on="loan_id").filter(window)
    end = movers.with_columns(day=pl.lit(as_of))
    return (
        pl.concat([paid, due, end.select(paid.columns)])
        .unique(["loan_id", "day"])
        .with_columns(rank=pl.col("day").rank("dense").over("loan_id").cast(pl.Int32) - 1)
        .select("loan_id", target="day", rank="rank")
    )


def _with_paused(
    frame: pl.DataFrame, pauses: pl.DataFrame, after: str, through: str, name: str
) -> pl.DataFrame:
    """Add `name`: paused days in (after, through] for each row's loan (pauses are merged)."""
    if pauses.is_empty():
        return frame.with_columns(pl.lit(0, pl.Int64).alias(name))
    keyed = frame.with_row_index("_row")
    spans = (
        keyed.select("_row", "loan_id", after, through)
        .join(pauses, on="loan_id")
        .with_columns(
            lo=pl.max_horizontal(pl.col(after) + DAY, pl.col("start_on")),
            hi=pl.min_horizontal(pl.col(through), pl.col("end_on")),
        )
        .with_columns(
            days=pl.when(pl.col("hi") >= pl.col("lo"))
            .then((pl.col("hi") - pl.col("lo")).dt.total_days() + 1)
            .otherwise(0)
        )
        .group_by("_row")
        .agg(pl.col("days").sum().alias(name))
    )
    return (
        keyed.join(spans, on="_row", how="left")
        .with_columns(pl.col(name).fill_null(0).cast(pl.Int64))
        .drop("_row")
    )


def daily_penalty(base: pl.Expr, rate_num: pl.Expr, rounding: pl.Expr) -> pl.Expr:
    """One day's penalty on `base` minor units: base × rate / 365, rounded by the product's rule
    (0 half-up, 1 half-even, 2 down), in exact integer arithmetic."""
    num = base.cast(pl.Int128) * rate_num.cast(pl.Int128)
    den = 365 * RATE_SCALE
    down = num // den
    rest = num - down * den
    half_up = (2 * num + den) // (2 * den)
    half_even = down + pl.when(2 * rest > den).then(1).when(
        (2 * rest == den) & (down % 2 == 1)
    ).then(1).otherwise(0)
    return (
        pl.when(rounding == 0)
        .then(half_up)
        .when(rounding == 1)
        .then(half_even)
        .otherwise(down)
        .cast(pl.Int64)
    )


def _step(book: Book, state: State, targets: pl.DataFrame, as_of: date) -> State:
    """Move the `targets` loans (loan_id, target) from their state date to their target date:
    accrue penalty over the gap, then apply the day's payments and any credit held."""
    params = book.loans.select(
        "loan_id", "penalty_num", "rounding", "penalty_on_interest", "written_off_on", "tolerance"
    )
    moving = targets.join(state.loans.select("loan_id", "state_date"), on="loan_id").join(
        params, on="loan_id"
    )
    # 1. Penalty accrual over (state_date, target] for instalments already past due.
    rows = state.open.join(moving, on="loan_id", how="inner")
    stop = pl.min_horizontal(pl.col("target"), pl.col("written_off_on").fill_null(pl.col("target")))
    rows = rows.with_columns(
        start=pl.max_horizontal(pl.col("due_on"), pl.col("state_date")), stop=stop
    )
    rows = _with_paused(rows, book.pauses, "start", "stop", "paused")
    base = pl.col("principal") + pl.when(pl.col("penalty_on_interest")).then(
        pl.col("interest")
    ).otherwise(0)
    daily = daily_penalty(base, pl.col("penalty_num"), pl.col("rounding"))
    days = (
        pl.when(pl.col("stop") > pl.col("start"))
        .then((pl.col("stop") - pl.col("start")).dt.total_days() - pl.col("paused"))
        .otherwise(0)
    )
    rows = rows.with_columns(daily=daily, accrue=daily * days)
    # The business date's own accrual (the snapshot's "penalty accrued for the day").
    last_day = rows.filter((pl.col("target") == as_of) & (pl.col("due_on") < pl.col("target")))
    last_day = _with_paused(
        last_day.with_columns(day_before=pl.col("target") - DAY),
        book.pauses,
        "day_before",
        "target",
        "paused_today",
    )
    today = (
        last_day.filter(
            (pl.col("paused_today") == 0)
            & (pl.col("written_off_on").is_null() | (pl.col("target") <= pl.col("written_off_on")))
        )
        .group_by("loan_id")
        .agg(penalty_today=pl.col("daily").sum())
    )
    rows = rows.with_columns(penalty=pl.col("penalty") + pl.col("accrue"))

    # 2. The day's payments plus credit held, spread in the product's order.
    paid_today = (
        book.payments.join(targets, on="loan_id")
        .filter(pl.col("paid_on") == pl.col("target"))
        .group_by("loan_id")
        .agg(paid=pl.col("amount").sum())
    )
    money = (
        targets.join(state.loans.select("loan_id", "credit"), on="loan_id")
        .join(paid_today, on="loan_id", how="left")
        .select("loan_id", amount=pl.col("credit") + pl.col("paid").fill_null(0))
    )
    payers = money.filter(pl.col("amount") > 0)
    allocated, leftover = _allocate(book, rows, payers)
    rows = rows.join(allocated, on=["loan_id", "seq"], how="left").with_columns(
        *[(pl.col(c) - pl.col(f"paid_{c}").fill_null(0)).alias(c) for c in OWED]
    )
    unpaid = pl.col("principal") + pl.col("interest") + pl.col("fee")
    rows = rows.with_columns(
        settled_on=pl.when(pl.col("settled_on").is_null() & (unpaid <= pl.col("tolerance")))
        .then(pl.col("target"))
        .otherwise(pl.col("settled_on"))
    )
    moved = rows.select(state.open.columns)
    untouched = state.open.join(targets.select("loan_id"), on="loan_id", how="anti")
    open_ = pl.concat([untouched, moved])

    loans = (
        state.loans.join(targets, on="loan_id", how="left")
        .join(money.select("loan_id", "amount"), on="loan_id", how="left")
        .join(leftover, on="loan_id", how="left")
        .join(today, on="loan_id", how="left")
        .with_columns(
            credit=pl.when(pl.col("target").is_null())
            .then(pl.col("credit"))
            .otherwise(pl.col("left").fill_null(pl.col("amount").fill_null(0))),
            penalty_today=pl.when(pl.col("target") == as_of)
            .then(pl.col("penalty_today_right").fill_null(0))
            .otherwise(pl.col("penalty_today")),
            state_date=pl.col("target").fill_null(pl.col("state_date")),
        )
        .select(state.loans.columns)
    )
    return _close_paid(State(open=open_, closed=state.closed, loans=loans))


def _allocate(
    book: Book, rows: pl.DataFrame, payers: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spread each payer's amount over its instalments: what is due first (oldest first, in the
    product's component order, horizontally or vertically), then — for products that say so —
    future instalments in order. Returns paid amounts per (loan, seq) and the amount left."""
    if payers.is_empty():
        empty = pl.DataFrame(
            schema={"loan_id": pl.String, "seq": pl.Int64, **{f"paid_{c}": pl.Int64 for c in OWED}}
        )
        return empty, pl.DataFrame(schema={"loan_id": pl.String, "left": pl.Int64})
    ranks = book.loans.select("loan_id", "vertical", "overpay_future", *[f"rank_{c}" for c in OWED])
    items = (
        rows.join(payers, on="loan_id")
        .join(ranks, on="loan_id")
        .with_columns(due=pl.col("due_on") <= pl.col("target"))
        .filter(pl.col("due") | pl.col("overpay_future"))
        .unpivot(
            index=["loan_id", "seq", "due", "vertical", "amount", *[f"rank_{c}" for c in OWED]],
            on=list(OWED),
            variable_name="component",
            value_name="owed",
        )
        .filter(pl.col("owed") > 0)
        .with_columns(
            rank=pl.coalesce(
                *[pl.when(pl.col("component") == c).then(pl.col(f"rank_{c}")) for c in OWED]
            )
        )
        .with_columns(
            key=pl.when(~pl.col("due"))
            .then(10**9 + pl.col("seq") * 10 + pl.col("rank"))
            .when(pl.col("vertical"))
            .then(pl.col("rank") * 10**6 + pl.col("seq"))
            .otherwise(pl.col("seq") * 10 + pl.col("rank"))
        )
        .sort("loan_id", "key")
        .with_columns(before=pl.col("owed").cum_sum().over("loan_id") - pl.col("owed"))
        .with_columns(
            paid=pl.min_horizontal(
                pl.col("owed"), pl.max_horizontal(pl.col("amount") - pl.col("before"), 0)
            )
        )
    )
    spent = items.group_by("loan_id").agg(spent=pl.col("paid").sum())
    leftover = payers.join(spent, on="loan_id", how="left").select(
        "loan_id", left=pl.col("amount") - pl.col("spent").fill_null(0)
    )
    paid = items.filter(pl.col("paid") > 0).pivot(
        on="component", index=["loan_id", "seq"], values="paid", aggregate_function="sum"
    )
    for c in OWED:
        if c not in paid.columns:
            paid = paid.with_columns(pl.lit(0, pl.Int64).alias(c))
    paid = paid.select("loan_id", "seq", *[pl.col(c).fill_null(0).alias(f"paid_{c}") for c in OWED])
    return paid, leftover
