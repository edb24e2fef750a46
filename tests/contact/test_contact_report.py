"""The demo's contact path (issue 6 §6) from the command line, on the example book: `arrears cob`
plans the day's reminders, `arrears contact remind` plans a date again (a no-op), the worker sends
them to the local gateway (a real HTTP server) and hears its delivery receipts on its webhook,
`arrears contact stats` counts them, and the HTML report's contact section shows messages by
channel, delivery rates and blocked attempts by rule in both languages."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.catalog import load_catalog
from arrears.cli import app
from arrears.reports.contact import contact_section
from arrears.reports.html import render_report
from arrears.reports.summary import build_report
from arrears.store.db import make_engine
from tests.net import free_port

from .conftest import SECRET

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "book"
DAY = "2026-12-01"
runner = CliRunner()


def run(db, *args):
    result = runner.invoke(app, ["--business-date", DAY, "--db", db, *args])
    return result


@pytest.fixture
def book(tmp_path):
    url = f"sqlite:///{tmp_path / 'book.db'}"
    assert run(url, "db", "upgrade").exit_code == 0
    assert run(url, "import", str(EXAMPLES), "--json").exit_code == 0
    os.environ["ARREARS_DATA_DIR"] = str(tmp_path / "data")
    try:
        result = run(url, "cob", "--as-of", DAY, "--json")
    finally:
        del os.environ["ARREARS_DATA_DIR"]
    assert result.exit_code == 0, result.output
    return url


def test_no_contact_no_section(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run(url, "db", "upgrade").exit_code == 0
    assert contact_section(make_engine(url), date(2026, 12, 1)) is None
    stats = run(url, "contact", "stats", "--json")
    assert stats.exit_code == 0
    assert json.loads(stats.output) == {
        "by_channel": {},
        "blocked_by_rule": {},
        "decisions": 0,
        "blocked": 0,
        "reasons": {},
    }


def test_reminders_sent_delivered_counted_and_reported(book, gateway):
    again = run(book, "contact", "remind", "--as-of", DAY, "--json")
    assert again.exit_code == 0, again.output
    planned = json.loads(again.output)
    assert planned["queued"] == 0 and planned["already"] == planned["considered"] > 0
    night = run(
        book,
        "contact",
        "check",
        "--borrower",
        "B0001",
        "--channel",
        "sms",
        "--at",
        "2026-12-01T23:30:00+08:00",
        "--json",
    )
    assert json.loads(night.output)["rule_ids"] == ["CN-C1"]
    sent = run(
        book,
        "worker",
        "--once",
        "--json",
        "--now",
        "2026-12-01T10:00:00+08:00",
        "--gateway",
        gateway.url,
        "--gateway-secret",
        SECRET,
        "--webhook-port",
        str(free_port()),
        "--linger",
        "10",  # a cap: it waits only until the receipts stop coming
    )
    assert sent.exit_code == 0, sent.output
    worker = json.loads(sent.output)
    assert worker["sent"] >= 1 and worker["failed"] == 0
    stats = json.loads(run(book, "contact", "stats", "--json").output)
    delivered = sum(c.get("delivered", 0) for c in stats["by_channel"].values())
    still_sent = sum(c.get("sent", 0) for c in stats["by_channel"].values())
    assert delivered + still_sent == worker["sent"]
    assert delivered == worker["sent"]  # every receipt arrived while the worker lingered
    assert stats["blocked_by_rule"]["CN-C1"] >= 1 and stats["blocked"] >= 1

    engine = make_engine(book)
    section = contact_section(engine, date(2026, 12, 1))
    assert section is not None
    assert section["totals"]["sent"] == worker["sent"]
    assert section["totals"]["delivered"] == delivered
    assert section["delivery_rate"] == "100.0%"
    assert {r["rule_id"]: r["count"] for r in section["rules"]} == stats["blocked_by_rule"]
    report = build_report(engine, load_catalog(), date(2026, 12, 1))
    html = render_report(report, contact=section)
    assert 'id="contact-delivery-rate"' in html and "100.0%" in html
    assert "Delivery rate" in html and "送达率" in html
    assert 'data-rule="CN-C1"' in html and "不在允许联系时段" in html
    assert 'id="contact"' not in render_report(report)  # the section is optional


def test_channels_without_receipts_have_no_delivery_rate(people, gateway, smtp):
    """An email handed to SMTP is as far as anyone knows: no delivery rate (not a false 0%),
    and it does not lower the overall rate, which counts only the gateway's channels."""
    from arrears.contact import guard
    from arrears.contact.channels.email import SmtpEmail
    from arrears.contact.channels.gateway import HttpGateway
    from arrears.contact.outbox import enqueue
    from arrears.contact.worker import run as work
    from arrears.store.db import unit_of_work

    from .conftest import sh

    with unit_of_work(people) as session:
        for channel in ("sms", "email"):
            party = guard.Party("B-CN", "debtor", loan_id="L1")
            assert enqueue(session, party, channel, "reminder", "hello", sh(28, 10)).message_id
        night = enqueue(session, guard.Party("B-CN"), "sms", "reminder", "late", sh(28, 23))
        assert night.message_id is None  # blocked, logged
    adapters = {"sms": HttpGateway(gateway.url, SECRET), "email": SmtpEmail("127.0.0.1", smtp.port)}
    stats = work(people, adapters, clock=lambda: sh(28, 10, 5), once=True)
    assert stats.sent == 2 and len(smtp.messages) == 1
    section = contact_section(people, date(2026, 11, 28))
    by = {c["channel"]: c for c in section["channels"]}
    assert by["email"]["sent"] == 1 and by["email"]["delivery_rate"] == "—"
    assert by["sms"]["sent"] == 1 and by["sms"]["delivered"] == 0  # no callback URL given
    assert by["sms"]["delivery_rate"] == "0.0%"
    assert section["with_receipts"] == 1 and section["delivery_rate"] == "0.0%"
    assert [(r["rule_id"], r["count"]) for r in section["rules"]] == [("CN-C1", 1)]
    assert section["blocked"] == 1 and section["sent_rate"] == "100.0%"


def test_the_section_counts_its_period_and_says_why_messages_did_not_go_out(people, gateway):
    """A month-old reminder that expired does not weigh on today's sent share: the section
    counts the 30 days up to the report date (named in its heading), and shows sent, blocked,
    expired and failed apart, with their reasons."""
    from datetime import timedelta

    from arrears.contact import guard
    from arrears.contact.channels.gateway import HttpGateway
    from arrears.contact.outbox import enqueue
    from arrears.contact.service import opt_out
    from arrears.contact.worker import run as work
    from arrears.store.db import unit_of_work

    from .conftest import sh

    def remind(borrower, at, key):
        with unit_of_work(people) as session:
            q = enqueue(
                session, guard.Party(borrower), "sms", "reminder", "hi", at, reminder_key=key
            )
            assert q.message_id
            return q.message_id

    gw = {"sms": HttpGateway(gateway.url, SECRET, retries=0)}
    # October: three reminders that the worker only reached two days later — expired
    for n in range(3):
        remind("B-CN", sh(20, 9, month=10), f"L{n}:x:+1@2026-10-20")
    assert work(people, gw, clock=lambda: sh(22, 10, month=10), once=True).expired == 3
    # planned for October 25, never sent by then: the worker expires it on November 28, and it
    # stays October's (a reminder belongs to the day it was planned for)
    remind("B-CN", sh(25, 9, month=10), "L9:x:+1@2026-10-25")
    # November 28: one sent, one blocked at send (an opt-out in between), one waiting
    remind("B-CN", sh(28, 9), "L1:y:+1@2026-11-28")
    remind("B-US", sh(28, 23), "L2:y:+1@2026-11-28")
    late = work(people, gw, clock=lambda: sh(28, 9, 5), once=True)
    assert (late.sent, late.expired) == (1, 1)
    opt_out(people, "B-US", "sms")
    assert work(people, gw, clock=lambda: sh(28, 23, 5), once=True).blocked == 1
    remind("B-MA", sh(28, 23, 30), "L3:y:+1@2026-11-28")  # 10:30 in Boston, not yet sent

    month = contact_section(people, date(2026, 11, 28))
    assert month["period"] == {
        "days": 30,
        "first": "2026-10-30",
        "last": "2026-11-28",
        "zone": "Asia/Shanghai",
    }
    t = month["totals"]
    assert (t["sent"], t["blocked"], t["expired"], t["failed"], t["waiting"]) == (1, 1, 0, 0, 1)
    assert month["sent_rate"] == "50.0%"  # 1 of the 2 with an outcome; October is not counted
    outcomes = {o["status"]: o for o in month["outcomes"]}
    assert outcomes["blocked"]["count"] == 1
    assert "opted out" in outcomes["blocked"]["reasons"][0]["reason"]
    assert outcomes["expired"] == {"status": "expired", "count": 0, "reasons": []}
    rules = {r["rule_id"]: r["count"] for r in month["rules"]}
    assert rules.get("ALL-OPT-OUT") == 1

    october = contact_section(people, date(2026, 10, 31))
    assert october["totals"]["expired"] == 4 and october["sent_rate"] == "0.0%"
    (expired,) = [o for o in october["outcomes"] if o["status"] == "expired"]
    assert expired["reasons"] == [{"reason": "reminder day passed (提醒已过期)", "count": 4}]
    assert contact_section(people, date(2026, 12, 1) + timedelta(days=60)) is None

    from arrears.reports.html import _env  # the report's own template environment

    html = (
        _env()
        .from_string(
            '{% macro t(en, zh) %}<span class="en">{{ en }}</span><span class="zh">{{ zh }}'
            '</span>{% endmacro %}{% include "contact.html.j2" %}'
        )
        .render(contact=month)
    )
    assert '<span class="en">last 30 days</span>' in html
    assert "(2026-10-30 – 2026-11-28, Asia/Shanghai)" in html
    assert "近 30 天" in html and 'data-outcome="expired"' in html
    assert "opted out" in html and "未发出的消息及原因" in html


def test_the_report_period_is_in_the_lender_time_zone(book, tmp_path):
    """The period's calendar days are the lender's (ARREARS_LENDER_TIMEZONE), named in the
    heading; a zone that does not exist is refused with the variable named."""
    default = tmp_path / "default.html"
    assert run(book, "report", "--as-of", DAY, "--out", str(default)).exit_code == 0
    assert "(2026-11-02 – 2026-12-01, Asia/Shanghai)" in default.read_text()
    york = tmp_path / "york.html"
    result = runner.invoke(
        app,
        ["--business-date", DAY, "--db", book, "report", "--as-of", DAY, "--out", str(york)],
        env={"ARREARS_LENDER_TIMEZONE": "America/New_York"},
    )
    assert result.exit_code == 0, result.output
    assert "(2026-11-02 – 2026-12-01, America/New_York)" in york.read_text()
    bad = runner.invoke(
        app,
        ["--business-date", DAY, "--db", book, "report", "--as-of", DAY, "--out", str(york)],
        env={"ARREARS_LENDER_TIMEZONE": "Mars/Olympus"},
    )
    assert bad.exit_code == 2
    assert "ARREARS_LENDER_TIMEZONE 'Mars/Olympus' is not a time zone" in bad.output
