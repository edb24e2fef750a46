"""The collection commands as a user meets them, on the example book closed by `arrears cob`
(which runs the case update): the issue's `--json` keys, money as decimal text, one-line
errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
runner = CliRunner()


def run(db, *args, day="2026-11-30"):
    return runner.invoke(app, ["--business-date", day, "--db", db, *args])


@pytest.fixture(scope="module")
def closed_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{tmp / 'book.db'}"
    assert run(url, "db", "upgrade").exit_code == 0
    assert run(url, "import", str(EXAMPLES), "--json").exit_code == 0
    for name, role in (("ann", "collector"), ("rita", "risk"), ("boss", "admin")):
        assert run(url, "user", "add", name, "--role", role, "--no-password").exit_code == 0
    import os

    os.environ["ARREARS_DATA_DIR"] = str(tmp / "data")
    try:
        result = run(url, "cob", "--as-of", "2026-11-30", "--json")
    finally:
        del os.environ["ARREARS_DATA_DIR"]
    assert result.exit_code == 0, result.output
    return url


def test_case_list_json_has_the_issue_keys(closed_db):
    result = run(closed_db, "case", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows, "the example book has delinquent borrowers"
    assert set(rows[0]) == {
        "case_id",
        "borrower_id",
        "stage",
        "status",
        "days_past_due",
        "amount_overdue",
        "assigned_to",
    }
    assert all(isinstance(r["amount_overdue"], str) for r in rows)
    stage = rows[0]["stage"]
    only = json.loads(run(closed_db, "case", "list", "--stage", stage, "--json").stdout)
    assert only and {r["stage"] for r in only} == {stage}


def test_case_show_and_promise_round_trip(closed_db):
    case_id = json.loads(run(closed_db, "case", "list", "--json").stdout)[0]["case_id"]
    shown = json.loads(run(closed_db, "case", "show", case_id, "--json").stdout)
    assert shown["case_id"] == case_id and shown["loans"]
    added = run(
        closed_db,
        "promise",
        "add",
        case_id,
        "--amount",
        "100.00",
        "--due",
        "2026-12-05",
        "--amount",
        "50.50",
        "--due",
        "2026-12-20",
        "--user",
        "ann",
        "--json",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(run(closed_db, "promise", "list", "--state", "pending", "--json").stdout)
    mine = [p for p in listed if p["case_id"] == case_id]
    assert [(p["amount"], p["due_on"]) for p in mine] == [
        ("100.00", "2026-12-05"),
        ("50.50", "2026-12-20"),
    ]
    assert set(mine[0]) == {"promise_id", "case_id", "amount", "due_on", "state"}


@pytest.fixture
def permissive_guard():
    """`arrears case contact` has no --at and uses the wall clock: the real contact guard would
    (rightly) block an sms at night in the borrower's time zone, so this CLI test isolates the
    collection path with the permissive guard (the rules are tested in tests/contact)."""
    from arrears.contact import guard

    previous = guard.install(guard.PermissiveGuard())
    yield
    guard.install(previous)


def test_collector_next_contact_and_queue(closed_db, permissive_guard):
    assert (
        run(closed_db, "collector", "set", "ann", "--max-open", "5", "--by", "boss").exit_code == 0
    )
    taken = json.loads(run(closed_db, "case", "next", "--user", "ann", "--json").stdout)
    assert taken["assigned_to"] == "ann"
    # the stage decides which actions are allowed; an sms is allowed in every shipped stage
    logged = run(
        closed_db,
        "case",
        "contact",
        taken["case_id"],
        "--action",
        "sms",
        "--outcome",
        "no_answer",
        "--user",
        "ann",
        "--json",
    )
    assert logged.exit_code == 0 and json.loads(logged.stdout)["sent"] is True
    queues = json.loads(run(closed_db, "queue", "--json").stdout)
    assert sum(q["cases"] for q in queues) == len(
        json.loads(run(closed_db, "case", "list", "--status", "open", "--json").stdout)
    ) + len(json.loads(run(closed_db, "case", "list", "--status", "paused", "--json").stdout))


def test_errors_are_one_line_and_exit_2(closed_db):
    result = run(closed_db, "case", "show", "C-NOPE")
    assert (
        result.exit_code == 2 and "not found" in result.stderr and "Traceback" not in result.output
    )
    case_id = json.loads(run(closed_db, "case", "list", "--json").stdout)[0]["case_id"]
    bad = run(
        closed_db,
        "promise",
        "add",
        case_id,
        "--amount",
        "1.001",
        "--due",
        "2026-12-05",
        "--user",
        "ann",
    )
    assert bad.exit_code == 2 and "decimals" in bad.stderr
    denied = run(
        closed_db, "case", "escalate", case_id, "--to", "reminder", "--reason", "x", "--user", "ann"
    )
    assert denied.exit_code == 2
    assert "may not" in denied.stderr or "already" in denied.stderr


def test_bad_policy_file_names_file_and_line(closed_db, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: x\nstages: []\npermissions: {}\napproval_limits: {}\n")
    result = run(closed_db, "case", "update", "--policy", str(policy))
    assert result.exit_code == 2 and f"{policy}:2" in result.stderr and "stages" in result.stderr


def test_maker_checker_and_agency_commands(closed_db):
    rows = json.loads(run(closed_db, "case", "list", "--stage", "late", "--json").stdout)
    case_id = rows[-1]["case_id"]
    asked = run(closed_db, "case", "write-off", case_id, "--reason", "bankrupt", "--user", "ann")
    assert asked.exit_code == 0 and "pending" in asked.stdout
    pending = json.loads(run(closed_db, "approval", "list", "--json").stdout)
    mine = next(a for a in pending if a["case_id"] == case_id and a["kind"] == "write_off")
    own = run(
        closed_db, "approval", "decide", str(mine["approval_id"]), "--user", "ann", "--reason", "x"
    )
    assert own.exit_code == 2 and "cannot also approve" in own.stderr
    ok = run(
        closed_db,
        "approval",
        "decide",
        str(mine["approval_id"]),
        "--user",
        "boss",
        "--reason",
        "ok",
    )
    assert ok.exit_code == 0 and "approved" in ok.stdout
    assert (
        run(
            closed_db,
            "agency",
            "add",
            "AG1",
            "--name",
            "华东",
            "--commission",
            "0.2",
            "--user",
            "boss",
        ).exit_code
        == 0
    )
    other = rows[0]["case_id"]
    refused = run(closed_db, "agency", "place", other, "--agency", "AG1", "--user", "boss")
    assert refused.exit_code == 2 and "evaluation" in refused.stderr
    assert (
        run(closed_db, "agency", "evaluate", "AG1", "--notes", "ok", "--user", "boss").exit_code
        == 0
    )
    placed = run(closed_db, "agency", "place", other, "--agency", "AG1", "--user", "boss", "--json")
    assert placed.exit_code == 0, placed.output
    assert json.loads(run(closed_db, "agency", "list", "--json").stdout)[0]["live_placements"] == 1
