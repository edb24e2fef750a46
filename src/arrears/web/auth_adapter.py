"""`WebSecurity` (what the pages need) on top of `arrears.auth` and `arrears.api`: their password
check with its rate limit, their signed session cookie and CSRF tokens, their ownership rules
(`api.deps.require_*_access`) and their masking and access log (`api.personal`). Nothing here
keeps a password, a session or a secret of its own.

`mount(app)` adds the pages to the API's app (`arrears.api.app.create_app(settings)`), using what
that app keeps in `app.state`: `settings`, `engine`, `catalog`, `sessions`.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from fastapi import FastAPI, HTTPException
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from arrears.api import personal
from arrears.api.deps import loan_refusal, require_borrower_access, require_loan_access
from arrears.api.errors import NotFound
from arrears.auth import (
    CurrentUser,
    LoginLocked,
    Session,
    SessionSigner,
    authenticate,
    end_session,
    session_user,
    start_session,
)
from arrears.catalog import Catalog
from arrears.store.db import unit_of_work
from arrears.store.repository import LoanNotFound
from arrears.store.tables import Borrower
from arrears.web.app import Pages, add_pages
from arrears.web.security import Access, LoginRefused, WebUser

log = logging.getLogger("arrears.web.access")

# Before sign-in there is no session to tie the login form's CSRF token to: a signed
# pre-session (same signer, empty user name) in its own cookie carries the token's key.
LOGIN_COOKIE = "arrears_login"
LOCKOUT_SECONDS = 15 * 60


def _current(user: WebUser) -> CurrentUser:
    return CurrentUser(user.username, user.role, user.borrower_id)


class ArrearsSecurity:
    def __init__(self, engine: Engine, catalog: Catalog, signer: SessionSigner) -> None:
        self.engine = engine
        self.catalog = catalog
        self.signer = signer

    # -------------------------------------------------------------- sessions

    def _session(self, request: Request) -> Session | None:
        session = self.signer.read(request)
        return session if session is not None and session.username else None

    def current_user(self, request: Request) -> WebUser | None:
        cached = request.scope.get("arrears.web.user")
        if cached is not None:
            return cached
        session = self._session(request)
        if session is None:
            return None
        user = session_user(self.engine, session.username, session.sid)
        if user is None:
            return None
        web = WebUser(user.username, user.role, user.borrower_id)
        request.scope["arrears.web.user"] = web
        return web

    def authenticate(self, request: Request, username: str, password: str) -> WebUser:
        address = request.client.host if request.client else "unknown"
        try:
            user = authenticate(self.engine, username, password, address)
        except LoginLocked as exc:
            raise LoginRefused(str(exc), retry_after=LOCKOUT_SECONDS) from None
        if user is None:
            raise LoginRefused()
        return WebUser(user.username, user.role, user.borrower_id)

    def start_session(self, request: Request, response: Response, user: WebUser) -> None:
        session = self.signer.login(response, user.username)
        address = request.client.host if request.client else None
        start_session(
            self.engine, user.username, session.sid, timedelta(seconds=self.signer.max_age), address
        )
        response.delete_cookie(LOGIN_COOKIE, path="/")

    def end_session(self, request: Request, response: Response) -> None:
        session = self._session(request)
        if session is not None:
            end_session(self.engine, session.sid)
        self.signer.logout(response)

    # -------------------------------------------------------------- CSRF

    def _pre_session(self, request: Request) -> Session | None:
        return self.signer.loads(request.cookies.get(LOGIN_COOKIE))

    def csrf_token(self, request: Request, response: Response) -> str:
        session = self._session(request)
        if session is None:
            session = self._pre_session(request)
            if session is None:
                session = self.signer.new_session("")
                response.set_cookie(
                    LOGIN_COOKIE,
                    self.signer.dumps(session),
                    max_age=self.signer.max_age,
                    httponly=True,
                    samesite="lax",
                    secure=self.signer.secure,
                    path="/",
                )
        return self.signer.csrf_token(session)

    def verify_csrf(self, request: Request, token: str | None) -> bool:
        session = self._session(request) or self._pre_session(request)
        return session is not None and self.signer.check_csrf(session, token)

    # -------------------------------------------------------------- ownership, masking, log

    def may_see_loan(self, user: WebUser, loan_id: str, on: date) -> Access:
        try:
            require_loan_access(self.engine, self.catalog, _current(user), loan_id, on)
        except LoanNotFound:
            return "missing"
        except HTTPException:
            return "forbidden"
        return "ok"

    def loan_access(self, user: WebUser, borrower_id: str, delinquent: bool) -> Access:
        return loan_refusal(_current(user), borrower_id, lambda: delinquent) or "ok"

    def may_see_borrower(self, user: WebUser, borrower_id: str, on: date) -> Access:
        try:
            require_borrower_access(self.engine, self.catalog, _current(user), borrower_id, on)
        except NotFound:
            return "missing"
        except HTTPException:
            return "forbidden"
        return "ok"

    def borrower_view(
        self, request: Request, user: WebUser, borrower_id: str
    ) -> dict[str, object] | None:
        with unit_of_work(self.engine) as session:
            row = session.get(Borrower, borrower_id)
            if row is None:
                return None
            return personal.borrower_view(session, _current(user), row, request.url.path)

    def log_access(self, request: Request, user: WebUser | None, page: str, allowed: bool) -> None:
        if not allowed:
            log.warning(
                "refused %s (%s) on page %s: %s",
                user.username if user else "-",
                user.role if user else "-",
                page,
                request.url.path,
            )


def mount(app: FastAPI) -> Pages:
    """Add the pages to the API's app (after `create_app` has filled `app.state`)."""
    state = app.state
    security = ArrearsSecurity(state.engine, state.catalog, state.sessions)
    pages = add_pages(app, state.settings, security)
    pages._engine = state.engine
    pages._catalog = state.catalog
    return pages
