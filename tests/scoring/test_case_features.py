"""The C-card's case and contact characteristics: what they count on a history small enough to
follow by hand, that nothing dated after the as-of date changes them (no leakage), and the same
figures read back from a real database (SQLite and PostgreSQL) the collection services wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.scoring import casefeatures as cf
from arrears.scoring import features as f

D = date(2026, 3, 31)


def _frame(rows, schema):
    return pl.DataFrame(rows, schema=schema, orient="row")


def _history(**extra) -> cf.CaseHistory:
    """L1 and L2 share case C1 (opened 03-01), L3 is in C2 (opened 03-20, closed 03-25), L4 has
    no case. Extra rows (by table name) are appended."""
    base = {
        "links": [("L1", "C1", date(2026, 3, 1)), ("L2", "C1", date(2026, 3, 10)),
                  ("L3", "C2", date(2026, 3, 20))],
        "cases": [("C1", date(2026, 3, 1), None), ("C2", date(2026, 3, 20), date(2026, 3, 25))],
        "contacts": [
            ("C1", date(2026, 3, 2), 1, "outbound", "debtor", "no_answer", True),
            ("C1", date(2026, 3, 20), 2, "outbound", "debtor", "promise", True),
            ("C1", date(2026, 3, 28), 3, "outbound", "debtor", "no_answer", True),
            ("C1", date(2026, 3, 29), 4, "outbound", "debtor", None, False),  # blocked
            ("C1", date(2026, 3, 30), 5, "inbound", "debtor", "right_party_contact", True),
            ("C1", date(2026, 3, 30), 6, "outbound", "spouse", "refusal", True),
        ],
        "promises": [
            ("C1", date(2026, 3, 5), "broken", date(2026, 3, 12)),
            ("C1", date(2026, 3, 20), "kept", date(2026, 3, 27)),
            ("C1", date(2026, 3, 30), "pending", None),
        ],
        "disputes": [("C2", date(2026, 3, 21), None)],
        "hardship": [],
        "stages": [("C1", date(2026, 3, 1), 10, "early"), ("C1", date(2026, 3, 16), 20, "mid"),
                   ("C2", date(2026, 3, 20), 30, "early")],
    }  # fmt: skip
    schemas = {
        "links": cf.LINK_SCHEMA, "cases": cf.CASE_SCHEMA, "contacts": cf.CONTACT_SCHEMA,
        "promises": cf.PROMISE_SCHEMA, "disputes": cf.DISPUTE_SCHEMA,
        "hardship": cf.HARDSHIP_SCHEMA, "stages": cf.STAGE_SCHEMA,
    }  # fmt: skip
    frames = {}
    for name, rows in base.items():
        frame = _frame(rows, schemas[name])
        if name in extra:
            frame = pl.concat([frame, _frame(extra[name], schemas[name])])
        frames[name] = frame
    return cf.CaseHistory(**frames)


LOANS = pl.Series(["L1", "L2", "L3", "L4"])


def _rows(history: cf.CaseHistory, day: date = D) -> dict[str, dict]:
    frame = cf.case_features(history, LOANS, day)
    assert frame.columns == ["loan_id", *cf.CASE_FEATURES]
    return {r["loan_id"]: r for r in frame.iter_rows(named=True)}


def test_the_case_history_of_one_loan():
    l1 = _rows(_history())["L1"]
    assert l1["has_case"] == 1
    assert (l1["case_stage"], l1["days_in_stage"]) == ("mid", 15)
    # outbound and sent: 03-02, 03-20, 03-28, 03-30 (to the spouse); the blocked one is no
    # attempt, nor is the borrower's inbound call; 7 days = 03-25 … 03-31
    assert (l1["attempts_7d"], l1["attempts_30d"]) == (2, 4)
    # right-party: the debtor spoke (promise 03-20, inbound 03-30); a spouse's refusal is not RPC
    assert (l1["rpc_7d"], l1["rpc_30d"]) == (1, 2)
    assert l1["rpc_rate_30d"] == 2 / 4
    assert (l1["promises_made"], l1["promises_kept"], l1["promises_broken"]) == (3, 1, 1)
    assert l1["promise_pending"] == 1
    assert (l1["days_since_contact"], l1["last_outcome"]) == (1, "refusal")
    assert (l1["dispute_open"], l1["hardship"]) == (0, 0)
    # L2 joined the same case later: the case's history is its history too
    assert _rows(_history())["L2"]["attempts_30d"] == 4


def test_a_closed_case_and_no_case():
    rows = _rows(_history())
    l3, l4 = rows["L3"], rows["L4"]
    # C2 closed on 03-25: no open case, no current stage, but its dispute is still unresolved
    assert (l3["has_case"], l3["case_stage"], l3["days_in_stage"]) == (0, "none", None)
    assert l3["dispute_open"] == 1
    # no case: nobody tried (counts 0); rates and days-since are unknown (null), not zero
    assert l4["has_case"] == 0 and l4["attempts_30d"] == 0 and l4["promises_made"] == 0
    assert l4["rpc_rate_30d"] is None and l4["days_since_contact"] is None
    assert l4["last_outcome"] == "none"


def test_a_promise_broken_later_was_pending_then():
    history = _history()
    before = _rows(history, date(2026, 3, 10))["L1"]
    assert (before["promises_made"], before["promises_broken"], before["promise_pending"]) == (
        1,
        0,
        1,
    )
    assert _rows(history, date(2026, 3, 12))["L1"]["promises_broken"] == 1


def test_hardship_from_a_request_or_an_outcome():
    asked = _rows(_history(hardship=[("C1", D)]))["L1"]
    said = _rows(_history(contacts=[("C1", D, 9, "outbound", "debtor", "hardship", True)]))["L1"]
    assert asked["hardship"] == 1 and said["hardship"] == 1
    assert said["last_outcome"] == "hardship" and said["rpc_7d"] == 2


# ------------------------------------------------------------------ no leakage

later = st.dates(min_value=D + timedelta(days=1), max_value=D + timedelta(days=90))
cases = st.sampled_from(["C1", "C2", "C9"])
FUTURE = st.fixed_dictionaries(
    {},
    optional={
        "links": st.lists(st.tuples(st.sampled_from(["L1", "L3", "L4"]), cases, later), max_size=3),
        "cases": st.lists(st.tuples(st.just("C9"), later, st.none()), max_size=1),
        "contacts": st.lists(
            st.tuples(
                cases,
                later,
                st.integers(100, 200),
                st.sampled_from(["outbound", "inbound"]),
                st.sampled_from(["debtor", "spouse"]),
                st.sampled_from(["promise", "no_answer", "hardship", "paid", None]),
                st.booleans(),
            ),
            max_size=6,
        ),
        "promises": st.lists(
            st.tuples(cases, later, st.sampled_from(["pending", "kept", "broken"]), st.none()),
            max_size=3,
        ),
        "disputes": st.lists(st.tuples(cases, later, st.none()), max_size=2),
        "hardship": st.lists(st.tuples(cases, later), max_size=2),
        "stages": st.lists(
            st.tuples(cases, later, st.integers(100, 200), st.sampled_from(["late", "legal"])),
            max_size=3,
        ),
    },
)


@settings(max_examples=60, deadline=None)
@given(FUTURE, later)
def test_nothing_after_the_as_of_date_changes_the_characteristics(future, resolved):
    """Whatever happens after D — new contacts, promises, disputes, stage changes, a loan joining
    a case, even the pending promise being broken — the characteristics as of D are the same."""
    history = _history(**future)
    # the promise pending on D is resolved later: its row changes in place, as the table does
    promises = history.promises.with_columns(
        pl.when(pl.col("state") == "pending")
        .then(pl.lit(resolved))
        .otherwise(pl.col("resolved_on"))
        .alias("resolved_on"),
        pl.when(pl.col("state") == "pending")
        .then(pl.lit("broken"))
        .otherwise(pl.col("state"))
        .alias("state"),
    )
    changed = cf.CaseHistory(**{**history.__dict__, "promises": promises})
    assert _rows(changed) == _rows(_history())


def test_the_same_event_on_the_as_of_date_does_count():
    """The control for the test above: the facts it moves past D do matter on D."""
    on_day = _rows(_history(contacts=[("C1", D, 9, "outbound", "debtor", "promise", True)]))
    assert on_day != _rows(_history())


# ------------------------------------------------------------------ from the database

from tests.collection.conftest import book, close  # noqa: E402, F401  (fixtures)


def test_read_from_the_collection_tables_on_every_database(book, close):  # noqa: F811
    from sqlalchemy import select

    from arrears.collection.work import log_contact, open_dispute, record_promise
    from arrears.store.db import unit_of_work
    from arrears.store.tables import CollectionCase

    day = date(2024, 2, 20)
    close(book, day)
    with unit_of_work(book) as s:
        by_borrower = dict(
            s.execute(select(CollectionCase.borrower_id, CollectionCase.case_id)).all()
        )
    c1 = by_borrower["B-1"]
    log_contact(book, c1, "ann", "call", outcome="promise", at=datetime(2024, 2, 20, 2, tzinfo=UTC))
    record_promise(book, c1, "ann", [("100.00", date(2024, 2, 21))], today=day)
    log_contact(
        book, c1, "ann", "call", outcome="no_answer", at=datetime(2024, 2, 21, 2, tzinfo=UTC)
    )
    open_dispute(book, by_borrower["B-2"], "ann", "amount is wrong", today=date(2024, 2, 21))
    close(book, date(2024, 2, 22))
    close(book, date(2024, 2, 24))  # the promise was not paid: broken on the 24th
    # a contact after the last date scored below: must not count
    log_contact(book, c1, "ann", "call", outcome="paid", at=datetime(2024, 2, 25, 2, tzinfo=UTC))

    history = f.read_history(book)
    assert history.cases is not None and not history.cases.empty
    loans = pl.Series(["L-1", "L-2", "L-3", "L-4"])
    on_22 = {r["loan_id"]: r for r in cf.case_features(history.cases, loans, date(2024, 2, 22)).iter_rows(named=True)}  # fmt: skip
    l1 = on_22["L-1"]
    assert l1["has_case"] == 1 and l1["case_stage"] != "none"
    assert (l1["attempts_7d"], l1["rpc_7d"], l1["rpc_rate_30d"]) == (2, 1, 0.5)
    assert (l1["promises_made"], l1["promises_broken"], l1["promise_pending"]) == (1, 0, 1)
    assert (l1["days_since_contact"], l1["last_outcome"]) == (1, "no_answer")
    assert on_22["L-2"]["attempts_7d"] == 2  # same case
    assert on_22["L-3"]["dispute_open"] == 1 and on_22["L-3"]["attempts_7d"] == 0
    on_24 = cf.case_features(history.cases, loans, date(2024, 2, 24)).filter(
        pl.col("loan_id") == "L-1"
    )
    assert on_24.row(0, named=True)["promises_broken"] == 1
    assert on_24.row(0, named=True)["last_outcome"] == "no_answer"  # not the 25th's "paid"

    # the C-card rows carry them beside the snapshot characteristics
    rows = f.collection_frame(history, date(2024, 2, 22), target=False)
    assert set(cf.CASE_FEATURES) <= set(rows.columns)
    assert f.collection_features(history)[-len(cf.CASE_FEATURES) :] == cf.CASE_FEATURES
    assert rows.filter(pl.col("loan_id") == "L-1").get_column("attempts_7d").item() == 2


# ------------------------------------------------------------------ training uses them


def _synthetic_cases(history: f.History, seed: int = 3) -> cf.CaseHistory:
    """One case per loan from its first overdue month-end, and a call three days before each
    overdue month-end whose outcome leans on what the borrower will do (as the simulator's
    collectors' borrowers do: one who will pay promises)."""
    import numpy as np

    snaps = history.snapshots.sort("loan_id", "as_of")
    nxt = snaps.with_columns(
        (pl.col("days_past_due").shift(-1).over("loan_id") == 0).fill_null(False).alias("_cures")
    ).filter(pl.col("days_past_due") > 0)
    first = nxt.group_by("loan_id").agg(pl.col("as_of").min().alias("opened_on"))
    cases = first.select(
        pl.col("loan_id").alias("case_id"), "opened_on", pl.lit(None, pl.Date).alias("closed_on")
    )
    links = first.select(
        "loan_id", pl.col("loan_id").alias("case_id"), pl.col("opened_on").alias("added_on")
    )
    rng = np.random.default_rng(seed)
    draw = rng.random(nxt.height)
    promise = np.where(nxt.get_column("_cures").to_numpy(), draw < 0.7, draw < 0.2)
    contacts = nxt.select(
        pl.col("loan_id").alias("case_id"),
        (pl.col("as_of") - pl.duration(days=3)).alias("day"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("seq"),
        pl.lit("outbound").alias("direction"),
        pl.lit("debtor").alias("party"),
        pl.Series(np.where(promise, "promise", "no_answer")).alias("outcome"),
        pl.lit(True).alias("sent"),
    )
    stages = first.select(
        pl.col("loan_id").alias("case_id"),
        pl.col("opened_on").alias("day"),
        pl.lit(0, pl.Int64).alias("seq"),
        pl.lit("early").alias("stage"),
    )
    none = cf.CaseHistory.none()
    return cf.CaseHistory(
        links.cast(cf.LINK_SCHEMA), cases.cast(cf.CASE_SCHEMA), contacts.cast(cf.CONTACT_SCHEMA),
        none.promises, none.disputes, none.hardship, stages.cast(cf.STAGE_SCHEMA),
    )  # fmt: skip


def test_a_collection_model_trains_on_case_history(sim_book, tmp_path):
    from dataclasses import replace

    from arrears.scoring.service import train_from_history
    from arrears.store.db import make_engine

    engine = make_engine(f"sqlite:///{sim_book / 'arrears.db'}")
    try:
        history = f.read_history(engine)
    finally:
        engine.dispose()
    assert history.cases is not None and history.cases.empty  # the simulated book has no cases
    plain = f.training_frame(history, "collection")
    assert not set(cf.CASE_FEATURES) & set(plain.columns)  # no case anywhere: snapshots only

    with_cases = replace(history, cases=_synthetic_cases(history))
    frame = f.training_frame(with_cases, "collection")
    assert set(cf.CASE_FEATURES) <= set(frame.columns) and frame.height == plain.height
    result = train_from_history(
        None, kind="collection", method="scorecard", out=tmp_path / "c", history=with_cases
    )
    used = [x["name"] for x in result.meta["features"]]
    assert {"rpc_30d", "rpc_7d", "last_outcome"} & set(used), used
    assert result.metrics["validation"]["auc"] > 0.6
