"""The daily case update: after the close of business of a date, open a case for each newly
delinquent borrower, refresh every open case's figures and stage, judge the promises that fell
due, and close the cases whose loans are all cured, settled, paid off or written off.

It reads the date's `status_snapshots` in one query and does all the work on Polars columns;
the writes are bulk (COPY on PostgreSQL) and happen in one transaction with their events
(`case.opened`, `case.stage_changed`, `case.closed`, `promise.kept`, `promise.broken`). A date is
updated once: running it again returns the stored figures; an earlier date than the last one
updated is refused.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Engine, func, select

from arrears.catalog import Catalog
from arrears.collection.common import CollectionRefused, bulk_update
from arrears.collection.policy import StagePolicy, load_policy, stage_index, with_scale
from arrears.store.bulk import Writer, read_frame
from arrears.store.tables import CaseUpdateRun, CollectionCase, StatusSnapshot

# Older first, then larger: DPD dominates, the overdue amount breaks ties (capped so it never
# outweighs one day).
PRIORITY_DPD_WEIGHT = 10_000_000_000

LOAN_SCHEMA = {
    "loan_id": pl.String,
    "borrower_id": pl.String,
    "product": pl.String,
    "currency": pl.String,
    "segment": pl.String,
    "language": pl.String,
    "region": pl.String,
    "status": pl.String,
    "days_past_due": pl.Int32,
    "amount_overdue": pl.Int64,
    "outstanding_principal": pl.Int64,
}
CASE_SCHEMA = {
    "case_id": pl.String,
    "borrower_id": pl.String,
    "status": pl.String,
    "stage": pl.String,
    "stage_override": pl.String,
    "broken_promises": pl.Int32,
    "paused_until": pl.Date,
    "score": pl.Float64,
    "stage_since": pl.Date,
}
PROMISE_SCHEMA = {
    "promise_id": pl.String,
    "case_id": pl.String,
    "batch": pl.String,
    "amount": pl.Int64,
    "due_on": pl.Date,
    "made_on": pl.Date,
    "grace_days": pl.Int32,
    "state": pl.String,
}


@dataclass(frozen=True)
class UpdateResult:
    as_of: date
    opened: int
    updated: int
    closed: int
    stage_changes: int
    promises_kept: int
    promises_broken: int
    seconds: float
    already_done: bool = False

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        return d


# ------------------------------------------------------------------ pure steps on frames


def borrower_figures(loans: pl.DataFrame) -> pl.DataFrame:
    """One row per borrower with at least one delinquent loan (DPD > 0, not written off or paid
    off): worst DPD, total overdue and outstanding, the product of the worst loan."""
    delinquent = loans.filter(
        (pl.col("days_past_due") > 0) & ~pl.col("status").is_in(["written_off", "paid_off"])
    )
    return (
        delinquent.sort(["days_past_due", "loan_id"], descending=[True, False])
        .group_by("borrower_id", maintain_order=True)
        .agg(
            pl.col("days_past_due").max(),
            pl.col("amount_overdue").sum(),
            pl.col("outstanding_principal").sum(),
            pl.len().cast(pl.Int32).alias("loans"),
            pl.col("product").first(),
            pl.col("currency").first(),
            pl.col("segment").first(),
            pl.col("language").first(),
            pl.col("region").first(),
        )
    )


def judge_promises(promises: pl.DataFrame, payments: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Each pending promise's new state on `as_of`: kept when the payments on the case's loans
    from the day the promise was made up to its date + grace cover it (together with the earlier
    promises of the same batch), broken once that day has passed without it, else pending.

    `promises` holds every non-cancelled promise of the batches concerned; `payments` has
    case_id, paid_on, amount. Returns promise_id, case_id, state, paid for the pending ones."""
    if promises.height == 0:
        return pl.DataFrame(
            schema={
                "promise_id": pl.String,
                "case_id": pl.String,
                "state": pl.String,
                "paid": pl.Int64,
            }
        )
    ordered = promises.sort(["batch", "due_on", "promise_id"]).with_columns(
        owed=pl.col("amount").cum_sum().over("batch"),
        deadline=pl.col("due_on") + pl.duration(days=pl.col("grace_days")),
        start=pl.col("made_on").min().over("batch"),
    )
    pending = ordered.filter(pl.col("state") == "pending")
    window = pending.with_columns(until=pl.min_horizontal("deadline", pl.lit(as_of))).join(
        payments, on="case_id", how="left"
    )
    paid = (
        window.with_columns(
            counted=pl.when(
                pl.col("paid_on").is_not_null()
                & (pl.col("paid_on") >= pl.col("start"))
                & (pl.col("paid_on") <= pl.col("until"))
            )
            .then(pl.col("amount_right"))
            .otherwise(0)
        )
        .group_by("promise_id", maintain_order=True)
        .agg(pl.col("counted").sum().alias("paid"))
    )
    return (
        pending.join(paid, on="promise_id", how="left")
        .with_columns(pl.col("paid").fill_null(0).cast(pl.Int64))
        .with_columns(
            state=pl.when(pl.col("paid") >= pl.col("owed"))
            .then(pl.lit("kept"))
            .when(pl.lit(as_of) > pl.col("deadline"))
            .then(pl.lit("broken"))
            .otherwise(pl.lit("pending"))
        )
        .select("promise_id", "case_id", "state", "paid")
    )


def close_reason(case_loans: pl.DataFrame, settled: pl.Series) -> pl.DataFrame:
    """Why each case whose borrower is no longer delinquent closes: `settled` if it has an
    approved or completed settlement, else `written_off` if any of its loans was written off,
    else `paid_off` if every loan is paid off, else `cured`. `case_loans`: case_id, status (the loan's)."""
    return (
        case_loans.group_by("case_id")
        .agg(
            any_written_off=(pl.col("status") == "written_off").any(),
            all_paid_off=(pl.col("status") == "paid_off").all(),
        )
        .with_columns(
            close_reason=pl.when(pl.col("case_id").is_in(settled.implode()))
            .then(pl.lit("settled"))
            .when(pl.col("any_written_off"))
            .then(pl.lit("written_off"))
            .when(pl.col("all_paid_off"))
            .then(pl.lit("paid_off"))
            .otherwise(pl.lit("cured"))
        )
        .select("case_id", "close_reason")
    )


def priority() -> pl.Expr:
    return pl.col("days_past_due").cast(pl.Int64) * PRIORITY_DPD_WEIGHT + pl.min_horizontal(
        pl.col("amount_overdue"), pl.lit(PRIORITY_DPD_WEIGHT - 1)
    )


# ------------------------------------------------------------------ the service


def _read(engine: Engine, as_of: date):  # -> tuple of frames
    with engine.connect() as conn:
        loans = read_frame(
            conn,
            "SELECT s.loan_id, l.borrower_id, l.product, l.currency, b.kind, b.language, "
            "b.region, s.status, s.days_past_due, "
            "s.overdue_principal + s.overdue_interest + s.overdue_fee + s.overdue_penalty, "
            "s.outstanding_principal "
            "FROM status_snapshots s JOIN loans l ON l.loan_id = s.loan_id "
            "JOIN borrowers b ON b.borrower_id = l.borrower_id "
            "WHERE s.as_of = %s AND (s.days_past_due > 0 OR l.borrower_id IN "
            "(SELECT borrower_id FROM collection_cases WHERE status <> 'closed'))",
            LOAN_SCHEMA,
            (as_of,),
        )
        cases = read_frame(
            conn,
            "SELECT case_id, borrower_id, status, stage, stage_override, broken_promises, "
            "paused_until, score, stage_since FROM collection_cases WHERE status <> 'closed'",
            CASE_SCHEMA,
        )
        links = read_frame(
            conn,
            "SELECT cl.case_id, cl.loan_id FROM case_loans cl JOIN collection_cases c "
            "ON c.case_id = cl.case_id WHERE c.status <> 'closed'",
            {"case_id": pl.String, "loan_id": pl.String},
        )
        promises = read_frame(
            conn,
            "SELECT promise_id, case_id, batch, amount, due_on, made_on, grace_days, state "
            "FROM promises WHERE state <> 'cancelled' AND batch IN "
            "(SELECT batch FROM promises WHERE state = 'pending')",
            PROMISE_SCHEMA,
        )
        payments = read_frame(
            conn,
            "SELECT cl.case_id, p.paid_on, p.amount FROM payments p "
            "JOIN case_loans cl ON cl.loan_id = p.loan_id "
            "WHERE p.reversed_at IS NULL AND p.paid_on <= %s AND cl.case_id IN "
            "(SELECT case_id FROM promises WHERE state = 'pending')",
            {"case_id": pl.String, "paid_on": pl.Date, "amount": pl.Int64},
            (as_of,),
        )
        settled = read_frame(
            conn,
            "SELECT DISTINCT case_id FROM arrangements "
            "WHERE kind = 'settlement' AND state IN ('approved', 'completed')",
            {"case_id": pl.String},
        ).get_column("case_id")
        next_number = (conn.scalar(select(func.count()).select_from(CollectionCase)) or 0) + 1
    return loans, cases, links, promises, payments, settled, next_number


def _events(frame: pl.DataFrame, type_: str, payload: pl.Expr, at: str) -> pl.DataFrame:
    return frame.select(
        type=pl.lit(type_),
        loan_id=pl.lit(None, pl.String),
        borrower_id="borrower_id",
        payload=payload.struct.json_encode(),
        occurred_at=pl.lit(at),
    )


def update_cases(
    engine: Engine,
    as_of: date,
    policy: StagePolicy | None = None,
    catalog: Catalog | None = None,
) -> UpdateResult:
    """Bring every case up to `as_of` from that date's status snapshots (see the module doc).
    Approved settlements are reviewed first (completed when paid, lapsed when late), so a
    settlement paid today closes its case today."""
    policy = policy or load_policy()
    clock = time.perf_counter()
    with engine.connect() as conn:
        last = conn.scalar(select(func.max(CaseUpdateRun.as_of)))
        if last is not None and as_of <= last:
            r = conn.execute(
                select(CaseUpdateRun.__table__).where(CaseUpdateRun.as_of == as_of)
            ).first()
            if r is None:
                raise CollectionRefused(
                    f"cases are already updated to {last}; {as_of} is earlier "
                    f"(案件已更新至 {last}，不能回到更早日期)"
                )
            return UpdateResult(
                as_of,
                r.opened,
                r.updated,
                r.closed,
                r.stage_changes,
                r.promises_kept,
                r.promises_broken,
                r.seconds,
                already_done=True,
            )
        has_snapshots = conn.scalar(
            select(StatusSnapshot.loan_id).where(StatusSnapshot.as_of == as_of).limit(1)
        )
    if has_snapshots is None:
        raise CollectionRefused(
            f"no status snapshots for {as_of}: run `arrears cob --as-of {as_of}` first "
            f"(该日尚未日终)"
        )
    from arrears.collection.arrangements import review_settlements

    review_settlements(engine, as_of, catalog)
    loans, cases, links, promises, payments, settled, next_number = _read(engine, as_of)

    # 1. promises that fell due
    judged = judge_promises(promises, payments, as_of)
    resolved = judged.filter(pl.col("state") != "pending")
    broken_per_case = (
        resolved.filter(pl.col("state") == "broken")
        .group_by("case_id")
        .agg(pl.len().cast(pl.Int32).alias("newly_broken"))
    )

    # 2. figures per delinquent borrower, matched with the open cases
    figures = borrower_figures(loans)
    cases = cases.join(broken_per_case, on="case_id", how="left").with_columns(
        broken_promises=pl.col("broken_promises") + pl.col("newly_broken").fill_null(0)
    )
    continuing = cases.join(figures, on="borrower_id", how="inner")
    paused_on = pl.col("paused_until").is_not_null() & (pl.col("paused_until") >= as_of)
    gone = cases.join(figures, on="borrower_id", how="anti")
    closing = gone.filter(~paused_on)
    # a paused case whose loans are current stays open (paused) until its pause ends
    still_paused = gone.filter(paused_on)
    new = figures.join(cases, on="borrower_id", how="anti").with_columns(
        case_id=pl.format(
            "C{}",
            (pl.int_range(pl.len(), dtype=pl.Int64) + next_number).cast(pl.String).str.zfill(8),
        ),
        broken_promises=pl.lit(0, pl.Int32),
        stage_override=pl.lit(None, pl.String),
        score=pl.lit(None, pl.Float64),
        paused_until=pl.lit(None, pl.Date),
    )

    # 3. stages (a paused case keeps its stage; an override wins)
    staged = with_scale(
        pl.concat(
            [
                continuing.select(*new.columns, "stage", "stage_since", "status"),
                new.with_columns(
                    stage=pl.lit(None, pl.String),
                    stage_since=pl.lit(None, pl.Date),
                    status=pl.lit(None, pl.String),
                ),
            ],
            how="vertical_relaxed",
        )
    )
    names = pl.Series(policy.stage_names)
    staged = staged.with_columns(
        new_stage=pl.coalesce(
            pl.col("stage_override"),
            pl.when(paused_on & pl.col("stage").is_not_null())
            .then(pl.col("stage"))
            .otherwise(
                stage_index(policy).replace_strict(list(range(len(names))), names.to_list())
            ),
        ),
        new_status=pl.when(paused_on).then(pl.lit("paused")).otherwise(pl.lit("open")),
    )
    changed = staged.filter(
        pl.col("stage").is_not_null() & (pl.col("stage") != pl.col("new_stage"))
    )

    # 4. close reasons from each closing case's loans
    closing_loans = (
        links.filter(pl.col("case_id").is_in(closing.get_column("case_id").implode()))
        .join(loans.select("loan_id", "status"), on="loan_id", how="left")
        .with_columns(pl.col("status").fill_null("cured"))
    )
    reasons = close_reason(closing_loans, settled)
    closing = closing.join(reasons, on="case_id", how="left").with_columns(
        pl.col("close_reason").fill_null("cured")
    )

    # 5. write everything with its events, in one transaction
    at = datetime.now(UTC)
    with engine.begin() as conn:
        writer = Writer(conn, None)
        stamp = writer.timestamp(at)
        opened_rows = staged.filter(pl.col("status").is_null())
        writer.bulk(
            "collection_cases",
            opened_rows.select(
                "case_id",
                "borrower_id",
                status="new_status",
                stage="new_stage",
                stage_override="stage_override",
                segment="segment",
                product="product",
                language="language",
                region="region",
                currency="currency",
                days_past_due="days_past_due",
                amount_overdue="amount_overdue",
                outstanding_principal="outstanding_principal",
                loans="loans",
                priority=priority(),
                broken_promises="broken_promises",
                opened_on=pl.lit(as_of),
                updated_on=pl.lit(as_of),
                stage_since=pl.lit(as_of),
            ),
        )
        kept_rows = staged.filter(pl.col("status").is_not_null())
        bulk_update(
            conn,
            "collection_cases",
            "case_id",
            kept_rows.select(
                "case_id",
                status="new_status",
                stage="new_stage",
                product="product",
                days_past_due="days_past_due",
                amount_overdue="amount_overdue",
                outstanding_principal="outstanding_principal",
                loans="loans",
                priority=priority(),
                broken_promises="broken_promises",
                updated_on=pl.lit(as_of),
                stage_since=pl.when(pl.col("stage") != pl.col("new_stage"))
                .then(pl.lit(as_of))
                .otherwise(pl.col("stage_since")),
            ),
        )
        bulk_update(
            conn,
            "collection_cases",
            "case_id",
            pl.concat(
                [
                    closing.select(
                        "case_id",
                        status=pl.lit("closed"),
                        closed_on=pl.lit(as_of),
                        close_reason="close_reason",
                        updated_on=pl.lit(as_of),
                        broken_promises="broken_promises",
                        days_past_due=pl.lit(0, pl.Int32),
                        amount_overdue=pl.lit(0, pl.Int64),
                    ),
                    still_paused.select(
                        "case_id",
                        status=pl.lit("paused"),
                        closed_on=pl.lit(None, pl.Date),
                        close_reason=pl.lit(None, pl.String),
                        updated_on=pl.lit(as_of),
                        broken_promises="broken_promises",
                        days_past_due=pl.lit(0, pl.Int32),
                        amount_overdue=pl.lit(0, pl.Int64),
                    ),
                ]
            ),
        )
        # loans newly in delinquency join their borrower's case
        delinquent_loans = loans.filter(
            (pl.col("days_past_due") > 0) & ~pl.col("status").is_in(["written_off", "paid_off"])
        ).join(staged.select("borrower_id", "case_id"), on="borrower_id")
        writer.bulk(
            "case_loans",
            delinquent_loans.join(links, on=["case_id", "loan_id"], how="anti").select(
                "case_id", "loan_id", added_on=pl.lit(as_of)
            ),
        )
        bulk_update(
            conn,
            "promises",
            "promise_id",
            resolved.select("promise_id", "state", "paid", resolved_on=pl.lit(as_of)),
        )
        borrower_of = pl.concat(
            [cases.select("case_id", "borrower_id"), new.select("case_id", "borrower_id")]
        )
        writer.bulk(
            "events",
            pl.concat(
                [
                    _events(
                        opened_rows,
                        "case.opened",
                        pl.struct(
                            "case_id",
                            as_of=pl.lit(as_of.isoformat()),
                            stage="new_stage",
                            days_past_due="days_past_due",
                            loans="loans",
                        ),
                        stamp,
                    ),
                    _events(
                        changed,
                        "case.stage_changed",
                        pl.struct(
                            "case_id",
                            as_of=pl.lit(as_of.isoformat()),
                            from_stage="stage",
                            to_stage="new_stage",
                            days_past_due="days_past_due",
                            broken_promises="broken_promises",
                            by=pl.lit("policy"),
                        ),
                        stamp,
                    ),
                    _events(
                        closing,
                        "case.closed",
                        pl.struct(
                            "case_id", as_of=pl.lit(as_of.isoformat()), reason="close_reason"
                        ),
                        stamp,
                    ),
                    *(
                        _events(
                            resolved.filter(pl.col("state") == state).join(
                                borrower_of, on="case_id", how="left"
                            ),
                            f"promise.{state}",
                            pl.struct(
                                "promise_id", "case_id", "paid", as_of=pl.lit(as_of.isoformat())
                            ),
                            stamp,
                        )
                        for state in ("kept", "broken")
                    ),
                ]
            ),
        )
        counts = {
            "opened": opened_rows.height,
            "updated": kept_rows.height,
            "closed": closing.height,
            "stage_changes": changed.height,
            "promises_kept": resolved.filter(pl.col("state") == "kept").height,
            "promises_broken": resolved.filter(pl.col("state") == "broken").height,
        }
        seconds = round(time.perf_counter() - clock, 3)
        conn.execute(
            CaseUpdateRun.__table__.insert().values(
                as_of=as_of, seconds=seconds, finished_at=datetime.now(UTC), **counts
            )
        )
    return UpdateResult(as_of=as_of, seconds=seconds, **counts)
