"""The verbs of credit scoring, as the CLI and the demo call them: train a model, evaluate it,
score a file or the book, and the demo's whole path (train on the simulated history, promote,
score). Registry and monitoring verbs live in `registry` and `monitor`."""

from __future__ import annotations

import getpass
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.model_selection import train_test_split

from arrears.scoring import metrics, modeldir
from arrears.scoring.datafile import DataFileError, check_features, read_table, target_column
from arrears.scoring.features import EXPECTED_TRENDS
from arrears.scoring.frames import column_kind
from arrears.scoring.gbm import GbmChallenger
from arrears.scoring.scorecard import Scorecard

TEMPORAL = (pl.Date, pl.Datetime, pl.Duration, pl.Time)
# Fewer bads (or goods) than this cannot be split into training and validation and binned.
MIN_CLASS_ROWS = 10


@dataclass
class TrainResult:
    path: Path
    meta: dict[str, Any]
    metrics: dict[str, Any]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": self.meta["kind"],
            "method": self.meta["method"],
            "features": [f["name"] for f in self.meta["features"]],
            "rows": self.meta["fingerprint"]["rows"],
            "bad_rate": self.meta["fingerprint"]["bad_rate"],
            "train": _headline(self.metrics["train"]),
            "validation": _headline(self.metrics["validation"]),
            "seconds": round(self.seconds, 2),
        }


def _headline(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in ("rows", "bad_rate", "auc", "ks", "gini")}


def is_identifier(name: str) -> bool:
    return name.endswith("_id") or name in ("id", "as_of")


def feature_columns(frame: pl.DataFrame, target: str, exclude: set[str]) -> list[str]:
    """The characteristics: every column but the target, identifiers (`…_id`, `as_of`), dates,
    and the ones excluded by name."""
    return [
        name
        for name, dtype in frame.schema.items()
        if name != target
        and name not in exclude
        and not is_identifier(name)
        and not isinstance(dtype, TEMPORAL)
        and dtype not in TEMPORAL
    ]


def build_estimator(method: str, categorical: list[str], trends: dict[str, str | None]):
    if method == "scorecard":
        return Scorecard(categorical=categorical, monotonic=trends)
    if method == "gbm":
        return GbmChallenger(categorical=categorical)
    raise ValueError(f"method must be one of {modeldir.METHODS}, not {method!r}")


def train_model(
    frame: pl.DataFrame,
    *,
    kind: str,
    method: str,
    target: str,
    out: Path,
    source: str,
    exclude: set[str] | None = None,
    categorical: list[str] | None = None,
    options: dict[str, Any] | None = None,
    validation_fraction: float = 0.25,
    random_state: int = 0,
) -> TrainResult:
    """Fit a model of `kind` on `frame` (a stratified `validation_fraction` held out for honest
    metrics) and write its directory."""
    if kind not in modeldir.KINDS:
        raise ValueError(f"kind must be one of {modeldir.KINDS}, not {kind!r}")
    started = time.perf_counter()
    y = target_column(frame, target, Path(source)).to_numpy()
    minority = int(min(y.sum(), y.size - y.sum()))
    if minority < MIN_CLASS_ROWS:
        raise DataFileError(
            f"{source}: column {target!r} has {int(y.sum())} bads and {int(y.size - y.sum())} "
            f"goods; a model needs at least {MIN_CLASS_ROWS} of each"
        )
    names = feature_columns(frame, target, exclude or set())
    if not names:
        raise DataFileError(f"{source}: no characteristic columns besides {target!r} and ids")
    cats = set(categorical or [])
    kinds = {name: column_kind(frame, name, cats) for name in names}
    X = frame.select(names)
    trends = {n: EXPECTED_TRENDS[n] for n in names if n in EXPECTED_TRENDS}
    estimator = build_estimator(method, [n for n, k in kinds.items() if k == "categorical"], trends)
    train_idx, valid_idx = train_test_split(
        np.arange(y.size), test_size=validation_fraction, stratify=y, random_state=random_state
    )
    estimator.fit(X[train_idx], y[train_idx])
    p_train = estimator.predict_proba(X[train_idx])[:, 1]
    p_valid = estimator.predict_proba(X[valid_idx])[:, 1]
    model_metrics = {
        "train": metrics.summary(y[train_idx], p_train),
        "validation": metrics.summary(y[valid_idx], p_valid),
    }
    used = estimator.features_
    features = [{"name": n, "dtype": kinds[n]} for n in used]
    meta = {
        "kind": kind,
        "method": method,
        "target": target,
        "features": features,
        "id_columns": [n for n in frame.columns if is_identifier(n)],
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint": {
            "sha256": modeldir.fingerprint(frame.select(*names, target)),
            "rows": int(y.size),
            "columns": len(names) + 1,
            "bad_rate": round(float(y.mean()), 6),
            "source": source,
        },
        "scale": {"base_points": 600, "base_odds": 50, "pdo": 20},
        "options": options or {},
    }
    train_X = X[train_idx]
    reference = modeldir.reference_bins(
        train_X, {n: kinds[n] for n in used}, estimator.points(train_X)
    )
    table = estimator.table() if isinstance(estimator, Scorecard) else _importance(estimator)
    path = modeldir.save(
        out,
        estimator=estimator,
        meta=meta,
        model_metrics=model_metrics,
        reference=reference,
        table=table,
    )
    return TrainResult(path, meta, model_metrics, time.perf_counter() - started)


def _importance(model: GbmChallenger) -> pl.DataFrame:
    gain = model.booster_.feature_importance(importance_type="gain")
    return pl.DataFrame(
        {
            "feature": model.features_,
            "monotone": [model.monotone_[n] for n in model.features_],
            "gain": np.round(gain, 3),
        }
    ).sort("gain", descending=True)


def train_from_file(
    data: Path, *, kind: str, method: str, target: str, out: Path, **kwargs: Any
) -> TrainResult:
    frame = read_table(data)
    return train_model(
        frame, kind=kind, method=method, target=target, out=out, source=str(data), **kwargs
    )


# ------------------------------------------------------------------ evaluate and score


def evaluate_frame(saved: modeldir.SavedModel, frame: pl.DataFrame, target: str, source: str):
    y = target_column(frame, target, Path(source)).to_numpy()
    X = check_features(frame, saved.features, Path(source))
    p = saved.estimator.predict_proba(X)[:, 1]
    if y.sum() == 0 or y.sum() == y.size:
        raise DataFileError(f"{source}: column {target!r} has only one value; AUC and KS need both")
    return metrics.summary(y, p)


def evaluate_file(model: Path, data: Path, target: str) -> dict[str, Any]:
    saved = modeldir.load(model)
    result = evaluate_frame(saved, read_table(data), target, str(data))
    return {"model": str(model), "data": str(data), **result}


def score_frame(saved: modeldir.SavedModel, frame: pl.DataFrame, source: str, top: int = 3):
    """Identifiers, `score` (points), `probability` (of the bad outcome) and reason codes."""
    X = check_features(frame, saved.features, Path(source))
    estimator = saved.estimator
    if isinstance(estimator, Scorecard):
        by_feature = estimator.points_by_feature(X)
        points = by_feature.sum(axis=1)
        probability = estimator.probability_from_points(points)
        reasons = estimator.reasons_from_points(by_feature, top)
    else:
        probability = estimator.predict_proba(X)[:, 1]
        points = estimator.points(X)
        reasons = estimator.reasons(X, top)
    ids = [n for n in frame.columns if is_identifier(n)]
    return pl.concat(
        [
            frame.select(ids),
            pl.DataFrame({"score": np.round(points, 2), "probability": np.round(probability, 6)}),
            reasons,
        ],
        how="horizontal",
    )


def write_table(frame: pl.DataFrame, out: Path) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out)
    elif out.suffix.lower() == ".csv":
        frame.write_csv(out)
    else:
        raise DataFileError(f"{out}: the output must end in .csv or .parquet")


def score_file(model: Path, data: Path, out: Path, top: int = 3) -> dict[str, Any]:
    started = time.perf_counter()
    saved = modeldir.load(model)
    if Path(out).suffix.lower() not in (".csv", ".parquet"):
        raise DataFileError(f"{out}: the output must end in .csv or .parquet")
    frame = read_table(data)
    scored = score_frame(saved, frame, str(data), top)
    write_table(scored, out)
    return {
        "model": str(model),
        "rows": scored.height,
        "out": str(out),
        "mean_score": round(float(scored.get_column("score").mean() or 0.0), 2),
        "seconds": round(time.perf_counter() - started, 3),
    }


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ------------------------------------------------------------------ the database's own history


def train_from_history(
    engine: Any,
    *,
    kind: str,
    method: str,
    out: Path,
    observations: int = 6,
    horizon_months: int = 6,
    bad_dpd: int = 60,
    cure_days: int = 31,
    history: Any = None,
) -> TrainResult:
    """A behaviour or collection model from the close of business's snapshots (`history`, a
    `features.History` already read, saves reading it again)."""
    from arrears.scoring import features as feats

    history = history if history is not None else feats.read_history(engine)
    frame = feats.training_frame(
        history,
        kind,
        observations=observations,
        horizon_months=horizon_months,
        bad_dpd=bad_dpd,
        cure_days=cure_days,
    )
    dates = frame.get_column("as_of").unique().sort()
    options = {
        "observations": [str(d) for d in dates],
        "horizon_months": horizon_months,
        "bad_dpd": bad_dpd,
        "cure_days": cure_days,
        "target": (
            f"reached {bad_dpd}+ DPD within {horizon_months} months"
            if kind == "behaviour"
            else f"not cured within {cure_days} days"
        ),
    }
    return train_model(
        frame,
        kind=kind,
        method=method,
        target="bad",
        out=out,
        source=f"database history {dates[0]} … {dates[-1]}",
        categorical=["product"],
        options=options,
    )


def score_book(
    engine: Any, kind: str, out: Path, as_of: date | None = None, history: Any = None
) -> dict[str, Any]:
    """Score every account of `kind` on the latest close date with the champion."""
    from arrears.scoring import features as feats
    from arrears.scoring import registry

    started = time.perf_counter()
    info = registry.champion(engine, kind)
    saved = modeldir.load(Path(info.path))
    history = history if history is not None else feats.read_history(engine)
    frame = feats.current_frame(history, kind, as_of)
    scored = score_frame(saved, frame, "database")
    write_table(scored, out)
    return {
        "kind": kind,
        "model_id": info.model_id,
        "version": info.version,
        "rows": scored.height,
        "out": str(out),
        "mean_score": round(float(scored.get_column("score").mean() or 0.0), 2)
        if scored.height
        else None,
        "seconds": round(time.perf_counter() - started, 3),
    }


def demo_models(
    engine: Any,
    book_dir: Path,
    out_dir: Path,
    *,
    by: str = "demo",
    method: str = "scorecard",
    report_section: bool = True,
    check_stability: bool = False,
) -> dict[str, Any]:
    """What the demo shows: an application scorecard trained on the simulated book's borrowers
    and a behaviour scorecard on its close-of-business history, both registered and promoted,
    then the open book scored with the behaviour champion. Returns a summary of each step and
    `report_section` (`charts.book_model_section`) for the report (unless `report_section` is
    false); `check_stability` adds a first `monitor` run of the behaviour champion. The close
    of business history is read once for all of it (reading it is most of the time)."""
    from arrears.scoring import features as feats
    from arrears.scoring import registry

    out_dir = Path(out_dir)
    applications = feats.simulated_applications(Path(book_dir))
    truth = applications.get_column("true_pd_12m").to_numpy()
    app = train_model(
        applications.drop("true_pd_12m"),
        kind="application",
        method=method,
        target="bad",
        out=out_dir / "application",
        source=f"simulated applications in {book_dir}",
    )
    history = feats.read_history(engine)
    behaviour = train_from_history(
        engine, kind="behaviour", method=method, out=out_dir / "behaviour", history=history
    )
    summary: dict[str, Any] = {"models": []}
    for result in (app, behaviour):
        model_id = registry.register(engine, result.path, by)
        registry.promote(engine, model_id, by, reason="demo: first model of its kind")
        summary["models"].append({"model_id": model_id, **result.to_dict()})
    # the ceiling: how well the simulator's own true PD ranks the same outcomes
    y = applications.get_column("bad").to_numpy()
    summary["application_true_pd_auc"] = round(metrics.auc(y, truth), 4)
    summary["scored"] = score_book(
        engine, "behaviour", out_dir / "behaviour-scores.parquet", history=history
    )
    from arrears.scoring.charts import book_model_section

    if report_section:
        # what the report's models section draws: score distribution, KS curve, PSI
        summary["report_section"] = book_model_section(engine, "behaviour", history=history)
    if check_stability:
        from arrears.scoring.monitor import monitor

        summary["monitor"] = monitor(engine, "behaviour", history=history).to_dict()
    return summary
