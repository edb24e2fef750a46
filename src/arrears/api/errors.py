"""Errors a client can cause, mapped to HTTP answers: unknown ids 404, business refusals 409,
values that cannot be used 422, a database without schema 503. Anything else is a bug (500)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from arrears.auth.accounts import AccountError, TokenNotFound, UserNotFound
from arrears.catalog import CatalogError, UnknownProduct
from arrears.cob.runner import CobError
from arrears.loans.money import MoneyError
from arrears.reports.summary import CurrencyChoice, NoCloseOfBusiness
from arrears.servicing import BusinessRuleRefused
from arrears.store.db import DatabaseNotReady
from arrears.store.repository import DuplicatePayment, LoanNotFound, PaymentNotFound


class NotFound(LookupError):
    """A resource the API looked up by id and did not find (message names it)."""


class Conflict(ValueError):
    """A request refused because of the state it meets (message says why)."""


def _message(exc: BaseException) -> str:
    if isinstance(exc, UnknownProduct):
        return f"product {exc.args[0]!r} is not in the catalog"
    return str(exc)


STATUS: tuple[tuple[tuple[type[BaseException], ...], int], ...] = (
    (
        (LoanNotFound, PaymentNotFound, UserNotFound, TokenNotFound, NotFound, NoCloseOfBusiness),
        404,
    ),
    (
        (
            BusinessRuleRefused,
            DuplicatePayment,
            CobError,
            AccountError,
            Conflict,
            UnknownProduct,
            CatalogError,
        ),
        409,
    ),
    ((CurrencyChoice,), 422),
    ((DatabaseNotReady,), 503),
)


def install(app: FastAPI) -> None:
    for kinds, status in STATUS:
        for kind in kinds:

            async def handler(_request: Request, exc: Exception, status: int = status):
                return JSONResponse({"detail": _message(exc)}, status_code=status)

            app.add_exception_handler(kind, handler)

    async def money(_request: Request, exc: Exception) -> JSONResponse:
        loc = getattr(exc, "loc", ["body", "amount"])
        return JSONResponse(
            {"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]}, status_code=422
        )

    async def data_error(_request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot hold (too long, out of range): the client's input.
        return JSONResponse(
            {"detail": "a value is out of range or cannot be stored"}, status_code=422
        )

    app.add_exception_handler(MoneyError, money)
    app.add_exception_handler(DataError, data_error)
