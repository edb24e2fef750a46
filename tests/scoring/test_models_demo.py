"""The demo's models end to end on a simulated book closed month by month: `arrears model demo`
trains, promotes and scores; `arrears report` gains the bilingual models section (score
distribution, KS curve, PSI); `arrears admit` then scores the example application that has no
score with the champion application model."""

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.cli import app
from arrears.reports.models import models_section
from arrears.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(db, *args):
    return runner.invoke(app, ["--db", db, "--business-date", "2026-11-30", *args])


@pytest.fixture(scope="module")
def demo_db(sim_book, tmp_path_factory):
    root = tmp_path_factory.mktemp("models-demo")
    shutil.copy(sim_book / "arrears.db", root / "arrears.db")
    db = f"sqlite:///{root / 'arrears.db'}"
    result = run(db, "model", "demo", "--book", str(sim_book / "book"), "--out",
                 str(root / "models"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout), root


def test_the_demo_command_promotes_both_kinds_and_scores_the_book(demo_db):
    db, summary, root = demo_db
    assert [m["kind"] for m in summary["models"]] == ["application", "behaviour"]
    for m in summary["models"]:
        assert 0.5 < m["validation"]["auc"] <= 1 and m["rows"] > 0
    listed = json.loads(run(db, "model", "list", "--json").stdout)
    assert {m["kind"] for m in listed if m["champion"]} == {"application", "behaviour"}
    assert summary["scored"]["rows"] > 0 and (root / "models" / "behaviour-scores.parquet").exists()


def test_the_report_gains_a_models_section(demo_db):
    db, summary, root = demo_db
    out = root / "report.html"
    result = run(db, "report", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<section id="models">' in html
    for marker in ("chart-model-scores", "chart-model-ks", "chart-model-psi", "models-csi"):
        assert f'id="{marker}"' in html, marker
    assert "评分分布" in html and "Score distribution" in html and "KS 曲线" in html
    engine = make_engine(db)
    section = models_section(engine)
    engine.dispose()
    assert section is not None and section["book"]["rows"] == summary["scored"]["rows"]
    shown = re.search(r'id="models-psi">([0-9.]+)<', html).group(1)
    assert float(shown) == pytest.approx(section["book"]["psi"], abs=5e-5)
    data = json.loads(re.search(r'id="models-data">(.*?)</script>', html, re.S).group(1))
    assert sum(data["score_histogram"]["counts"]) == section["book"]["rows"]
    assert data["ks_curve"]["bads"][-1] == 1.0
    # ten shares each rounded to 4 places: their sum is 1 to within 10 half-units of rounding
    assert sum(data["psi_bins"]["actual"]) == pytest.approx(1.0, abs=5e-4)


def test_no_champion_no_models_section(sim_book, tmp_path):
    shutil.copy(sim_book / "arrears.db", tmp_path / "plain.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    assert models_section(engine) is None
    engine.dispose()
    out = tmp_path / "r.html"
    assert run(f"sqlite:///{tmp_path / 'plain.db'}", "report", "--out", str(out)).exit_code == 0
    assert 'id="models"' not in out.read_text(encoding="utf-8")


def test_admission_scores_the_unscored_example_with_the_champion(demo_db):
    db, _, _ = demo_db
    result = run(db, "admit", "--application", str(ROOT / "examples" / "applications.csv"),
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    by_id = {d["application_id"]: d for d in json.loads(result.stdout)}
    assert by_id["APP-009"]["score"] is not None
    assert "SCORE_MISSING" not in by_id["APP-009"]["reason_codes"]
    assert by_id["APP-001"]["score"] == 731  # a given score still wins


# ------------------------------------------------------------------ the models page and API


@pytest.fixture(scope="module")
def site(demo_db):
    """The app (API + pages) on the demo database, with one user per role."""
    import warnings

    from arrears.api.app import create_app
    from arrears.auth import add_user, create_token
    from arrears.config import Settings
    from arrears.web import mount

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    db, _, root = demo_db
    engine = make_engine(db)
    tokens = {}
    for role in ("admin", "risk", "collector", "legal", "auditor"):
        add_user(engine, f"m-{role}", role, f"{role}-password-1")
        tokens[role] = create_token(engine, f"m-{role}")[0]
    engine.dispose()
    from datetime import date

    settings = Settings(database_url=db, products_file=None, business_date=date(2026, 11, 30),
                        data_dir=root / "data")  # fmt: skip
    app = create_app(settings)
    mount(app)
    with TestClient(app) as client:
        yield client, tokens


def signed_in(client, role):
    client.cookies.clear()
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
    client.post("/login", data={"username": f"m-{role}", "password": f"{role}-password-1",
                                "csrf_token": csrf})  # fmt: skip
    return client


def test_the_api_lists_models_and_shows_one(site, demo_db):
    client, tokens = site
    _, summary, _ = demo_db
    listed = client.get("/api/v1/models", headers={"Authorization": f"Bearer {tokens['auditor']}"})
    assert listed.status_code == 200, listed.text
    models = listed.json()["models"]
    assert {m["kind"] for m in models if m["champion"]} == {"application", "behaviour"}
    behaviour = next(m for m in models if m["kind"] == "behaviour" and m["champion"])
    shown = client.get(f"/api/v1/models/{behaviour['model_id']}",
                       headers={"Authorization": f"Bearer {tokens['risk']}"}).json()  # fmt: skip
    assert shown["scorecard"] and {"feature", "bin", "woe", "iv", "points"} <= set(
        shown["scorecard"][0]
    )
    # the demo's summary rounds the PSI to 6 places
    assert shown["monitoring"]["psi"] == pytest.approx(summary["monitor"]["psi"], abs=5e-7)
    assert set(shown["monitoring"]["csi"]) == {f["name"] for f in shown["features"]}
    missing = client.get(
        "/api/v1/models/999999", headers={"Authorization": f"Bearer {tokens['risk']}"}
    )
    assert missing.status_code == 404
    refused = client.get(
        "/api/v1/models", headers={"Authorization": f"Bearer {tokens['collector']}"}
    )
    assert refused.status_code == 403


def test_the_models_page_in_both_languages(site):
    client, _ = site
    signed_in(client, "risk")
    en = client.get("/models?lang=en")
    assert en.status_code == 200, en.text
    assert "Credit score models" in en.text and 'href="/models"' in en.text
    assert en.text.count('class="badge active champion"') == 2
    zh = client.get("/models?lang=zh")
    assert "信用评分模型" in zh.text and "冠军" in zh.text and "申请评分（A卡）" in zh.text
    ids = re.findall(r'hx-get="/models/(\d+)"', en.text)
    assert len(ids) == 2
    # htmx asks for the model's body only; a plain visit gets the whole page with it
    body = client.get(f"/models/{ids[-1]}?lang=en", headers={"HX-Request": "true"})
    assert body.status_code == 200 and "<html" not in body.text
    assert 'id="scorecard"' in body.text and "WoE" in body.text
    full = client.get(f"/models/{ids[-1]}?lang=zh")
    assert "<html" in full.text and "评分卡" in full.text and "最新监控" in full.text


def test_the_behaviour_model_page_shows_scorecard_points_and_monitoring(site):
    client, tokens = site
    models = client.get("/api/v1/models", headers={"Authorization": f"Bearer {tokens['risk']}"})
    behaviour = next(m for m in models.json()["models"] if m["kind"] == "behaviour")
    detail = client.get(f"/api/v1/models/{behaviour['model_id']}",
                        headers={"Authorization": f"Bearer {tokens['risk']}"}).json()  # fmt: skip
    signed_in(client, "auditor")
    page = client.get(f"/models/{behaviour['model_id']}?lang=en").text
    assert f"PSI <strong>{detail['monitoring']['psi']:.4f}</strong>" in page
    first = detail["scorecard"][0]
    assert f"{first['points']:.1f}" in page and first["feature"] in page
    assert 'id="model-csi"' in page


def test_only_risk_admin_and_auditors_open_the_models_page(site):
    client, _ = site
    for role, status in (("admin", 200), ("collector", 403), ("legal", 403)):
        signed_in(client, role)
        response = client.get("/models")
        assert response.status_code == status, role
        assert ('href="/models"' in response.text) == (status == 200), role
    client.cookies.clear()
    assert client.get("/models", follow_redirects=False).status_code == 303


# ------------------------------------------------------------------ in a browser (screenshots)


@pytest.fixture(scope="module")
def served(demo_db, site):
    """A real uvicorn server on the demo database (the users of `site` exist)."""
    import threading
    import time

    import uvicorn

    client, _ = site
    from tests.net import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_models_page_and_the_report_section_in_a_browser(served, demo_db, browser):
    from tests.web.conftest import shot

    db, _, root = demo_db
    report = root / "browser-report.html"
    assert run(db, "report", "--out", str(report)).exit_code == 0
    errors: list[str] = []
    context = browser.new_context(base_url=served, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login")
    page.fill("input[name=username]", "m-risk")
    page.fill("input[name=password]", "risk-password-1")
    page.click("button[type=submit]")
    page.goto("/models?lang=zh")
    assert page.locator(".champion").count() == 2
    page.locator('table[data-kind="behaviour"] a').first.click()  # htmx loads the model
    page.wait_for_selector("#model-detail #scorecard")
    assert "/models/" in page.url  # hx-push-url
    assert page.locator("#model-csi tr").count() > 1
    shot(page, "models-page-zh")
    page.goto(page.url + "?lang=en")
    page.wait_for_selector("#scorecard")
    shot(page, "models-detail-en")
    # the report's models section: charts drawn from the vendored ECharts, offline
    page.goto(report.as_uri())
    page.wait_for_selector("#chart-model-ks canvas")
    assert page.locator("#chart-model-scores canvas").count() == 1
    assert page.locator("#chart-model-psi canvas").count() == 1
    page.locator("#models").screenshot(path=str(shot_path("models-report-section")))
    context.close()
    assert not errors, errors


def shot_path(name):
    from tests.web.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
