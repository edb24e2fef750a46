"""The collection pages, on their own real server (the example book closed for four month-ends and
the case update run; the business date can move on, so this site is not shared with the other
page tests): HTTP-level checks (roles, ownership, CSRF, both languages) and the browser story —
a collector takes the next case and records a promise; after a close of business with the
payment the promise shows kept; on a second case two broken promises escalate it per policy.
Screenshots of each page go to `test-artifacts/`."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.net import free_port
from tests.web.conftest import CLOSES, ROOT, shot

playwright_sync = pytest.importorskip("playwright.sync_api")

PASSWORD = "collection-pages-1"
USERS = {"cara": "collector", "carl": "collector", "mia": "risk", "lee": "legal", "ada": "admin"}


@dataclasses.dataclass
class CollectionSite:
    url: str
    database_url: str
    data_dir: Path
    app: object
    pages: object
    day: date

    def engine(self):  # type: ignore[no-untyped-def]
        return self.app.state.engine  # type: ignore[attr-defined]

    def move_to(self, day: date) -> None:
        """Close every business day up to `day` (COB + case update) and make it the site's
        business date."""
        from arrears.catalog import load_catalog
        from arrears.cob.runner import close_business
        from arrears.collection.update import update_cases

        catalog = load_catalog()
        d = self.day + timedelta(days=1)
        while d <= day:
            close_business(self.engine(), catalog, d, self.data_dir)
            update_cases(self.engine(), d, catalog=catalog)
            d += timedelta(days=1)
        self.day = day
        settings = dataclasses.replace(self.app.state.settings, business_date=day)  # type: ignore[attr-defined]
        self.app.state.settings = settings  # type: ignore[attr-defined]
        self.pages.settings = settings  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def csite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectionSite]:
    import uvicorn

    from arrears.api.app import create_app
    from arrears.auth import add_user
    from arrears.catalog import load_catalog
    from arrears.cob.runner import close_business
    from arrears.collection.queues import set_collector
    from arrears.collection.update import update_cases
    from arrears.config import Settings
    from arrears.imports import import_book
    from arrears.store.db import make_engine, upgrade
    from arrears.web import mount

    root = tmp_path_factory.mktemp("collection-web")
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
    for name in ("cara", "carl"):
        set_collector(engine, name, "ada", max_open_cases=10, stages=["reminder", "early", "mid"])
    engine.dispose()

    business = CLOSES[-1]
    settings = Settings(
        database_url=url, products_file=None, business_date=business, data_dir=root / "data"
    )
    app = create_app(settings)
    pages = mount(app)
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
    yield CollectionSite(f"http://127.0.0.1:{port}", url, root / "data", app, pages, business)
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _client(site: CollectionSite, username: str) -> httpx.Client:
    client = httpx.Client(base_url=site.url, follow_redirects=False, timeout=20)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return client


# ------------------------------------------------------------------ HTTP level


def test_pages_answer_by_role_and_language(csite: CollectionSite) -> None:
    with closing(_client(csite, "mia")) as risk:
        manager = risk.get("/collection?lang=en")
        assert manager.status_code == 200
        assert "Collector performance" in manager.text and "RPC rate" in manager.text
        assert "blocked share" in manager.text  # a quality measure beside the amounts
        assert "催收员绩效" in risk.get("/collection?lang=zh").text
        assert risk.get("/work").status_code == 403  # the workbench is the collector's
        assert risk.get("/legal").status_code == 200
    with closing(_client(csite, "cara")) as collector:
        assert collector.get("/collection").status_code == 403
        assert collector.get("/legal").status_code == 403
        work = collector.get("/work?lang=en")
        assert work.status_code == 200 and "Next case" in work.text
        assert "下一个案件" in collector.get("/work?lang=zh").text
    with closing(_client(csite, "lee")) as legal:
        page = legal.get("/legal?lang=en")
        assert page.status_code == 200 and "Cases in the legal stage" in page.text
        assert "/lawsuit" in page.text  # the legal officer may open a lawsuit
        assert legal.get("/legal/999999").status_code == 404
        assert legal.get("/cases/C99999999").status_code == 404


def test_a_collector_sees_only_their_cases_and_forms_need_the_token(
    csite: CollectionSite,
) -> None:
    with closing(_client(csite, "carl")) as carl:
        token = _token(carl.get("/work").text)
        taken = carl.post("/work/next", data={"csrf_token": token})
        assert taken.status_code == 303
        case_url = taken.headers["location"]
        assert case_url.startswith("/cases/C")
        page = carl.get(case_url + "?lang=en")
        assert page.status_code == 200
        # masked: national id and phone show their last four characters only
        shown = re.search(r'id="borrower-id-number">([^<]+)<', page.text).group(1)
        assert shown.startswith("*") and shown.strip("*") and len(shown.strip("*")) == 4
        # no token, no contact
        refused = carl.post(case_url + "/contact", data={"action": "call", "outcome": "no_answer"})
        assert refused.status_code == 403
        logged = carl.post(
            case_url + "/contact",
            data={"action": "sms", "outcome": "no_answer", "csrf_token": _token(page.text)},
            headers={"HX-Request": "true"},
        )
        assert logged.status_code == 200 and 'id="case-done"' in logged.text
    with closing(_client(csite, "cara")) as cara:
        assert cara.get(case_url).status_code == 403
    with closing(_client(csite, "mia")) as risk:
        page = risk.get(case_url + "?lang=en")
        assert page.status_code == 200 and "masked for your role" not in page.text


def test_settlement_maker_checker_and_dispute_through_the_pages(csite: CollectionSite) -> None:
    from sqlalchemy import select

    from arrears.store.db import unit_of_work
    from arrears.store.tables import CollectionCase

    with unit_of_work(csite.engine()) as session:
        case_id = session.scalar(
            select(CollectionCase.case_id).where(
                CollectionCase.borrower_id == "B0028", CollectionCase.status == "open"
            )
        )
    url = f"/cases/{case_id}"
    with closing(_client(csite, "mia")) as risk:
        page = risk.get(url + "?lang=en")
        token = _token(page.text)
        proposed = risk.post(
            url + "/settlement",
            data={"amount": "1000.00", "pay_by": "2026-12-31", "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert (
            proposed.status_code == 200 and "awaiting approval" in proposed.text
        )  # waiver > limit
        assert 'id="case-done"' in proposed.text
        manager = risk.get("/collection?lang=en").text
        row = re.search(r'data-approval="(\d+)"', manager)
        assert row, "the settlement waits for a checker on the manager's page"
        approval = row.group(1)
        own = risk.post(
            f"/approvals/{approval}/decision",
            data={"approve": "1", "reason": "ok", "csrf_token": _token(manager)},
        )
        assert own.status_code == 303 and "cannot%20also%20approve" in own.headers["location"]
        disputed = risk.post(
            url + "/dispute",
            data={"reason": "amount wrong 金额有误", "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert disputed.status_code == 200 and "Dispute recorded" in disputed.text
        blocked = risk.post(
            url + "/contact",
            data={"action": "call", "outcome": "no_answer", "csrf_token": token},
            headers={"HX-Request": "true"},
        )
        assert "Not sent" in blocked.text and "dispute" in blocked.text
    with closing(_client(csite, "ada")) as admin:
        manager = admin.get("/collection?lang=en").text
        decided = admin.post(
            f"/approvals/{approval}/decision",
            data={"approve": "1", "reason": "agreed", "csrf_token": _token(manager)},
        )
        assert decided.headers["location"] == "/collection?note=decided"
        assert f'data-approval="{approval}"' not in admin.get("/collection").text
    with closing(_client(csite, "cara")) as collector:  # collectors do not decide
        assert collector.post(f"/approvals/{approval}/decision", data={}).status_code == 403


# ------------------------------------------------------------------ the browser story


@pytest.fixture
def cpage(browser, csite: CollectionSite):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=csite.url, viewport={"width": 1366, "height": 900}, locale="zh-CN"
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


def _case_id(page) -> str:  # type: ignore[no-untyped-def]
    return page.url.rsplit("/", 1)[-1].split("?")[0]


def _promise_states(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("tr.promise", "rows => rows.map(r => r.dataset.state)")


def _record_promise(page, amount: str, due: date) -> None:  # type: ignore[no-untyped-def]
    before = page.locator("tr.promise").count()
    page.fill("#promise-amount", amount)
    page.fill("#promise-due", due.isoformat())
    page.click("#promise-submit")
    page.wait_for_function(f"document.querySelectorAll('tr.promise').length > {before}")


def test_collector_promise_kept_then_two_broken_escalate(csite: CollectionSite, cpage) -> None:  # type: ignore[no-untyped-def]
    from arrears import servicing
    from arrears.catalog import load_catalog
    from arrears.collection.policy import CaseFigures, load_policy, stage_for
    from arrears.store.db import unit_of_work
    from arrears.store.tables import CaseLoan, CollectionCase

    page = cpage
    _login(page, "cara")
    page.goto("/work?lang=en")
    shot(page, "collection-workbench-empty")
    page.click("#next-case")
    page.wait_for_url(re.compile(r"/cases/C\d+"))
    first = _case_id(page)
    assert page.locator("#borrower-id-number").inner_text().startswith("*")
    # an outcome in two clicks: the channel is preselected, one click on the outcome
    page.click("#outcome-promise")
    page.wait_for_selector("#case-done")
    _record_promise(page, "100.00", csite.day + timedelta(days=5))
    assert _promise_states(page) == ["pending"]
    shot(page, "collection-case")

    # the borrower pays 100.00 the next day; the close of business judges the promise kept
    with unit_of_work(csite.engine()) as session:
        loan_id = session.scalars(select_loans(CaseLoan, first)).first()
    pay_day = csite.day + timedelta(days=1)
    servicing.post_payment(
        csite.engine(), load_catalog(), loan_id, "100.00", pay_day, today=pay_day
    )
    csite.move_to(pay_day)
    page.reload()
    assert _promise_states(page) == ["kept"]
    shot(page, "collection-case-promise-kept")

    # a second case: two promises, neither paid — both broken, and the policy escalates
    page.goto("/work?lang=en")
    page.click("#next-case")
    page.wait_for_url(re.compile(r"/cases/C\d+"))
    if _case_id(page) == first:  # still open and not yet pulled today: it comes first
        page.goto("/work?lang=en")
        page.click("#next-case")
        page.wait_for_url(re.compile(r"/cases/C\d+"))
    second = _case_id(page)
    assert second != first
    stage_before = page.locator("#case-figures").get_attribute("data-stage")
    _record_promise(page, "50.00", csite.day + timedelta(days=1))
    csite.move_to(csite.day + timedelta(days=4))  # date + 2 days grace has passed
    page.reload()
    assert _promise_states(page) == ["broken"]
    assert page.locator("#case-broken").inner_text() == "1"
    _record_promise(page, "50.00", csite.day + timedelta(days=1))
    csite.move_to(csite.day + timedelta(days=4))
    page.reload()
    assert _promise_states(page) == ["broken", "broken"]
    assert page.locator("#case-broken").inner_text() == "2"
    stage_after = page.locator("#case-figures").get_attribute("data-stage")
    with unit_of_work(csite.engine()) as session:
        row = session.get(CollectionCase, second)
        figures = CaseFigures(
            row.days_past_due, row.amount_overdue, row.currency, row.product, row.segment
        )
    policy = load_policy()
    by_days_alone = stage_for(policy, figures)
    assert stage_after == stage_for(policy, dataclasses.replace(figures, broken_promises=2))
    assert policy.rank(stage_after) == policy.rank(by_days_alone) + 1, (
        stage_before,
        by_days_alone,
        stage_after,
    )
    shot(page, "collection-case-escalated")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    shot(page, "collection-case-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/work?lang=zh")
    shot(page, "collection-workbench")


def select_loans(table, case_id: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return select(table.loan_id).where(table.case_id == case_id).order_by(table.loan_id)


def test_manager_and_legal_pages_in_the_browser(csite: CollectionSite, cpage) -> None:  # type: ignore[no-untyped-def]
    page = cpage
    _login(page, "mia")
    page.goto("/collection?lang=en")
    assert page.locator("#performance-table tr[data-collector=cara]").count() == 1
    assert page.locator("#stage-volumes tr[data-stage=legal]").count() == 1
    shot(page, "collection-manager")
    page.goto("/collection?lang=zh")
    shot(page, "collection-manager-zh")
    page.context.clear_cookies()

    _login(page, "lee")
    page.goto("/legal?lang=en")
    page.locator("#legal-waiting button").first.click()
    page.wait_for_url(re.compile(r"/legal/\d+"))
    assert page.locator("#lawsuit-state").inner_text() == "preparing"
    page.fill("input[name=court]", "Shanghai Pudong People's Court")
    page.fill("input[name=fees]", "1200.00")
    page.click("#advance")
    page.wait_for_load_state("networkidle")
    assert page.locator("#lawsuit-state").inner_text() == "filed"
    shot(page, "collection-lawsuit")
    page.goto("/legal?lang=zh")
    assert page.locator("#lawsuit-table a.lawsuit-link").count() >= 1
    shot(page, "collection-legal")
