"""`arrears contact check|attempt|opt-out` and `arrears worker` as a user meets them, on the
example book: the issue's JSON keys, one-line errors with exit status 2, and `arrears cob`
planning reminders that the worker then sends to the local gateway."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.cli import app

from .conftest import SECRET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
runner = CliRunner()
KEYS = {"allowed", "reasons", "rule_ids", "next_allowed_at"}


def run(db, *args):
    return runner.invoke(app, ["--business-date", "2026-12-01", "--db", db, *args])


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("contact-cli")
    url = f"sqlite:///{tmp / 'book.db'}"
    assert run(url, "db", "upgrade").exit_code == 0
    assert run(url, "import", str(EXAMPLES), "--json").exit_code == 0
    os.environ["ARREARS_DATA_DIR"] = str(tmp / "data")
    try:
        result = run(url, "cob", "--as-of", "2026-12-01", "--json")
    finally:
        del os.environ["ARREARS_DATA_DIR"]
    assert result.exit_code == 0, result.output
    return url


def j(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_check_answers_the_issue_keys(book):
    night = j(
        run(
            book,
            "contact",
            "check",
            "--borrower",
            "B0001",
            "--channel",
            "sms",
            "--at",
            "2026-11-28T23:30:00+08:00",
            "--json",
        )
    )
    assert set(night) >= KEYS and night["allowed"] is False and night["rule_ids"] == ["CN-C1"]
    assert night["next_allowed_at"] == "2026-11-29T08:00:00+08:00"
    day = j(
        run(
            book,
            "contact",
            "check",
            "--borrower",
            "B0001",
            "--channel",
            "voice",
            "--at",
            "2026-11-28T10:00:00+08:00",
            "--json",
        )
    )
    assert day["allowed"] is True and "CN-C2" in day["rule_ids"]


def test_attempt_records_only_when_allowed_and_opt_out_blocks(book):
    args = ["contact", "attempt", "--borrower", "B0002", "--channel", "voice", "--json"]
    for hour in (9, 10, 11):
        made = j(
            run(
                book,
                *args,
                "--at",
                f"2026-11-28T{hour:02d}:00:00+08:00",
                "--outcome",
                "conversation",
            )
        )
        assert made["allowed"] and made["attempt_id"]
    fourth = j(run(book, *args, "--at", "2026-11-28T12:00:00+08:00", "--outcome", "conversation"))
    assert (
        fourth["allowed"] is False
        and fourth["rule_ids"] == ["CN-C2"]
        and fourth["attempt_id"] is None
    )
    assert run(book, "contact", "opt-out", "--borrower", "B0002", "--channel", "sms").exit_code == 0
    blocked = j(
        run(
            book,
            "contact",
            "check",
            "--borrower",
            "B0002",
            "--channel",
            "sms",
            "--at",
            "2026-11-28T12:00:00+08:00",
            "--json",
        )
    )
    assert blocked["rule_ids"] == ["ALL-OPT-OUT"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "check",
                "--borrower",
                "B0001",
                "--channel",
                "fax",
                "--at",
                "2026-11-28T10:00:00+08:00",
            ],
            "fax",
        ),
        (
            ["check", "--borrower", "B0001", "--channel", "sms", "--at", "2026-11-28T10:00:00"],
            "UTC offset",
        ),
        (
            [
                "check",
                "--borrower",
                "NOPE",
                "--channel",
                "sms",
                "--at",
                "2026-11-28T10:00:00+08:00",
            ],
            "NOPE",
        ),
        (["check", "--borrower", "B0001", "--channel", "sms", "--party", "boss"], "party"),
        (["attempt", "--borrower", "B0001", "--channel", "voice", "--outcome", "maybe"], "outcome"),
    ],
)
def test_errors_are_one_line_with_status_2(book, args, message):
    result = run(book, "contact", *args)
    assert result.exit_code == 2 and message in result.output


def test_cob_planned_reminders_and_the_worker_sends_them(book, gateway):
    result = run(
        book,
        "worker",
        "--once",
        "--json",
        "--now",
        "2026-12-01T09:30:00+08:00",
        "--gateway",
        gateway.url,
        "--gateway-secret",
        SECRET,
    )
    stats = j(result)
    assert stats["sent"] >= 1 and stats["failed"] == 0
    import urllib.request

    with urllib.request.urlopen(f"{gateway.url}/v1/messages") as r:
        sent = json.loads(r.read())["messages"]
    assert len(sent) == stats["by_channel"].get("sms", 0) + stats["by_channel"].get(
        "robot", 0
    ) + stats["by_channel"].get("push", 0)
    assert all(
        "回复TD退订" in m["body"] or "STOP" in m["body"] for m in sent if m["channel"] == "sms"
    )
    assert run(book, "worker", "--once").exit_code == 2  # no channel configured: one clear line


def test_template_save_and_preview_from_the_command_line(book, tmp_path):
    good = tmp_path / "t.txt"
    good.write_text(
        "{{ name }}您好，贷款{{ loan_id }}逾期{{ days_past_due }}天。", encoding="utf-8"
    )
    saved = run(
        book,
        "contact",
        "template",
        "save",
        "--name",
        "late",
        "--language",
        "zh",
        "--channel",
        "sms",
        "--file",
        str(good),
        "--by",
        "ann",
    )
    assert saved.exit_code == 0 and "version 已保存为版本 1" in saved.output
    shown = j(
        run(
            book,
            "contact",
            "template",
            "preview",
            "--name",
            "late",
            "--language",
            "zh",
            "--loan",
            "L00015",
            "--json",
        )
    )
    assert shown["version"] == 1 and "L00015" in shown["body"] and "{{" not in shown["body"]
    bad = tmp_path / "bad.txt"
    bad.write_text("还钱，老赖", encoding="utf-8")
    refused = run(
        book,
        "contact",
        "template",
        "save",
        "--name",
        "late",
        "--language",
        "zh",
        "--channel",
        "sms",
        "--file",
        str(bad),
        "--by",
        "ann",
    )
    assert refused.exit_code == 2 and "老赖" in refused.output and "bad.txt" in refused.output


def test_logs_on_the_command_line_show_the_borrowers_time(book):
    """Text output names the borrower's zone and shows its wall clock; JSON stays ISO."""
    night = run(
        book,
        "contact",
        "check",
        "--borrower",
        "B0005",
        "--channel",
        "sms",
        "--at",
        "2026-11-28T15:30:00+00:00",
    )  # 23:30 in Shanghai
    assert night.exit_code == 0, night.output
    assert "2026-11-29 08:00 Asia/Shanghai (UTC+08:00)" in night.stdout
    wide = {"COLUMNS": "250"}
    log = runner.invoke(
        app, ["--db", book, "contact", "decisions", "--borrower", "B0005", "--blocked"], env=wide
    )
    assert log.exit_code == 0, log.output
    assert "2026-11-28 23:30 Asia/Shanghai (UTC+08:00)" in log.stdout and "CN-C1" in log.stdout
    page = j(run(book, "contact", "decisions", "--borrower", "B0005", "--json"))
    assert page["decisions"][0]["at"] == "2026-11-28T15:30:00+00:00"
    assert page["decisions"][0]["timezone"] == "Asia/Shanghai"
    from sqlalchemy import select

    from arrears.store.db import make_engine
    from arrears.store.tables import OutboxMessage

    engine = make_engine(book)
    with engine.connect() as conn:  # a borrower the close of business planned reminders for
        who = conn.scalar(select(OutboxMessage.borrower_id).limit(1))
    engine.dispose()
    assert who is not None
    messages = runner.invoke(app, ["--db", book, "contact", "messages", "--borrower", who])
    assert messages.exit_code == 0, messages.output
    rows = j(run(book, "contact", "messages", "--borrower", who, "--json"))
    assert rows
    assert "times in 时间为 Asia/Shanghai" in messages.stdout
    for m in rows[:3]:
        assert m["local"]["not_before"].endswith("Asia/Shanghai (UTC+08:00)")
        assert f"{m['local']['not_before'][:16]} +08:00  {m['channel']}" in messages.stdout
    assert run(book, "contact", "messages").exit_code == 2  # neither --borrower nor --case
