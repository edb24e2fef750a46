"""The promise rule on columns (`judge_promises`) against a plain reading of it, for random
batches and payments: kept = the payments from the day the batch was made up to the promise's
date + grace cover the batch's amounts up to it; broken once that day has passed; else pending."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.collection.update import judge_promises

START = date(2026, 1, 1)


def plain(promises, payments, as_of):
    out = {}
    owed = 0
    for p in sorted(promises, key=lambda p: p["due_on"]):
        owed += p["amount"]
        deadline = p["due_on"] + timedelta(days=p["grace_days"])
        paid = sum(amount for day, amount in payments if START <= day <= min(deadline, as_of))
        out[p["promise_id"]] = (
            "kept" if paid >= owed else "broken" if as_of > deadline else "pending"
        )
    return out


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(1, 20), min_size=1, max_size=4),
    amounts=st.lists(st.integers(1, 50_000), min_size=4, max_size=4),
    payments=st.lists(st.tuples(st.integers(-3, 60), st.integers(1, 60_000)), max_size=6),
    grace=st.integers(0, 3),
    day=st.integers(0, 90),
)
def test_columns_agree_with_the_plain_rule(gaps, amounts, payments, grace, day):
    due, promises = START, []
    for i, gap in enumerate(gaps):
        due += timedelta(days=gap)
        promises.append(
            {
                "promise_id": f"P{i}",
                "case_id": "C1",
                "batch": "B1",
                "amount": amounts[i],
                "due_on": due,
                "made_on": START,
                "grace_days": grace,
                "state": "pending",
            }
        )
    paid = [(START + timedelta(days=d), a) for d, a in payments]
    as_of = START + timedelta(days=day)
    frame = pl.DataFrame(promises)
    pays = pl.DataFrame(
        {
            "case_id": ["C1"] * len(paid),
            "paid_on": [d for d, _ in paid],
            "amount": [a for _, a in paid],
        },
        schema={"case_id": pl.String, "paid_on": pl.Date, "amount": pl.Int64},
    )
    judged = judge_promises(frame, pays, as_of)
    got = dict(zip(judged["promise_id"], judged["state"], strict=True))
    assert got == plain(promises, paid, as_of)
