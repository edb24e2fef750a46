"""Who may call what: the one table of routes and the roles allowed on each.

Every route under `/api/v1/` must have a row here (`create_app` refuses to start otherwise), and
`authorise` (a dependency on every API router) answers 403 to any other role. Ownership is
checked by the routes on top of this table: a `borrower` reaches only their own borrower and
loans; a `collector` reaches delinquent loans (and their borrowers) only, with national id and
phone masked.
"""

from __future__ import annotations

ADMIN = "admin"
RISK = "risk"
COLLECTOR = "collector"
LEGAL = "legal"
AUDITOR = "auditor"
BORROWER = "borrower"

STAFF = frozenset({ADMIN, RISK, COLLECTOR, LEGAL, AUDITOR})
EVERYONE = STAFF | {BORROWER}
POST_PAYMENTS = frozenset({ADMIN, RISK, COLLECTOR})
RUN_COB = frozenset({ADMIN, RISK})
READ_PORTFOLIO = frozenset({ADMIN, RISK, AUDITOR})
MANAGE_USERS = frozenset({ADMIN})
READ_ACCESS_LOG = frozenset({ADMIN, AUDITOR})
DECIDE_ADMISSION = frozenset({ADMIN, RISK})
READ_PULL_LOG = frozenset({ADMIN, RISK, AUDITOR})
PULL_DATA = frozenset({ADMIN, RISK})  # record consents and pull: the risk team's

API_PREFIX = "/api/v1"
P = API_PREFIX
POLICY: dict[str, frozenset[str]] = {
    f"GET {P}/me": EVERYONE,
    f"GET {P}/borrowers": STAFF,
    f"GET {P}/borrowers/{{borrower_id}}": EVERYONE,
    f"GET {P}/borrowers/{{borrower_id}}/loans": EVERYONE,
    f"GET {P}/loans": STAFF,
    f"GET {P}/loans/{{loan_id}}": EVERYONE,
    f"GET {P}/loans/{{loan_id}}/schedule": EVERYONE,
    f"GET {P}/loans/{{loan_id}}/payments": EVERYONE,
    f"GET {P}/loans/{{loan_id}}/snapshots": EVERYONE,
    f"GET {P}/loans/{{loan_id}}/events": EVERYONE,
    f"POST {P}/payments": POST_PAYMENTS,
    f"POST {P}/payments/{{payment_id}}/reverse": POST_PAYMENTS,
    f"GET {P}/portfolio": READ_PORTFOLIO,
    f"POST {P}/cob/runs": RUN_COB,
    f"GET {P}/cob/runs": READ_PORTFOLIO,
    f"GET {P}/cob/runs/{{run_id}}": READ_PORTFOLIO,
    f"GET {P}/users": MANAGE_USERS,
    f"POST {P}/users": MANAGE_USERS,
    f"GET {P}/users/{{username}}": MANAGE_USERS,
    f"PATCH {P}/users/{{username}}": MANAGE_USERS,
    f"GET {P}/users/{{username}}/tokens": MANAGE_USERS,
    f"POST {P}/users/{{username}}/tokens": MANAGE_USERS,
    f"DELETE {P}/tokens/{{token_id}}": MANAGE_USERS,
    f"GET {P}/access-log": READ_ACCESS_LOG,
    f"POST {P}/admissions": DECIDE_ADMISSION,
    f"GET {P}/borrowers/{{borrower_id}}/credit-profile": STAFF,
    f"GET {P}/borrowers/{{borrower_id}}/bureau-pulls": READ_PULL_LOG,
    # consents and pulls of borrowers and applicants (issue 7 §4)
    f"POST {P}/bureau/consents": PULL_DATA,
    f"POST {P}/bureau/consents/{{consent_id}}/revoke": PULL_DATA,
    f"POST {P}/bureau/pulls": PULL_DATA,
    f"GET {P}/bureau/pulls": READ_PULL_LOG,
}

# ------------------------------------------------------------------ collection (issue 5)
# Mirrors the stage policy's permissions (collection/policy.yaml): escalate collector/risk/legal/
# admin, de-escalate risk/admin, legal actions legal/admin; managing queues, approvals and
# agencies is risk/admin. Collectors reach only the cases assigned to them (checked by the
# routes, on top of this table).
ESCALATE = frozenset({COLLECTOR, RISK, LEGAL, ADMIN})
DE_ESCALATE = frozenset({RISK, ADMIN})
LEGAL_ACTIONS = frozenset({LEGAL, ADMIN})
WORK_CASES = frozenset({COLLECTOR, RISK, ADMIN})
MANAGE_COLLECTION = frozenset({RISK, ADMIN})
READ_CASES = STAFF
READ_COLLECTION = frozenset({RISK, ADMIN, AUDITOR})
READ_LEGAL = frozenset({LEGAL, RISK, ADMIN, AUDITOR})
POLICY.update(
    {
        f"GET {P}/cases": READ_CASES,
        f"POST {P}/cases/next": frozenset({COLLECTOR}),
        f"POST {P}/cases/assign": MANAGE_COLLECTION,
        f"GET {P}/cases/{{case_id}}": READ_CASES,
        f"POST {P}/cases/{{case_id}}/escalate": ESCALATE,
        f"POST {P}/cases/{{case_id}}/de-escalate": DE_ESCALATE,
        f"POST {P}/cases/{{case_id}}/contacts": WORK_CASES,
        f"POST {P}/cases/{{case_id}}/promises": WORK_CASES,
        f"GET {P}/promises": READ_CASES,
        f"POST {P}/cases/{{case_id}}/plans": WORK_CASES,
        f"POST {P}/cases/{{case_id}}/settlements": WORK_CASES,
        f"GET {P}/approvals": READ_COLLECTION,
        f"POST {P}/approvals/{{approval_id}}/decision": MANAGE_COLLECTION,
        f"POST {P}/cases/{{case_id}}/disputes": WORK_CASES,
        f"POST {P}/disputes/{{dispute_id}}/resolve": WORK_CASES,
        f"GET {P}/legal-cases": READ_LEGAL,
        f"POST {P}/cases/{{case_id}}/legal-cases": LEGAL_ACTIONS,
        f"GET {P}/legal-cases/{{legal_id}}": READ_LEGAL,
        f"POST {P}/legal-cases/{{legal_id}}/advance": LEGAL_ACTIONS,
        f"GET {P}/agencies": READ_COLLECTION,
        f"POST {P}/agencies": MANAGE_COLLECTION,
        f"POST {P}/agencies/{{agency_id}}/evaluations": MANAGE_COLLECTION,
        f"POST {P}/cases/{{case_id}}/placements": MANAGE_COLLECTION,
        f"POST {P}/placements/{{placement_id}}/results": MANAGE_COLLECTION,
        f"POST {P}/placements/{{placement_id}}/recall": MANAGE_COLLECTION,
        f"GET {P}/queues": frozenset({COLLECTOR, RISK, ADMIN, AUDITOR}),
        f"GET {P}/collectors/performance": frozenset({COLLECTOR, RISK, ADMIN, AUDITOR}),
    }
)


# ------------------------------------------------------------------ models (issue 7)
# The registry is the risk manager's; auditors read it too. Read-only over the API.
READ_MODELS = frozenset({RISK, ADMIN, AUDITOR})
POLICY.update(
    {
        f"GET {P}/models": READ_MODELS,
        f"GET {P}/models/{{model_id}}": READ_MODELS,
    }
)


def route_key(method: str, path_format: str) -> str:
    return f"{'GET' if method == 'HEAD' else method} {path_format}"


def allowed_roles(method: str, path_format: str) -> frozenset[str] | None:
    """The roles allowed on a route, or None for a route the table does not know (refused)."""
    return POLICY.get(route_key(method, path_format))


# ------------------------------------------------------------------ contact compliance (issue 6)
# Asking the guard and recording an opt-out are what a collector's dialler does; saving a
# template is the risk team's (content rules checked); the decision log is for auditors.
POLICY.update(
    {
        f"POST {P}/contact/checks": WORK_CASES,
        f"GET {P}/borrowers/{{borrower_id}}/contact-policy": STAFF,
        f"GET {P}/borrowers/{{borrower_id}}/messages": STAFF,
        f"GET {P}/cases/{{case_id}}/messages": READ_CASES,
        f"GET {P}/contact/decisions": READ_ACCESS_LOG,
        f"GET {P}/contact/templates": STAFF,
        f"GET {P}/contact/templates/{{name}}/{{language}}": STAFF,
        f"POST {P}/contact/templates": MANAGE_COLLECTION,
        f"GET {P}/contact/templates/{{name}}/{{language}}/preview": STAFF,
        f"POST {P}/borrowers/{{borrower_id}}/opt-outs": WORK_CASES,
    }
)
