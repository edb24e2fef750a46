"""The collection card's characteristics from case and contact history (催收行为特征), as of a
date, without looking ahead.

What a collector did and heard before the observation date says much about whether a
delinquent account cures: how often the borrower was tried and reached, what they promised and
whether they kept it, how long the case has sat in its stage, whether the debt is disputed or
the borrower pleaded hardship. `case_features(cases, as_of)` builds one row per loan that was in
a collection case on or before `as_of`, from frames only (no database, no clock).

**No leakage.** Every fact is dated, and only facts dated on or before `as_of` (the close of that
business day, the same moment the snapshot features describe) are used:

| fact | its date |
| --- | --- |
| a loan's case | `case_loans.added_on`, the case's `opened_on` / `closed_on` |
| a contact | the UTC day of `case_contacts.at` (the performance figures count UTC days too) |
| a promise made | `made_on`; kept / broken only once `resolved_on` ≤ `as_of` — a promise broken later was still pending on `as_of` |
| a dispute | open on `as_of` if `opened_on` ≤ `as_of` and not resolved by then |
| hardship | a hardship request made (UTC day of `approvals.made_at`) or a contact outcome `hardship` on or before `as_of` |
| the stage | the newest `case.opened` / `case.stage_changed` event whose business date ≤ `as_of` |

Counts are 0 for a loan with no case (no one tried); rates and "days since" are null there (their
own bin: unknown is not zero). `has_case` says which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from sqlalchemy import Connection

from arrears.collection.work import RIGHT_PARTY
from arrears.store.bulk import read_frame

LINK_SCHEMA = {"loan_id": pl.String, "case_id": pl.String, "added_on": pl.Date}
CASE_SCHEMA = {"case_id": pl.String, "opened_on": pl.Date, "closed_on": pl.Date}
CONTACT_SCHEMA = {
    "case_id": pl.String,
    "day": pl.Date,
    "seq": pl.Int64,  # the contact id: orders contacts of one day
    "direction": pl.String,
    "party": pl.String,
    "outcome": pl.String,
    "sent": pl.Boolean,
}
_CONTACT_READ = {**CONTACT_SCHEMA, "sent": pl.Int8}  # PostgreSQL's CSV spells booleans t/f
PROMISE_SCHEMA = {
    "case_id": pl.String,
    "made_on": pl.Date,
    "state": pl.String,
    "resolved_on": pl.Date,
}
DISPUTE_SCHEMA = {"case_id": pl.String, "opened_on": pl.Date, "resolved_on": pl.Date}
HARDSHIP_SCHEMA = {"case_id": pl.String, "day": pl.Date}
STAGE_SCHEMA = {"case_id": pl.String, "day": pl.Date, "seq": pl.Int64, "stage": pl.String}

CASE_FEATURES = (
    "has_case",
    "case_stage",
    "days_in_stage",
    "attempts_7d",
    "attempts_30d",
    "rpc_7d",
    "rpc_30d",
    "rpc_rate_30d",
    "promises_made",
    "promises_kept",
    "promises_broken",
    "promise_pending",
    "days_since_contact",
    "last_outcome",
    "dispute_open",
    "hardship",
)
CATEGORICAL = ("case_stage", "last_outcome")


@dataclass(frozen=True)
class CaseHistory:
    links: pl.DataFrame  # LINK_SCHEMA: which loans were in which case, from when
    cases: pl.DataFrame  # CASE_SCHEMA
    contacts: pl.DataFrame  # CONTACT_SCHEMA
    promises: pl.DataFrame  # PROMISE_SCHEMA
    disputes: pl.DataFrame  # DISPUTE_SCHEMA
    hardship: pl.DataFrame  # HARDSHIP_SCHEMA: the days hardship was asked for
    stages: pl.DataFrame  # STAGE_SCHEMA: stage entered on `day` (from the event log)

    @property
    def empty(self) -> bool:
        return self.links.height == 0

    @classmethod
    def none(cls) -> CaseHistory:
        return cls(
            *(
                pl.DataFrame(schema=s)
                for s in (
                    LINK_SCHEMA, CASE_SCHEMA, CONTACT_SCHEMA, PROMISE_SCHEMA, DISPUTE_SCHEMA,
                    HARDSHIP_SCHEMA, STAGE_SCHEMA,
                )
            )
        )  # fmt: skip


def _utc_day(conn: Connection, column: str) -> str:
    # The UTC calendar day of a timestamp, as the database spells it.
    if conn.dialect.name == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"
    return f"date({column})"


def read_case_history(conn: Connection) -> CaseHistory:
    """The collection module's history, one bulk query per table."""
    payload = "CAST(payload AS TEXT)"
    stages = read_frame(
        conn,
        f"SELECT type, seq, {payload} FROM events "
        "WHERE type IN ('case.opened', 'case.stage_changed')",
        {"type": pl.String, "seq": pl.Int64, "payload": pl.String},
    )
    # the business date and stage are in the payload (occurred_at is the wall clock of the run)
    stages = stages.select(
        pl.col("payload").str.json_path_match("$.case_id").alias("case_id"),
        pl.col("payload").str.json_path_match("$.as_of").str.to_date("%Y-%m-%d").alias("day"),
        "seq",
        pl.when(pl.col("type") == "case.opened")
        .then(pl.col("payload").str.json_path_match("$.stage"))
        .otherwise(pl.col("payload").str.json_path_match("$.to_stage"))
        .alias("stage"),
    )
    return CaseHistory(
        links=read_frame(conn, "SELECT loan_id, case_id, added_on FROM case_loans", LINK_SCHEMA),
        cases=read_frame(
            conn, "SELECT case_id, opened_on, closed_on FROM collection_cases", CASE_SCHEMA
        ),
        contacts=read_frame(
            conn,
            f"SELECT case_id, {_utc_day(conn, 'at')}, contact_id, direction, party, outcome, "
            "CAST(sent AS INTEGER) FROM case_contacts",
            _CONTACT_READ,
        ).with_columns(pl.col("sent").cast(pl.Boolean)),
        promises=read_frame(
            conn, "SELECT case_id, made_on, state, resolved_on FROM promises", PROMISE_SCHEMA
        ),
        disputes=read_frame(
            conn, "SELECT case_id, opened_on, resolved_on FROM disputes", DISPUTE_SCHEMA
        ),
        hardship=read_frame(
            conn,
            f"SELECT case_id, {_utc_day(conn, 'made_at')} FROM approvals WHERE kind = 'hardship'",
            HARDSHIP_SCHEMA,
        ),
        stages=stages,
    )


def case_features(history: CaseHistory, loan_ids: pl.Series, as_of: date) -> pl.DataFrame:
    """One row per loan of `loan_ids` with the `CASE_FEATURES` as of the close of `as_of`."""
    loans = pl.DataFrame({"loan_id": loan_ids.unique()})
    # the cases each loan had joined by `as_of`, and which of them was open on it
    cases = history.cases.filter(pl.col("opened_on") <= as_of)
    links = (
        history.links.filter(pl.col("added_on") <= as_of)
        .join(cases, on="case_id")
        .join(loans, on="loan_id")
        .select("loan_id", "case_id", "closed_on")
    )
    is_open = pl.col("closed_on").is_null() | (pl.col("closed_on") > as_of)
    has_case = links.group_by("loan_id").agg(is_open.any().cast(pl.Int8).alias("has_case"))
    pairs = links.select("loan_id", "case_id")

    contacts = (
        history.contacts.filter(pl.col("day") <= as_of)
        .join(pairs, on="case_id")
        .sort("day", "seq")  # a group keeps its rows' order: `last` is the newest contact
    )
    sent, outbound = pl.col("sent"), pl.col("direction") == "outbound"
    rpc = sent & (pl.col("party") == "debtor") & pl.col("outcome").is_in(RIGHT_PARTY)
    week = pl.col("day") > as_of - timedelta(days=7)
    month = pl.col("day") > as_of - timedelta(days=30)
    talked = contacts.group_by("loan_id").agg(
        (sent & outbound & week).sum().cast(pl.Int64).alias("attempts_7d"),
        (sent & outbound & month).sum().cast(pl.Int64).alias("attempts_30d"),
        (rpc & week).sum().cast(pl.Int64).alias("rpc_7d"),
        (rpc & month).sum().cast(pl.Int64).alias("rpc_30d"),
        pl.col("day").filter(sent).max().alias("_last_day"),
        pl.col("outcome").fill_null("none").filter(sent).last().alias("last_outcome"),
        (pl.col("outcome") == "hardship").any().alias("_hardship_said"),
    )

    promises = history.promises.filter(pl.col("made_on") <= as_of).join(pairs, on="case_id")
    settled = pl.col("resolved_on").is_not_null() & (pl.col("resolved_on") <= as_of)
    promised = promises.group_by("loan_id").agg(
        pl.len().cast(pl.Int64).alias("promises_made"),
        ((pl.col("state") == "kept") & settled).sum().cast(pl.Int64).alias("promises_kept"),
        ((pl.col("state") == "broken") & settled).sum().cast(pl.Int64).alias("promises_broken"),
        (~settled).any().cast(pl.Int8).alias("promise_pending"),
    )

    open_dispute = (
        history.disputes.filter(
            (pl.col("opened_on") <= as_of)
            & (pl.col("resolved_on").is_null() | (pl.col("resolved_on") > as_of))
        )
        .join(pairs, on="case_id")
        .select("loan_id")
        .unique()
        .with_columns(pl.lit(1, pl.Int8).alias("dispute_open"))
    )
    asked = (
        history.hardship.filter(pl.col("day") <= as_of)
        .join(pairs, on="case_id")
        .select("loan_id")
        .unique()
        .with_columns(pl.lit(True).alias("_hardship_asked"))
    )
    # the stage of the loan's case open on `as_of`: its newest stage event up to that day
    open_pairs = links.filter(is_open).select("loan_id", "case_id")
    stage = (
        history.stages.filter(pl.col("day") <= as_of)
        .join(open_pairs, on="case_id")
        .sort("day", "seq")
        .group_by("loan_id")
        .agg(pl.col("stage").last().alias("case_stage"), pl.col("day").last().alias("_since"))
    )

    out = (
        loans.join(has_case, on="loan_id", how="left")
        .join(talked, on="loan_id", how="left")
        .join(promised, on="loan_id", how="left")
        .join(open_dispute, on="loan_id", how="left")
        .join(asked, on="loan_id", how="left")
        .join(stage, on="loan_id", how="left")
    )
    counts = [
        "attempts_7d", "attempts_30d", "rpc_7d", "rpc_30d",
        "promises_made", "promises_kept", "promises_broken",
    ]  # fmt: skip
    return out.with_columns(
        pl.col("has_case").fill_null(0),
        *(pl.col(c).fill_null(0) for c in counts),
        pl.col("promise_pending").fill_null(0),
        pl.col("dispute_open").fill_null(0),
        (pl.col("_hardship_said").fill_null(False) | pl.col("_hardship_asked").fill_null(False))
        .cast(pl.Int8)
        .alias("hardship"),
        # no attempt in the window: the rate is unknown, not zero
        pl.when(pl.col("attempts_30d").fill_null(0) > 0)
        .then(pl.col("rpc_30d").fill_null(0) / pl.col("attempts_30d"))
        .otherwise(None)
        .alias("rpc_rate_30d"),
        (pl.lit(as_of) - pl.col("_last_day")).dt.total_days().alias("days_since_contact"),
        (pl.lit(as_of) - pl.col("_since")).dt.total_days().alias("days_in_stage"),
        pl.col("case_stage").fill_null("none"),
        pl.col("last_outcome").fill_null("none"),
    ).select("loan_id", *CASE_FEATURES)
