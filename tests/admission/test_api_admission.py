"""`POST /api/v1/admissions` on the example book (SQLite and PostgreSQL): the decision and its
reasons, roles risk and admin only, 422 for a bad body or an uncovered product, the borrower's
own delinquency added from the database, and the app's scorer used when the body has no score."""

from __future__ import annotations

from tests.api.conftest import OWN_BORROWER, Api

URL = "/api/v1/admissions"
BODY = {
    "application_id": "W1",
    "product": "consumer",
    "requested_amount": "60000.00",
    "term_months": 24,
    "age": 35,
    "monthly_income": "20000.00",
    "score": 650,
}


def test_a_decision_with_band_limit_rate_and_reasons(api: Api) -> None:
    response = api.post(URL, BODY, role="risk")
    assert response.status_code == 200, response.text
    d = response.json()
    assert d["decision"] == "approve" and d["band"] == "C"
    assert d["approved_amount"] == "30000.00" and d["limit"] == "30000.00"
    assert d["annual_rate"] == "0.1800" and d["currency"] == "CNY"
    assert d["reason_codes"] == ["SCORE_APPROVE", "LIMIT_REDUCED"]
    assert d["reasons"][1]["zh"].startswith("金额下调")


def test_only_risk_and_admin_may_decide(api: Api) -> None:
    assert api.post(URL, BODY, role="admin").status_code == 200
    for role in ("collector", "legal", "auditor", "borrower"):
        assert api.post(URL, BODY, role=role).status_code == 403, role
    assert api.post(URL, BODY, role=None).status_code == 401


def test_bad_bodies_are_422(api: Api) -> None:
    for change in (
        {"requested_amount": "12.345"},  # too many decimals for CNY
        {"requested_amount": "-5"},
        {"requested_amount": 1.5},  # a float amount is inexact: text expected
        {"product": "mortgage"},
        {"currency": "USD"},
        {"age": None},
        {"term_months": 0},
        {"score": "high"},
        {"surprise": 1},
        {"borrower_id": "B\u0000X"},  # PostgreSQL cannot hold a NUL: refused before it gets there
        {"application_id": ""},
    ):
        response = api.post(URL, {**BODY, **change}, role="risk")
        assert response.status_code == 422, (change, response.text)
    product = api.post(URL, {**BODY, "product": "mortgage"}, role="risk").json()
    assert product["detail"][0]["loc"] == ["body", "product"]


def test_the_borrowers_delinquency_in_the_book_declines(closed: Api) -> None:
    clean = closed.post(URL, BODY, role="risk").json()
    known = closed.post(URL, {**BODY, "borrower_id": OWN_BORROWER}, role="risk").json()
    assert clean["decision"] == "approve"
    assert known["decision"] == "decline"
    assert "DELINQUENT_NOW" in known["reason_codes"]  # L00005 is 159 days past due


def test_no_score_refers_unless_the_app_has_a_scorer(api: Api) -> None:
    body = {k: v for k, v in BODY.items() if k != "score"}
    # no champion model either: rules only, and the answer says so
    assert api.post(URL, body, role="risk").json()["reason_codes"] == ["NO_CHAMPION"]
    api.client.app.state.admission_scorer = lambda frame: [700.0] * frame.height  # type: ignore[attr-defined]
    scored = api.post(URL, body, role="risk").json()
    assert scored["score"] == 700.0 and scored["decision"] == "approve"
