"""The route × role matrix: `api.policy.POLICY` names every API route, and the app really
answers 401 without a token, 403 to a role the table leaves out, and something else (never a
5xx) to a role it lets in."""

from __future__ import annotations

import pytest

from arrears.api.app import api_routes
from arrears.api.policy import POLICY, route_key
from arrears.auth import create_token
from tests.api.conftest import OWN_BORROWER, OWN_LOAN, OWN_PAYMENT, ROLES, TODAY, Api

PATH_VALUES = {
    "borrower_id": OWN_BORROWER,
    "loan_id": OWN_LOAN,
    "payment_id": OWN_PAYMENT,
    "run_id": "1",
    "username": "legal",
    # collection (issue 5): no case exists in this fixture, so these answer 404 / 409 / 422
    "case_id": "C00000001",
    "approval_id": "1",
    "dispute_id": "1",
    "legal_id": "1",
    "agency_id": "AG1",
    "placement_id": "1",
    "model_id": "1",  # models (issue 7): none registered here, so 404
    # contact (issue 6)
    "name": "due_today",
    "language": "zh",
    # third-party data (issue 7 §4): no consent in this fixture, so revoking answers 404
    "consent_id": "1",
}


def _body(method: str, path: str, role: str) -> dict | None:
    bodies = {
        "POST /api/v1/payments": {"loan_id": OWN_LOAN, "amount": "1.00", "paid_on": "2026-11-30"},
        "POST /api/v1/payments/{payment_id}/reverse": {"reason": "test"},
        "POST /api/v1/cob/runs": {"as_of": TODAY.isoformat()},
        "POST /api/v1/users": {"username": f"new-{role}", "role": "risk"},
        "PATCH /api/v1/users/{username}": {"active": True},
        "POST /api/v1/admissions": {
            "application_id": "P1",
            "product": "card",
            "requested_amount": "1000.00",
            "term_months": 12,
            "age": 30,
            "monthly_income": "9000.00",
            "score": 700,
        },
        "POST /api/v1/contact/checks": {
            "borrower_id": OWN_BORROWER,
            "channel": "sms",
            "at": "2026-11-30T10:00:00+08:00",
        },
        "POST /api/v1/contact/templates": {
            "name": f"policy_{role}",
            "language": "en",
            "channel": "sms",
            "body": "Hello {{ name }}",
        },
        "POST /api/v1/borrowers/{borrower_id}/opt-outs": {"channel": "email"},
        # an applicant, not a borrower: consent recorded (201); the pull has no consent → 409
        "POST /api/v1/bureau/consents": {
            "national_id": f"11010119900101{abs(hash(role)) % 10000:04d}",
            "name": "张三",
            "purpose": "credit_assessment",
        },
        "POST /api/v1/bureau/pulls": {
            "borrower_id": OWN_BORROWER,
            "source": "enforcement",
            "purpose": "credit_assessment",
        },
    }
    return bodies.get(route_key(method, path))


def test_policy_table_names_every_route_and_only_those(api: Api) -> None:
    routes = {route_key(m, p) for m, p in api_routes(api.client.app)}  # type: ignore[arg-type]
    assert routes == set(POLICY)
    assert all(roles <= set(ROLES) and roles for roles in POLICY.values())


# The matrix as issue 4 §2 states it, written out once more so a change to the policy table is a
# deliberate change to this test too. A admin, R risk, C collector, L legal, U auditor, B borrower.
EXPECTED = {
    "GET /api/v1/me": "ARCLUB",
    "GET /api/v1/borrowers": "ARCLU",
    "GET /api/v1/borrowers/{borrower_id}": "ARCLUB",
    "GET /api/v1/borrowers/{borrower_id}/loans": "ARCLUB",
    "GET /api/v1/loans": "ARCLU",
    "GET /api/v1/loans/{loan_id}": "ARCLUB",
    "GET /api/v1/loans/{loan_id}/schedule": "ARCLUB",
    "GET /api/v1/loans/{loan_id}/payments": "ARCLUB",
    "GET /api/v1/loans/{loan_id}/snapshots": "ARCLUB",
    "GET /api/v1/loans/{loan_id}/events": "ARCLUB",
    "POST /api/v1/payments": "ARC",
    "POST /api/v1/payments/{payment_id}/reverse": "ARC",
    "GET /api/v1/portfolio": "ARU",
    "POST /api/v1/cob/runs": "AR",
    "GET /api/v1/cob/runs": "ARU",
    "GET /api/v1/cob/runs/{run_id}": "ARU",
    "GET /api/v1/users": "A",
    "POST /api/v1/users": "A",
    "GET /api/v1/users/{username}": "A",
    "PATCH /api/v1/users/{username}": "A",
    "GET /api/v1/users/{username}/tokens": "A",
    "POST /api/v1/users/{username}/tokens": "A",
    "DELETE /api/v1/tokens/{token_id}": "A",
    "GET /api/v1/access-log": "AU",
    "POST /api/v1/admissions": "AR",
    "GET /api/v1/borrowers/{borrower_id}/credit-profile": "ARCLU",
    "GET /api/v1/borrowers/{borrower_id}/bureau-pulls": "ARU",
}
# Collection (issue 5): escalate ARCL, de-escalate AR, legal actions AL, collectors work cases.
EXPECTED.update(
    {
        "GET /api/v1/cases": "ARCLU",
        "POST /api/v1/cases/next": "C",
        "POST /api/v1/cases/assign": "AR",
        "GET /api/v1/cases/{case_id}": "ARCLU",
        "POST /api/v1/cases/{case_id}/escalate": "ARCL",
        "POST /api/v1/cases/{case_id}/de-escalate": "AR",
        "POST /api/v1/cases/{case_id}/contacts": "ARC",
        "POST /api/v1/cases/{case_id}/promises": "ARC",
        "GET /api/v1/promises": "ARCLU",
        "POST /api/v1/cases/{case_id}/plans": "ARC",
        "POST /api/v1/cases/{case_id}/settlements": "ARC",
        "GET /api/v1/approvals": "ARU",
        "POST /api/v1/approvals/{approval_id}/decision": "AR",
        "POST /api/v1/cases/{case_id}/disputes": "ARC",
        "POST /api/v1/disputes/{dispute_id}/resolve": "ARC",
        "GET /api/v1/legal-cases": "ARLU",
        "POST /api/v1/cases/{case_id}/legal-cases": "AL",
        "GET /api/v1/legal-cases/{legal_id}": "ARLU",
        "POST /api/v1/legal-cases/{legal_id}/advance": "AL",
        "GET /api/v1/agencies": "ARU",
        "POST /api/v1/agencies": "AR",
        "POST /api/v1/agencies/{agency_id}/evaluations": "AR",
        "POST /api/v1/cases/{case_id}/placements": "AR",
        "POST /api/v1/placements/{placement_id}/results": "AR",
        "POST /api/v1/placements/{placement_id}/recall": "AR",
        "GET /api/v1/queues": "ARCU",
        "GET /api/v1/collectors/performance": "ARCU",
    }
)
# Models (issue 7): the registry, read by risk, admin and auditors.
EXPECTED.update({"GET /api/v1/models": "ARU", "GET /api/v1/models/{model_id}": "ARU"})
# Third-party data (issue 7 §4): risk and admin record consents and pull; auditors read the log.
EXPECTED.update(
    {
        "POST /api/v1/bureau/consents": "AR",
        "POST /api/v1/bureau/consents/{consent_id}/revoke": "AR",
        "POST /api/v1/bureau/pulls": "AR",
        "GET /api/v1/bureau/pulls": "ARU",
    }
)
# Contact compliance (issue 6): the dialler's verbs ARC, templates saved by AR, the decision log AU.
EXPECTED.update(
    {
        "POST /api/v1/contact/checks": "ARC",
        "GET /api/v1/borrowers/{borrower_id}/contact-policy": "ARCLU",
        "GET /api/v1/borrowers/{borrower_id}/messages": "ARCLU",
        "GET /api/v1/cases/{case_id}/messages": "ARCLU",
        "GET /api/v1/contact/decisions": "AU",
        "GET /api/v1/contact/templates": "ARCLU",
        "GET /api/v1/contact/templates/{name}/{language}": "ARCLU",
        "POST /api/v1/contact/templates": "AR",
        "GET /api/v1/contact/templates/{name}/{language}/preview": "ARCLU",
        "POST /api/v1/borrowers/{borrower_id}/opt-outs": "ARC",
    }
)
# The only writes a legal officer makes: escalating a case and the lawsuit's steps.
LEGAL_WRITES = {
    "POST /api/v1/cases/{case_id}/escalate",
    "POST /api/v1/cases/{case_id}/legal-cases",
    "POST /api/v1/legal-cases/{legal_id}/advance",
}
LETTERS = dict(zip("ARCLUB", ROLES, strict=True))


def test_policy_table_is_the_agreed_matrix() -> None:
    assert {key: {LETTERS[c] for c in roles} for key, roles in EXPECTED.items()} == POLICY


def test_only_admin_manages_users_and_auditors_only_read(api: Api) -> None:
    for key, roles in POLICY.items():
        if "/users" in key or "/tokens" in key:
            assert roles == {"admin"}, key
        if not key.startswith("GET "):
            assert "auditor" not in roles, key
            assert "legal" not in roles or key in LEGAL_WRITES, key


def test_every_route_answers_by_the_table_for_every_role(api: Api) -> None:
    spare = create_token(api.engine, "legal")[1].token_id  # revoked by DELETE /tokens/{id}
    checked = 0
    for method, path in api_routes(api.client.app):  # type: ignore[arg-type]
        values = {**PATH_VALUES, "token_id": str(spare)}
        url = path.format(**{k: v for k, v in values.items() if "{" + k + "}" in path})
        anonymous = api.client.request(method, url, json=_body(method, path, "anon"))
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        for role in ROLES:
            response = api.client.request(
                method, url, json=_body(method, path, role), headers=api.headers(role)
            )
            allowed = role in POLICY[route_key(method, path)]
            if allowed:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
            assert response.status_code < 500, (method, path, role, response.text)
            checked += 1
    assert checked == len(POLICY) * len(ROLES)


@pytest.mark.parametrize("header", ["Bearer arr_nope", "Bearer", "Basic dXNlcjpwdw==", "x"])
def test_bad_credentials_are_401(api: Api, header: str) -> None:
    response = api.client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
