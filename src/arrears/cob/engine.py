"""The column engine: the replay of `loans.allocation` for every loan at once.

The single-loan replay walks one loan from event to event (a payment, a due date, the business
date); between two events nothing changes but penalty interest, which grows by the same rounded
amount every day. This engine does the same walk for the whole book, vectorised across loans: at
step *r* every loan moves to its own *r*-th event date. A daily close is the same walk with one
step (yesterday's state → today), a full rebuild starts from the schedule.

State is kept per open instalment (anything still owed, penalty included) and per loan (the date
the state holds for, credit held, the day's penalty). Instalments that are paid in full never
change again and leave the working set; only restructured loans keep them (in `closed`), because
only their observation period looks back at when each instalment was settled.

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
    closed: pl.DataFrame  # loan_id, seq, due_on, settled_on: paid in full (restructured loans)
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
            .then(pl.lit(ALWAYS_SETTLED))
            .otherwise(pl.lit(None, pl.Date)),
        )
        .select("loan_id", "seq", "due_on", "principal", "interest", "fee", "penalty", "settled_on")
        .sort("loan_id", "seq")  # the engine relies on each loan's rows being in seq order
    )
    loans = book.loans.select(
        "loan_id",
        state_date=pl.col("disbursed_on") - DAY,
        credit=pl.lit(0, pl.Int64),
        penalty_today=pl.lit(0, pl.Int64),
    )
    return _close_paid(State(open=open_, closed=_empty_closed(), loans=loans), _history(book))


def _empty_closed() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"loan_id": pl.String, "seq": pl.Int64, "due_on": pl.Date, "settled_on": pl.Date}
    )


def _history(book: Book) -> pl.Expr:
    """Rows whose settled instalments are kept: those of restructured loans."""
    ids = book.loans.filter(pl.col("restructured_on").is_not_null()).get_column("loan_id")
    return pl.col("loan_id").is_in(ids.implode())


def _settled(rows: pl.DataFrame, keep: pl.Expr) -> pl.DataFrame:
    """The paid-in-full rows of `rows` worth keeping (see `_history`)."""
    return rows.filter((pl.sum_horizontal(*OWED) == 0) & keep).select(
        "loan_id", "seq", "due_on", "settled_on"
    )


def _close_paid(state: State, keep: pl.Expr) -> State:
    """Move instalments with nothing owed out of the working set."""
    owed = pl.sum_horizontal(*OWED)
    return replace(
        state,
        open=state.open.filter(owed != 0),
        closed=pl.concat([state.closed, _settled(state.open, keep)]),
    )


# --- walking forward -----------------------------------------------------------------------


def advance(book: Book, state: State, as_of: date) -> State:
    """Move every disbursed loan whose state is before `as_of` to the end of `as_of`.

    Inside, a loan's open instalments are split into *current* ones (due on or before the date
    reached so far), *future* ones falling due by `as_of`, and *later* ones. Only current
    instalments accrue penalty and take payments, so each step works on a few rows per loan; a
    future instalment joins the current ones at the step whose date is its due date (every due
    date is an event). Later instalments only take part when money is paid ahead.
    """
    movers = (
        state.loans.join(book.loans.select("loan_id", "disbursed_on"), on="loan_id")
        .filter((pl.col("state_date") < as_of) & (pl.col("disbursed_on") <= as_of))
        .select("loan_id")
    )
    if movers.is_empty():
        return state
    everyone = movers.height == state.loans.height  # a daily close moves the whole book
    moving = (
        pl.lit(True)
        if everyone
        else pl.col("loan_id").is_in(movers.get_column("loan_id").implode())
    )
    params = book.loans.select("loan_id", *STEP_PARAMS)
    loans = state.loans.filter(moving).join(params, on="loan_id")
    open_ = state.open.filter(moving)
    events = _event_dates(book, loans, open_, as_of)
    loans = loans.join(events.group_by("loan_id").agg(last_rank=pl.col("rank").max()), on="loan_id")
    later = open_.filter(pl.col("due_on") > as_of)
    open_ = open_.filter(pl.col("due_on") <= as_of)
    dates = loans.get_column("state_date")
    if dates.n_unique() == 1:  # the usual case: the whole book closed the same day before
        reached = pl.lit(dates[0])
    else:
        open_ = open_.join(loans.select("loan_id", "state_date"), on="loan_id")
        reached = pl.col("state_date")
    current = open_.filter(pl.col("due_on") <= reached).select(later.columns).sort("loan_id", "seq")
    future = (
        open_.filter(pl.col("due_on") > reached)
        .select(later.columns)
        .join(
            events.select("loan_id", due_on="target", due_rank="rank"),
            on=["loan_id", "due_on"],
            how="left",
        )
    )
    done_open, done_loans, closed = [state.open.filter(~moving), later], [], [state.closed]
    keep = _history(book)
    rank = 0
    while not loans.is_empty():
        arriving = pl.col("due_rank") == rank
        current = pl.concat([current, future.filter(arriving).drop("due_rank")]).sort(
            "loan_id", "seq"
        )
        future = future.filter(~arriving.fill_null(False))
        targets = events.filter(pl.col("rank") == rank).select("loan_id", "target", "paid")
        loans = loans.join(targets, on="loan_id")
        current, loans = _step(book.pauses, current, loans, as_of)
        owed = pl.sum_horizontal(*OWED)
        closed.append(_settled(current, keep))
        current = current.filter(owed != 0)
        ending = loans.filter(pl.col("last_rank") == rank)
        if ending.height == loans.height:  # the last step of every loan still moving
            done_open += [current, future.drop("due_rank")]
            done_loans.append(ending)
            break
        if not ending.is_empty():
            finished = pl.col("loan_id").is_in(ending.get_column("loan_id").implode())
            done_open += [current.filter(finished), future.filter(finished).drop("due_rank")]
            done_loans.append(ending)
            current, future = current.filter(~finished), future.filter(~finished)
            loans = loans.filter(pl.col("last_rank") != rank)
        rank += 1
    columns = state.open.columns
    open_ = pl.concat([frame.select(columns) for frame in done_open])
    moved = pl.concat(done_loans)
    # Money left over by products that apply it to future instalments: during the walk it waits
    # as credit and meets each instalment on its due date (nothing else can be owed meanwhile, so
    # the amounts come out the same); at the end it is applied ahead, as the rule says.
    ahead = moved.filter((pl.col("credit") > 0) & pl.col("overpay_future"))
    if not ahead.is_empty():
        open_, paid_ahead, rest = _pay_ahead(
            open_, ahead.select("loan_id", "tolerance", target=pl.lit(as_of), left="credit"), moved
        )
        owed = pl.sum_horizontal(*OWED)
        closed.append(_settled(paid_ahead, keep))
        open_ = pl.concat([open_, paid_ahead.filter(owed != 0)])
        moved = moved.join(rest, on="loan_id", how="left").with_columns(
            credit=pl.coalesce("rest", "credit")
        )
    moved = moved.select(state.loans.columns)
    return State(
        open=open_,
        closed=pl.concat(closed),
        loans=moved if everyone else pl.concat([state.loans.filter(~moving), moved]),
    )


# Per-loan parameters a step needs, carried with the moving loans.
STEP_PARAMS = (
    "penalty_num",
    "rounding",
    "penalty_on_interest",
    "written_off_on",
    "tolerance",
    "vertical",
    "overpay_future",
    "rank_penalty",
    "rank_fee",
    "rank_interest",
    "rank_principal",
)


def _event_dates(book: Book, loans: pl.DataFrame, open_: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per moving loan, its distinct event dates in (state_date, as_of], ranked, with the money
    received on each."""
    window = (pl.col("day") > pl.col("state_date")) & (pl.col("day") <= as_of)
    dates = loans.select("loan_id", "state_date")
    # A cheap cut on dates first: a daily close looks at one day of a long history.
    earliest = dates.get_column("state_date").min()
    paid = (
        book.payments.filter(pl.col("paid_on") > earliest, pl.col("paid_on") <= as_of)
        .select("loan_id", day="paid_on", amount="amount")
        .join(dates, on="loan_id")
        .filter(window)
        .group_by("loan_id", "day")
        .agg(paid=pl.col("amount").sum())
    )
    due = (
        open_.filter(pl.col("due_on") > earliest, pl.col("due_on") <= as_of)
        .select("loan_id", day="due_on")
        .join(dates, on="loan_id")
        .filter(window)
    )
    end = dates.select("loan_id", day=pl.lit(as_of))
    return (
        pl.concat([paid.select("loan_id", "day"), due.select("loan_id", "day"), end])
        .unique(["loan_id", "day"])
        .join(paid, on=["loan_id", "day"], how="left")
        .with_columns(
            pl.col("paid").fill_null(0),
            rank=pl.col("day").rank("dense").over("loan_id").cast(pl.Int32) - 1,
        )
        .select("loan_id", target="day", rank="rank", paid="paid")
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
        keyed.join(spans, on="_row", how="left", maintain_order="left")
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


def _step(
    pauses: pl.DataFrame, current: pl.DataFrame, loans: pl.DataFrame, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Move `loans` (each with its `target` date and the money `paid` that day) from their state
    date to the target: accrue penalty on their current instalments over the gap, then apply the
    day's money and any credit held to what is due. Returns the current rows and the loans
    (moved), with what is left over held as credit."""
    columns = current.columns
    rows = current.join(
        loans.select("loan_id", "target", "state_date", *STEP_PARAMS),
        on="loan_id",
        how="left",
        maintain_order="left",
    )
    # 1. Penalty accrual over (state_date, target] for instalments already past due.
    stop = pl.min_horizontal(pl.col("target"), pl.col("written_off_on").fill_null(pl.col("target")))
    rows = rows.with_columns(
        start=pl.max_horizontal(pl.col("due_on"), pl.col("state_date")), stop=stop
    )
    rows = _with_paused(rows, pauses, "start", "stop", "paused")
    base = pl.col("principal") + pl.when(pl.col("penalty_on_interest")).then(
        pl.col("interest")
    ).otherwise(0)
    daily = daily_penalty(base, pl.col("penalty_num"), pl.col("rounding"))
    days = (
        pl.when(pl.col("stop") > pl.col("start"))
        .then((pl.col("stop") - pl.col("start")).dt.total_days() - pl.col("paused"))
        .otherwise(0)
    )
    rows = rows.with_columns(daily=daily, accrue=(daily * days).fill_null(0))
    # The business date's own accrual (the snapshot's "penalty accrued for the day").
    last_day = rows.filter((pl.col("target") == as_of) & (pl.col("due_on") < pl.col("target")))
    last_day = _with_paused(
        last_day.with_columns(day_before=pl.col("target") - DAY),
        pauses,
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
        .agg(today=pl.col("daily").sum())
    )
    rows = rows.with_columns(penalty=pl.col("penalty") + pl.col("accrue"))

    # 2. The day's money plus credit held, spread over what is due in the product's order.
    loans = loans.with_columns(amount=pl.col("credit") + pl.col("paid"))
    payers = loans.filter(pl.col("amount") > 0).select("loan_id", "amount")
    rows, left = _allocate(rows, payers, vertical_allowed=True)
    unpaid = pl.col("principal") + pl.col("interest") + pl.col("fee")
    rows = rows.with_columns(
        settled_on=pl.when(pl.col("settled_on").is_null() & (unpaid <= pl.col("tolerance")))
        .then(pl.col("target"))
        .otherwise(pl.col("settled_on"))
    ).select(columns)
    loans = (
        loans.join(left, on="loan_id", how="left")
        .join(today, on="loan_id", how="left")
        .with_columns(
            credit=pl.col("left").fill_null(pl.col("amount")),
            penalty_today=pl.when(pl.col("target") == as_of)
            .then(pl.col("today").fill_null(0))
            .otherwise(pl.col("penalty_today")),
            state_date=pl.col("target"),
        )
    )
    return rows, loans.drop("target", "paid", "amount", "left", "today")


def _pay_ahead(
    future: pl.DataFrame, surplus: pl.DataFrame, loans: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Apply surplus money to future instalments in order (products whose overpayment goes to
    the future). Returns the untouched future rows, the paid-into rows, and the money still left
    per loan (`rest`)."""
    ahead = pl.col("loan_id").is_in(surplus.get_column("loan_id").implode())
    mine = future.filter(ahead).sort("loan_id", "seq")
    if mine.is_empty():
        return future, mine, surplus.select("loan_id", rest="left")
    columns = future.columns
    rows = mine.join(
        loans.select("loan_id", *STEP_PARAMS), on="loan_id", how="left", maintain_order="left"
    ).join(surplus.select("loan_id", "target"), on="loan_id", how="left", maintain_order="left")
    rows, left = _allocate(rows, surplus.select("loan_id", amount="left"), vertical_allowed=False)
    unpaid = pl.col("principal") + pl.col("interest") + pl.col("fee")
    rows = rows.with_columns(
        settled_on=pl.when(pl.col("settled_on").is_null() & (unpaid <= pl.col("tolerance")))
        .then(pl.col("target"))
        .otherwise(pl.col("settled_on"))
    ).select(columns)
    rest = surplus.join(left, on="loan_id", how="left", suffix="_after").select(
        "loan_id", rest=pl.coalesce("left_after", "left")
    )
    return future.filter(~ahead), rows, rest


def _slots(frame_owed: dict[str, pl.Expr]) -> list[pl.Expr]:
    """The owed components of a row in the product's order: slot k is the component of rank k."""
    slots = []
    for k in range(len(OWED)):
        expr = pl.lit(0, pl.Int64)
        for c in OWED:
            expr = pl.when(pl.col(f"rank_{c}") == k).then(frame_owed[c]).otherwise(expr)
        slots.append(expr)
    return slots


def _running(expr: pl.Expr) -> pl.Expr:
    """Cumulative sum within each loan. Rows are grouped by loan and in `seq` order, so a global
    running sum minus its value where the loan starts does it without hashing the loan ids."""
    total = expr.cum_sum()
    return total - pl.when(pl.col("_first")).then(total - expr).otherwise(None).forward_fill()


def _loan_total(expr: pl.Expr) -> pl.Expr:
    """Sum within each loan, on every row of the loan (same grouping as `_running`)."""
    return pl.when(pl.col("_last")).then(_running(expr)).otherwise(None).backward_fill()


def _allocate(
    rows: pl.DataFrame, payers: pl.DataFrame, *, vertical_allowed: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spread each payer's amount over `rows` (a loan's rows together, in `seq` order): oldest
    first in the product's component order, instalment by instalment (horizontal) or — where
    allowed and the product says so — one component across all rows first (vertical). Returns
    the rows with amounts paid off, and what each payer has left.

    A greedy fill in a fixed order is a running total: an item gets what is left of the amount
    after everything before it, capped at what it owes. Rows of a loan are in `seq` order, so the
    running totals are cumulative sums within each loan — no sort, no reshaping.
    """
    columns = rows.columns
    if payers.is_empty():
        return rows, payers.select("loan_id", left="amount")
    loan = pl.col("loan_id")
    rows = rows.join(payers, on="loan_id", how="left", maintain_order="left").with_columns(
        pl.col("amount").fill_null(0),
        _first=(loan != loan.shift(1)).fill_null(True),
        _last=(loan != loan.shift(-1)).fill_null(True),
    )
    n = len(OWED)
    rows = rows.with_columns(
        *[e.alias(f"s{k}") for k, e in enumerate(_slots({c: pl.col(c) for c in OWED}))]
    )
    slot = [pl.col(f"s{k}") for k in range(n)]
    # Horizontal: instalment by instalment, each in slot order.
    total = pl.sum_horizontal(slot)
    rows = rows.with_columns(_reach=(pl.col("amount") - (_running(total) - total)).clip(0))
    reach = pl.col("_reach")
    horizontal = [
        pl.min_horizontal(slot[k], (reach - pl.sum_horizontal(slot[:k]) if k else reach).clip(0))
        for k in range(n)
    ]
    # Vertical: one slot across all due instalments (oldest first), then the next slot.
    rows = rows.with_columns(*[_loan_total(slot[k]).alias(f"t{k}") for k in range(n - 1)])
    vertical = []
    for k in range(n):
        earlier = pl.sum_horizontal([pl.col(f"t{j}") for j in range(k)]) if k else 0
        before = earlier + _running(slot[k]) - slot[k]
        vertical.append(pl.min_horizontal(slot[k], (pl.col("amount") - before).clip(0)))
    rows = rows.with_columns(
        *[
            (pl.when(pl.col("vertical")).then(v).otherwise(h) if vertical_allowed else h).alias(
                f"p{k}"
            )
            for k, (h, v) in enumerate(zip(horizontal, vertical, strict=True))
        ]
    )
    spent = _loan_total(pl.sum_horizontal([pl.col(f"p{k}") for k in range(n)]))
    rows = rows.with_columns(_left=pl.col("amount") - spent)
    left = rows.filter(pl.col("_first")).select("loan_id", left="_left")
    left = payers.join(left, on="loan_id", how="left").select(
        "loan_id", left=pl.col("left").fill_null(pl.col("amount"))
    )
    paid = {
        c: pl.coalesce(*[pl.when(pl.col(f"rank_{c}") == k).then(pl.col(f"p{k}")) for k in range(n)])
        for c in OWED
    }
    rows = rows.with_columns(*[(pl.col(c) - paid[c]).alias(c) for c in OWED])
    return rows.select(columns), left
