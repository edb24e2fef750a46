"""The pages in a real browser: log in, the dashboard's charts, search → loan → payment, language,
403 for roles that may not, masking, logout. Every page is saved to `test-artifacts/`."""

from __future__ import annotations

import re

from arrears.catalog import load_catalog
from arrears.reports.summary import build_portfolio
from arrears.store.db import make_engine

from .conftest import BUSINESS_DATE, login, shot

CHARTS = ["chart-buckets", "chart-classification", "chart-roll", "chart-trend", "chart-vintage"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def test_login_refuses_a_wrong_password_then_opens_the_dashboard(page, site):
    page.goto("/dashboard")
    assert "/login" in page.url  # not signed in: sent to the form, and back afterwards
    shot(page, "01-login")
    login(page, "risk", "not-the-password")
    assert page.locator("#login-error").is_visible()
    assert page.locator("input[name=csrf_token]").count() == 1
    login(page, "risk")
    assert page.url.endswith("/dashboard")

    for chart in CHARTS:
        box = page.locator(f"#{chart} canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200, chart

    # The same numbers as `arrears portfolio`, computed by the same functions.
    engine = make_engine(site.database_url)
    try:
        p = build_portfolio(engine, load_catalog(), BUSINESS_DATE)
    finally:
        engine.dispose()
    tiles = {
        page.locator(".kpi").nth(i).get_attribute("data-kpi"): page.locator(".kpi .value")
        .nth(i)
        .inner_text()
        for i in range(page.locator(".kpi").count())
    }
    assert tiles["Loans on book"] == f"{p.kpis['loans']:,}"
    assert tiles["PAR30"] == _pct(p.kpis["par30"])
    assert tiles["PAR90"] == _pct(p.kpis["par90"])
    assert tiles["NPL ratio"] == _pct(p.kpis["npl_ratio"])
    shot(page, "02-dashboard-zh")

    # An earlier close of business, chosen from the list.
    page.select_option("#date-form select", "2026-10-31")
    page.wait_for_url(re.compile(r"as_of=2026-10-31"))
    assert "2026-10-31" in page.locator("h1").inner_text()


def test_dashboard_on_a_phone(browser, site):
    context = browser.new_context(
        base_url=site.url, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    page = context.new_page()
    login(page, "auditor")
    box = page.locator("#chart-trend canvas").first.bounding_box()
    assert box and 300 < box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scroll
    shot(page, "03-dashboard-phone")
    page.locator("#roll").scroll_into_view_if_needed()
    shot(page, "03-dashboard-phone-roll", full_page=False)
    context.close()


def test_language_switch_is_remembered(page):
    login(page, "admin")
    assert page.locator("h1").inner_text().startswith("资产组合")
    page.click("#lang-en")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Portfolio")
    assert page.locator("#chart-buckets canvas").count() == 1
    shot(page, "04-dashboard-en")
    page.goto("/loans")  # the cookie keeps English
    assert page.locator("h1").inner_text() == "Find a loan"
    page.click("#lang-zh")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "贷款查询"


def test_search_open_a_loan_and_post_a_payment(page):
    login(page, "collector")
    assert page.url.endswith("/loans")
    # htmx: the results change in place as the criteria change.
    page.select_option("select[name=bucket]", "M1")
    page.wait_for_selector("#results-table")
    ids = page.locator("#results-table a.loan-link").all_inner_texts()
    assert ids and "L00004" in ids
    page.fill("input[name=phone]", "9999999999")
    page.wait_for_selector("#no-results")
    page.fill("input[name=phone]", "")
    page.fill("input[name=q]", "L00004")
    page.wait_for_function("document.querySelectorAll('#results-table a.loan-link').length === 1")
    shot(page, "05-loan-search")

    page.click("a.loan-link:text('L00004')")
    page.wait_for_url(re.compile(r"/loans/L00004$"))
    status = page.locator("#loan-status")
    assert status.get_attribute("data-status") == "overdue"
    assert status.get_attribute("data-bucket") == "M1"
    assert page.locator("#schedule tr.mark-overdue").count() >= 1
    assert page.locator("#history tr").count() > 1
    assert page.locator("#events tr").count() > 1
    shot(page, "06-loan-overdue")

    # A refused payment says why and changes nothing.
    page.fill("input[name=amount]", "-5")
    page.click("#payment-form button[type=submit]")
    page.wait_for_selector("#payment-error")
    assert status.get_attribute("data-status") == "overdue"
    shot(page, "07-payment-refused", full_page=False)

    owed = page.locator("#overdue-total").inner_text().replace(",", "")
    page.fill("input[name=amount]", owed)
    page.fill("input[name=reference]", "browser test")
    page.click("#payment-form button[type=submit]")
    page.wait_for_selector("#payment-result")
    assert page.url.endswith("/loans/L00004")  # swapped in place by htmx
    assert "M1" in page.locator("#status-before").inner_text()
    assert "M0" in page.locator("#status-after").inner_text()
    assert status.get_attribute("data-status") == "active"
    assert status.get_attribute("data-dpd") == "0"
    assert "browser test" in page.locator("#payments").inner_text()
    shot(page, "08-loan-after-payment")


def test_roles_that_may_not_get_403(page):
    login(page, "collector")
    response = page.goto("/dashboard")
    assert response is not None and response.status == 403
    assert page.locator("#error").get_attribute("data-code") == "403"
    shot(page, "09-forbidden-collector-dashboard")
    # A collector opens delinquent loans only.
    response = page.goto("/loans/L00001")
    assert response is not None and response.status == 403

    page.context.clear_cookies()
    login(page, "b0002")
    assert page.url.endswith("/borrowers/B0002")
    assert "B0002" in page.locator("h1").inner_text()
    shot(page, "10-borrower-own-page")
    page.click("a:text('L00001')")  # their own loan, read only
    page.wait_for_url(re.compile(r"/loans/L00001$"))
    assert page.locator("#loan-status").count() == 1 and page.locator("#payment-form").count() == 0
    for path in ("/loans", "/dashboard", "/borrowers/B0003"):
        response = page.goto(path)
        assert response is not None and response.status in (403, 404), path
    response = page.goto("/loans")
    assert response is not None and response.status == 403


def test_borrower_page_masks_by_role(page):
    login(page, "collector")
    page.goto("/borrowers/B0009")  # L00008 is 54 days past due: a collection borrower
    national_id = page.locator("dd[data-field='National id']").inner_text()
    phone = page.locator("dd[data-field='Phone']").inner_text()
    assert national_id.startswith("*") and phone.startswith("*")
    assert national_id[-4:] == "851X" and phone[-4:] == "9101"  # the last four stay
    shot(page, "11-borrower-masked-collector")

    page.context.clear_cookies()
    login(page, "legal")
    page.goto("/borrowers/B0001")
    assert not page.locator("dd[data-field='National id']").inner_text().startswith("*")
    assert page.locator("#borrower-loans table").count() == 1
    shot(page, "12-borrower-legal")


def test_logout_ends_the_session(page):
    login(page, "admin")
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login"))
    response = page.goto("/dashboard")
    assert response is not None and "/login" in page.url
