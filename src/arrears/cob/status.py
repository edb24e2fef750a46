"""Status columns for the whole book from the engine's state: the column twin of
`loans.status.loan_status` (days past due, bucket, five categories, IFRS 9 stage, amounts)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import polars as pl

from arrears.catalog import Catalog
from arrears.cob.engine import DAY, Book, State, _with_paused
from arrears.cob.params import band_expr, bucket_tables, classification_tables
from arrears.loans.bands import CLASSIFICATIONS
from arrears.loans.status import STAGE_2_DPD, STAGE_3_DPD, LoanStatus

# The columns of the status frame: exactly the fields of the single-loan `LoanStatus`.
STATUS_COLUMNS = tuple(field.name for field in fields(LoanStatus))


def _observation(book: Book, state: State, as_of: date) -> pl.DataFrame:
    """Restructured loans: whether `as_of` is in the observation period, and whether the loan
    went past due in it (R12)."""
    restructured = book.loans.filter(
        pl.col("restructured_on").is_not_null() & (pl.col("restructured_on") <= as_of)
    ).select("loan_id", "restructured_on", "observation_months", "observation_periods")
    if restructured.is_empty():
        return pl.DataFrame(
            schema={"loan_id": pl.String, "in_observation": pl.Boolean, "went_overdue": pl.Boolean}
        )
    every = pl.concat(
        [
            state.open.select("loan_id", "due_on", "settled_on"),
            state.closed.select("loan_id", "due_on", "settled_on"),
        ]
    ).join(restructured, on="loan_id")
    new_dues = (
        every.filter(pl.col("due_on") > pl.col("restructured_on"))
        .sort("loan_id", "due_on")
        .group_by("loan_id")
        .agg(
            first_new=pl.col("due_on").first(),
            nth=pl.col("due_on").get(
                pl.min_horizontal(pl.col("observation_periods").first(), pl.len()) - 1
            ),
        )
    )
    ends = (
        restructured.join(new_dues, on="loan_id", how="left")
        .with_columns(
            end=pl.when(pl.col("first_new").is_null())
            .then(pl.col("restructured_on"))
            .otherwise(
                pl.max_horizontal(
                    pl.col("first_new").dt.offset_by(
                        pl.format("{}mo", pl.col("observation_months"))
                    ),
                    pl.col("nth"),
                )
            )
        )
        .with_columns(in_observation=pl.lit(as_of) <= pl.col("end"))
    )
    late = (
        every.join(ends.filter("in_observation").select("loan_id"), on="loan_id")
        .with_columns(
            first_late=pl.max_horizontal(pl.col("due_on") + DAY, pl.col("restructured_on")),
            last_late=pl.min_horizontal(
                pl.coalesce(pl.col("settled_on") - DAY, pl.lit(as_of)), pl.lit(as_of)
            ),
        )
        .group_by("loan_id")
        .agg(went_overdue=(pl.col("first_late") <= pl.col("last_late")).any())
    )
    return ends.join(late, on="loan_id", how="left").select(
        "loan_id", "in_observation", pl.col("went_overdue").fill_null(False)
    )


def status_frame(book: Book, state: State, as_of: date, catalog: Catalog) -> pl.DataFrame:
    """Every disbursed loan's status at the end of `as_of` (state must be advanced to it)."""
    loans = book.loans.filter(pl.col("disbursed_on") <= as_of).join(state.loans, on="loan_id")
    lagging = loans.filter(pl.col("state_date") != as_of)
    if not lagging.is_empty():
        raise ValueError(f"{lagging.height} loans are not advanced to {as_of}")
    open_ = state.open
    unpaid = pl.col("principal") + pl.col("interest") + pl.col("fee")
    oldest = (
        open_.filter((pl.col("due_on") < as_of) & pl.col("settled_on").is_null())
        .group_by("loan_id")
        .agg(oldest=pl.col("due_on").min())
        .with_columns(as_of=pl.lit(as_of))
    )
    oldest = _with_paused(oldest, book.pauses, "oldest", "as_of", "paused").select(
        "loan_id",
        dpd=(pl.col("as_of") - pl.col("oldest")).dt.total_days() - pl.col("paused"),
    )
    overdue = (
        open_.filter(pl.col("due_on") < as_of)
        .group_by("loan_id")
        .agg(
            overdue_principal=pl.col("principal").sum(),
            overdue_interest=pl.col("interest").sum(),
            overdue_fee=pl.col("fee").sum(),
        )
    )
    totals = open_.group_by("loan_id").agg(
        outstanding_principal=pl.col("principal").sum(),
        overdue_penalty=pl.col("penalty").sum(),
        open_rows=pl.len(),
    )
    upcoming = (
        open_.filter((pl.col("due_on") >= as_of) & (unpaid > 0))
        .sort("due_on")
        .group_by("loan_id")
        .agg(next_due_on=pl.col("due_on").first(), next_due_amount=unpaid.first())
    )
    observation = _observation(book, state, as_of)
    live = book.overrides.filter(
        (pl.col("effective_on").is_null() | (pl.col("effective_on") <= as_of))
        & (pl.col("expires_on").is_null() | (pl.lit(as_of) <= pl.col("expires_on")))
    )
    override = live.group_by("loan_id").agg(
        override=pl.col("classification")
        .replace_strict({c: i for i, c in enumerate(CLASSIFICATIONS)}, return_dtype=pl.Int32)
        .max()
    )
    frame = (
        loans.join(oldest, on="loan_id", how="left")
        .join(overdue, on="loan_id", how="left")
        .join(totals, on="loan_id", how="left")
        .join(upcoming, on="loan_id", how="left")
        .join(observation, on="loan_id", how="left")
        .join(override, on="loan_id", how="left")
        .with_columns(
            pl.col("dpd").fill_null(0),
            *[
                pl.col(c).fill_null(0)
                for c in (
                    "overdue_principal",
                    "overdue_interest",
                    "overdue_fee",
                    "outstanding_principal",
                    "overdue_penalty",
                    "open_rows",
                )
            ],
            pl.col("in_observation").fill_null(False),
            pl.col("went_overdue").fill_null(False),
            written_off=pl.col("written_off_on").is_not_null()
            & (pl.col("written_off_on") <= as_of),
        )
    )
    bucket_bounds, bucket_names = bucket_tables(catalog)
    rule_class = band_expr(pl.col("dpd"), pl.col("product"), classification_tables(catalog))
    cls = pl.max_horizontal(
        rule_class,
        pl.when(pl.col("in_observation")).then(1).otherwise(0),
        pl.when(pl.col("in_observation") & pl.col("went_overdue")).then(2).otherwise(0),
        pl.col("override").fill_null(0),
    )
    cls = pl.when(pl.col("written_off")).then(4).otherwise(cls)
    stage = (
        pl.when(pl.col("written_off") | (pl.col("dpd") >= STAGE_3_DPD))
        .then(3)
        .when((pl.col("dpd") >= STAGE_2_DPD) | pl.col("in_observation"))
        .then(2)
        .otherwise(1)
    )
    status = (
        pl.when(pl.col("written_off"))
        .then(pl.lit("written_off"))
        .when(pl.col("open_rows") == 0)
        .then(pl.lit("paid_off"))
        .when(pl.col("dpd") > 0)
        .then(pl.lit("overdue"))
        .when(pl.col("in_observation"))
        .then(pl.lit("restructured"))
        .otherwise(pl.lit("active"))
    )
    return frame.select(
        "loan_id",
        as_of=pl.lit(as_of),
        status=status,
        days_past_due=pl.col("dpd").cast(pl.Int64),
        bucket=band_expr(pl.col("dpd"), pl.col("product"), bucket_bounds).replace_strict(
            dict(enumerate(bucket_names)), return_dtype=pl.String
        ),
        classification=cls.cast(pl.Int32).replace_strict(
            dict(enumerate(CLASSIFICATIONS)), return_dtype=pl.String
        ),
        ifrs9_stage=stage.cast(pl.Int64),
        outstanding_principal=pl.col("outstanding_principal"),
        overdue_principal=pl.col("overdue_principal"),
        overdue_interest=pl.col("overdue_interest"),
        overdue_fee=pl.col("overdue_fee"),
        overdue_penalty=pl.col("overdue_penalty"),
        next_due_on=pl.col("next_due_on"),
        next_due_amount=pl.col("next_due_amount"),
        penalty_accrued_today=pl.col("penalty_today"),
        applied_penalty_rate=pl.col("applied_penalty_rate"),
        penalty_rate_capped=pl.col("penalty_capped"),
        credit_balance=pl.col("credit"),
        in_observation=pl.col("in_observation"),
    ).sort("loan_id")
