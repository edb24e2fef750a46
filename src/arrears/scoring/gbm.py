"""The challenger: gradient boosting (LightGBM) held to the scorecard's trends, then calibrated.

Monotone constraints come from the optimal binning of each numerical characteristic (the same
`binning.fit_binning` the scorecard uses): where the bad rate rises with the value the model may
only rise, and so on — so the challenger never says "more past delinquencies, less risk".
Calibration (Platt or isotonic) is fitted on a stratified held-out fold that the trees never saw;
the final trees are then refitted on all rows with the number of rounds found on that fold.

Every hyperparameter is either a fixed default (learning rate 0.03, 15 leaves, 40 rows a leaf,
0.8 row and column sampling, L2 1.0 — small, slow, regularised trees for a few thousand to a
few million applications, set in the model's first commit, before benchmarks/scoring.py existed,
and unchanged since) or found inside `fit` on the rows given to it: the number of rounds (early stopping on the
held-out fold of those rows, up to `n_estimators`), the monotone constraints (their binned
trends) and the calibration (on the same held-out fold). `chosen()` reports them.
Reason codes are the per-row contributions (TreeSHAP, `pred_contrib`) that raised the risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split

from arrears.scoring.binning import fit_binning
from arrears.scoring.frames import column_kind, to_polars, to_target
from arrears.scoring.reasons import reason_columns
from arrears.scoring.scorecard import scaling

# The information value under which a binned trend is not trusted as a monotone constraint.
MIN_TREND_IV = 0.02
# Rows from which LightGBM gets two threads (see `_params`).
THREADED_ROWS = 100_000


class GbmChallenger(ClassifierMixin, BaseEstimator):
    def __init__(
        self,
        categorical: list[str] | None = None,
        monotone: dict[str, int] | None = None,
        calibration: str = "platt",
        calibration_fraction: float = 0.25,
        n_estimators: int = 2000,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 100,
        refit: bool = True,
        n_jobs: int | None = None,
        random_state: int = 0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
    ) -> None:
        self.categorical = categorical
        self.monotone = monotone
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo

    # ------------------------------------------------------------------ encoding

    def _matrix(self, frame: pl.DataFrame) -> np.ndarray:
        missing = [n for n in self.features_ if n not in frame.columns]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
        columns = []
        for name in self.features_:
            series = frame.get_column(name)
            if name in self.categories_:
                cats = self.categories_[name]
                codes = series.cast(pl.String).replace_strict(
                    cats, list(range(len(cats))), default=None, return_dtype=pl.Float64
                )
                columns.append(codes.fill_null(np.nan).to_numpy())
            else:
                columns.append(
                    series.cast(pl.Float64, strict=False)
                    .fill_nan(None)
                    .fill_null(np.nan)
                    .to_numpy()
                )
        return np.column_stack(columns).astype(np.float64)

    def _params(self, rows: int) -> dict[str, Any]:
        # OpenMP threads cost more than they give on small data, and on a busy machine two
        # spinning threads can make each round ten times slower: one thread below THREADED_ROWS.
        threads = self.n_jobs or (1 if rows < THREADED_ROWS else 2)
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "monotone_constraints": [self.monotone_[n] for n in self.features_],
            "monotone_constraints_method": "advanced",
            "seed": self.random_state,
            "deterministic": True,
            "num_threads": threads,
            "verbose": -1,
        }

    # ------------------------------------------------------------------ fitting

    def fit(self, X: Any, y: Any) -> GbmChallenger:
        import lightgbm as lgb

        frame = to_polars(X)
        target = to_target(y)
        if target.sum() == 0 or target.sum() == target.size:
            raise ValueError("the target needs both bads (1) and goods (0)")
        categorical = set(self.categorical or [])
        self.features_ = list(frame.columns)
        self.feature_names_in_ = np.array(self.features_, dtype=object)
        self.n_features_in_ = len(self.features_)
        self.classes_ = np.array([0, 1])
        self.categories_: dict[str, list[str]] = {}
        for name in self.features_:
            if column_kind(frame, name, categorical) == "categorical":
                values = frame.get_column(name).cast(pl.String).drop_nulls().unique().sort()
                self.categories_[name] = values.to_list()
        given = self.monotone or {}
        self.monotone_: dict[str, int] = {}
        for name in self.features_:
            if name in self.categories_:
                self.monotone_[name] = 0
            elif name in given:
                self.monotone_[name] = int(given[name])
            else:  # the scorecard's own binning decides the direction
                binning = fit_binning(name, frame.get_column(name), target, dtype="numerical")
                # a characteristic with next to no information gets no constraint: its
                # "trend" would be noise
                self.monotone_[name] = binning.trend if binning.iv >= MIN_TREND_IV else 0
        matrix = self._matrix(frame)
        cat_index = [i for i, n in enumerate(self.features_) if n in self.categories_]
        fit_idx, cal_idx = train_test_split(
            np.arange(target.size),
            test_size=self.calibration_fraction,
            stratify=target,
            random_state=self.random_state,
        )
        params = self._params(target.size)

        def dataset(rows: np.ndarray) -> Any:
            return lgb.Dataset(
                matrix[rows], target[rows], categorical_feature=cat_index, free_raw_data=False
            )

        train_set = dataset(fit_idx)
        valid_set = dataset(cal_idx)
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=self.n_estimators,
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = max(int(booster.best_iteration or self.n_estimators), 1)
        self.stopped_at_ = self.best_iteration_  # the rounds early stopping found on the fold
        margin = booster.predict(
            matrix[cal_idx], num_iteration=self.best_iteration_, raw_score=True
        )
        self._fit_calibration(margin, target[cal_idx])
        if self.refit:
            # All rows, with the rounds scaled for the larger sample; the calibration learnt on
            # the held-out fold maps the margins of a model of the same size and shape.
            rounds = max(round(self.best_iteration_ / (1 - self.calibration_fraction)), 1)
            booster = lgb.train(params, dataset(np.arange(target.size)), num_boost_round=rounds)
            self.best_iteration_ = rounds
        self.booster_ = booster
        self.offset_, self.factor_ = scaling(self.base_points, self.base_odds, self.pdo)
        return self

    def _fit_calibration(self, margin: np.ndarray, target: np.ndarray) -> None:
        if self.calibration == "platt":
            from sklearn.linear_model import LogisticRegression

            platt = LogisticRegression(C=1e6, max_iter=1000).fit(margin[:, None], target)
            self.calibration_ = {
                "method": "platt",
                "a": float(platt.coef_[0][0]),
                "b": float(platt.intercept_[0]),
            }
        elif self.calibration == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6)
            iso.fit(margin, target)
            self.calibration_ = {
                "method": "isotonic",
                "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_],
            }
        else:
            raise ValueError(f"calibration must be platt or isotonic, not {self.calibration!r}")

    # ------------------------------------------------------------------ scoring

    def margin(self, X: Any) -> np.ndarray:
        return self.booster_.predict(self._matrix(to_polars(X)), raw_score=True)

    def _calibrate(self, margin: np.ndarray) -> np.ndarray:
        cal = self.calibration_
        if cal["method"] == "platt":
            return 1.0 / (1.0 + np.exp(-(cal["a"] * margin + cal["b"])))
        return np.interp(margin, cal["x"], cal["y"])

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self._calibrate(self.margin(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int8)

    def points(self, X: Any) -> np.ndarray:
        """The calibrated probability on the scorecard's points scale (higher = safer)."""
        p = np.clip(self.predict_proba(X)[:, 1], 1e-9, 1 - 1e-9)
        return self.offset_ + self.factor_ * np.log((1 - p) / p)

    def lost_points(self, X: Any) -> np.ndarray:
        """Per characteristic, the points its contribution to the margin cost (Platt-scaled)."""
        contrib = self.booster_.predict(self._matrix(to_polars(X)), pred_contrib=True)[:, :-1]
        slope = self.calibration_.get("a", 1.0)
        return self.factor_ * slope * contrib

    def reasons(self, X: Any, top: int = 3) -> pl.DataFrame:
        return reason_columns(self.lost_points(X), self.features_, top)

    def chosen(self) -> dict[str, Any]:
        """What `fit` chose from the rows given to it: rounds found by early stopping on the
        held-out fold, rounds of the final trees, the monotone constraints and the calibration."""
        return {
            "rounds_early_stopping": self.stopped_at_,
            "rounds": self.best_iteration_,
            "held_out_fraction": self.calibration_fraction,
            "seed": self.random_state,
            "monotone": dict(self.monotone_),
            "calibration": self.calibration_["method"],
        }

    # ------------------------------------------------------------------ saving

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.get_params(),
            "features": self.features_,
            "categories": self.categories_,
            "monotone": self.monotone_,
            "calibration": self.calibration_,
            "best_iteration": self.best_iteration_,
            "stopped_at": self.stopped_at_,
            "booster": self.booster_.model_to_string(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GbmChallenger:
        import lightgbm as lgb

        model = cls(**data["params"])
        model.features_ = list(data["features"])
        model.feature_names_in_ = np.array(model.features_, dtype=object)
        model.n_features_in_ = len(model.features_)
        model.classes_ = np.array([0, 1])
        model.categories_ = {k: list(v) for k, v in data["categories"].items()}
        model.monotone_ = {k: int(v) for k, v in data["monotone"].items()}
        model.calibration_ = data["calibration"]
        model.best_iteration_ = int(data["best_iteration"])
        # models saved before the early-stopping round was recorded: the final rounds instead
        model.stopped_at_ = int(data.get("stopped_at", model.best_iteration_))
        model.booster_ = lgb.Booster(model_str=data["booster"])
        model.offset_, model.factor_ = scaling(model.base_points, model.base_odds, model.pdo)
        return model
