"""Ownership and personal data: borrowers see only their own, collectors only delinquent loans
and masked identifiers, and every read of personal data is in the access log."""

from __future__ import annotations

from tests.api.conftest import (
    CURRENT_BORROWER,
    CURRENT_LOAN,
    OWN_BORROWER,
    OWN_LOAN,
    Api,
)

V1 = "/api/v1"


def test_collector_sees_identifiers_masked_to_the_last_four(api: Api) -> None:
    body = api.get(f"{V1}/borrowers/{OWN_BORROWER}", role="collector").json()
    assert body["masked"] is True
    assert body["national_id"] == "**************304X"
    assert body["phone"] == "***********8625"
    assert body["name"] == "杨磊"


def test_other_staff_and_the_borrower_themself_see_them_whole(api: Api) -> None:
    for role in ("admin", "risk", "legal", "auditor", "borrower"):
        body = api.get(f"{V1}/borrowers/{OWN_BORROWER}", role=role).json()
        assert body["masked"] is False and body["national_id"] == "30544119644520304X", role


def test_every_read_is_logged_and_auditors_page_through_it(api: Api) -> None:
    api.get(f"{V1}/borrowers/{OWN_BORROWER}", role="admin")
    api.get(f"{V1}/borrowers/{OWN_BORROWER}", role="collector")
    log = api.get(f"{V1}/access-log", role="auditor").json()
    assert log["total"] == 2
    newest, oldest = log["items"]
    assert (newest["username"], newest["unmasked"]) == ("collector", False)
    assert (oldest["username"], oldest["unmasked"]) == ("admin", True)
    assert oldest["borrower_id"] == OWN_BORROWER
    assert oldest["fields"] == "national_id,phone,email"
    assert oldest["route"] == f"{V1}/borrowers/{OWN_BORROWER}"
    only_admin = api.get(f"{V1}/access-log", role="auditor", params={"username": "admin"}).json()
    assert only_admin["total"] == 1
    api.get(f"{V1}/borrowers", role="risk", params={"limit": 3})
    assert api.get(f"{V1}/access-log", params={"username": "risk"}).json()["total"] == 3


def test_a_borrower_reaches_only_their_own(api: Api) -> None:
    assert api.get(f"{V1}/loans/{OWN_LOAN}", role="borrower").status_code == 200
    assert api.get(f"{V1}/loans/{CURRENT_LOAN}", role="borrower").status_code == 404
    assert api.get(f"{V1}/loans/{CURRENT_LOAN}/payments", role="borrower").status_code == 404
    assert api.get(f"{V1}/borrowers/{CURRENT_BORROWER}", role="borrower").status_code == 404
    assert api.get(f"{V1}/loans", role="borrower").status_code == 403


def test_a_collector_reaches_delinquent_loans_only(closed: Api) -> None:
    assert closed.get(f"{V1}/loans/{OWN_LOAN}", role="collector").status_code == 200
    assert closed.get(f"{V1}/loans/{CURRENT_LOAN}", role="collector").status_code == 403
    assert closed.get(f"{V1}/borrowers/{CURRENT_BORROWER}", role="collector").status_code == 403
    listed = closed.get(f"{V1}/loans", role="collector", params={"limit": 500}).json()
    assert listed["total"] == len(listed["items"]) > 0
    assert all(item["days_past_due"] > 0 for item in listed["items"])
    assert closed.get(f"{V1}/loans", role="risk").json()["total"] == 34
    borrowers = closed.get(f"{V1}/borrowers", role="collector", params={"limit": 500}).json()
    assert OWN_BORROWER in {b["borrower_id"] for b in borrowers["items"]}
    assert CURRENT_BORROWER not in {b["borrower_id"] for b in borrowers["items"]}
    assert all(b["masked"] for b in borrowers["items"])
