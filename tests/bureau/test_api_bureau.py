"""The credit profile and the pull log through the API, on the example book closed on the
business date (SQLite and PostgreSQL): figures equal to the service's, roles and ownership
enforced (a collector only for a delinquent borrower, never the borrower)."""

from __future__ import annotations

from datetime import date

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.profile import credit_profile
from arrears.bureau.service import pull_report, record_consent
from arrears.bureau.settings import BureauSettings
from tests.api.conftest import CURRENT_BORROWER, OWN_BORROWER, Api


def test_profile_and_pulls(closed: Api) -> None:
    record_consent(closed.engine, OWN_BORROWER, "collection", "ops")
    with FakeBureau(port=0) as bureau:
        source = HttpSource(
            "credit_report", BureauSettings(base_url=bureau.url), breaker=CircuitBreaker()
        )
        pull_report(closed.engine, source, OWN_BORROWER, purpose="collection", requested_by="c1")
        source.close()
    answer = closed.get(f"/api/v1/borrowers/{OWN_BORROWER}/credit-profile", role="risk")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = credit_profile(closed.engine, OWN_BORROWER, date(2026, 11, 30))
    assert body["features"] == expected["features"]
    assert body["features"]["current_dpd"] == 159 and body["features"]["bureau_score"] is not None
    assert list(body["sources"]) == ["credit_report"]
    older = closed.get(
        f"/api/v1/borrowers/{OWN_BORROWER}/credit-profile?as_of=2026-01-31", role="risk"
    ).json()
    # L00005 was disbursed on 2026-03-24: on 2026-01-31 the borrower had no loan with us yet
    assert older["as_of"] == "2026-01-31" and older["features"]["loans_total"] == 0
    assert older["features"]["current_dpd"] is None
    pulls = closed.get(f"/api/v1/borrowers/{OWN_BORROWER}/bureau-pulls", role="auditor").json()
    assert [(p["outcome"], p["requested_by"]) for p in pulls] == [("fetched", "c1")]


def test_roles_and_ownership(closed: Api) -> None:
    url = "/api/v1/borrowers/{}/credit-profile"
    assert closed.get(url.format(OWN_BORROWER), role="collector").status_code == 200
    assert closed.get(url.format(CURRENT_BORROWER), role="collector").status_code == 403
    assert closed.get(url.format(OWN_BORROWER), role="borrower").status_code == 403
    assert closed.get(url.format("NOPE"), role="risk").status_code == 404
    pulls = f"/api/v1/borrowers/{OWN_BORROWER}/bureau-pulls"
    assert closed.get(pulls, role="collector").status_code == 403
    assert closed.get(pulls, role="legal").status_code == 403
