"""Accounts, roles and sign-in: who may use Arrears and how they prove it.

For the API (`arrears.api`) a client sends `Authorization: Bearer <token>`; tokens are made with
`arrears token create NAME` (or `POST /api/v1/users/{username}/tokens`), shown once, stored as
their SHA-256. For the web pages a person signs in with a password and gets a signed cookie.

Primitives for the pages (all importable from `arrears.auth`):

- `authenticate(engine, username, password, address) -> CurrentUser | None` checks a password
  (argon2) and records the attempt; raises `LoginLocked` after 5 failures for the account (or 20
  from the address) within 15 minutes.
- `SessionSigner(load_secret(settings.data_dir))` — the app keeps one at
  `app.state.sessions`: `.login(response, username)` sets the cookie (HttpOnly, SameSite=Lax,
  8 h), `.logout(response)` deletes it, `.read(request) -> Session | None`,
  `.csrf_token(session)` for forms (`csrf_token` field) and htmx (`X-CSRF-Token` header),
  `.check_csrf(session, token)`.
- `arrears.api.deps.CurrentUserDep` resolves a bearer token *or* a session cookie to a
  `CurrentUser(username, role, borrower_id)` (401 otherwise; unsafe methods with a cookie must
  carry the CSRF token); `arrears.api.deps.current_user_or_none(request)` for pages that show a
  sign-in link instead of failing.
- Roles: `ROLES` (admin, risk, collector, legal, auditor, borrower); what each may do on the API
  is the one table in `arrears.api.policy`.
"""

from arrears.auth.accounts import (
    DEMO_PASSWORD,
    DEMO_USERS,
    ROLES,
    AccountError,
    CurrentUser,
    LoginLocked,
    TokenNotFound,
    UserNotFound,
    active_user,
    add_demo_accounts,
    add_user,
    authenticate,
    create_token,
    end_session,
    revoke_token,
    session_user,
    set_user,
    start_session,
    user_for_token,
)
from arrears.auth.sessions import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Session,
    SessionSigner,
    load_secret,
)

__all__ = [
    "CSRF_FORM_FIELD",
    "CSRF_HEADER",
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "ROLES",
    "SESSION_COOKIE",
    "AccountError",
    "CurrentUser",
    "LoginLocked",
    "Session",
    "SessionSigner",
    "TokenNotFound",
    "UserNotFound",
    "active_user",
    "add_demo_accounts",
    "add_user",
    "authenticate",
    "create_token",
    "end_session",
    "load_secret",
    "revoke_token",
    "session_user",
    "set_user",
    "start_session",
    "user_for_token",
]
