"""Reason codes: for each scored row, the characteristics that cost it the most points, in
Chinese and English — what a decline letter and a collector's script quote.

A model hands in a matrix of points lost per characteristic (rows × features, larger = lowered
the score more); this module picks the top ones, vectorised, and names them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# The lender's names for characteristics the product builds; any other column is shown by its
# own name in both languages.
LABELS: dict[str, tuple[str, str]] = {
    "age": ("Age", "年龄"),
    "monthly_income": ("Monthly income", "月收入"),
    "employment": ("Employment", "就业状况"),
    "inquiries_6m": ("Credit inquiries in 6 months", "近6个月征信查询次数"),
    "other_debts": ("Other debts", "其他负债"),
    "debt_to_income": ("Debt to income", "负债收入比"),
    "past_delinquencies": ("Past delinquencies", "历史逾期次数"),
    "industry": ("Industry", "行业"),
    "annual_revenue": ("Annual revenue", "年营业收入"),
    "leverage": ("Leverage", "资产负债率"),
    "years_in_business": ("Years in business", "经营年限"),
    "product": ("Product", "产品"),
    "principal": ("Loan amount", "贷款金额"),
    "term_months": ("Term (months)", "期限（月）"),
    "days_past_due": ("Days past due now", "当前逾期天数"),
    "max_dpd_3m": ("Worst DPD in 3 months", "近3个月最大逾期天数"),
    "max_dpd_6m": ("Worst DPD in 6 months", "近6个月最大逾期天数"),
    "max_dpd_12m": ("Worst DPD in 12 months", "近12个月最大逾期天数"),
    "times_30plus_12m": ("Months at 30+ DPD in 12 months", "近12个月逾期30天以上的月数"),
    "times_overdue_12m": ("Months overdue in 12 months", "近12个月逾期月数"),
    "payment_ratio_6m": ("Paid ÷ due in 6 months", "近6个月实还/应还比"),
    "months_on_book": ("Months on book", "账龄（月）"),
    "balance_ratio": ("Outstanding ÷ original principal", "剩余本金/原始本金"),
    "overdue_ratio": ("Overdue ÷ original principal", "逾期金额/原始本金"),
    "overdue_amount": ("Amount overdue", "逾期金额"),
    "cures_12m": ("Cures in 12 months", "近12个月逾期后结清次数"),
    "paid_30d": ("Paid in the last 30 days", "近30天还款金额"),
    # the collection card's case and contact history (casefeatures)
    "has_case": ("In a collection case", "处于催收案件中"),
    "case_stage": ("Collection stage", "催收阶段"),
    "days_in_stage": ("Days in the current stage", "当前阶段天数"),
    "attempts_7d": ("Contact attempts in 7 days", "近7天联系次数"),
    "attempts_30d": ("Contact attempts in 30 days", "近30天联系次数"),
    "rpc_7d": ("Right-party contacts in 7 days", "近7天本人接通次数"),
    "rpc_30d": ("Right-party contacts in 30 days", "近30天本人接通次数"),
    "rpc_rate_30d": ("Right-party contact rate in 30 days", "近30天本人接通率"),
    "promises_made": ("Promises to pay made", "承诺还款次数"),
    "promises_kept": ("Promises kept", "履约承诺次数"),
    "promises_broken": ("Promises broken", "违约承诺次数"),
    "promise_pending": ("A promise is pending", "存在未到期承诺"),
    "days_since_contact": ("Days since the last contact", "距上次联系天数"),
    "last_outcome": ("Outcome of the last contact", "最近一次联系结果"),
    "dispute_open": ("Debt under dispute", "债务存在争议"),
    "hardship": ("Hardship reported", "申报经济困难"),
}


def label(feature: str, language: str = "en") -> str:
    en, zh = LABELS.get(feature, (feature, feature))
    return zh if language == "zh" else en


def top_reasons(
    lost: np.ndarray, features: list[str], top: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the `top` characteristics with the most points lost per row (most first) and
    the points lost; a slot whose loss is ≤ 0 (nothing was lost there) has index -1."""
    lost = np.asarray(lost, dtype=np.float64)
    if lost.ndim != 2 or lost.shape[1] != len(features):
        raise ValueError("lost must be rows × features")
    k = min(top, lost.shape[1])
    if k == 0:
        empty = np.empty((lost.shape[0], 0))
        return empty.astype(np.int32), empty
    part = (
        np.argpartition(-lost, k - 1, axis=1)[:, :k]
        if k < lost.shape[1]
        else np.tile(np.arange(lost.shape[1]), (lost.shape[0], 1))
    )
    part_loss = np.take_along_axis(lost, part, axis=1)
    order = np.argsort(-part_loss, axis=1, kind="stable")
    index = np.take_along_axis(part, order, axis=1).astype(np.int32)
    points = np.take_along_axis(part_loss, order, axis=1)
    index[points <= 0] = -1
    points = np.where(points > 0, points, 0.0)
    return index, points


def reason_columns(lost: np.ndarray, features: list[str], top: int = 3) -> pl.DataFrame:
    """`reason_k` (characteristic), `reason_k_en`, `reason_k_zh` and `reason_k_points` columns."""
    index, points = top_reasons(lost, features, top)
    positions = list(range(len(features)))
    en = [label(f, "en") for f in features]
    zh = [label(f, "zh") for f in features]
    columns: dict[str, pl.Series] = {}
    for k in range(index.shape[1]):
        # integer positions → text in one vectorised lookup per column (-1, no reason → null)
        slot = pl.Series(index[:, k])
        for suffix, names in (("", features), ("_en", en), ("_zh", zh)):
            # an Enum column: one small dictionary per file, fast to write and to read
            columns[f"reason_{k + 1}{suffix}"] = slot.replace_strict(
                positions, names, default=None, return_dtype=pl.Enum(sorted(set(names)))
            )
        columns[f"reason_{k + 1}_points"] = pl.Series(np.round(points[:, k], 2))
    return pl.DataFrame(columns)
