"""Admission: decide one credit application against the admission policy (docs/admission.md).

The body is the same `ApplicationIn` the `arrears admit` files hold; a product or currency the
policy does not cover is a 422 like any other bad field. When the application names a
`borrower_id` the database knows, what the lender already knows of that borrower (current and
12-month delinquency, exposure, bureau data) is added first — an application never looks better
for it. The internal blacklist and the newest enforcement-list report of the party (borrower, or
applicant by `national_id`) are consulted for every application. The score is the body's
`score`, else the app's scorer (`app.state.admission_scorer`), else the registry's champion
application model (with its reason codes); with no champion the answer says so
(`NO_CHAMPION`: rules only, referred)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from arrears.api.deps import EngineDep, TodayDep
from arrears.api.policy import API_PREFIX
from arrears.scoring.admission import (
    AdmissionPolicy,
    ApplicationIn,
    admit,
    default_policy,
    enrich_with_profiles,
    to_application,
)

router = APIRouter(prefix=f"{API_PREFIX}/admissions", tags=["admission"])


class ReasonOut(BaseModel):
    code: str
    en: str
    zh: str


class ModelOut(BaseModel):
    model_id: int
    version: int
    kind: str
    method: str | None


class AdmissionOut(BaseModel):
    application_id: str
    product: str
    decision: str  # approve | refer | decline
    reason_codes: list[str]
    reasons: list[ReasonOut]
    score: float | None
    band: str | None
    currency: str
    limit: str | None
    approved_amount: str | None
    annual_rate: str | None
    debt_to_income: str | None
    model: ModelOut | None  # the champion that scored it (None: the body's score, or no model)
    score_reasons: list[ReasonOut]  # the model's reason codes: what lowered the score most


def _policy(request: Request) -> AdmissionPolicy:
    return getattr(request.app.state, "admission_policy", None) or default_policy()


@router.post("", response_model=AdmissionOut)
def decide_application(
    body: ApplicationIn, request: Request, engine: EngineDep, today: TodayDep
) -> dict[str, Any]:
    """Approve, refer or decline one application, with reasons, limit and rate. 准入审批。"""
    policy = _policy(request)
    try:
        application = to_application(body, policy)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise RequestValidationError(
            [{"loc": ("body", field), "msg": message or str(exc), "type": "value_error"}]
        ) from None
    if application.borrower_id:
        from arrears.bureau.profile import credit_profiles

        profiles = credit_profiles(engine, today, [application.borrower_id])
        [application] = enrich_with_profiles([application], profiles)
    from arrears.scoring.screening import screen

    [application] = screen(engine, [application])
    scorer = getattr(request.app.state, "admission_scorer", None)
    if scorer is None and application.score is None:
        from arrears.scoring.champion import MissingFeatures, champion_scorer

        scorer = champion_scorer(engine)
        try:
            [decision] = admit([application], policy, scorer)
        except MissingFeatures as exc:
            raise RequestValidationError(
                [
                    {"loc": ("body", "features", name), "msg": str(exc), "type": "missing"}
                    for name in exc.missing
                ]
            ) from None
        except ValueError as exc:  # a characteristic that is not a number
            raise RequestValidationError(
                [{"loc": ("body", "features"), "msg": str(exc), "type": "value_error"}]
            ) from None
        return decision.as_json()
    [decision] = admit([application], policy, scorer)
    return decision.as_json()
