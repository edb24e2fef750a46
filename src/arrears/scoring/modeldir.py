"""A model directory: everything needed to score with a model and to trust it later.

```
model.json       kind, method, target, characteristics and their types, id columns, the
                 training data's fingerprint (SHA-256, rows, bad rate, source), options
estimator.json   the fitted estimator as data (bins and points, or LightGBM's text model)
metrics.json     train and validation metrics (AUC, KS, Gini, calibration)
scorecard.csv    the table a risk manager reads (feature, bin, rows, bad rate, WoE, IV, points)
reference.json   the training population's score and characteristic distributions (PSI/CSI)
```

Nothing is pickled: a directory from anyone can be loaded without running their code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from arrears.scoring import metrics
from arrears.scoring.gbm import GbmChallenger
from arrears.scoring.scorecard import Scorecard

FORMAT = 1
KINDS = ("application", "behaviour", "collection")
METHODS = ("scorecard", "gbm")


class ModelDirError(ValueError):
    """A directory that is not a model this version can read."""


@dataclass
class SavedModel:
    path: Path
    meta: dict[str, Any]
    estimator: Scorecard | GbmChallenger

    @property
    def features(self) -> dict[str, str]:
        return {f["name"]: f["dtype"] for f in self.meta["features"]}

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])

    def reference(self) -> dict[str, Any]:
        return json.loads((self.path / "reference.json").read_text(encoding="utf-8"))

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.path / "metrics.json").read_text(encoding="utf-8"))


def fingerprint(frame: pl.DataFrame) -> str:
    """SHA-256 of the training rows as CSV (column order and values): the same data, the same
    fingerprint, whatever file it came from."""
    digest = hashlib.sha256()
    for chunk in frame.iter_slices(200_000):
        digest.update(chunk.write_csv().encode())
    return digest.hexdigest()


def reference_bins(
    frame: pl.DataFrame, features: dict[str, str], score: np.ndarray
) -> dict[str, Any]:
    """Deciles of the score and of each numerical characteristic, category shares of the
    others: what later populations are compared with."""
    edges = metrics.quantile_edges(score, 10)
    out: dict[str, Any] = {
        "score": {"edges": edges.tolist(), "shares": metrics.bin_shares(score, edges).tolist()},
        "features": {},
    }
    for name, kind in features.items():
        series = frame.get_column(name)
        if kind == "numerical":
            values = series.cast(pl.Float64, strict=False).fill_nan(None).to_numpy()
            values = np.asarray(values, dtype=np.float64)
            f_edges = metrics.quantile_edges(values, 10)
            out["features"][name] = {
                "type": "numerical",
                "edges": f_edges.tolist(),
                "shares": metrics.bin_shares(values, f_edges).tolist(),
            }
        else:
            categories = series.cast(pl.String).drop_nulls().unique().sort().to_list()
            out["features"][name] = {
                "type": "categorical",
                "categories": categories,
                "shares": category_shares(series, categories).tolist(),
            }
    return out


def category_shares(series: pl.Series, categories: list[str]) -> np.ndarray:
    """Share per known category, then one share for unknown-or-missing."""
    codes = series.cast(pl.String).replace_strict(
        categories, list(range(len(categories))), default=len(categories), return_dtype=pl.Int64
    )
    counts = np.bincount(codes.to_numpy(), minlength=len(categories) + 1).astype(np.float64)
    return counts / max(series.len(), 1)


def shares_like(reference: dict[str, Any], series: pl.Series) -> np.ndarray:
    """A new population's shares in the bins of `reference` (one feature's entry)."""
    if reference["type"] == "numerical":
        values = np.asarray(
            series.cast(pl.Float64, strict=False).fill_nan(None).to_numpy(), dtype=np.float64
        )
        return metrics.bin_shares(values, np.asarray(reference["edges"], dtype=np.float64))
    return category_shares(series, reference["categories"])


def save(
    path: Path,
    *,
    estimator: Scorecard | GbmChallenger,
    meta: dict[str, Any],
    model_metrics: dict[str, Any],
    reference: dict[str, Any],
    table: pl.DataFrame | None,
) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)

    def write(name: str, value: Any) -> None:
        (path / name).write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")

    write("model.json", {"format": FORMAT, **meta})
    write("estimator.json", estimator.to_dict())
    write("metrics.json", model_metrics)
    write("reference.json", reference)
    if table is not None:
        table.write_csv(path / "scorecard.csv")
    return path


def load(path: Path) -> SavedModel:
    path = Path(path)
    meta_file = path / "model.json"
    if not meta_file.exists():
        raise ModelDirError(f"{path}: not a model directory (no model.json)")
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ModelDirError(
            f"{path}: model format {meta.get('format')!r}, this version reads {FORMAT}"
        )
    data = json.loads((path / "estimator.json").read_text(encoding="utf-8"))
    method = meta.get("method")
    if method == "scorecard":
        estimator: Scorecard | GbmChallenger = Scorecard.from_dict(data)
    elif method == "gbm":
        estimator = GbmChallenger.from_dict(data)
    else:
        raise ModelDirError(f"{path}: unknown method {method!r}")
    return SavedModel(path=path, meta=meta, estimator=estimator)
