"""The scorecard: optimal bins → WoE → logistic regression → points.

A scikit-learn estimator (`fit`, `predict_proba`, `predict`, parameters in `__init__`, learned
state with a trailing underscore) plus `points` (the score) and `reasons`. Points follow the
lender's scaling: `base_points` at odds `base_odds`:1 (good:bad), `pdo` more points double the
odds. Each bin of each characteristic carries its points, so a score is a sum of table lookups —
the same table a risk manager reads (`table()`).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from arrears.scoring import metrics
from arrears.scoring.binning import FeatureBinning, fit_binning, fold_woe
from arrears.scoring.frames import column_kind, to_polars, to_target
from arrears.scoring.reasons import reason_columns

# The regularisation strengths `C="cv"` chooses from (inverse L2 strength of the regression),
# ascending, from strong shrinkage to next to none: half-decades so a neighbour is never far off.
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


class ScorecardError(ValueError):
    """The data cannot give a scorecard (the message says why)."""


def scaling(base_points: float, base_odds: float, pdo: float) -> tuple[float, float]:
    """(offset, factor) with score = offset + factor · ln(good:bad odds)."""
    if pdo <= 0 or base_odds <= 0:
        raise ScorecardError("pdo and base_odds must be positive")
    factor = pdo / math.log(2.0)
    return base_points - factor * math.log(base_odds), factor


def logistic_path(
    X: np.ndarray, y: np.ndarray, grid: tuple[float, ...], start: np.ndarray | None = None
) -> list[tuple[float, np.ndarray]]:
    """(intercept, coefficients) of the L2 logistic regression at each `C` of `grid` — the
    objective of scikit-learn's `LogisticRegression(C=…)`: Σ log-loss + ‖β‖² / (2C), the
    intercept not penalised. Newton steps with step halving, each `C` started from the previous
    one's solution (the first from `start`, [intercept, *coefficients], if given): on a few dozen
    WoE columns a whole grid costs a few milliseconds, where a fresh scikit-learn fit per `C`
    and fold spends most of its time checking its input."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    A = np.column_stack([np.ones(len(y)), X])
    theta = np.zeros(A.shape[1]) if start is None else np.asarray(start, dtype=np.float64).copy()
    out = []

    def objective(t: np.ndarray, penalty: np.ndarray) -> float:
        z = A @ t
        # log(1 + e^z) − y·z, stable for large |z|
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * t * t))

    for c in grid:
        penalty = np.full(A.shape[1], 1.0 / c)
        penalty[0] = 0.0
        current = objective(theta, penalty)
        for _ in range(100):
            p = 1.0 / (1.0 + np.exp(-(A @ theta)))
            gradient = A.T @ (p - y) + penalty * theta
            hessian = (A * (p * (1 - p))[:, None]).T @ A + np.diag(penalty)
            step = np.linalg.solve(hessian + 1e-10 * np.eye(len(theta)), gradient)
            t = 1.0
            while t > 1e-6:
                candidate = theta - t * step
                value = objective(candidate, penalty)
                if value <= current:
                    break
                t /= 2
            else:
                break  # no descent left: at the optimum to machine precision
            theta, improvement, current = candidate, current - value, value
            if improvement < 1e-10 * (1.0 + abs(current)):
                break
        out.append((float(theta[0]), theta[1:].copy()))
    return out


def signed_fit(
    X: np.ndarray, y: np.ndarray, c: float, ivs: list[float], start: np.ndarray | None = None
) -> tuple[list[int], tuple[float, np.ndarray], np.ndarray]:
    """The regression exactly as `Scorecard.fit` makes it: fit at `C`=`c`, and while some
    coefficient is non-positive drop the column with the least IV among those and refit (each
    refit starts from the last solution). The columns kept, the (intercept, coefficients) on
    them, and the first, unpruned solution (a warm start for the next `C`)."""
    keep = list(range(X.shape[1]))
    theta = np.zeros(X.shape[1] + 1) if start is None else start
    first = None
    while True:
        intercept, coef = logistic_path(X[:, keep], y, (c,), start=theta)[0]
        if first is None:
            first = np.concatenate([[intercept], coef])
        wrong = [i for i, v in enumerate(coef) if v <= 0]
        if not wrong or len(keep) == 1:
            return keep, (intercept, coef), first
        drop = min(wrong, key=lambda i: ivs[keep[i]])
        keep.pop(drop)
        theta = np.concatenate([[intercept], np.delete(coef, drop)])


def inner_folds(y: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training part, held-out part) row positions of each of `folds` stratified folds of the
    rows `y` describes — shuffled with the fixed `seed`, every row held out exactly once, each
    fold's bad rate as close to the whole's as whole rows allow."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y).astype(np.int64)
    minority = int(min(y.sum(), y.size - y.sum()))
    if minority < folds:
        raise ScorecardError(
            f'C="cv" needs at least {folds} bads and {folds} goods, got {minority}; '
            "give a number for C"
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros((y.size, 1)), y))


def choose_C(
    bins: list[tuple[np.ndarray, int]],
    y: np.ndarray,
    *,
    grid: tuple[float, ...] = C_GRID,
    folds: int = 5,
    seed: int = 0,
) -> tuple[float, list[float]]:
    """The regularisation that ranks best out of fold, and the mean fold AUC of every candidate.

    `bins` holds, per characteristic, the bin of every training row and the number of bins;
    `y` the training rows' targets. Only these rows take part. They are split into `folds`
    stratified folds (shuffled with the fixed `seed`, so a fit is repeatable); in each fold the
    WoE and IV are recomputed from the fold's training part alone (`fold_woe`), so the
    held-out part is scored exactly as new applicants would be; per `C` the regression is
    fitted on the training part as `fit` makes it — dropping wrong-signed columns, weakest IV
    first (`signed_fit`) — and ranked by AUC on the held-out part. The cut points themselves
    were found on all the rows passed in (re-running the optimiser per fold would cost five
    binnings); that makes the inner AUCs a little optimistic for every `C` alike. Ties go to
    the smaller `C` (stronger shrinkage)."""
    y = np.asarray(y).astype(np.int64)
    scores = np.zeros((folds, len(grid)))
    for k, (fit_rows, held_rows) in enumerate(inner_folds(y, folds, seed)):
        tables = [fold_woe(index[fit_rows], y[fit_rows], n) for index, n in bins]
        matrix = np.column_stack(
            [woe[index] for (woe, _), (index, _) in zip(tables, bins, strict=True)]
        )
        ivs = [iv for _, iv in tables]
        warm = None
        for j, c in enumerate(grid):
            keep, (intercept, coef), warm = signed_fit(matrix[fit_rows], y[fit_rows], c, ivs, warm)
            risk = intercept + matrix[held_rows][:, keep] @ coef
            scores[k, j] = metrics.auc(y[held_rows], risk)
    mean = scores.mean(axis=0)
    best = int(np.argmax(mean))  # the first maximum: grid is ascending
    return float(grid[best]), [float(v) for v in mean]


class Scorecard(ClassifierMixin, BaseEstimator):
    """Parameters:

    - `categorical`: columns to treat as categories (text and boolean columns always are);
    - `monotonic`: per column, the bad-rate trend the business expects (`ascending`,
      `descending`, `auto_asc_desc`, `peak`, …, or None for free); `default_trend` for the rest;
    - `special_codes`: per column, values binned apart (e.g. `{"age": [-1]}`);
    - `max_n_bins`, `min_bin_size`: binning limits (10 bins of at least 5% of the rows);
      `min_iv`: characteristics with less information value are left out (0.02, the usual
      "unpredictive" line in scorecard practice) — fixed conventions, not tuned on any data;
    - `C`: inverse L2 strength of the regression, a number, or `"cv"` (the default) to choose it
      inside `fit` from `C_GRID` by the mean AUC of a stratified `cv_folds`-fold cross-validation
      of the rows given to `fit` alone (seed `random_state`); see `choose_C`. The choice is kept
      as `C_` and the fold AUC of every candidate as `cv_auc_`;
    - `base_points`, `base_odds`, `pdo`: the points scale;
    - `n_jobs`: threads that bin characteristics at once.
    """

    def __init__(
        self,
        categorical: list[str] | None = None,
        monotonic: dict[str, str | None] | None = None,
        special_codes: dict[str, list[float]] | None = None,
        default_trend: str | None = "auto_asc_desc",
        max_n_bins: int = 10,
        min_bin_size: float = 0.05,
        min_iv: float = 0.02,
        C: float | str = "cv",
        cv_folds: int = 5,
        random_state: int = 0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        n_jobs: int = 2,
    ) -> None:
        self.categorical = categorical
        self.monotonic = monotonic
        self.special_codes = special_codes
        self.default_trend = default_trend
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.min_iv = min_iv
        self.C = C
        self.cv_folds = cv_folds
        self.random_state = random_state
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any) -> Scorecard:
        from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

        # One BLAS thread: the regressions here are on a few dozen WoE columns, where OpenBLAS's
        # threads only spin — on a busy 2-core machine they made a fit five to ten times slower
        # (Lending Club: 5.4 s against 0.9 s). The characteristics are binned on `n_jobs` threads.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> Scorecard:
        frame = to_polars(X)
        target = to_target(y)
        if frame.height != target.size:
            raise ScorecardError(f"{frame.height} rows but {target.size} target values")
        if target.sum() == 0 or target.sum() == target.size:
            raise ScorecardError("the target needs both bads (1) and goods (0)")
        categorical = set(self.categorical or [])
        monotonic = self.monotonic or {}
        specials = self.special_codes or {}
        self.feature_names_in_ = np.array(frame.columns, dtype=object)
        self.n_features_in_ = len(frame.columns)
        self.classes_ = np.array([0, 1])

        def fit_one(name: str) -> FeatureBinning:
            return fit_binning(
                name,
                frame.get_column(name),
                target,
                dtype=column_kind(frame, name, categorical),
                monotonic_trend=monotonic.get(name, self.default_trend),
                special_codes=specials.get(name),
                max_n_bins=self.max_n_bins,
                min_bin_size=self.min_bin_size,
            )

        # Characteristics are binned independently; the solver and the pre-binning trees run
        # outside the GIL, so two threads use both cores of a small machine.
        with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
            fitted = list(pool.map(fit_one, frame.columns))
        self.binnings_: dict[str, FeatureBinning] = dict(zip(frame.columns, fitted, strict=True))
        candidates = [n for n in frame.columns if self.binnings_[n].iv >= self.min_iv]
        if not candidates:  # keep the single most informative one rather than nothing
            candidates = [max(frame.columns, key=lambda n: self.binnings_[n].iv)]
        woe = {}
        for n in candidates:
            binning = self.binnings_[n]
            woe[n] = np.asarray(binning.woe)[binning.fit_index]
        self._choose_C([self.binnings_[n] for n in candidates], target)
        for binning in self.binnings_.values():
            binning.fit_index = None  # not part of the fitted state
        # A characteristic whose coefficient comes out negative would award points for risk
        # (collinearity with another one): drop the weakest such and refit.
        while True:
            matrix = np.column_stack([woe[n] for n in candidates])
            # Newton–Cholesky: exact steps on a few dozen WoE columns, a handful of iterations
            model = LogisticRegression(C=self.C_, solver="newton-cholesky", max_iter=100)
            model.fit(matrix, target)
            coef = model.coef_[0]
            wrong = [i for i, c in enumerate(coef) if c <= 0]
            if not wrong or len(candidates) == 1:
                break
            weakest = min(wrong, key=lambda i: self.binnings_[candidates[i]].iv)
            candidates.pop(weakest)
        self.features_ = candidates
        self.coef_ = coef.astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        self._build_points()
        return self

    def _choose_C(self, binnings: list[FeatureBinning], target: np.ndarray) -> None:
        """`C_` as given, or with `C="cv"` chosen by `choose_C` on the training rows' bins."""
        if self.C != "cv":
            if isinstance(self.C, str) or not self.C > 0:
                raise ScorecardError(f'C must be a positive number or "cv", not {self.C!r}')
            self.C_, self.cv_auc_ = float(self.C), None
            return
        bins = [(b.fit_index, b.n_regular + 2) for b in binnings]
        self.C_, scores = choose_C(bins, target, folds=self.cv_folds, seed=self.random_state)
        self.cv_auc_ = dict(zip(C_GRID, scores, strict=True))

    def _build_points(self) -> None:
        offset, factor = scaling(self.base_points, self.base_odds, self.pdo)
        n = len(self.features_)
        share = (offset - factor * self.intercept_) / n
        self.offset_, self.factor_ = offset, factor
        self.points_: dict[str, np.ndarray] = {}
        for name, b in zip(self.features_, self.coef_, strict=True):
            w = np.asarray(self.binnings_[name].woe, dtype=np.float64)
            self.points_[name] = share - factor * b * w

    # ------------------------------------------------------------------ scoring

    def _bins(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        missing = [n for n in self.features_ if n not in frame.columns]
        if missing:
            raise ScorecardError(f"missing column(s): {', '.join(missing)}")
        return {n: self.binnings_[n].bin_index(frame.get_column(n)) for n in self.features_}

    def points_by_feature(self, X: Any) -> np.ndarray:
        """Rows × characteristics matrix of points (in the order of `features_`)."""
        frame = to_polars(X)
        missing = [n for n in self.features_ if n not in frame.columns]
        if missing:
            raise ScorecardError(f"missing column(s): {', '.join(missing)}")
        out = np.empty((frame.height, len(self.features_)), dtype=np.float64, order="F")
        for j, n in enumerate(self.features_):
            np.take(
                self.points_[n], self.binnings_[n].bin_index(frame.get_column(n)), out=out[:, j]
            )
        return out

    def points(self, X: Any) -> np.ndarray:
        """The score: the sum of each characteristic's points (higher = safer)."""
        bins = self._bins(to_polars(X))
        total = np.zeros(len(next(iter(bins.values()))), dtype=np.float64)
        for n in self.features_:
            total += self.points_[n][bins[n]]
        return total

    def probability_from_points(self, points: np.ndarray) -> np.ndarray:
        logit = (self.offset_ - np.asarray(points, dtype=np.float64)) / self.factor_
        return 1.0 / (1.0 + np.exp(-logit))

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.probability_from_points(self.points(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of bad (larger = riskier), as scikit-learn's classifiers report it."""
        return (self.offset_ - self.points(X)) / self.factor_

    def lost_points(self, by_feature: np.ndarray) -> np.ndarray:
        """Points each characteristic lost against its best bin (0 in the best bin)."""
        best = np.array([self.points_[n].max() for n in self.features_])
        return best[None, :] - by_feature

    def reasons(self, X: Any, top: int = 3) -> pl.DataFrame:
        """Top reason codes per row (see `reasons.reason_columns`)."""
        return self.reasons_from_points(self.points_by_feature(X), top)

    def reasons_from_points(self, by_feature: np.ndarray, top: int = 3) -> pl.DataFrame:
        return reason_columns(self.lost_points(by_feature), self.features_, top)

    # ------------------------------------------------------------------ reading and saving

    def table(self) -> pl.DataFrame:
        """The scorecard a risk manager reads: feature, bin, rows, bad rate, WoE, IV, points."""
        records = []
        for name in self.features_:
            binning = self.binnings_[name]
            for i, bin_label in enumerate(binning.labels()):
                rows, bads = binning.rows[i], binning.bads[i]
                records.append(
                    {
                        "feature": name,
                        "bin": bin_label,
                        "rows": rows,
                        "bad_rate": round(bads / rows, 6) if rows else None,
                        "woe": round(binning.woe[i], 6),
                        "iv": round(binning.iv, 6),
                        "points": round(float(self.points_[name][i]), 2),
                    }
                )
        return pl.DataFrame(records)

    def chosen(self) -> dict[str, Any]:
        """What `fit` chose and from what, so a reader can check no outside data decided it:
        `C`, `by` ("given" or "cv"), and for "cv" the folds, the seed and every candidate's
        mean fold AUC."""
        cv = self.cv_auc_ is not None
        return {
            "C": self.C_,
            "by": "cv" if cv else "given",
            "cv_folds": self.cv_folds if cv else None,
            "cv_seed": self.random_state if cv else None,
            "cv_auc": [{"C": c, "auc": round(a, 6)} for c, a in self.cv_auc_.items()]
            if cv
            else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.get_params(),
            "features": self.features_,
            "coef": [float(c) for c in self.coef_],
            "intercept": self.intercept_,
            "chosen": self.chosen(),
            "binnings": {n: b.to_dict() for n, b in self.binnings_.items()},
            "feature_names_in": [str(n) for n in self.feature_names_in_],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        card = cls(**data["params"])
        card.features_ = list(data["features"])
        card.coef_ = np.asarray(data["coef"], dtype=np.float64)
        card.intercept_ = float(data["intercept"])
        chosen = data.get("chosen")  # absent from cards saved before choices were recorded
        if chosen:
            card.C_ = float(chosen["C"])
            cv = chosen.get("cv_auc")
            card.cv_auc_ = None if cv is None else {e["C"]: e["auc"] for e in cv}
        else:
            card.C_ = None if isinstance(card.C, str) else float(card.C)
            card.cv_auc_ = None
        card.binnings_ = {n: FeatureBinning.from_dict(b) for n, b in data["binnings"].items()}
        card.feature_names_in_ = np.array(data["feature_names_in"], dtype=object)
        card.n_features_in_ = len(card.feature_names_in_)
        card.classes_ = np.array([0, 1])
        card._build_points()
        return card
