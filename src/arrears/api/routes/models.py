"""The model registry, read-only (docs/scoring.md): the registered versions with their
validation AUC/KS and champion, and one model's scorecard table and latest monitoring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from arrears.api.deps import EngineDep
from arrears.api.policy import API_PREFIX
from arrears.scoring import views
from arrears.scoring.registry import RegistryError

router = APIRouter(prefix=f"{API_PREFIX}/models", tags=["models"])


@router.get("")
def list_models(engine: EngineDep) -> dict[str, Any]:
    """The registered models, by kind, newest version first. 模型列表。"""
    return {"models": views.list_view(engine)}


@router.get("/{model_id}")
def show_model(model_id: int, engine: EngineDep) -> dict[str, Any]:
    """One model: scorecard table (feature, bin, WoE, IV, points) and latest monitoring. 模型详情。"""
    try:
        return views.detail_view(engine, model_id)
    except RegistryError as exc:
        raise HTTPException(404, f"{exc} / 未找到该模型") from None
