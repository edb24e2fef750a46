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
    assert sum(data["psi_bins"]["actual"]) == pytest.approx(1.0)


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
