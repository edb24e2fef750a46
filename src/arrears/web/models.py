"""The models page (评分模型) for the risk manager: the registered models per kind (version,
method, validation AUC/KS, champion, who promoted) and, for one model, its scorecard table
(feature, bin, WoE, IV, points) and latest monitoring (PSI of the score, CSI per
characteristic). Read-only; every figure comes from `arrears.scoring.views`, the same view the
API's `GET /api/v1/models` serves. Clicking a model loads it beside the list (htmx); its own
URL `/models/{id}` is a full page too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.requests import Request

from arrears.scoring import views
from arrears.scoring.modeldir import KINDS
from arrears.scoring.monitor import PSI_ALERT
from arrears.scoring.registry import RegistryError
from arrears.web.app import Pages, _is_htmx, _NotFound

KIND_NAMES = {
    "application": ("Application (A-card)", "申请评分（A卡）"),
    "behaviour": ("Behaviour (B-card)", "行为评分（B卡）"),
    "collection": ("Collection (C-card)", "催收评分（C卡）"),
}


def stability_reading(value: float | None) -> tuple[str, str, str]:
    """(css class, English, Chinese) for a PSI or CSI: < 0.10 stable, ≤ alert watch, above shift."""
    if value is None:
        return "", "—", "—"
    if value < 0.10:
        return "active", "stable", "稳定"
    if value <= PSI_ALERT:
        return "refer", "watch", "需关注"
    return "overdue", "shifted", "显著偏移"


def _grouped(models: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(k, [m for m in models if m["kind"] == k]) for k in KINDS]


def build_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    helpers = {"KIND_NAMES": KIND_NAMES, "reading": stability_reading}

    @router.get("/models")
    def models_page(request: Request) -> Response:
        user = pages.user(request, "models")
        models = views.list_view(pages.engine)
        ctx = {"groups": _grouped(models), "count": len(models), **helpers}
        return pages.render(request, "models.html.j2", ctx, user=user)

    @router.get("/models/{model_id}")
    def model_page(request: Request, model_id: int) -> Response:
        user = pages.user(request, "models")
        try:
            model = views.detail_view(pages.engine, model_id)
        except RegistryError:
            raise _NotFound(f"model {model_id}") from None
        ctx = {"model": model, **helpers}
        if _is_htmx(request):
            return pages.render(request, "_model_body.html.j2", ctx, user=user)
        models = views.list_view(pages.engine)
        ctx.update(groups=_grouped(models), count=len(models))
        return pages.render(request, "models.html.j2", ctx, user=user)

    return router


def add_model_pages(app: Any, pages: Pages) -> None:
    """Register the models page on the app that already has the others (`add_pages`)."""
    app.include_router(build_router(pages))
