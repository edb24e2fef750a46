"""Typed dependencies, so a route reads as a sentence: `def get_loan(loan_id, user:
CurrentUserDep, engine: EngineDep, …)`.

`current_user` accepts a bearer token (`Authorization: Bearer arr_…`) or the pages' session
cookie (then an unsafe method must carry the CSRF token in `X-CSRF-Token` or the form);
`authorise` applies `policy.POLICY` to the matched route. Ownership rules (borrowers see their
own, collectors delinquent loans) are the `require_*` helpers below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine

from arrears.api import policy
from arrears.api.errors import NotFound
from arrears.api.schemas import Day
from arrears.auth.accounts import CurrentUser, session_user, user_for_token
from arrears.auth.sessions import CSRF_HEADER, SessionSigner
from arrears.catalog import Catalog
from arrears.config import Settings
from arrears.loans.status import loan_status
from arrears.store import repository as repo
from arrears.store.db import single_read, unit_of_work
from arrears.store.tables import Borrower, Loan, StatusSnapshot

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `arrears token create NAME`: `Authorization: Bearer arr_…`.",
)


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_sessions(request: Request) -> SessionSigner:
    return request.app.state.sessions


# The dependencies that only read app state are `async`, so FastAPI calls them in the event loop
# instead of handing each to the thread pool (a hop that costs more than the read).
EngineDep = Annotated[Engine, Depends(get_engine)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def current_user_or_none(request: Request) -> CurrentUser | None:
    """The signed-in user from a bearer token or a session cookie, or None (no CSRF check)."""
    header = request.headers.get("authorization", "")
    engine = request.app.state.engine
    if header:
        scheme, _, token = header.partition(" ")
        return user_for_token(engine, token.strip()) if scheme.lower() == "bearer" else None
    session = request.app.state.sessions.read(request)
    return session_user(engine, session.username, session.sid) if session else None


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    """The caller, or 401. A cookie session must prove an unsafe request with its CSRF token."""
    engine = request.app.state.engine
    if credentials is not None:
        user = user_for_token(engine, credentials.credentials)
        if user is None:
            raise _unauthorised("the token is unknown, revoked, or its user is inactive")
        return user
    if request.headers.get("authorization"):
        raise _unauthorised("use `Authorization: Bearer <token>`")
    signer: SessionSigner = request.app.state.sessions
    session = signer.read(request)
    if session is None:
        raise _unauthorised("sign in, or send `Authorization: Bearer <token>`")
    user = session_user(engine, session.username, session.sid)
    if user is None:
        raise _unauthorised("the session has ended, or its user is inactive or gone")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not signer.check_csrf(
        session, request.headers.get(CSRF_HEADER)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return user


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]


async def authorise(request: Request, user: CurrentUserDep) -> CurrentUser:
    """403 unless the caller's role is allowed on the matched route by `policy.POLICY`."""
    route = request.scope.get("route")
    allowed = policy.allowed_roles(request.method, getattr(route, "path_format", request.url.path))
    if allowed is None or user.role not in allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"role {user.role!r} may not {request.method} this resource"
        )
    return user


# ------------------------------------------------------------------ parameters


async def today(settings: SettingsDep) -> date:
    return settings.today()


TodayDep = Annotated[date, Depends(today)]

IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f/]+$")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return (at most 500).")]
OptionalDay = Annotated[
    Day | None,
    Query(description="A business date, YYYY-MM-DD (1970-01-01 … 2199-12-31); default today."),
]


# ------------------------------------------------------------------ ownership


def delinquent_loans_query(as_of: date):  # type: ignore[no-untyped-def]
    """Loan ids delinquent by their newest snapshot on or before `as_of` (what collectors see
    in lists; cases will narrow it to their own)."""
    newest = (
        select(StatusSnapshot.loan_id, func.max(StatusSnapshot.as_of).label("as_of"))
        .where(StatusSnapshot.as_of <= as_of)
        .group_by(StatusSnapshot.loan_id)
        .subquery()
    )
    return (
        select(StatusSnapshot.loan_id)
        .join(
            newest,
            (StatusSnapshot.loan_id == newest.c.loan_id) & (StatusSnapshot.as_of == newest.c.as_of),
        )
        .where(StatusSnapshot.days_past_due > 0)
    )


def _is_delinquent(record: repo.LoanRecord, catalog: Catalog, on: date) -> bool:
    return loan_status(record.loan, catalog.get(record.product), on).days_past_due > 0


def _loan_is_delinquent(engine: Engine, catalog: Catalog, loan_id: str, as_of: date) -> bool:
    with unit_of_work(engine) as session:
        record = repo.load_loan(session, loan_id)
    return _is_delinquent(record, catalog, as_of)


def loan_refusal(
    user: CurrentUser, borrower_id: str, delinquent: Callable[[], bool]
) -> Literal["missing", "forbidden"] | None:
    """Ownership of a loan, the one rule behind `visible_loan`, `require_loan_access` and the
    loan page: a borrower sees only their own loans (another's does not exist for them), a
    collector only delinquent ones (`delinquent` is asked only for a collector)."""
    if user.role == policy.BORROWER and borrower_id != user.borrower_id:
        return "missing"
    if user.role == policy.COLLECTOR and not delinquent():
        return "forbidden"
    return None


def visible_loan(
    engine: Engine, catalog: Catalog, user: CurrentUser, loan_id: str, on: date
) -> repo.LoanRecord:
    """Loan `loan_id`, read once, if `user` may see it: 404 when it does not exist (or belongs
    to another borrower, for a borrower user), 403 for a collector on a loan that is not
    delinquent on `on`."""
    record = repo.read_loan_from(engine, loan_id)
    refusal = loan_refusal(user, record.borrower_id, lambda: _is_delinquent(record, catalog, on))
    if refusal == "missing":
        raise repo.LoanNotFound(loan_id)
    if refusal == "forbidden":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"loan {loan_id} is not delinquent on {on}: not a collection loan",
        )
    return record


def require_loan_access(
    engine: Engine, catalog: Catalog, user: CurrentUser, loan_id: str, on: date
) -> str:
    """The loan's borrower id if `user` may see loan `loan_id` (see `visible_loan`). Only a
    collector's check needs the loan's status; the others need only its borrower."""
    if user.role == policy.COLLECTOR:
        return visible_loan(engine, catalog, user, loan_id, on).borrower_id
    with single_read(engine) as conn:
        borrower_id = conn.execute(_LOAN_BORROWER, {"loan_id": loan_id}).scalar()
    if borrower_id is None or loan_refusal(user, borrower_id, lambda: True) == "missing":
        raise repo.LoanNotFound(loan_id)
    return borrower_id


_LOAN_BORROWER = select(Loan.borrower_id).where(Loan.loan_id == bindparam("loan_id"))


def require_borrower_access(
    engine: Engine, catalog: Catalog, user: CurrentUser, borrower_id: str, on: date
) -> Borrower:
    """The borrower row if `user` may see it (404 / 403 as for loans)."""
    with unit_of_work(engine) as session:
        row = session.get(Borrower, borrower_id)
        loan_ids = list(
            session.scalars(select(Loan.loan_id).where(Loan.borrower_id == borrower_id))
        )
    if row is None or (user.role == policy.BORROWER and borrower_id != user.borrower_id):
        raise NotFound(f"borrower {borrower_id!r} not found")
    if user.role == policy.COLLECTOR and not any(
        _loan_is_delinquent(engine, catalog, loan_id, on) for loan_id in loan_ids
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"borrower {borrower_id} has no delinquent loan on {on}: not a collection borrower",
        )
    return row
