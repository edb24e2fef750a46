"""What the models page and `GET /api/v1/models` show (read-only): the registered versions per
kind (version, method, validation AUC/KS, champion, who promoted), and for one model its
scorecard table (feature, bin, WoE, IV, points — or, for a GBM, its feature gains) and its
latest stability check (`model monitor`: PSI of the score, CSI per characteristic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, select

from arrears.scoring import modeldir, registry
from arrears.scoring.modeldir import KINDS
from arrears.store.db import unit_of_work
from arrears.store.tables import ModelMonitorRun


def list_view(engine: Engine) -> list[dict[str, Any]]:
    """Every registered model, by kind (in `KINDS` order) then version, newest first."""
    models = registry.list_models(engine)
    order = {k: i for i, k in enumerate(KINDS)}
    models.sort(key=lambda m: (order.get(m.kind, 99), -m.version))
    return [m.to_dict() for m in models]


def latest_monitoring(engine: Engine, model_id: int) -> dict[str, Any] | None:
    with unit_of_work(engine) as session:
        run = session.scalars(
            select(ModelMonitorRun)
            .where(ModelMonitorRun.model_id == model_id)
            .order_by(ModelMonitorRun.run_at.desc(), ModelMonitorRun.id.desc())
            .limit(1)
        ).first()
        if run is None:
            return None
        return {
            "run_at": run.run_at.isoformat(timespec="seconds"),
            "window": run.window,
            "rows": run.rows,
            "psi": run.psi,
            "auc": run.auc,
            "ks": run.ks,
            "alert": run.alert,
            "csi": dict(sorted((run.details or {}).get("csi", {}).items(), key=lambda kv: -kv[1])),
        }


def detail_view(engine: Engine, model_id: int) -> dict[str, Any]:
    """One model: its registry row, features, the scorecard table and the latest monitoring;
    `RegistryError` for an unknown id."""
    info = next((m for m in registry.list_models(engine) if m.model_id == model_id), None)
    if info is None:
        raise registry.RegistryError(f"no model with id {model_id}")
    out: dict[str, Any] = {**info.to_dict(), "features": [], "scorecard": [], "importance": []}
    try:
        saved = modeldir.load(Path(info.path))
    except (modeldir.ModelDirError, OSError):
        out["available"] = False  # the directory moved or was deleted: the registry row stays
    else:
        out["available"] = True
        out["features"] = [{"name": n, "dtype": d} for n, d in saved.features.items()]
        out["target"] = saved.meta.get("target")
        table_file = Path(info.path) / "scorecard.csv"
        if table_file.exists():
            table = pl.read_csv(table_file, infer_schema_length=None)
            rows = table.to_dicts()
            if "points" in table.columns:
                out["scorecard"] = [
                    {
                        k: r.get(k)
                        for k in ("feature", "bin", "rows", "bad_rate", "woe", "iv", "points")
                    }
                    for r in rows
                ]
            else:
                out["importance"] = rows
    out["monitoring"] = latest_monitoring(engine, model_id)
    return out
