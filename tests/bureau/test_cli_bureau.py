"""`arrears bureau …` as a user meets it: the fake bureau started by its own command (a separate
process on a free port), consent, pulls, the log and the profile, with one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from arrears.cli import app
from tests.net import free_port

BOOK = Path(__file__).resolve().parents[2] / "examples" / "book"
runner = CliRunner()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "arrears", "bureau", "fake-server", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(
                f"fake server did not start: {proc.stderr.read() if proc.stderr else ''}"
            )
        time.sleep(0.1)
    yield url
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def run(db: str, url: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"ARREARS_BUREAU_URL": url, "ARREARS_BUREAU_BACKOFF": "0", "ARREARS_BUREAU_RETRIES": "1"}
    return runner.invoke(app, ["--business-date", "2026-11-30", "--db", db, *args], env=env)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert runner.invoke(app, ["--db", url, "db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["--db", url, "import", str(BOOK)]).exit_code == 0
    return url


def test_consent_pull_log_and_profile(db: str, server: str) -> None:
    refused = run(db, server, "bureau", "pull", "B0006", "--source", "credit_report")
    assert refused.exit_code == 2 and "未授权" in refused.stderr
    consent = run(
        db,
        server,
        "bureau",
        "consent",
        "B0006",
        "--purpose",
        "credit_assessment",
        "--by",
        "ops1",
        "--json",
    )
    assert consent.exit_code == 0, consent.output
    assert json.loads(consent.stdout)["sources"] == [
        "credit_report",
        "enforcement",
        "business_registry",
        "tax",
    ]
    pulled = run(
        db,
        server,
        "bureau",
        "pull",
        "B0006",
        "--source",
        "credit_report",
        "--source",
        "enforcement",
        "--by",
        "risk1",
        "--json",
    )
    assert pulled.exit_code == 0, pulled.output
    results = json.loads(pulled.stdout)
    assert [r["outcome"] for r in results] == ["fetched", "fetched"]
    again = run(db, server, "bureau", "pull", "B0006", "--source", "credit_report")
    assert again.exit_code == 0 and "cached" in again.stdout
    log = json.loads(run(db, server, "bureau", "pulls", "B0006", "--json").stdout)
    assert [r["outcome"] for r in log] == ["cached", "fetched", "fetched", "refused"]
    assert log[1]["requested_by"] == "risk1"
    profile = run(db, server, "bureau", "profile", "B0006", "--json")
    assert profile.exit_code == 0, profile.output
    data = json.loads(profile.stdout)
    assert data["features"]["bureau_score"] == results[0]["data"]["bureau_score"]
    assert data["features"]["loans_total"] >= 1
    table = run(db, server, "bureau", "profile", "B0006")
    assert "征信评分" in table.stdout and "bureau score" in table.stdout


def test_user_errors_are_one_line(db: str, server: str) -> None:
    bad = run(db, server, "bureau", "consent", "B0006", "--purpose", "curiosity")
    assert bad.exit_code == 2 and "unknown purpose" in bad.stderr
    nobody = run(db, server, "bureau", "profile", "NOPE")
    assert nobody.exit_code == 2 and "not found" in nobody.stderr
    source = run(db, server, "bureau", "pull", "B0006", "--source", "astrology")
    assert source.exit_code == 2 and "unknown source" in source.stderr


def test_an_unreachable_bureau_fails_the_pull_cleanly(db: str) -> None:
    assert (
        run(
            db, "http://127.0.0.1:9", "bureau", "consent", "B0006", "--purpose", "collection"
        ).exit_code
        == 0
    )
    result = run(
        db,
        "http://127.0.0.1:9",
        "bureau",
        "pull",
        "B0006",
        "--source",
        "tax",
        "--purpose",
        "collection",
    )
    assert result.exit_code == 2 and "unavailable" in result.stderr
    assert os.environ.get("ARREARS_BUREAU_URL") is None  # the runner's env did not leak


def test_all_sources_for_a_person_is_not_an_error(db: str, tmp_path: Path) -> None:
    from arrears.bureau.fake_server import FakeBureau

    features = tmp_path / "features.csv"
    features.write_text("borrower_id,kind\nB0002,individual\n")
    with FakeBureau(port=0, features=features) as bureau:
        consent = run(db, bureau.url, "bureau", "consent", "B0002", "--purpose", "collection")
        assert consent.exit_code == 0
        result = run(db, bureau.url, "bureau", "pull", "B0002", "--source", "all",
                     "--purpose", "collection", "--json")  # fmt: skip
        text = run(db, bureau.url, "bureau", "pull", "B0002", "--source", "tax",
                   "--purpose", "collection")  # fmt: skip
    assert result.exit_code == 0, result.output
    outcomes = {r["source"]: r["outcome"] for r in json.loads(result.stdout)}
    assert outcomes == {
        "credit_report": "fetched", "enforcement": "fetched",
        "business_registry": "no_record", "tax": "no_record",
    }  # fmt: skip
    assert text.exit_code == 0 and "no record 无记录" in text.stdout


def test_refresh_the_enforcement_list_for_every_consented_borrower(db: str, server: str) -> None:
    for borrower in ("B0002", "B0006"):
        assert run(db, server, "bureau", "consent", borrower, "--purpose",
                   "post_loan_monitoring").exit_code == 0  # fmt: skip
    result = run(db, server, "bureau", "refresh", "--source", "enforcement", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "source": "enforcement", "purpose": "post_loan_monitoring", "borrowers": 2,
        "outcomes": {"changed": 2},
    }  # fmt: skip
    again = run(db, server, "bureau", "refresh", "--source", "enforcement")
    assert again.exit_code == 0 and "2 borrowers 借款人 · cached 2" in again.stdout


def test_an_applicant_on_the_command_line(db: str, server: str) -> None:
    """`applicant:<national id>` names an applicant who is no borrower: consent, pull, log."""
    party = "applicant:110101199001011234"
    refused = run(db, server, "bureau", "pull", party, "--source", "enforcement")
    assert refused.exit_code == 2 and "未授权" in refused.stderr
    consent = run(db, server, "bureau", "consent", party, "--name", "王五", "--purpose",
                  "credit_assessment", "--source", "enforcement", "--json")  # fmt: skip
    assert consent.exit_code == 0, consent.output
    assert json.loads(consent.stdout)["party"] == party
    assert json.loads(consent.stdout)["borrower_id"] is None
    pulled = run(db, server, "bureau", "pull", party, "--source", "enforcement", "--json")
    assert pulled.exit_code == 0, pulled.output
    [result] = json.loads(pulled.stdout)
    assert result["outcome"] == "fetched" and result["data"]["subject_id"] == party.split(":")[1]
    log = json.loads(run(db, server, "bureau", "pulls", party, "--json").stdout)
    assert [r["outcome"] for r in log] == ["fetched", "refused"]
    assert json.loads(run(db, server, "bureau", "pulls", "B0006", "--json").stdout) == []
    bad = run(db, server, "bureau", "consent", "applicant:12/3", "--purpose", "collection")
    assert bad.exit_code == 2 and "证件号码" in bad.stderr
