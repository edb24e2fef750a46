"""Each route's happy path and its 404 / 409 / 422 answers."""

from __future__ import annotations

from tests.api.conftest import CURRENT_LOAN, OWN_BORROWER, OWN_LOAN, OWN_PAYMENT, TODAY, Api

V1 = "/api/v1"


def test_openapi_and_docs_are_served(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert f"{V1}/loans/{{loan_id}}" in doc["paths"]
    assert api.client.get("/docs").status_code == 200


def test_me(api: Api) -> None:
    assert api.get(f"{V1}/me", role="borrower").json() == {
        "username": "borrower",
        "role": "borrower",
        "borrower_id": OWN_BORROWER,
    }


def test_loan_status_now_and_on_a_date(api: Api) -> None:
    now = api.get(f"{V1}/loans/{OWN_LOAN}").json()
    assert now["as_of"] == TODAY.isoformat()
    assert now["days_past_due"] == 159 and now["status"] == "overdue"
    assert now["overdue_principal"].count(".") == 1  # decimal text, 2 places for CNY
    earlier = api.get(f"{V1}/loans/{OWN_LOAN}", params={"as_of": "2026-05-01"}).json()
    assert earlier["as_of"] == "2026-05-01" and earlier["days_past_due"] < 159


def test_unknown_loan_is_404(api: Api) -> None:
    response = api.get(f"{V1}/loans/NOPE")
    assert response.status_code == 404
    assert response.json() == {"detail": "loan 'NOPE' not found"}


def test_bad_date_is_422_naming_the_field(api: Api) -> None:
    response = api.get(f"{V1}/loans/{OWN_LOAN}", params={"as_of": "2026-13-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "as_of"]
    far = api.get(f"{V1}/loans/{OWN_LOAN}", params={"as_of": "9999-01-01"})
    assert far.status_code == 422


def test_loan_list_pages(api: Api) -> None:
    first = api.get(f"{V1}/loans", params={"limit": 10}).json()
    assert first["total"] == 34 and len(first["items"]) == 10
    rest = api.get(f"{V1}/loans", params={"offset": 30, "limit": 10}).json()
    assert [i["loan_id"] for i in rest["items"]] == ["L00031", "L00032", "L00033", "L00034"]
    assert api.get(f"{V1}/loans", params={"limit": 0}).status_code == 422


def test_schedule_payments_snapshots_events(closed: Api) -> None:
    schedule = closed.get(f"{V1}/loans/{OWN_LOAN}/schedule").json()
    assert schedule["currency"] == "CNY" and schedule["instalments"][0]["seq"] == 1
    payments = closed.get(f"{V1}/loans/{OWN_LOAN}/payments").json()
    assert payments[0]["payment_id"] == OWN_PAYMENT and payments[0]["amount"] == "1404.20"
    snapshots = closed.get(f"{V1}/loans/{OWN_LOAN}/snapshots").json()
    assert snapshots["total"] == 1 and snapshots["items"][0]["as_of"] == TODAY.isoformat()
    none = closed.get(f"{V1}/loans/{OWN_LOAN}/snapshots", params={"to": "2026-01-01"}).json()
    assert none["total"] == 0
    events = closed.get(f"{V1}/loans/{OWN_LOAN}/events").json()
    assert isinstance(events["items"], list) and events["next_after_seq"] >= 0


def test_borrower_and_their_loans(api: Api) -> None:
    borrower = api.get(f"{V1}/borrowers/{OWN_BORROWER}").json()
    assert borrower["name"] == "杨磊" and borrower["national_id"] == "30544119644520304X"
    loans = api.get(f"{V1}/borrowers/{OWN_BORROWER}/loans").json()
    assert [loan["loan_id"] for loan in loans] == [OWN_LOAN]
    listing = api.get(f"{V1}/borrowers", params={"limit": 5}).json()
    assert listing["total"] == 32 and len(listing["items"]) == 5
    assert api.get(f"{V1}/borrowers/NOPE").status_code == 404


def test_post_payment_cures_the_loan(api: Api) -> None:
    before = api.get(f"{V1}/loans/{CURRENT_LOAN}").json()
    response = api.post(
        f"{V1}/payments",
        {"loan_id": CURRENT_LOAN, "amount": "100.00", "paid_on": "2026-11-30", "reference": "r1"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["payment_id"].startswith("PMT-")
    assert (
        body["loan"]["credit_balance"] != before["credit_balance"]
        or body["loan"]["outstanding_principal"] != before["outstanding_principal"]
    )
    listed = api.get(f"{V1}/loans/{CURRENT_LOAN}/payments").json()
    assert listed[-1]["payment_id"] == body["payment_id"] and listed[-1]["reference"] == "r1"


def test_payment_refusals_are_409_and_bad_amounts_422(api: Api) -> None:
    future = api.post(
        f"{V1}/payments", {"loan_id": OWN_LOAN, "amount": "10.00", "paid_on": "2026-12-01"}
    )
    assert future.status_code == 409 and "future" in future.json()["detail"]
    duplicate = api.post(
        f"{V1}/payments",
        {
            "loan_id": OWN_LOAN,
            "amount": "10.00",
            "paid_on": "2026-11-30",
            "payment_id": OWN_PAYMENT,
        },
    )
    assert duplicate.status_code == 409 and "already recorded" in duplicate.json()["detail"]
    zero = api.post(f"{V1}/payments", {"loan_id": OWN_LOAN, "amount": "0", "paid_on": "2026-11-30"})
    assert zero.status_code == 409
    fraction = api.post(
        f"{V1}/payments", {"loan_id": OWN_LOAN, "amount": "1.234", "paid_on": "2026-11-30"}
    )
    assert fraction.status_code == 422 and fraction.json()["detail"][0]["loc"] == ["body", "amount"]
    text = api.post(
        f"{V1}/payments", {"loan_id": OWN_LOAN, "amount": "ten", "paid_on": "2026-11-30"}
    )
    assert text.status_code == 422 and text.json()["detail"][0]["loc"] == ["body", "amount"]
    unknown = api.post(
        f"{V1}/payments", {"loan_id": "NOPE", "amount": "1.00", "paid_on": "2026-11-30"}
    )
    assert unknown.status_code == 404


def test_reverse_payment(api: Api) -> None:
    path = f"{V1}/payments/{OWN_PAYMENT}/reverse"
    assert api.post(path, {"reason": ""}).status_code == 422
    response = api.post(path, {"reason": "cheque bounced"})
    assert response.status_code == 200, response.text
    assert response.json()["loan_id"] == OWN_LOAN
    again = api.post(path, {"reason": "cheque bounced"})
    assert again.status_code == 409 and "already reversed" in again.json()["detail"]
    assert api.post(f"{V1}/payments/NOPE/reverse", {"reason": "x"}).status_code == 404
    reversed_ = api.get(f"{V1}/loans/{OWN_LOAN}/payments").json()[0]
    assert reversed_["reversal_reason"] == "cheque bounced" and reversed_["reversed_at"]


def test_cob_run_history_and_portfolio(api: Api) -> None:
    assert api.get(f"{V1}/portfolio").status_code == 404  # not closed yet
    run = api.post(f"{V1}/cob/runs", {})
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["status"] == "complete" and body["as_of"] == TODAY.isoformat()
    assert body["loans"] == 34
    assert api.get(f"{V1}/cob/runs/{body['run_id']}").json()["run_id"] == body["run_id"]
    assert api.get(f"{V1}/cob/runs").json()["total"] == 1
    assert api.get(f"{V1}/cob/runs/999").status_code == 404
    future = api.post(f"{V1}/cob/runs", {"as_of": "2026-12-01"})
    assert future.status_code == 409
    portfolio = api.get(f"{V1}/portfolio").json()
    assert portfolio["as_of"] == TODAY.isoformat() and portfolio["currency"] == "CNY"
    assert portfolio["loans"] > 0 and "." in portfolio["outstanding_principal"]
    assert api.get(f"{V1}/portfolio", params={"currency": "USD"}).status_code == 422


def test_users_and_tokens(api: Api) -> None:
    created = api.post(
        f"{V1}/users", {"username": "ann", "role": "risk", "password": "long-enough"}
    )
    assert created.status_code == 201 and created.json()["has_password"] is True
    assert api.post(f"{V1}/users", {"username": "ann", "role": "risk"}).status_code == 409
    assert api.post(f"{V1}/users", {"username": "bob", "role": "king"}).status_code == 422
    no_link = api.post(f"{V1}/users", {"username": "bob", "role": "borrower"})
    assert no_link.status_code == 409 and "borrower" in no_link.json()["detail"]
    token = api.post(f"{V1}/users/ann/tokens").json()
    assert token["token"].startswith(token["prefix"])
    assert (
        api.client.get(f"{V1}/me", headers={"Authorization": f"Bearer {token['token']}"}).json()[
            "username"
        ]
        == "ann"
    )
    listed = api.get(f"{V1}/users/ann/tokens").json()
    assert [t["token_id"] for t in listed] == [token["token_id"]] and listed[0]["last_used_at"]
    assert "token" not in listed[0]
    users = api.get(f"{V1}/users").json()
    assert users["total"] == 7
    assert api.get(f"{V1}/users/nobody").status_code == 404
    patched = api.client.patch(
        f"{V1}/users/ann", json={"active": False}, headers=api.headers("admin")
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert (
        api.client.get(
            f"{V1}/me", headers={"Authorization": f"Bearer {token['token']}"}
        ).status_code
        == 401
    )
    self_off = api.client.patch(
        f"{V1}/users/admin", json={"active": False}, headers=api.headers("admin")
    )
    assert self_off.status_code == 409
