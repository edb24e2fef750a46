"""What the pages need from accounts and sessions — a small interface, not an implementation.

The accounts, password checks, session cookies, CSRF tokens, rate limiting and masking belong to
`arrears.auth` / `arrears.api`. The pages only call the methods of `WebSecurity` below; the web
app is given one object that implements them (`create_web_app(settings, security)`), so the pages
hold no password or session scheme of their own.

`PAGE_ROLES` is the pages' access policy: which roles may open which page. A role outside the set
gets the 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from starlette.requests import Request
from starlette.responses import Response

from arrears.api import policy
from arrears.auth import ROLES  # noqa: F401  (admin, risk, collector, legal, auditor, borrower)

# page → roles allowed, from the API's role sets (`arrears.api.policy`), so a page and the API
# route it mirrors never disagree. Ownership (a borrower's own data, a collector's delinquent
# loans) is checked on top, by `WebSecurity.may_see_*`.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "dashboard": policy.READ_PORTFOLIO,  # GET /api/v1/portfolio
    "loan_search": policy.STAFF,  # GET /api/v1/loans
    "loan": policy.EVERYONE,  # GET /api/v1/loans/{loan_id}
    "post_payment": policy.POST_PAYMENTS,  # POST /api/v1/payments
    "borrower": policy.EVERYONE,  # GET /api/v1/borrowers/{borrower_id}
    "credit_profile": policy.STAFF,  # the credit profile on the borrower page (bureau data)
    "admission": policy.DECIDE_ADMISSION,  # POST /api/v1/admissions
}


Access = Literal["ok", "forbidden", "missing"]


@dataclass(frozen=True)
class WebUser:
    """The signed-in user as the pages see it."""

    username: str
    role: str
    borrower_id: str | None = None  # set for role "borrower": whose data they may see
    display_name: str | None = None


class LoginRefused(Exception):
    """Wrong credentials, or too many attempts (`retry_after` seconds, when rate limited)."""

    def __init__(self, message: str = "", retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WebSecurity(Protocol):
    """Implemented by the accounts/sessions package (an adapter to it)."""

    def current_user(self, request: Request) -> WebUser | None:
        """The user of the request's session cookie, or None."""
        ...

    def authenticate(self, request: Request, username: str, password: str) -> WebUser:
        """Check the credentials (rate limited); `LoginRefused` when they fail."""
        ...

    def start_session(self, request: Request, response: Response, user: WebUser) -> None:
        """Set the session cookie for `user` on `response`."""
        ...

    def end_session(self, request: Request, response: Response) -> None:
        """Revoke the request's session and clear its cookie."""
        ...

    def csrf_token(self, request: Request, response: Response) -> str:
        """A CSRF token for forms of this page (may set a cookie on `response`)."""
        ...

    def verify_csrf(self, request: Request, token: str | None) -> bool:
        """Whether `token` (from the form) is valid for this request."""
        ...

    def may_see_loan(self, user: WebUser, loan_id: str, on: date) -> Access:
        """Ownership on top of `PAGE_ROLES`: a borrower sees their own loans only, a collector
        delinquent loans only."""
        ...

    def loan_access(self, user: WebUser, borrower_id: str, delinquent: bool) -> Access:
        """`may_see_loan` for a loan already read: its borrower and whether it is delinquent
        today."""
        ...

    def may_see_borrower(self, user: WebUser, borrower_id: str, on: date) -> Access: ...

    def borrower_view(
        self, request: Request, user: WebUser, borrower_id: str
    ) -> dict[str, object] | None:
        """The borrower's fields as `user` may see them (national id and phone masked where the
        role must not see them); the read of personal data is written to the access log."""
        ...

    def log_access(self, request: Request, user: WebUser | None, page: str, allowed: bool) -> None:
        """Record who opened what (the access log)."""
        ...


def allowed(user: WebUser, page: str) -> bool:
    return user.role in PAGE_ROLES[page]


# ------------------------------------------------------------------ collection pages (issue 5)
# Each mirrors its API route's roles (`api.policy`); a collector's own cases are checked on top.
PAGE_ROLES.update(
    {
        "workbench": frozenset({policy.COLLECTOR}),  # POST /api/v1/cases/next
        "case": policy.READ_CASES,  # GET /api/v1/cases/{case_id}
        "work_case": policy.WORK_CASES,  # POST /api/v1/cases/{case_id}/contacts, promises, plans
        "collection": policy.READ_COLLECTION,  # GET /api/v1/queues, collectors/performance
        "legal": policy.READ_LEGAL,  # GET /api/v1/legal-cases
        "legal_action": policy.LEGAL_ACTIONS,  # POST /api/v1/legal-cases/{legal_id}/advance
        "approve": policy.MANAGE_COLLECTION,  # POST /api/v1/approvals/{approval_id}/decision
    }
)


# ------------------------------------------------------------------ models page (issue 7)
PAGE_ROLES.update({"models": policy.READ_MODELS})  # GET /api/v1/models, /models/{model_id}
# ------------------------------------------------------------------ contact pages (issue 6)
# Each mirrors its API route's roles (`api.policy`).
PAGE_ROLES.update(
    {
        "contact_messages": policy.STAFF,  # GET /api/v1/borrowers/{borrower_id}/messages
        "contact_policy": policy.STAFF,  # GET /api/v1/borrowers/{borrower_id}/contact-policy
        "contact_check": policy.WORK_CASES,  # POST /api/v1/contact/checks
        "contact_decisions": policy.READ_ACCESS_LOG,  # GET /api/v1/contact/decisions
        "contact_templates": policy.STAFF,  # GET /api/v1/contact/templates
        "contact_template_save": policy.MANAGE_COLLECTION,  # POST /api/v1/contact/templates
    }
)
