"""The borrower credit profile: internal history (loans, the close of business's
`status_snapshots`) and the newest report of each external source, merged into one flat row of
features per borrower — the columns the application and behaviour models and the admission
rules read, and what the borrower page shows.

`internal_features` and `external_features` are pure functions over frames; `credit_profiles`
reads the database in bulk (one query per table) and joins them. Amounts are integer minor
units; when a borrower's loans are in several currencies the internal amounts are null and
`currency` says `mixed` (they cannot be added)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Engine

from arrears.bureau.service import latest_reports
from arrears.loans.dates import add_months
from arrears.store.bulk import read_frame
from arrears.store.db import unit_of_work

CLOSED = ("paid_off", "written_off")

# feature → (English, 中文): what each column means, for pages, the CLI and docs.
INTERNAL_LABELS: dict[str, tuple[str, str]] = {
    "loans_total": ("loans with us", "本机构贷款笔数"),
    "loans_open": ("open loans", "未结清贷款笔数"),
    "outstanding_principal": ("outstanding principal", "剩余本金"),
    "current_overdue": ("overdue now", "当前逾期金额"),
    "current_dpd": ("days past due now", "当前逾期天数"),
    "max_dpd_3m": ("max DPD, 3 months", "近3个月最大逾期天数"),
    "max_dpd_6m": ("max DPD, 6 months", "近6个月最大逾期天数"),
    "max_dpd_12m": ("max DPD, 12 months", "近12个月最大逾期天数"),
    "max_dpd_ever": ("max DPD ever", "历史最大逾期天数"),
    "months_30plus_12m": ("months at 30+ DPD, 12 months", "近12个月逾期30天以上月数"),
    "months_on_book": ("months on book", "账龄（月）"),
}
EXTERNAL_LABELS: dict[str, tuple[str, str]] = {
    "bureau_score": ("bureau score", "征信评分"),
    "bureau_inquiries_6m": ("bureau inquiries, 6 months", "近6个月查询次数"),
    "other_lenders_debt": ("debt at other lenders", "他行负债"),
    "other_lenders_monthly_payment": ("monthly payments to other lenders", "他行月还款额"),
    "bureau_delinquent_accounts": ("delinquent accounts elsewhere", "他行逾期账户数"),
    "bureau_max_dpd_24m": ("max DPD elsewhere, 24 months", "他行近24个月最大逾期天数"),
    "enforcement_listed": ("on the enforcement list", "失信被执行人"),
    "restricted_consumption": ("consumption restricted", "限制高消费"),
    "enforcement_cases": ("enforcement cases", "被执行案件数"),
    "registry_status": ("registry status", "工商登记状态"),
    "years_in_business": ("years in business", "经营年限"),
    "tax_grade": ("tax credit grade", "纳税信用等级"),
    "tax_arrears": ("tax arrears", "欠税"),
}
LABELS = {**INTERNAL_LABELS, **EXTERNAL_LABELS}
MONEY_FEATURES = frozenset(
    {
        "outstanding_principal",
        "current_overdue",
        "other_lenders_debt",
        "other_lenders_monthly_payment",
    }
)

# external feature → (source, field in the report, how to read it)
_EXTERNAL: dict[str, tuple[str, str]] = {
    "bureau_score": ("credit_report", "bureau_score"),
    "bureau_inquiries_6m": ("credit_report", "inquiries_6m"),
    "other_lenders_debt": ("credit_report", "other_lenders_debt"),
    "other_lenders_monthly_payment": ("credit_report", "other_lenders_monthly_payment"),
    "bureau_delinquent_accounts": ("credit_report", "delinquent_accounts"),
    "bureau_max_dpd_24m": ("credit_report", "max_dpd_24m"),
    "bureau_currency": ("credit_report", "currency"),
    "enforcement_listed": ("enforcement", "listed"),
    "restricted_consumption": ("enforcement", "restricted_consumption"),
    "enforcement_cases": ("enforcement", "cases"),
    "registry_status": ("business_registry", "status"),
    "years_in_business": ("business_registry", "years_in_business"),
    "tax_grade": ("tax", "tax_grade"),
    "tax_arrears": ("tax", "tax_arrears"),
}
_EXTERNAL_SCHEMA: dict[str, pl.DataType] = {
    "borrower_id": pl.String(),
    "bureau_score": pl.Int64(),
    "bureau_inquiries_6m": pl.Int64(),
    "other_lenders_debt": pl.Int64(),
    "other_lenders_monthly_payment": pl.Int64(),
    "bureau_delinquent_accounts": pl.Int64(),
    "bureau_max_dpd_24m": pl.Int64(),
    "bureau_currency": pl.String(),  # the currency of the credit report's amounts
    "enforcement_listed": pl.Boolean(),
    "restricted_consumption": pl.Boolean(),
    "enforcement_cases": pl.Int64(),
    "registry_status": pl.String(),
    "years_in_business": pl.Int64(),
    "tax_grade": pl.String(),
    "tax_arrears": pl.Boolean(),
}

LOAN_SCHEMA: dict[str, pl.DataType] = {
    "borrower_id": pl.String(),
    "loan_id": pl.String(),
    "currency": pl.String(),
    "principal": pl.Int64(),
    "disbursed_on": pl.Date(),
}
SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "loan_id": pl.String(),
    "as_of": pl.Date(),
    "status": pl.String(),
    "days_past_due": pl.Int64(),
    "outstanding_principal": pl.Int64(),
    "overdue": pl.Int64(),
}


def internal_features(loans: pl.DataFrame, snapshots: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per borrower of `loans` (disbursed on or before `as_of`) from the snapshots dated
    on or before `as_of`. A loan without a snapshot counts as open, current, at its principal."""
    loans = loans.filter(pl.col("disbursed_on") <= as_of)
    snaps = snapshots.filter(pl.col("as_of") <= as_of).join(
        loans.select("loan_id", "borrower_id"), on="loan_id", how="inner"
    )
    latest = (
        snaps.sort("as_of")
        .group_by("loan_id")
        .last()
        .select(
            "loan_id",
            pl.col("as_of").alias("snapshot_as_of"),
            "status",
            pl.col("days_past_due").alias("dpd_now"),
            pl.col("outstanding_principal").alias("outstanding_now"),
            pl.col("overdue").alias("overdue_now"),
        )
    )
    per_loan = loans.join(latest, on="loan_id", how="left").with_columns(
        pl.col("outstanding_now").fill_null(pl.col("principal")),
        pl.col("overdue_now").fill_null(0),
        pl.col("dpd_now").fill_null(0),
        pl.col("status").fill_null("active"),
    )
    single = pl.col("currency").n_unique() == 1
    base = per_loan.group_by("borrower_id").agg(
        pl.len().cast(pl.Int64).alias("loans_total"),
        (~pl.col("status").is_in(CLOSED)).sum().cast(pl.Int64).alias("loans_open"),
        pl.when(single).then(pl.col("outstanding_now").sum()).alias("outstanding_principal"),
        pl.when(single).then(pl.col("overdue_now").sum()).alias("current_overdue"),
        pl.col("dpd_now").max().cast(pl.Int64).alias("current_dpd"),
        pl.when(single)
        .then(pl.col("currency").first())
        .otherwise(pl.lit("mixed"))
        .alias("currency"),
        pl.col("disbursed_on").min().alias("first_disbursed_on"),
        pl.col("snapshot_as_of").max().alias("snapshot_as_of"),
    )
    windows = [
        (pl.col("days_past_due").filter(pl.col("as_of") > add_months(as_of, -months)).max()).alias(
            f"max_dpd_{months}m"
        )
        for months in (3, 6, 12)
    ]
    history = snaps.group_by("borrower_id").agg(
        *windows,
        pl.col("days_past_due").max().alias("max_dpd_ever"),
        pl.col("as_of")
        .filter((pl.col("days_past_due") >= 30) & (pl.col("as_of") > add_months(as_of, -12)))
        .dt.truncate("1mo")
        .n_unique()
        .cast(pl.Int64)
        .alias("months_30plus_12m"),
    )
    out = base.join(history, on="borrower_id", how="left").with_columns(
        *[
            pl.col(c).fill_null(0).cast(pl.Int64)
            for c in (
                "max_dpd_3m",
                "max_dpd_6m",
                "max_dpd_12m",
                "max_dpd_ever",
                "months_30plus_12m",
            )
        ],
        (
            (as_of.year - pl.col("first_disbursed_on").dt.year()) * 12
            + (as_of.month - pl.col("first_disbursed_on").dt.month().cast(pl.Int64))
        )
        .cast(pl.Int64)
        .alias("months_on_book"),
    )
    return out.drop("first_disbursed_on").sort("borrower_id")


def external_features(reports: dict[tuple[str, str], dict[str, Any]]) -> pl.DataFrame:
    """One row per borrower from the newest report of each source ((borrower, source) → data);
    a source never pulled leaves its features null."""
    rows: dict[str, dict[str, Any]] = {}
    for (borrower_id, source), data in reports.items():
        row = rows.setdefault(borrower_id, {"borrower_id": borrower_id})
        for feature, (src, field) in _EXTERNAL.items():
            if src != source or field not in data:
                continue
            value = data[field]
            row[feature] = len(value) if feature == "enforcement_cases" else value
    return pl.DataFrame(list(rows.values()), schema=_EXTERNAL_SCHEMA).sort("borrower_id")


# Above this many ids the whole book is read and filtered in Polars: one placeholder per id
# would run into the databases' limits on bound parameters.
_MAX_IN_LIST = 1000


def _read_internal(engine: Engine, borrower_ids: list[str] | None, as_of: date) -> pl.DataFrame:
    if borrower_ids is not None and len(borrower_ids) > _MAX_IN_LIST:
        wanted = pl.DataFrame(
            {"borrower_id": list(set(borrower_ids))}, schema={"borrower_id": pl.String}
        )
        return _read_internal(engine, None, as_of).join(wanted, on="borrower_id", how="semi")
    where, params = "", []
    if borrower_ids is not None:
        where = f"WHERE l.borrower_id IN ({', '.join(['%s'] * len(borrower_ids))})"
        params = list(borrower_ids)
    loans_sql = (
        "SELECT l.borrower_id, l.loan_id, l.currency, l.principal, l.disbursed_on "
        f"FROM loans l {where}"
    )
    snaps_sql = (
        "SELECT s.loan_id, s.as_of, s.status, s.days_past_due, s.outstanding_principal, "
        "s.overdue_principal + s.overdue_interest + s.overdue_fee + s.overdue_penalty "
        "FROM status_snapshots s JOIN loans l ON l.loan_id = s.loan_id "
        f"{where + ' AND' if where else 'WHERE'} s.as_of <= %s"
    )
    with engine.connect() as conn:
        loans = read_frame(conn, loans_sql, LOAN_SCHEMA, params)
        snaps = read_frame(conn, snaps_sql, SNAPSHOT_SCHEMA, [*params, as_of.isoformat()])
    return internal_features(loans, snaps, as_of)


def credit_profiles(
    engine: Engine, as_of: date, borrower_ids: list[str] | None = None
) -> pl.DataFrame:
    """The profile frame for `borrower_ids` (default: every borrower with a loan), one row per
    borrower: `borrower_id`, the internal features, the external features."""
    internal = _read_internal(engine, borrower_ids, as_of)
    ids = borrower_ids if borrower_ids is not None else internal.get_column("borrower_id").to_list()
    with unit_of_work(engine) as session:
        reports = {key: row.data for key, row in latest_reports(session, list(ids)).items()}
    frame = pl.DataFrame({"borrower_id": list(ids)}, schema={"borrower_id": pl.String()})
    return (
        frame.join(internal, on="borrower_id", how="left")
        .join(external_features(reports), on="borrower_id", how="left")
        .with_columns(pl.col("loans_total").fill_null(0), pl.col("loans_open").fill_null(0))
    )


def credit_profile(
    engine: Engine, borrower_id: str, as_of: date, *, now: datetime | None = None
) -> dict[str, Any]:
    """One borrower's profile as JSON-ready data: `features` (name → value), and `sources`
    (per external source: when its newest report was fetched, and whether it is stale)."""
    frame = credit_profiles(engine, as_of, [borrower_id])
    row = frame.row(0, named=True)
    at = now or datetime.now(UTC)
    with unit_of_work(engine) as session:
        reports = latest_reports(session, [borrower_id])
        sources = {
            source: {
                "fetched_at": report.fetched_at.isoformat(),
                "expires_at": report.expires_at.isoformat(),
                "stale": report.expires_at <= at,
                "report_id": report.id,
            }
            for (_, source), report in sorted(reports.items())
        }
    features = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in row.items()
        if k != "borrower_id"
    }
    return {
        "borrower_id": borrower_id,
        "as_of": as_of.isoformat(),
        "features": features,
        "sources": sources,
    }
