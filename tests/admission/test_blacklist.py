"""The internal blacklist: entries with reason and who, removal stamped (never deleted), an event
per change (SQLite and PostgreSQL); admission's hard rule consulting it by national id (decline)
and phone (refer), for applicants and for borrowers' identities on file, together with the
enforcement list pulled for an applicant; and `arrears blacklist …` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.bureau.breaker import CircuitBreaker
from arrears.bureau.client import HttpSource
from arrears.bureau.fake_server import FakeBureau
from arrears.bureau.party import applicant
from arrears.bureau.service import pull_report, record_consent
from arrears.bureau.settings import BureauSettings
from arrears.cli import app
from arrears.scoring import blacklist
from arrears.store.db import unit_of_work, upgrade
from arrears.store.tables import Borrower, Event
from tests.api.conftest import OWN_BORROWER, Api

NID = "11010119900101123X"
URL = "/api/v1/admissions"
BODY = {
    "application_id": "BL1",
    "product": "consumer",
    "requested_amount": "20000.00",
    "term_months": 24,
    "age": 35,
    "monthly_income": "20000.00",
    "score": 700,
}


def test_add_list_remove_with_events(engine) -> None:
    entry = blacklist.add(
        engine, national_id=" 11010119900101123x ", phone="+86 138-0013-8000", name="赵六",
        reason="identity fraud 冒用身份", by="rita",
    )  # fmt: skip
    assert (entry.national_id, entry.phone) == (NID, "13800138000")  # normalised
    with pytest.raises(blacklist.BlacklistError, match="already listed"):
        blacklist.add(engine, phone="13800138000", reason="again", by="rita")
    with pytest.raises(blacklist.BlacklistError, match="reason"):
        blacklist.add(engine, national_id="A1234567", reason=" ", by="rita")
    with pytest.raises(blacklist.BlacklistError, match="national id or a phone"):
        blacklist.add(engine, reason="nobody", by="rita")
    with pytest.raises(blacklist.BlacklistError, match="phone"):
        blacklist.add(engine, phone="call me", reason="x", by="rita")
    assert [e.id for e in blacklist.entries(engine)] == [entry.id]

    hits = blacklist.lookup(engine, [NID.lower(), "OTHER1"], ["0086 13800138000", None])
    assert hits.national_ids == {NID} and hits.phones == {"13800138000"}

    removed = blacklist.remove(engine, entry.id, reason="court overturned", by="ada")
    assert removed.removed_by == "ada" and not removed.active
    with pytest.raises(blacklist.BlacklistError, match="was removed"):
        blacklist.remove(engine, entry.id, reason="twice", by="ada")
    with pytest.raises(blacklist.EntryNotFound):
        blacklist.remove(engine, 999, reason="x", by="ada")
    assert blacklist.entries(engine) == []
    assert [e.id for e in blacklist.entries(engine, include_removed=True)] == [entry.id]
    assert blacklist.lookup(engine, [NID], []).national_ids == frozenset()
    with unit_of_work(engine) as s:
        events = [(e.type, e.payload) for e in s.query(Event).order_by(Event.seq)]
    assert [t for t, _ in events] == ["blacklist.added", "blacklist.removed"]
    assert events[0][1]["national_id"].endswith("123X") and NID not in json.dumps(events)
    assert events[1][1] == {"entry_id": entry.id, "reason": "court overturned", "by": "ada"}


def test_admission_consults_the_blacklist(api: Api) -> None:
    clean = api.post(URL, {**BODY, "national_id": NID, "phone": "13800138000"}, role="risk")
    assert clean.json()["decision"] == "approve", clean.text
    entry = blacklist.add(api.engine, national_id=NID, reason="fraud", by="rita")
    hit = api.post(URL, {**BODY, "national_id": NID.lower()}, role="risk").json()
    assert hit["decision"] == "decline" and hit["reason_codes"] == ["BLACKLISTED"]
    assert hit["reasons"][0]["zh"] == "命中内部黑名单"
    blacklist.remove(api.engine, entry.id, reason="cleared", by="ada")
    assert api.post(URL, {**BODY, "national_id": NID}, role="risk").json()["decision"] == "approve"

    # a phone alone is weaker (numbers are recycled): referred, never approved automatically
    blacklist.add(api.engine, phone="13800138000", reason="abusive calls", by="rita")
    phone = api.post(URL, {**BODY, "phone": "+86 13800138000"}, role="risk").json()
    assert phone["decision"] == "refer" and phone["reason_codes"][0] == "BLACKLIST_PHONE"
    assert phone["approved_amount"] is None and phone["band"] == "B"
    # … and it does not soften a decline
    low = api.post(URL, {**BODY, "phone": "13800138000", "score": 500}, role="risk").json()
    assert low["decision"] == "decline"


def test_a_borrowers_identity_on_file_is_checked(api: Api) -> None:
    with unit_of_work(api.engine) as s:
        row = s.get(Borrower, OWN_BORROWER)
        row.national_id = "A123456789"
    blacklist.add(api.engine, national_id="A123456789", reason="fraud", by="rita")
    body = {**BODY, "borrower_id": OWN_BORROWER, "current_dpd": 0}
    decided = api.post(URL, body, role="risk").json()
    assert "BLACKLISTED" in decided["reason_codes"] and decided["decision"] == "decline"


def test_an_applicants_pulled_enforcement_report_declines(api: Api, tmp_path: Path) -> None:
    """The fake bureau, told this national id is a heavy defaulter, lists it; admission reads
    the applicant's newest enforcement report (pulled with consent, before any loan)."""
    features = tmp_path / "features.csv"
    features.write_text(f"borrower_id,kind,past_delinquencies\n{NID},individual,100\n")
    party = applicant(NID, "赵六")
    record_consent(api.engine, party, "credit_assessment", "rita", sources=["enforcement"])
    with FakeBureau(port=0, features=features) as bureau:
        source = HttpSource(
            "enforcement", BureauSettings(base_url=bureau.url), breaker=CircuitBreaker()
        )
        result = pull_report(
            api.engine, source, party, purpose="credit_assessment", requested_by="rita"
        )
        source.close()
    assert result.data["listed"] is True
    decided = api.post(URL, {**BODY, "national_id": NID}, role="risk").json()
    assert decided["reason_codes"] == ["ENFORCEMENT_LISTED"]
    # another applicant is not touched by it
    other = api.post(URL, {**BODY, "national_id": "110101198001010000"}, role="risk").json()
    assert other["decision"] == "approve"


# ------------------------------------------------------------------ the command line

runner = CliRunner()


def cli(db: str, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--db", db, "--business-date", "2026-11-30", *args])


def test_the_blacklist_commands_and_admit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bl.db'}"
    upgrade(db)
    added = cli(db, "blacklist", "add", "--national-id", NID, "--name", "赵六", "--reason",
                "identity fraud", "--by", "rita", "--json")  # fmt: skip
    assert added.exit_code == 0, added.output
    entry = json.loads(added.stdout)
    assert entry["added_by"] == "rita" and entry["active"] is True
    refused = cli(db, "blacklist", "add", "--national-id", NID, "--reason", "again")
    assert refused.exit_code == 2 and "already listed" in refused.output
    no_reason = cli(db, "blacklist", "add", "--phone", "13800138000")
    assert no_reason.exit_code == 2
    listed = json.loads(cli(db, "blacklist", "list", "--json").stdout)
    assert [e["national_id"] for e in listed] == [NID]
    table = cli(db, "blacklist", "list")
    assert table.exit_code == 0 and "1 entries 条" in table.output

    apps = tmp_path / "apps.json"
    apps.write_text(json.dumps([{**BODY, "national_id": NID}, {**BODY, "application_id": "BL2"}]))
    decided = cli(db, "admit", "--application", str(apps), "--json")
    assert decided.exit_code == 0, decided.output
    assert [d["decision"] for d in json.loads(decided.stdout)] == ["decline", "approve"]

    removed = cli(db, "blacklist", "remove", str(entry["id"]), "--reason", "cleared", "--json")
    assert removed.exit_code == 0 and json.loads(removed.stdout)["active"] is False
    assert json.loads(cli(db, "blacklist", "list", "--json").stdout) == []
    everything = json.loads(cli(db, "blacklist", "list", "--all", "--json").stdout)
    assert everything[0]["removal_reason"] == "cleared"
    assert cli(db, "blacklist", "remove", "99", "--reason", "x").exit_code == 2
    after = cli(db, "admit", "--application", str(apps), "--json")
    assert [d["decision"] for d in json.loads(after.stdout)] == ["approve", "approve"]


def test_admit_without_a_database_says_the_blacklist_was_not_consulted(tmp_path: Path) -> None:
    apps = tmp_path / "apps.json"
    apps.write_text(json.dumps([{**BODY, "national_id": NID}]))
    db = f"sqlite:///{tmp_path / 'never-created.db'}"
    result = cli(db, "admit", "--application", str(apps))
    assert result.exit_code == 0, result.output
    assert "blacklist" in result.output and "黑名单" in result.output
