"""Payments: post one (restating the loan at once) and reverse one with a reason. Both accept an
`Idempotency-Key` header (see `arrears.api.idempotency`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from arrears import servicing
from arrears.api import idempotency
from arrears.api.deps import (
    CatalogDep,
    CurrentUserDep,
    EngineDep,
    IdPath,
    TodayDep,
    require_loan_access,
)
from arrears.api.policy import API_PREFIX
from arrears.api.schemas import LoanStatusOut, PaymentIn, PaymentPosted, ReversalIn
from arrears.auth.accounts import CurrentUser
from arrears.store import repository as repo
from arrears.store.db import unit_of_work

router = APIRouter(prefix=f"{API_PREFIX}/payments", tags=["payments"])

KeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable text up to 200 characters; repeats return the first answer.",
    ),
]


def _once(
    request: Request,
    engine: Any,
    user: CurrentUser,
    key: str | None,
    body: Any,
    status_code: int,
    run: Callable[[], Any],
) -> Any:
    if key is None:
        return JSONResponse(jsonable_encoder(run()), status_code=status_code)
    digest = idempotency.request_hash(request.method, request.url.path, body)
    stored = idempotency.begin(engine, user.username, key, digest)
    if stored is not None:
        code, answer = stored
        return JSONResponse(answer, status_code=code, headers={"Idempotent-Replayed": "true"})
    try:
        answer = jsonable_encoder(run())
    except BaseException:
        idempotency.release(engine, user.username, key)
        raise
    idempotency.finish(engine, user.username, key, status_code, answer)
    return JSONResponse(answer, status_code=status_code)


@router.post("", status_code=201, response_model=PaymentPosted)
def post_payment(
    body: PaymentIn,
    request: Request,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    idempotency_key: KeyHeader = None,
) -> Any:
    """Record money received for a loan and restate it at once; the answer is its new status."""
    require_loan_access(engine, catalog, user, body.loan_id, today)

    def run() -> dict[str, Any]:
        payment_id, view = servicing.post_payment(
            engine,
            catalog,
            body.loan_id,
            body.amount,
            body.paid_on,
            reference=body.reference,
            payment_id=body.payment_id,
            today=today,
        )
        return {"payment_id": payment_id, "loan": view.to_dict()}

    return _once(request, engine, user, idempotency_key, body.model_dump(mode="json"), 201, run)


@router.post("/{payment_id}/reverse", response_model=LoanStatusOut)
def reverse_payment(
    payment_id: IdPath,
    body: ReversalIn,
    request: Request,
    user: CurrentUserDep,
    engine: EngineDep,
    catalog: CatalogDep,
    today: TodayDep,
    idempotency_key: KeyHeader = None,
) -> Any:
    """Reverse a payment (bounced, charged back, posted in error); the loan is restated."""
    with unit_of_work(engine) as session:
        loan_id = repo.get_payment(session, payment_id).loan_id
    require_loan_access(engine, catalog, user, loan_id, today)
    return _once(
        request,
        engine,
        user,
        idempotency_key,
        body.model_dump(mode="json"),
        200,
        lambda: servicing.reverse_payment(
            engine, catalog, payment_id, body.reason, today=today
        ).to_dict(),
    )
