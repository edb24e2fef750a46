"""The contact pages (issue 6 §5) on their own real server: the example book closed for four
month-ends with the case update run, the shipped templates stored, two reminders for B0006 queued
through the real guard at explicit daytime hours and sent by the worker to the local fake gateway
(a real HTTP server), one blocked at night. HTTP-level checks (roles, CSRF, both languages, the
content rules naming the phrase, the guard's answer) and a browser walk through the message log,
the policy view, the templates editor and the auditors' decision log, with screenshots in
`test-artifacts/contact-*.png`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.net import free_port
from tests.web.conftest import CLOSES, ROOT, shot

playwright_sync = pytest.importorskip("playwright.sync_api")

PASSWORD = "contact-pages-1"
USERS = {"mia": "risk", "cara": "collector", "ada": "admin", "udo": "auditor", "lee": "legal"}
SH = ZoneInfo("Asia/Shanghai")
BORROWER, LOAN = "B0006", "L00005"  # 杨磊, far past due: a case in every close
SECRET = "contact-pages-secret"


@dataclass
class ContactSite:
    url: str
    engine: object
    case_id: str
    sent: list[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContactSite]:
    import uvicorn
    from sqlalchemy import select

    from arrears.api.app import create_app
    from arrears.auth import add_user
    from arrears.catalog import load_catalog
    from arrears.cob.runner import close_business
    from arrears.collection.update import update_cases
    from arrears.config import Settings
    from arrears.contact import guard
    from arrears.contact.channels import fake_gateway
    from arrears.contact.channels.gateway import HttpGateway
    from arrears.contact.outbox import enqueue
    from arrears.contact.templates import seed_templates
    from arrears.contact.worker import run
    from arrears.imports import import_book
    from arrears.store.db import make_engine, unit_of_work, upgrade
    from arrears.store.tables import CollectionCase
    from arrears.web import mount

    root = tmp_path_factory.mktemp("contact-web")
    url = f"sqlite:///{root / 'web.db'}"
    upgrade(url)
    engine = make_engine(url)
    catalog = load_catalog()
    import_book(engine, ROOT / "examples" / "book", catalog)
    for day in CLOSES:
        close_business(engine, catalog, day, root / "data")
        update_cases(engine, day, catalog=catalog)
    for name, role in USERS.items():
        add_user(engine, name, role, PASSWORD)
    seed_templates(engine)
    party = guard.Party(BORROWER, "debtor", loan_id=LOAN)
    with unit_of_work(engine) as session:
        queued = [
            enqueue(session, party, channel, "reminder", text, at)
            for channel, text, at in (
                ("sms", "杨磊您好，请尽快还款。", datetime(2026, 11, 30, 9, 30, tzinfo=SH)),
                ("sms", "杨磊您好，已逾期。", datetime(2026, 11, 30, 23, 30, tzinfo=SH)),  # night
                ("email", "Dear customer, please pay.", datetime(2026, 11, 30, 10, tzinfo=SH)),
            )
        ]
        case_id = session.scalar(
            select(CollectionCase.case_id).where(CollectionCase.borrower_id == BORROWER)
        )
    assert [q.message_id is not None for q in queued] == [True, False, True]
    gateway = fake_gateway.start(SECRET)
    try:
        stats = run(
            engine,
            {"sms": HttpGateway(gateway.url, SECRET)},
            clock=lambda: datetime(2026, 11, 30, 10, 15, tzinfo=SH),
            once=True,
        )
    finally:
        gateway.shutdown()
        gateway.server_close()
    assert stats.sent == 1  # the SMS; the email waits (no SMTP configured here)
    engine.dispose()

    settings = Settings(
        database_url=url, products_file=None, business_date=CLOSES[-1], data_dir=root / "data"
    )
    app = create_app(settings)
    mount(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield ContactSite(
        f"http://127.0.0.1:{port}",
        app.state.engine,
        case_id,
        [q.message_id for q in queued if q.message_id],
    )
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _client(site: ContactSite, username: str) -> httpx.Client:
    client = httpx.Client(base_url=site.url, follow_redirects=False, timeout=20)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return client


# ------------------------------------------------------------------ HTTP level


def test_message_logs_show_status_decision_and_delivery(site: ContactSite) -> None:
    with closing(_client(site, "mia")) as risk:
        page = risk.get(f"/borrowers/{BORROWER}/messages?lang=en")
        assert page.status_code == 200
        rows = dict(re.findall(r'data-message="([^"]+)" data-status="([^"]+)"', page.text))
        assert rows == {site.sent[0]: "sent", site.sent[1]: "pending"}
        assert "allowed" in page.text and "CN+ALL" in page.text
        assert "回复TD退订" in page.text  # the opt-out line the outbox appended
        # times in the borrower's own zone, named (stored UTC: 02:15 and 01:30)
        assert "sent 2026-11-30 10:15 Asia/Shanghai (UTC+08:00)" in page.text
        assert "2026-11-30 10:00 Asia/Shanghai (UTC+08:00)" in page.text  # the email, waiting
        assert "借款人当地时间" in risk.get(f"/borrowers/{BORROWER}/messages?lang=zh").text
        assert "已发送" in risk.get(f"/borrowers/{BORROWER}/messages?lang=zh").text
        case = risk.get(f"/cases/{site.case_id}/messages?lang=en")
        assert case.status_code == 200 and site.sent[0] in case.text
        assert f"/cases/{site.case_id}/messages" in risk.get(f"/cases/{site.case_id}").text
        borrower = risk.get(f"/borrowers/{BORROWER}?lang=en").text
        assert f"/borrowers/{BORROWER}/messages" in borrower
        assert f"/borrowers/{BORROWER}/contact-policy" in borrower
        assert 'id="no-messages"' in risk.get("/borrowers/B0002/messages").text
        assert risk.get("/borrowers/B9999/messages").status_code == 404
    with closing(_client(site, "cara")) as collector:  # not assigned to this case
        assert collector.get(f"/cases/{site.case_id}/messages").status_code == 403


def test_policy_view_and_asking_the_guard(site: ContactSite) -> None:
    with closing(_client(site, "cara")) as collector:
        page = collector.get(f"/borrowers/{BORROWER}/contact-policy?lang=en")
        assert page.status_code == 200
        assert re.search(r'id="jurisdictions">CN \+ ALL<', page.text)
        assert 'data-rule="CN-C1"' in page.text and "08:00:00" in page.text
        assert 'data-rule="ALL-OPT-OUT"' in page.text
        assert "允许联系时段" in collector.get(f"/borrowers/{BORROWER}/contact-policy?lang=zh").text
        token = _token(page.text)
        night = collector.post(
            f"/borrowers/{BORROWER}/contact-check",
            data={
                "csrf_token": token,
                "channel": "voice",
                "purpose": "collection",
                "party": "debtor",
                "at": "2026-11-30T22:30:00+08:00",
            },
            headers={"HX-Request": "true"},
        )
        assert night.status_code == 200
        assert 'data-allowed="false"' in night.text and "CN-C1" in night.text
        assert "2026-12-01 08:00 Asia/Shanghai (UTC+08:00)" in night.text
        no_offset = collector.post(
            f"/borrowers/{BORROWER}/contact-check",
            data={"csrf_token": token, "channel": "sms", "at": "2026-11-30T10:00:00"},
            headers={"HX-Request": "true"},
        )
        assert no_offset.status_code == 422 and "offset" in no_offset.text
        assert (
            collector.post(
                f"/borrowers/{BORROWER}/contact-check",
                data={"channel": "sms", "at": "2026-11-30T10:00:00+08:00"},
            ).status_code
            == 403
        )
    with closing(_client(site, "udo")) as auditor:
        page = auditor.get(f"/borrowers/{BORROWER}/contact-policy")
        assert page.status_code == 200 and 'id="check-form"' not in page.text
        assert auditor.post(f"/borrowers/{BORROWER}/contact-check", data={}).status_code == 403


def test_decision_log_is_for_auditors_filtered_and_paged(site: ContactSite) -> None:
    with closing(_client(site, "udo")) as auditor:
        page = auditor.get("/contact/decisions?lang=en")
        assert page.status_code == 200 and "Guard decisions" in page.text
        assert "合规决策日志" in auditor.get("/contact/decisions?lang=zh").text
        blocked = auditor.get("/contact/decisions?allowed=no&rule_id=CN-C1&lang=en").text
        allowed = re.findall(r'data-allowed="(true|false)"', blocked)
        assert allowed and set(allowed) == {"false"}
        # the night SMS asked at 23:30 Shanghai: shown so, with the next opening
        assert "2026-11-30 23:30 Asia/Shanghai (UTC+08:00)" in blocked
        assert "2026-12-01 08:00 Asia/Shanghai (UTC+08:00)" in blocked
        assert auditor.get("/contact/templates").status_code == 200
    with closing(_client(site, "cara")) as collector:
        assert collector.get("/contact/decisions").status_code == 403
        assert "/contact/decisions" not in collector.get("/contact/templates").text  # no nav link


def test_templates_editor_content_rules_and_preview(site: ContactSite) -> None:
    with closing(_client(site, "mia")) as risk:
        listing = risk.get("/contact/templates?lang=en")
        assert 'data-template="reminder_overdue-zh"' in listing.text
        editor = risk.get("/contact/templates/reminder_overdue/en?lang=en")
        assert editor.status_code == 200 and 'data-version="1"' in editor.text
        token = _token(editor.text)
        form = {"csrf_token": token, "channel": "sms", "audience": "debtor", "subject": ""}
        refused = risk.post(
            "/contact/templates/reminder_overdue/en?lang=en",
            data={**form, "body": "Pay {{ overdue }} now or you will regret it"},
        )
        assert refused.status_code == 422
        assert re.search(r'id="offending-phrase">you will regret<', refused.text)
        assert "C6-THREAT" in refused.text
        saved = risk.post(
            "/contact/templates/reminder_overdue/en",
            data={
                **form,
                "body": "Dear {{ name }}, loan {{ loan_id }} is {{ days_past_due }} "
                "days overdue: {{ overdue }} {{ currency }}.",
            },
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/contact/templates/reminder_overdue/en?saved=2"
        preview = risk.get(
            f"/contact/templates/reminder_overdue/en/preview?loan_id={LOAN}",
            headers={"HX-Request": "true"},
        )
        assert preview.status_code == 200 and 'data-version="2"' in preview.text
        assert "杨磊" in preview.text and LOAN in preview.text
        old = risk.get(f"/contact/templates/reminder_overdue/en/preview?loan_id={LOAN}&version=1")
        assert 'data-version="1"' in old.text
        missing = risk.get("/contact/templates/reminder_overdue/en/preview?loan_id=L404")
        assert missing.status_code == 404
        no_token = risk.post("/contact/templates/reminder_overdue/en", data={"body": "x"})
        assert no_token.status_code == 403
        new = risk.get("/contact/templates/new?name=fresh_one&language=zh")
        assert new.headers["location"] == "/contact/templates/fresh_one/zh"
    with closing(_client(site, "cara")) as collector:
        page = collector.get("/contact/templates/reminder_overdue/en")
        assert page.status_code == 200 and 'id="save-template"' not in page.text
        assert collector.post("/contact/templates/reminder_overdue/en", data={}).status_code == 403
        assert collector.get("/contact/templates/never_saved/zh").status_code == 404


# ------------------------------------------------------------------ the browser


@pytest.fixture
def bpage(browser, site: ContactSite):  # type: ignore[no-untyped-def]
    """A page on this module's server, from the session's Chromium (`tests/web/conftest.py`):
    one Playwright per process, so it runs beside the other browser tests."""
    context = browser.new_context(
        base_url=site.url, viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def _login(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_contact_pages_in_the_browser(site: ContactSite, bpage) -> None:  # type: ignore[no-untyped-def]
    page = bpage
    _login(page, "mia")
    page.goto(f"/borrowers/{BORROWER}?lang=en")
    page.click("#messages-link")
    page.wait_for_selector(f'tr[data-message="{site.sent[0]}"][data-status="sent"]')
    shot(page, "contact-messages")

    page.click("#policy-link")
    page.wait_for_selector('tr[data-rule="CN-C1"]')
    page.fill("input[name=at]", "2026-11-30T23:00:00+08:00")
    page.select_option("select[name=channel]", "sms")
    page.click("#check-form button[type=submit]")
    decision = page.wait_for_selector("#check-decision")
    assert decision.get_attribute("data-allowed") == "false"
    assert page.inner_text("#check-rules") == "CN-C1"
    page.fill("input[name=at]", "2026-11-30T15:00:00+08:00")
    page.click("#check-form button[type=submit]")
    page.wait_for_selector('#check-decision[data-allowed="true"]')
    shot(page, "contact-policy")

    page.goto("/contact/templates/reminder_due_today/zh?lang=zh")
    page.fill("textarea[name=body]", "{{ name }}您好，再不还款就让你坐牢。")
    page.click("#save-template")
    page.wait_for_selector("#template-error")
    assert page.inner_text("#offending-phrase") == "坐牢"
    page.fill("textarea[name=body]", "{{ name }}您好，贷款{{ loan_id }}今日应还{{ amount_due }}。")
    page.click("#save-template")
    page.wait_for_selector("#template-saved")
    page.fill("input[name=loan_id]", LOAN)
    page.click("#preview-button")
    page.wait_for_selector("#preview-text")
    assert page.inner_text("#preview-body").startswith("杨磊您好，贷款L00005今日应还")
    shot(page, "contact-templates")

    page.goto("/login")  # switch to the auditor
    page.context.clear_cookies()
    _login(page, "udo")
    page.goto("/contact/decisions?lang=en")
    page.wait_for_selector('tr[data-allowed="false"]')
    page.select_option("select[name=allowed]", "no")
    page.click("#decision-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    states = page.eval_on_selector_all("tr[data-decision]", "r => r.map(x => x.dataset.allowed)")
    assert states and set(states) == {"false"}
    shot(page, "contact-decisions")
