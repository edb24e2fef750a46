"""Is the champion still the model it was? Population stability (PSI) of the score and
characteristic stability (CSI) of each input between the training population and a recent one,
and KS/AUC on the latest outcomes that have matured. A PSI above the threshold (0.25 by
default) is an alert: a `model.drift_alert` event, recorded with the run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine

from arrears.scoring import features as feats
from arrears.scoring import metrics, modeldir, registry
from arrears.scoring.datafile import DataFileError, check_features, read_table, target_column
from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import ModelMonitorRun

PSI_ALERT = 0.25


@dataclass
class MonitorResult:
    model_id: int
    kind: str
    window: str
    rows: int
    psi: float
    csi: dict[str, float]
    auc: float | None
    ks: float | None
    matured_rows: int
    matured_window: str | None
    alert: bool
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "kind": self.kind,
            "window": self.window,
            "rows": self.rows,
            "psi": round(self.psi, 6),
            "csi": {k: round(v, 6) for k, v in self.csi.items()},
            "auc": None if self.auc is None else round(self.auc, 6),
            "ks": None if self.ks is None else round(self.ks, 6),
            "matured_rows": self.matured_rows,
            "matured_window": self.matured_window,
            "alert": self.alert,
            "threshold": self.threshold,
        }


def stability(saved: modeldir.SavedModel, frame: pl.DataFrame) -> tuple[float, dict[str, float]]:
    """PSI of the score and CSI per characteristic of `frame` against the training reference."""
    reference = saved.reference()
    points = saved.estimator.points(frame)
    score_ref = reference["score"]
    actual = metrics.bin_shares(points, np.asarray(score_ref["edges"], dtype=np.float64))
    psi = metrics.psi(np.asarray(score_ref["shares"]), actual)
    csi = {}
    for name, ref in reference["features"].items():
        csi[name] = metrics.psi(
            np.asarray(ref["shares"]), modeldir.shares_like(ref, frame.get_column(name))
        )
    return psi, csi


def monitor(
    engine: Engine,
    kind: str,
    *,
    data: Path | None = None,
    target: str | None = None,
    as_of: date | None = None,
    threshold: float = PSI_ALERT,
    history: feats.History | None = None,
) -> MonitorResult:
    info = registry.champion(engine, kind)
    saved = modeldir.load(Path(info.path))
    matured: pl.DataFrame | None = None
    matured_window = None
    if data is not None:  # a recent population the lender brings (applications)
        raw = read_table(data)
        recent = check_features(raw, saved.features, data)
        window = str(data)
        if target is not None:
            matured = recent.with_columns(target_column(raw, target, data).alias("__target"))
            matured_window = window
    elif kind == "application":
        raise DataFileError("an application model is monitored on a file: give --data FILE")
    else:
        history = history if history is not None else feats.read_history(engine)
        current = feats.current_frame(history, kind, as_of)
        if current.height == 0:
            raise feats.NoHistory(f"no {kind} population on the latest close date")
        window = str(current.get_column("as_of")[0])
        recent = check_features(current, saved.features, Path("database"))
        options = saved.meta.get("options", {})
        try:
            outcome = feats.training_frame(
                history,
                kind,
                observations=1,
                horizon_months=int(options.get("horizon_months", 6)),
                bad_dpd=int(options.get("bad_dpd", 60)),
                cure_days=int(options.get("cure_days", 31)),
            )
            matured = check_features(outcome, saved.features, Path("database")).with_columns(
                outcome.get_column("bad").alias("__target")
            )
            matured_window = str(outcome.get_column("as_of")[0])
        except feats.NoHistory:
            matured = None
    psi, csi = stability(saved, recent)
    auc = ks = None
    matured_rows = 0
    if matured is not None and matured.height:
        y = matured.get_column("__target").to_numpy()
        matured_rows = int(y.size)
        if 0 < y.sum() < y.size:
            p = saved.estimator.predict_proba(matured.drop("__target"))[:, 1]
            auc, ks = metrics.auc(y, p), metrics.ks(y, p)
    result = MonitorResult(
        model_id=info.model_id,
        kind=kind,
        window=window,
        rows=recent.height,
        psi=psi,
        csi=csi,
        auc=auc,
        ks=ks,
        matured_rows=matured_rows,
        matured_window=matured_window,
        alert=psi > threshold,
        threshold=threshold,
    )
    _record(engine, result)
    return result


def _record(engine: Engine, result: MonitorResult) -> None:
    with unit_of_work(engine) as session:
        session.add(
            ModelMonitorRun(
                model_id=result.model_id,
                kind=result.kind,
                run_at=datetime.now(UTC),
                window=result.window[:64],
                rows=result.rows,
                psi=result.psi,
                auc=result.auc,
                ks=result.ks,
                alert=result.alert,
                details=result.to_dict(),
            )
        )
        if result.alert:
            record_event(
                session,
                "model.drift_alert",
                payload={
                    "model_id": result.model_id,
                    "kind": result.kind,
                    "psi": round(result.psi, 6),
                    "threshold": result.threshold,
                    "window": result.window,
                    "worst_features": sorted(result.csi, key=result.csi.get, reverse=True)[:3],  # type: ignore[arg-type]
                },
            )
