"""Consents and pulls through the API, for a borrower and for an applicant who is not a borrower
yet (SQLite and PostgreSQL), against the fake bureau as a real HTTP server: consent first (409
without), the cache and the log keyed on the party, 404 unknown ids, 422 bad bodies."""

from __future__ import annotations

import pytest

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.settings import BureauSettings
from arrears.bureau.sources import SOURCES
from arrears.store.db import unit_of_work
from arrears.store.tables import Event
from tests.api.conftest import OWN_BORROWER, Api

NID = "110101199001011234"
APPLICANT = {"national_id": NID, "name": "王五"}


@pytest.fixture
def wired(api: Api, bureau: FakeBureau) -> Api:
    """The app's adapters pointed at the fake bureau (fresh breakers)."""
    settings = BureauSettings(base_url=bureau.url, timeout_s=0.5, retries=1, backoff_s=0.01)
    api.client.app.state.bureau_sources = {  # type: ignore[attr-defined]
        name: HttpSource(name, settings, breaker=CircuitBreaker(3, 60.0)) for name in SOURCES
    }
    return api


def test_an_applicant_consents_and_is_pulled_before_any_loan(wired: Api, bureau: FakeBureau):
    pull = {**APPLICANT, "source": "credit_report", "purpose": "credit_assessment"}
    refused = wired.post("/api/v1/bureau/pulls", pull, role="risk")
    assert refused.status_code == 409, refused.text
    assert "consent" in refused.json()["detail"] and "授权" in refused.json()["detail"]
    assert bureau.stats.requests == 0  # refused: the bureau was never asked

    consent = wired.post(
        "/api/v1/bureau/consents",
        {**APPLICANT, "purpose": "credit_assessment", "sources": ["credit_report"]},
        role="risk",
    )
    assert consent.status_code == 201, consent.text
    body = consent.json()
    assert body["party"] == f"applicant:{NID}" and body["borrower_id"] is None
    assert (body["national_id"], body["name"]) == (NID, "王五")

    first = wired.post("/api/v1/bureau/pulls", pull, role="risk")
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "fetched" and first.json()["party"] == f"applicant:{NID}"
    assert first.json()["data"]["subject_id"] == NID  # the bureau was asked by national id
    again = wired.post("/api/v1/bureau/pulls", pull, role="admin").json()
    assert again["outcome"] == "cached" and again["report_id"] == first.json()["report_id"]
    assert bureau.stats.requests == 1

    # the consent covers the credit report only
    other = wired.post("/api/v1/bureau/pulls", {**pull, "source": "enforcement"}, role="risk")
    assert other.status_code == 409

    log = wired.get(f"/api/v1/bureau/pulls?national_id={NID}", role="auditor")
    assert log.status_code == 200
    assert [p["outcome"] for p in log.json()] == ["refused", "cached", "fetched", "refused"]
    # the listing masks an applicant's national id, like a collector's view of a borrower's
    assert {p["party"] for p in log.json()} == {"applicant:**************1234"}
    assert NID not in log.text and NID not in wired.get("/api/v1/bureau/pulls", role="risk").text
    assert all(p["requested_by"].startswith("api:") for p in log.json())
    # the borrowers' log is another party's
    assert wired.get(f"/api/v1/bureau/pulls?borrower_id={OWN_BORROWER}", role="risk").json() == []
    with unit_of_work(wired.engine) as s:
        changed = [e for e in s.query(Event).filter(Event.type == "credit_data.changed")]
        assert [e.payload["party"] for e in changed] == [f"applicant:{NID}"]
        assert changed[0].borrower_id is None


def test_a_borrower_through_the_api_and_a_revoked_consent(wired: Api):
    consent = wired.post(
        "/api/v1/bureau/consents",
        {"borrower_id": OWN_BORROWER, "purpose": "collection"},
        role="admin",
    ).json()
    pull = {"borrower_id": OWN_BORROWER, "source": "enforcement", "purpose": "collection"}
    fetched = wired.post("/api/v1/bureau/pulls", pull, role="risk")
    assert fetched.status_code == 200 and fetched.json()["party"] == f"borrower:{OWN_BORROWER}"
    revoked = wired.post(f"/api/v1/bureau/consents/{consent['consent_id']}/revoke", role="risk")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    # no consent in force: refused even though a fresh report is cached
    assert wired.post("/api/v1/bureau/pulls", pull, role="risk").status_code == 409
    everyone = wired.get("/api/v1/bureau/pulls", role="auditor").json()
    assert [p["outcome"] for p in everyone] == ["refused", "fetched"]


def test_unknown_ids_are_404(wired: Api):
    body = {"borrower_id": "NOPE", "purpose": "collection"}
    assert wired.post("/api/v1/bureau/consents", body, role="risk").status_code == 404
    pull = {"borrower_id": "NOPE", "source": "tax", "purpose": "collection"}
    assert wired.post("/api/v1/bureau/pulls", pull, role="risk").status_code == 404
    assert wired.post("/api/v1/bureau/consents/999/revoke", role="risk").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "collection"},  # nobody
        {"borrower_id": OWN_BORROWER, **APPLICANT, "purpose": "collection"},  # both
        {"national_id": NID, "purpose": "collection"},  # an applicant without a name
        {"national_id": "12/3", "name": "x", "purpose": "collection"},
        {"borrower_id": OWN_BORROWER, "purpose": "marketing"},
        {"borrower_id": OWN_BORROWER, "purpose": "collection", "sources": ["gossip"]},
        {"borrower_id": OWN_BORROWER, "purpose": "collection", "sources": []},
        {"borrower_id": OWN_BORROWER, "purpose": "collection", "days": 0},
        {"borrower_id": OWN_BORROWER, "purpose": "collection", "extra": 1},
    ],
)
def test_bad_consent_bodies_are_422(wired: Api, body: dict):
    answer = wired.post("/api/v1/bureau/consents", body, role="risk")
    assert answer.status_code == 422, answer.text


def test_bad_pull_bodies_and_queries_are_422(wired: Api):
    base = {"borrower_id": OWN_BORROWER, "purpose": "collection"}
    assert wired.post("/api/v1/bureau/pulls", base, role="risk").status_code == 422  # no source
    bad = {**base, "source": "credit_report", "force": "sometimes"}
    assert wired.post("/api/v1/bureau/pulls", bad, role="risk").status_code == 422
    both = f"/api/v1/bureau/pulls?borrower_id={OWN_BORROWER}&national_id={NID}"
    assert wired.get(both, role="risk").status_code == 422
    assert wired.get("/api/v1/bureau/pulls?national_id=a/b", role="risk").status_code in (404, 422)


def test_roles(wired: Api):
    pull = {**APPLICANT, "source": "credit_report", "purpose": "credit_assessment"}
    for role in ("collector", "legal", "auditor", "borrower"):
        assert wired.post("/api/v1/bureau/pulls", pull, role=role).status_code == 403
    for role in ("collector", "legal", "borrower"):
        assert wired.get("/api/v1/bureau/pulls", role=role).status_code == 403
