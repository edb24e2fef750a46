"""The pages at the HTTP level (no browser): CSRF on every form, htmx partials, nothing from the
network in templates."""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path

import httpx

from arrears.store.db import make_engine
from arrears.store.tables import Payment

from .conftest import PASSWORDS

WEB = Path(__file__).resolve().parents[2] / "src" / "arrears" / "web"


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def _signed_in(site, username: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url=site.url, follow_redirects=False, timeout=10)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORDS[username], "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text
    return client


def test_login_needs_the_form_token(site):
    with httpx.Client(base_url=site.url, timeout=10) as client:
        client.get("/login")
        answer = client.post("/login", data={"username": "admin", "password": PASSWORDS["admin"]})
        assert answer.status_code == 403
        assert "arrears_session" not in answer.cookies
        forged = client.post(
            "/login",
            data={"username": "admin", "password": PASSWORDS["admin"], "csrf_token": "x" * 64},
        )
        assert forged.status_code == 403


def test_a_payment_without_the_form_token_is_refused(site):
    with closing(_signed_in(site, "admin")) as client:
        page = client.get("/loans/L00010")
        assert page.status_code == 200
        answer = client.post("/loans/L00010/payments", data={"amount": "100.00"})
        assert answer.status_code == 403
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as conn:
            posted = conn.execute(
                Payment.__table__.select().where(
                    Payment.loan_id == "L00010", Payment.amount == 10000
                )
            ).all()
    finally:
        engine.dispose()
    assert posted == []


def test_htmx_search_answers_a_fragment(site):
    with closing(_signed_in(site, "risk")) as client:
        whole = client.get("/loans", params={"q": "L0000"})
        part = client.get("/loans", params={"q": "L0000"}, headers={"HX-Request": "true"})
    assert whole.text.lstrip().startswith("<!DOCTYPE html>")
    assert "<html" not in part.text and 'id="results-table"' in part.text
    assert part.text.count('class="loan-link"') == 9  # L00001 … L00009


def test_not_signed_in_goes_to_the_login_form(site):
    with httpx.Client(base_url=site.url, follow_redirects=False, timeout=10) as client:
        answer = client.get("/loans/L00001")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/loans/L00001"
        htmx = client.get("/loans", headers={"HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_templates_and_scripts_load_nothing_from_the_network():
    for path in [*WEB.glob("templates/*.j2"), *WEB.glob("static/*.js"), *WEB.glob("static/*.css")]:
        if path.name == "htmx.min.js":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
        assert "@import" not in text and "url(http" not in text, path


def test_a_form_sent_twice_posts_one_payment(site):
    with closing(_signed_in(site, "admin")) as client:
        html = client.get("/loans/L00024").text
        key = re.search(r'name="payment_key" value="([0-9a-f]{32})"', html).group(1)
        form = {"csrf_token": _token(html), "payment_key": key, "amount": "12.34"}
        first = client.post("/loans/L00024/payments", data=form, headers={"HX-Request": "true"})
        again = client.post("/loans/L00024/payments", data=form, headers={"HX-Request": "true"})
    assert first.status_code == 200 and 'id="payment-result"' in first.text
    assert "<html" not in first.text  # the loan body only, for htmx to swap
    assert again.status_code == 422 and 'id="payment-error"' in again.text
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                Payment.__table__.select().where(Payment.payment_id == f"WEB-{key}")
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 1 and rows[0].amount == 1234


def test_role_rules_and_the_access_log(site):
    from arrears.store.tables import AccessLog

    with closing(_signed_in(site, "legal")) as client:
        assert client.get("/dashboard").status_code == 403  # the portfolio is risk's
        form = client.get("/loans/L00005").text
        assert 'id="payment-form"' not in form  # legal may read, not post
        refused = client.post(
            "/loans/L00005/payments", data={"csrf_token": _token(form), "amount": "1.00"}
        )
        assert refused.status_code == 403
        assert client.get("/borrowers/B0001").status_code == 200
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as conn:
            logged = conn.execute(
                AccessLog.__table__.select().where(
                    AccessLog.username == "legal", AccessLog.borrower_id == "B0001"
                )
            ).all()
    finally:
        engine.dispose()
    assert logged and logged[-1].unmasked and logged[-1].route == "/borrowers/B0001"


def test_search_by_product_bucket_and_phone(site):
    with closing(_signed_in(site, "risk")) as client:
        hx = {"HX-Request": "true"}
        sme = client.get("/loans", params={"product": "sme"}, headers=hx).text
        m6 = client.get("/loans", params={"bucket": "M6+"}, headers=hx).text
        phone = client.get("/loans", params={"phone": "9101"}, headers=hx).text
        name = client.get("/loans", params={"q": "周杰"}, headers=hx).text
    assert sme.count('class="loan-link"') == 5  # the example book's five SME loans
    assert sme.count("<td>sme</td>") == 5
    assert m6.count('class="loan-link"') >= 1 and m6.count("<td>M6+</td>") == m6.count(
        'class="loan-link"'
    )
    assert ">L00008<" in phone and ">L00008<" in name  # 周杰, +86 15317199101
    assert "15317199101" not in phone  # lists show the last four digits only


def test_loan_page_ownership_and_older_events(site):
    # The loan page decides ownership from its own read: a borrower sees only their loans (404
    # for another's), a collector only delinquent ones (403); the older-events rows the same.
    with closing(_signed_in(site, "b0002")) as client:
        assert client.get("/loans/L00001").status_code == 200  # B0002's own
        assert client.get("/loans/L00008").status_code == 404  # B0009's
        assert client.get("/loans/L00008/events?before=999999999").status_code == 404
        own = client.get("/loans/L00001/events?before=999999999")
        assert own.status_code == 200 and "<html" not in own.text  # rows only, for htmx
    with closing(_signed_in(site, "collector")) as client:
        assert client.get("/loans/L00001").status_code == 403  # not delinquent
        assert client.get("/loans/L00001/events?before=999999999").status_code == 403
        assert client.get("/loans/L00008").status_code == 200  # 54 days past due
        assert client.get("/loans/L00099999").status_code == 404
    with closing(_signed_in(site, "admin")) as client:
        page = client.get("/loans/L00008").text
        rows = re.findall(r"<tr><td>(\d+)</td><td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", page)
        assert rows, "the page lists the loan's newest events"
        older = client.get(f"/loans/L00008/events?before={rows[-1]}")
        assert older.status_code == 200
        older_seqs = re.findall(r"<tr><td>(\d+)</td>", older.text)
        assert all(int(s) < int(rows[-1]) for s in older_seqs)
        everything = client.get("/loans/L00008/events?before=999999999")
        all_seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", everything.text)]
        assert all_seqs[: len(rows)] == [int(s) for s in rows]  # the same newest-first order
        assert client.get("/loans/L00008/events?before=soon").status_code == 422
