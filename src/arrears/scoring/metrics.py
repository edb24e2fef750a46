"""How good a score is: AUC, KS, Gini, a calibration table and population stability (PSI).

Pure functions over numpy arrays. Convention everywhere in `scoring/`: `y` is 1 for a bad
(default, roll, no cure — whatever the model predicts) and 0 for a good, and `risk` is any number
that is larger for riskier rows (a probability of bad, or minus the score points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Bins with no rows would make PSI infinite; this floor keeps one empty bin a large but finite term.
PSI_FLOOR = 1e-4


def _check(y: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    risk = np.asarray(risk, dtype=np.float64)
    if y.shape != risk.shape or y.ndim != 1:
        raise ValueError(f"y and risk must be 1-D of one length, got {y.shape} and {risk.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must hold only 0 (good) and 1 (bad)")
    if np.isnan(risk).any():
        raise ValueError("risk holds NaN")
    return y.astype(np.int8), risk


def auc(y: np.ndarray, risk: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random bad is ranked riskier than a random good
    (ties count one half). Mann–Whitney on average ranks, O(n log n)."""
    y, risk = _check(y, risk)
    bads = int(y.sum())
    goods = y.size - bads
    if bads == 0 or goods == 0:
        raise ValueError("AUC needs at least one bad and one good")
    order = np.argsort(risk, kind="mergesort")
    sorted_risk = risk[order]
    ranks = np.empty(y.size, dtype=np.float64)
    # average rank over each run of equal values
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_risk)) + 1]
    ends = np.r_[starts[1:], y.size]
    average = (starts + ends + 1) / 2.0  # ranks are 1-based: mean of start+1 … end
    ranks[order] = np.repeat(average, ends - starts)
    return float((ranks[y == 1].sum() - bads * (bads + 1) / 2.0) / (bads * goods))


def gini(y: np.ndarray, risk: np.ndarray) -> float:
    """Gini (accuracy ratio) = 2·AUC − 1."""
    return 2.0 * auc(y, risk) - 1.0


def ks_curve(y: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative share of bads and of goods, taking rows from the riskiest down, evaluated after
    each distinct risk value. Returns (thresholds, cum_bad_share, cum_good_share)."""
    y, risk = _check(y, risk)
    order = np.argsort(-risk, kind="mergesort")
    r = risk[order]
    yy = y[order]
    bads = max(int(yy.sum()), 1)
    goods = max(int(yy.size - yy.sum()), 1)
    last_of_value = np.r_[np.flatnonzero(np.diff(r)), r.size - 1]  # ties step together
    cum_bad = np.cumsum(yy)[last_of_value] / bads
    cum_good = np.cumsum(1 - yy)[last_of_value] / goods
    return r[last_of_value], cum_bad, cum_good


def ks(y: np.ndarray, risk: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the bads' and goods' cumulative shares."""
    y, _ = _check(y, risk)
    if y.sum() == 0 or y.sum() == y.size:
        raise ValueError("KS needs at least one bad and one good")
    _, cum_bad, cum_good = ks_curve(y, risk)
    return float(np.max(np.abs(cum_bad - cum_good)))


@dataclass(frozen=True)
class CalibrationRow:
    bin: int
    rows: int
    mean_predicted: float
    observed_bad_rate: float
    min_predicted: float
    max_predicted: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "bin": self.bin,
            "rows": self.rows,
            "mean_predicted": round(self.mean_predicted, 6),
            "observed_bad_rate": round(self.observed_bad_rate, 6),
            "min_predicted": round(self.min_predicted, 6),
            "max_predicted": round(self.max_predicted, 6),
        }


def calibration_table(
    y: np.ndarray, probability: np.ndarray, bins: int = 10
) -> list[CalibrationRow]:
    """Rows sorted by predicted probability and cut into `bins` groups of (nearly) equal size;
    per group the mean prediction against the observed bad rate."""
    y, p = _check(y, probability)
    if bins < 1:
        raise ValueError("bins must be at least 1")
    order = np.argsort(p, kind="mergesort")
    rows = []
    for number, part in enumerate(np.array_split(order, min(bins, max(p.size, 1))), start=1):
        if part.size == 0:
            continue
        rows.append(
            CalibrationRow(
                bin=number,
                rows=int(part.size),
                mean_predicted=float(p[part].mean()),
                observed_bad_rate=float(y[part].mean()),
                min_predicted=float(p[part].min()),
                max_predicted=float(p[part].max()),
            )
        )
    return rows


def quantile_edges(values: np.ndarray, bins: int = 10) -> np.ndarray:
    """Inner cut points at the quantiles of `values` (duplicates dropped): the reference bins that
    PSI compares a later population with."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return np.array([], dtype=np.float64)
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def bin_shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of rows in each bin (-inf, e1), [e1, e2) … [ek, inf), plus a last bin for NaN."""
    values = np.asarray(values, dtype=np.float64)
    index = np.searchsorted(edges, values, side="right")
    index[np.isnan(values)] = edges.size + 1
    counts = np.bincount(index, minlength=edges.size + 2).astype(np.float64)
    return counts / max(values.size, 1)


def psi(expected_shares: np.ndarray, actual_shares: np.ndarray) -> float:
    """Population stability index Σ (a − e)·ln(a / e) over bins (shares floored at PSI_FLOOR).

    Rule of thumb: < 0.10 stable, 0.10–0.25 some shift, > 0.25 a shift that needs a look. The
    same formula over one feature's bins is its characteristic stability index (CSI)."""
    e = np.maximum(np.asarray(expected_shares, dtype=np.float64), PSI_FLOOR)
    a = np.maximum(np.asarray(actual_shares, dtype=np.float64), PSI_FLOOR)
    if e.shape != a.shape:
        raise ValueError(f"share vectors differ in length: {e.shape} vs {a.shape}")
    return float(np.sum((a - e) * np.log(a / e)))


def summary(y: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict[str, object]:
    """The evaluation every model report shows: rows, bad rate, AUC, KS, Gini, calibration."""
    y, p = _check(y, probability)
    return {
        "rows": int(y.size),
        "bad_rate": float(y.mean()) if y.size else 0.0,
        "auc": auc(y, p),
        "ks": ks(y, p),
        "gini": gini(y, p),
        "calibration": [row.to_dict() for row in calibration_table(y, p, bins)],
    }
