"""What a report's models section draws, as plain data (the report renders it; this module
computes it): per champion, the score distribution of the scored population, the KS curve on
the latest matured outcomes, and the stability (PSI) against the training population."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from arrears.scoring import features as feats
from arrears.scoring import metrics, modeldir, registry
from arrears.scoring.datafile import check_features
from arrears.scoring.monitor import stability


def score_histogram(points: np.ndarray, width: float = 10.0) -> dict[str, list[float]]:
    """Counts of scores in bins of `width` points (edges aligned to multiples of `width`)."""
    points = np.asarray(points, dtype=np.float64)
    if points.size == 0:
        return {"edges": [], "counts": []}
    low = np.floor(points.min() / width) * width
    high = np.ceil((points.max() + 1e-9) / width) * width
    edges = np.arange(low, high + width, width)
    counts, _ = np.histogram(points, bins=edges)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def ks_points(y: np.ndarray, risk: np.ndarray, samples: int = 101) -> dict[str, Any]:
    """The KS curve thinned to `samples` points over the population share (riskiest first)."""
    _, cum_bad, cum_good = metrics.ks_curve(y, risk)
    order = np.argsort(-np.asarray(risk, dtype=np.float64), kind="mergesort")
    sorted_risk = np.asarray(risk, dtype=np.float64)[order]
    last_of_value = np.r_[np.flatnonzero(np.diff(sorted_risk)), sorted_risk.size - 1]
    population = (last_of_value + 1) / sorted_risk.size
    grid = np.linspace(0, 1, samples)
    bads = np.interp(grid, np.r_[0, population], np.r_[0, cum_bad])
    goods = np.interp(grid, np.r_[0, population], np.r_[0, cum_good])
    return {
        "population": grid.round(4).tolist(),
        "bads": bads.round(4).tolist(),
        "goods": goods.round(4).tolist(),
        "ks": metrics.ks(y, risk),
    }


def book_model_section(
    engine: Engine, kind: str = "behaviour", history: feats.History | None = None
) -> dict[str, Any]:
    """The champion of a behaviour or collection kind on the latest close date: score histogram,
    KS curve on the latest matured outcomes, PSI and CSI against training."""
    info = registry.champion(engine, kind)
    saved = modeldir.load(Path(info.path))
    history = history if history is not None else feats.read_history(engine)
    current = feats.current_frame(history, kind)
    X = check_features(current, saved.features, Path("database"))
    points = saved.estimator.points(X)
    psi, csi = stability(saved, X)
    reference = saved.reference()["score"]
    edges = np.asarray(reference["edges"], dtype=np.float64)
    section: dict[str, Any] = {
        "kind": kind,
        "model_id": info.model_id,
        "version": info.version,
        "method": info.method,
        "as_of": str(current.get_column("as_of")[0]) if current.height else None,
        "rows": current.height,
        "score_histogram": score_histogram(points),
        "psi": psi,
        "csi": csi,
        # the PSI's own terms: the training and the current shares per training score decile
        "psi_bins": {
            "edges": edges.round(2).tolist(),
            "expected": np.round(reference["shares"], 4).tolist(),
            "actual": metrics.bin_shares(points, edges).round(4).tolist(),
        },
        "ks_curve": None,
    }
    options = saved.meta.get("options", {})
    try:
        matured = feats.training_frame(
            history,
            kind,
            observations=1,
            horizon_months=int(options.get("horizon_months", 6)),
            bad_dpd=int(options.get("bad_dpd", 60)),
            cure_days=int(options.get("cure_days", 31)),
        )
    except feats.NoHistory:
        return section
    y = matured.get_column("bad").to_numpy()
    p = saved.estimator.predict_proba(check_features(matured, saved.features, Path("database")))[
        :, 1
    ]
    section["ks_curve"] = {"as_of": str(matured.get_column("as_of")[0]), **ks_points(y, p)}
    section["auc"] = metrics.auc(y, p)
    return section
