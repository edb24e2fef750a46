"""Browser tests of the pages: a real `uvicorn` server on a free loopback port (in a thread),
against a temporary SQLite database with the example book imported and closed for four
month-ends up to 2026-11-30, users made with `arrears.auth.add_user`, and Debian's Chromium
driven by Playwright. Screenshots go to `test-artifacts/` (gitignored)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests.net import free_port

playwright_sync = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BUSINESS_DATE = date(2026, 11, 30)
CLOSES = [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31), BUSINESS_DATE]
PASSWORDS = {
    "admin": "admin-password-1",
    "risk": "risk-password-1",
    "collector": "collector-password-1",
    "legal": "legal-password-1",
    "auditor": "auditor-password-1",
    "b0002": "borrower-password-1",
}


@dataclass
class Site:
    url: str
    database_url: str
    data_dir: Path


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from arrears.api.app import create_app
    from arrears.auth import add_user
    from arrears.catalog import load_catalog
    from arrears.cob.runner import close_business
    from arrears.config import Settings
    from arrears.imports import import_book
    from arrears.store.db import make_engine, upgrade
    from arrears.web import mount

    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'web.db'}"
    upgrade(url)
    engine = make_engine(url)
    catalog = load_catalog()
    import_book(engine, ROOT / "examples" / "book", catalog)
    for day in CLOSES:
        close_business(engine, catalog, day, root / "data")
    for name, password in PASSWORDS.items():
        if name == "b0002":
            add_user(engine, name, "borrower", password, borrower_id="B0002")
        else:
            add_user(engine, name, name, password)
    engine.dispose()

    settings = Settings(
        database_url=url, products_file=None, business_date=BUSINESS_DATE, data_dir=root / "data"
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
    yield Site(f"http://127.0.0.1:{port}", url, root / "data")
    server.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture
def page(browser, site: Site):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=site.url, viewport={"width": 1366, "height": 900}, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    # Nothing may come from the network: any request off the test server fails the test.
    off_site: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    context.route(re.compile(r".*"), guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not off_site, f"pages asked the network for {off_site}"
    assert not errors, f"JavaScript errors: {errors}"


def shot(page, name: str, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def login(page, username: str, password: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
