"""The borrower page shows the credit profile (internal history and external data) to staff, in
Chinese and English, and not to the borrower; checked over HTTP and in the browser."""

from __future__ import annotations

import re
from contextlib import closing

import httpx
import pytest

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.service import pull_report, record_consent
from arrears.bureau.settings import BureauSettings
from arrears.store.db import make_engine

from .conftest import PASSWORDS, login, shot

BORROWER = "B0009"  # L00008, 54 days past due on the business date


def _signed_in(site, username: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url=site.url, timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"username": username, "password": PASSWORDS[username], "csrf_token": token[1]},
    )
    return client


@pytest.fixture(scope="module")
def pulled(site):  # type: ignore[no-untyped-def]
    """B0009's credit report and enforcement record, pulled from the fake bureau once."""
    engine = make_engine(site.database_url)
    try:
        record_consent(engine, BORROWER, "post_loan_monitoring", "ops")
        with FakeBureau(port=0) as bureau:
            settings = BureauSettings(base_url=bureau.url, backoff_s=0)
            for name in ("credit_report", "enforcement"):
                source = HttpSource(name, settings, breaker=CircuitBreaker())
                pull_report(engine, source, BORROWER, purpose="post_loan_monitoring",
                            requested_by="ops", force=True)  # fmt: skip
                source.close()
            return bureau.reports.report("credit_report", BORROWER)
    finally:
        engine.dispose()


def _feature(html: str, name: str) -> str:
    match = re.search(rf'data-feature="{name}">([^<]*)<', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def test_staff_see_the_profile_in_both_languages(site, pulled) -> None:  # type: ignore[no-untyped-def]
    with closing(_signed_in(site, "risk")) as client:
        zh = client.get(f"/borrowers/{BORROWER}?lang=zh").text
        en = client.get(f"/borrowers/{BORROWER}?lang=en").text
    assert 'id="credit-profile"' in zh and "信用画像" in zh and "征信评分" in zh
    assert "Credit profile" in en and "bureau score" in en
    assert _feature(en, "bureau_score") == str(pulled["bureau_score"])
    assert int(_feature(en, "current_dpd")) == 54
    assert int(_feature(en, "max_dpd_ever")) >= 54
    assert _feature(en, "enforcement_listed") in ("yes", "no")
    assert _feature(zh, "enforcement_listed") in ("是", "否")
    assert 'data-source="credit_report"' in en and "征信报告" in zh


def test_the_borrower_does_not_see_it(site, pulled) -> None:  # type: ignore[no-untyped-def]
    with closing(_signed_in(site, "b0002")) as client:
        page = client.get("/borrowers/B0002")
    assert page.status_code == 200 and 'id="credit-profile"' not in page.text


def test_in_the_browser(page, pulled) -> None:  # type: ignore[no-untyped-def]
    login(page, "collector")
    page.goto(f"/borrowers/{BORROWER}")
    section = page.locator("#credit-profile")
    assert section.is_visible()
    assert section.locator("dd[data-feature='bureau_score']").inner_text() == str(
        pulled["bureau_score"]
    )
    shot(page, "20-borrower-credit-profile")
