"""Repayment behaviour, drawn per instalment on columns: on time, late then cured, partial then
cured, roll forward to default (stop paying), prepayment; Spring Festival seasonality and an
optional stress month. See docs/simulator.md for the formulas."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from arrears.sim.portfolio import day_of_month, month_index

# Outcome codes of an instalment.
ON_TIME, LATE, PARTIAL, DEFAULT, PREPAY, NOT_PAID = 0, 1, 2, 3, 4, 5
OUTCOMES = ("on_time", "late", "partial", "default", "prepay", "not_paid")
MAX_LATE_DAYS = 27  # a cure always lands before the next monthly due date
FESTIVAL_LATE = 2.5  # late-payment odds multiplier for instalments due 20 Jan – end of Feb
FESTIVAL_HAZARD = 1.25
STRESS_HAZARD = 3.0
PREPAY_SHARE = {"consumer": 0.10, "card": 0.04, "sme": 0.08, "supply_chain": 0.0, "project": 0.05}


@dataclass
class Behaviour:
    payments: pl.DataFrame  # loan_idx, paid_on (days), amount (minor units)
    instalments: pl.DataFrame  # loan_idx, seq, due_on, total, outcome, festival
    loans: pl.DataFrame  # loan_idx, defaulted, default_due (days or null), behaviour


def _any_per_loan(owner: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(owner[mask], minlength=n) > 0


def festival(days: np.ndarray) -> np.ndarray:
    """Due around the Spring Festival: 20 January to the end of February."""
    month = month_index(days) % 12 + 1
    return ((month == 1) & (day_of_month(days) >= 20)) | (month == 2)


def simulate_payments(
    rng: np.random.Generator,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    penalty_rate: np.ndarray,
    end_days: int,
    stress_month: int | None,
) -> Behaviour:
    """`loans`: loan_idx (0…n−1), pd12, product, disbursed_on (days). `instalments`: loan_idx,
    seq, due_on (days), total — sorted by loan_idx, seq. `penalty_rate` per loan: the applied
    annual penalty rate, to size what a late payer adds so that the penalty is covered."""
    n = loans.height
    pd12 = loans.get_column("pd12").to_numpy()
    product = loans.get_column("product").to_numpy()
    disbursed = loans.get_column("disbursed_on").to_numpy().astype(np.int64)
    owner = instalments.get_column("loan_idx").to_numpy()
    seq = instalments.get_column("seq").to_numpy()
    due = instalments.get_column("due_on").to_numpy().astype(np.int64)
    total = instalments.get_column("total").to_numpy()
    rows = owner.size
    counts = np.bincount(owner, minlength=n)
    first_row = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=first_row[1:])
    prev_due = np.where(seq == 1, disbursed[owner], np.roll(due, 1))
    period = np.maximum(due - prev_due, 1)
    fest = festival(due)
    p = pd12[owner]

    # Default: a hazard per instalment period from the 12-month PD, seasonal and stressed.
    hazard = 1.0 - (1.0 - p) ** (period / 365.0)
    hazard = hazard * np.where(fest, FESTIVAL_HAZARD, 1.0)
    if stress_month is not None:
        hazard = hazard * np.where(month_index(due) >= stress_month, STRESS_HAZARD, 1.0)
    trigger = rng.random(rows) < np.minimum(hazard, 0.95)
    big = np.iinfo(np.int64).max
    default_seq = np.full(n, big, dtype=np.int64)
    hit = np.flatnonzero(trigger)  # rows are sorted by loan then seq: the first hit per loan
    first_hit = hit[np.r_[True, owner[hit][1:] != owner[hit][:-1]]] if hit.size else hit
    default_seq[owner[first_hit]] = seq[first_hit]

    # Prepayment: some loans pay everything left on one due date (no interest rebate).
    share = pl.Series(product).replace_strict(PREPAY_SHARE, return_dtype=pl.Float64).to_numpy()
    share = share * (1.0 - np.minimum(pd12 * 5.0, 0.8))
    can = counts >= 3
    prepay_seq = np.where(
        can & (rng.random(n) < share),
        2 + np.floor(rng.random(n) * np.maximum(counts - 2, 1)).astype(np.int64),
        big,
    )
    prepay_seq = np.where(prepay_seq < default_seq, prepay_seq, big)
    stop = np.minimum(default_seq, prepay_seq)

    # Instalment outcomes before the stop.
    p_late = np.minimum(0.5, 0.02 + 1.2 * p) * np.where(fest, FESTIVAL_LATE, 1.0)
    p_partial = np.minimum(0.2, 0.01 + 0.4 * p)
    u = rng.random(rows)
    outcome = np.where(u < p_late, LATE, np.where(u < p_late + p_partial, PARTIAL, ON_TIME))
    outcome = np.where(
        seq == stop[owner], np.where(seq == default_seq[owner], DEFAULT, PREPAY), outcome
    )
    outcome = np.where(seq > stop[owner], NOT_PAID, outcome)

    late_days = np.where(
        fest,
        8 + np.floor(rng.random(rows) * (MAX_LATE_DAYS - 7)),
        1 + np.floor(rng.random(rows) ** 2 * 15),
    ).astype(np.int64)
    # A cure lands before the loan's next due date.
    last_of_loan = seq == counts[owner]
    next_period = np.where(last_of_loan, MAX_LATE_DAYS + 1, np.roll(period, -1))
    late_days = np.minimum(np.minimum(late_days, np.maximum(next_period - 1, 1)), MAX_LATE_DAYS)
    early = np.where(rng.random(rows) < 0.7, 0, rng.integers(1, 4, rows))
    fraction = 0.3 + 0.5 * rng.random(rows)
    # What a late payer adds: the most penalty the instalment can accrue in `late_days` days
    # (base ≤ the instalment, at most one minor unit of rounding a day), plus one.
    buffer = np.ceil(total * penalty_rate[owner] * late_days / 365.0).astype(np.int64)
    buffer = buffer + late_days + 1
    # The scheduled total from each row to the loan's end (what a prepayment pays).
    tail = np.append(np.cumsum(total[::-1])[::-1], 0)
    remaining = tail[:-1] - tail[first_row[1:][owner]]

    first_amount = np.select(
        [
            outcome == ON_TIME,
            outcome == LATE,
            outcome == PARTIAL,
            outcome == DEFAULT,
            outcome == PREPAY,
        ],
        [
            total,
            total + buffer,
            np.maximum((total * fraction).astype(np.int64), 1),
            np.where(rng.random(rows) < 0.4, (total * (fraction - 0.1)).astype(np.int64), 0),
            remaining,
        ],
        0,
    )
    first_day = np.select(
        [outcome == LATE, outcome == DEFAULT],
        [due + late_days, due + np.floor(rng.random(rows) * 10).astype(np.int64)],
        due - early,
    )
    second_amount = np.where(outcome == PARTIAL, total - first_amount + buffer, 0)
    second_day = due + late_days

    amount = np.concatenate([first_amount, second_amount])
    day = np.concatenate([first_day, second_day])
    loan = np.concatenate([owner, owner])
    row = np.concatenate([np.arange(rows), np.arange(rows)])
    part = np.concatenate([np.zeros(rows, np.int64), np.ones(rows, np.int64)])
    day = np.maximum(day, disbursed[loan])
    keep = (amount > 0) & (day <= end_days)
    order = np.lexsort((part[keep], row[keep], day[keep], loan[keep]))
    payments = pl.DataFrame(
        {
            "loan_idx": loan[keep][order],
            "paid_on": day[keep][order],
            "amount": amount[keep][order],
        }
    )

    # Truth per loan: defaulted = stopped paying on an instalment due before the end.
    default_row = np.where(default_seq < big, first_row[:-1] + default_seq - 1, 0)
    default_due = np.where(default_seq < big, due[np.minimum(default_row, rows - 1)], -1)
    defaulted = (default_seq < big) & (default_seq == stop) & (default_due < end_days)
    observed = due <= end_days
    irregular = _any_per_loan(owner, observed & ((outcome == LATE) | (outcome == PARTIAL)), n)
    prepaid = _any_per_loan(owner, (outcome == PREPAY) & (first_day <= end_days), n)
    label = np.where(
        defaulted,
        "defaulted",
        np.where(prepaid, "prepaid", np.where(irregular, "late_cure", "on_time")),
    )
    return Behaviour(
        payments=payments,
        instalments=pl.DataFrame(
            {
                "loan_idx": owner,
                "seq": seq,
                "due_on": due,
                "total": total,
                "outcome": outcome,
                "festival": fest,
            }
        ),
        loans=pl.DataFrame(
            {
                "loan_idx": np.arange(n),
                "defaulted": defaulted,
                "default_due": np.where(defaulted, default_due, -1),
                "behaviour": label,
            }
        ),
    )
