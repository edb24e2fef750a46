"""The risk manager's admission page: the form, a decision with its reason codes in the page's
language, the borrower's own delinquency added from the book, bad input shown (422) and not
decided, and only risk and admin let in."""

from __future__ import annotations

import re
from contextlib import closing

import httpx

from .conftest import PASSWORDS, login, shot

GOOD = {
    "application_id": "WEB-1",
    "product": "consumer",
    "kind": "individual",
    "requested_amount": "60000.00",
    "term_months": "24",
    "age": "35",
    "monthly_income": "20000.00",
    "score": "650",
}


def _signed_in(site, username: str) -> tuple[httpx.Client, str]:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url=site.url, timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    client.post(
        "/login",
        data={"username": username, "password": PASSWORDS[username], "csrf_token": token[1]},
    )
    page = client.get("/admissions")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return client, csrf[1] if csrf else ""


def test_a_decision_with_reason_codes_in_both_languages(site) -> None:  # type: ignore[no-untyped-def]
    client, csrf = _signed_in(site, "risk")
    with closing(client):
        en = client.post("/admissions?lang=en", data={**GOOD, "csrf_token": csrf})
        zh = client.post("/admissions?lang=zh", data={**GOOD, "csrf_token": csrf})
    assert en.status_code == 200, en.text
    assert 'data-decision="approve"' in en.text and "LIMIT_REDUCED" in en.text
    assert "amount reduced to the band C limit" in en.text
    assert "30000.00 CNY" in en.text and "0.1800" in en.text
    assert "金额下调至 C 档额度上限" in zh.text and "通过" in zh.text


def test_the_book_knows_the_borrower_is_overdue(site) -> None:  # type: ignore[no-untyped-def]
    client, csrf = _signed_in(site, "admin")
    with closing(client):
        page = client.post(
            "/admissions?lang=en", data={**GOOD, "borrower_id": "B0009", "csrf_token": csrf}
        )
    assert 'data-decision="decline"' in page.text and "DELINQUENT_NOW" in page.text


def test_bad_input_is_shown_not_decided(site) -> None:  # type: ignore[no-untyped-def]
    client, csrf = _signed_in(site, "risk")
    with closing(client):
        bad = client.post(
            "/admissions", data={**GOOD, "requested_amount": "12.345", "csrf_token": csrf}
        )
        forged = client.post("/admissions", data={**GOOD, "csrf_token": "x" * 40})
    assert bad.status_code == 422 and 'data-field="requested_amount"' in bad.text
    assert "data-decision" not in bad.text
    assert forged.status_code == 403 and "data-decision" not in forged.text


def test_only_risk_and_admin(site) -> None:  # type: ignore[no-untyped-def]
    for name in ("collector", "legal", "auditor"):
        client, _ = _signed_in(site, name)
        with closing(client):
            assert client.get("/admissions").status_code == 403, name


def test_in_the_browser(page) -> None:  # type: ignore[no-untyped-def]
    login(page, "risk")
    page.click("text=准入审批")
    for name, value in GOOD.items():
        if name not in ("product", "kind"):
            page.fill(f"input[name={name}]", value)
    page.fill("input[name=score]", "612")
    page.click("#admission-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#decision").get_attribute("data-decision") == "refer"
    assert "SCORE_REFER" in page.locator("#reasons").inner_text()
    shot(page, "21-admission-refer")


def test_the_champion_scores_with_its_reason_codes_or_the_page_says_there_is_none(
    site, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from arrears.store.db import make_engine
    from tests.admission.test_champion import promote_tiny_model

    unscored = {k: v for k, v in GOOD.items() if k != "score"}
    client, csrf = _signed_in(site, "risk")
    with closing(client):
        before = client.get("/admissions?lang=en")
        rules_only = client.post("/admissions?lang=zh", data={**unscored, "csrf_token": csrf})
        engine = make_engine(site.database_url)
        try:
            promote_tiny_model(engine, tmp_path / "model")
        finally:
            engine.dispose()
        after = client.get("/admissions?lang=en")
        scored = client.post(
            "/admissions?lang=en",
            data={**unscored, "features": "inquiries_6m = 9", "csrf_token": csrf},
        )
        zh = client.post(
            "/admissions?lang=zh",
            data={**unscored, "features": "inquiries_6m = 9", "csrf_token": csrf},
        )
        lacking = client.post("/admissions?lang=en", data={**unscored, "csrf_token": csrf})
    assert "No champion application model is promoted" in before.text
    assert 'data-decision="refer"' in rules_only.text and "NO_CHAMPION" in rules_only.text
    assert "仅按规则审批" in rules_only.text
    assert 'data-champion="' in after.text and "inquiries_6m" in after.text  # what it needs
    assert scored.status_code == 200, scored.text
    assert "Scored by the champion application model" in scored.text
    assert 'id="score-reasons"' in scored.text and "Credit inquiries in 6 months" in scored.text
    assert "近6个月征信查询次数" in zh.text and "降低评分的因素" in zh.text
    assert lacking.status_code == 422 and 'data-field="features.inquiries_6m"' in lacking.text
