"""The models section of the HTML report (评分模型): the registry's champions (kind, version,
method, validation AUC and KS, who promoted them) and, for the behaviour champion on the latest
close date, the score distribution of the book, the KS curve on the latest matured outcomes and
the population stability (PSI, CSI per characteristic) against training — drawn from
`scoring.charts.book_model_section`. `None` when no model is champion, so a book without models
shows no section."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from arrears.scoring import registry
from arrears.scoring.monitor import PSI_ALERT

# How a PSI reads (the field's usual thresholds; the alert one is the monitor's).
PSI_STABLE = 0.10


def psi_reading(psi: float) -> tuple[str, str]:
    if psi < PSI_STABLE:
        return "stable", "稳定"
    if psi <= PSI_ALERT:
        return "watch", "需关注"
    return "shifted: review the model", "显著偏移，需复核模型"


def models_section(engine: Engine, kind: str = "behaviour") -> dict[str, Any] | None:
    """Everything the report's models section shows, or None without a champion."""
    from arrears.scoring.charts import book_model_section
    from arrears.scoring.features import NoHistory

    champions = [m for m in registry.list_models(engine) if m.champion]
    if not champions:
        return None
    section: dict[str, Any] = {
        "champions": [
            {
                **m.to_dict(),
                "auc_text": "—" if m.auc is None else f"{m.auc:.3f}",
                "ks_text": "—" if m.ks is None else f"{m.ks:.3f}",
            }
            for m in champions
        ],
        "book": None,
    }
    if any(m.kind == kind for m in champions):
        try:
            book = book_model_section(engine, kind)
        except NoHistory:
            return section
        csi = sorted(book["csi"].items(), key=lambda kv: -kv[1])
        book["csi_rows"] = [
            {"feature": name, "csi": f"{value:.4f}", "reading": psi_reading(value)}
            for name, value in csi
        ]
        book["psi_text"] = f"{book['psi']:.4f}"
        book["psi_reading"] = psi_reading(book["psi"])
        book["auc_text"] = "—" if book.get("auc") is None else f"{book['auc']:.3f}"
        book["ks_text"] = "—" if not book.get("ks_curve") else f"{book['ks_curve']['ks']:.3f}"
        section["book"] = book
    return section
