"""Templates (sandboxed, versioned, content rules naming the phrase, preview with a real loan),
reminders planned by the close of business inside the window, and borrowers' replies coming back
through the gateway webhook onto the case."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from jinja2.exceptions import SecurityError
from sqlalchemy import select

from arrears.catalog import load_catalog
from arrears.cob.runner import close_business
from arrears.contact import webhooks
from arrears.contact.channels.gateway import post_signed
from arrears.contact.content import TemplateRejected
from arrears.contact.policy import ContactPolicyError
from arrears.contact.reminders import parse_reminder_policy, plan_reminders
from arrears.contact.replies import classify
from arrears.contact.templates import TemplateProblem, preview, save_template
from arrears.store.db import unit_of_work
from arrears.store.tables import (
    Borrower,
    CollectionCase,
    ContactOptOut,
    ContactRow,
    InboundReply,
    MessageTemplate,
    OutboxMessage,
)

from .conftest import SECRET, SH

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("body", "audience", "rule", "phrase"),
    [
        ("再不还钱就让你坐牢", "debtor", "C6-THREAT", "坐牢"),
        ("Pay now, you DEADBEAT", "debtor", "C6-INSULT", "deadbeat"),
        ("法院已判决，限期还款", "debtor", "C6-FALSE-LEGAL", "法院已判决"),
        ("The police will visit you", "debtor", "C6-FALSE-LEGAL", "police will"),
        ("请转告{{ name }}尽快还款", "contact_person", "C5-DISCLOSURE", "还款"),
        (
            "Please ask {{ name }} to call about {{ amount_due }}",
            "contact_person",
            "C5-DISCLOSURE",
            "amount",
        ),
    ],
)
def test_content_rules_reject_at_save_naming_the_phrase(engine, body, audience, rule, phrase):
    with pytest.raises(TemplateRejected) as caught:
        save_template(engine, "t", "zh", "sms", body, by="ann", audience=audience)
    assert caught.value.rule_id == rule and caught.value.phrase == phrase
    assert phrase in str(caught.value)
    with unit_of_work(engine) as s:
        assert s.scalars(select(MessageTemplate)).all() == []


def test_versions_and_preview_with_a_real_loan(engine, seed_loan, tmp_path):
    with unit_of_work(engine) as s:
        seed_loan(s)
    close_business(engine, CATALOG, date(2024, 2, 20), tmp_path)
    assert (
        save_template(engine, "r", "zh", "sms", "{{ name }}：逾期{{ days_past_due }}天", by="ann")
        == 1
    )
    assert (
        save_template(engine, "r", "zh", "sms", "{{ name }}，逾期 {{ overdue }} 元", by="ann") == 2
    )
    shown = preview(engine, "r", "zh", "L-1")
    assert (
        shown["version"] == 2 and shown["body"].startswith("张三，逾期 ") and "1" in shown["body"]
    )
    assert preview(engine, "r", "zh", "L-1", version=1)["body"] == "张三：逾期5天"


def test_sandbox_and_syntax_errors(engine, seed_loan):
    with pytest.raises(TemplateProblem, match="template error"):
        save_template(engine, "bad", "zh", "sms", "{{ name ", by="ann")
    save_template(engine, "evil", "en", "sms", "{{ name.__class__.__mro__ }}", by="ann")
    with unit_of_work(engine) as s:
        seed_loan(s)
    with pytest.raises((SecurityError, TemplateProblem)):
        preview(engine, "evil", "en", "L-1")


def _borrower_email(engine):
    with unit_of_work(engine) as s:
        b = s.get(Borrower, "B-1")
        b.email, b.phone = "b1@example.test", "+86 13800000009"


def test_cob_plans_reminders_inside_the_window(engine, seed_loan, tmp_path):
    with unit_of_work(engine) as s:
        seed_loan(s)
    _borrower_email(engine)
    for day in (
        date(2024, 2, 12),
        date(2024, 2, 15),
        date(2024, 2, 16),
        date(2024, 2, 18),
        date(2024, 2, 22),
    ):
        close_business(engine, CATALOG, day, tmp_path)
        plan_reminders(engine, day)
    again = plan_reminders(engine, date(2024, 2, 16))
    assert again.queued == 0 and again.already == 1  # planning a date twice is a no-op
    with unit_of_work(engine) as s:
        got = [
            (m.channel, m.not_before.astimezone(SH), m.template)
            for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.not_before))
        ]
    assert got == [
        ("sms", datetime(2024, 2, 12, 9, 30, tzinfo=SH), "reminder_before_due"),
        ("sms", datetime(2024, 2, 15, 9, 30, tzinfo=SH), "reminder_due_today"),
        ("sms", datetime(2024, 2, 16, 9, 30, tzinfo=SH), "reminder_overdue"),
        ("robot", datetime(2024, 2, 18, 9, 30, tzinfo=SH), "reminder_overdue"),
        ("email", datetime(2024, 2, 22, 9, 30, tzinfo=SH), "reminder_overdue"),
    ]


def test_a_reminder_planned_for_the_night_goes_out_at_the_opening(engine, seed_loan, tmp_path):
    with unit_of_work(engine) as s:
        seed_loan(s)
    _borrower_email(engine)
    policy = parse_reminder_policy(
        "version: night\nsend_at: '23:15'\nproducts:\n  default:\n"
        "    - {offset: 1, channel: sms, template: reminder_overdue}\n",
        "night.yaml",
    )
    close_business(engine, CATALOG, date(2024, 2, 16), tmp_path)
    result = plan_reminders(engine, date(2024, 2, 16), policy)
    assert result.queued == 1 and result.deferred == 1 and result.blocked == 0
    with unit_of_work(engine) as s:
        (m,) = s.scalars(select(OutboxMessage))
        assert m.not_before.astimezone(SH) == datetime(2024, 2, 17, 8, 0, tzinfo=SH)


def test_reminder_policy_errors_name_line_and_field():
    with pytest.raises(
        ContactPolicyError, match=r"r\.yaml:5: field 字段 products\.default\.0\.channel"
    ):
        parse_reminder_policy(
            "version: x\nsend_at: '09:00'\nproducts:\n  default:\n    - {offset: 1, channel: fax, template: t}\n",
            "r.yaml",
        )


@pytest.mark.parametrize(
    ("text", "kind", "promised"),
    [
        ("STOP", "stop", None),
        ("TD", "stop", None),
        ("退订", "stop", None),
        ("paid yesterday", "paid", None),
        ("我已还款", "paid", None),
        ("12月5日还", "promise", date(2026, 12, 5)),
        ("will pay 2027-01-10", "promise", date(2027, 1, 10)),
        ("1月3日", "promise", date(2027, 1, 3)),
        ("who is this?", "other", None),
    ],
)
def test_reply_classification(text, kind, promised):
    assert classify(text, date(2026, 11, 30)) == (kind, promised)


def test_replies_come_back_through_the_webhook_onto_the_case(people, gateway):
    with unit_of_work(people) as s:
        s.add(
            CollectionCase(
                case_id="C-1",
                borrower_id="B-CN",
                status="open",
                stage="early",
                segment="individual",
                product="consumer",
                currency="CNY",
                days_past_due=9,
                amount_overdue=100,
                outstanding_principal=100,
                loans=1,
                priority=1,
                opened_on=date(2026, 11, 21),
                updated_on=date(2026, 11, 30),
                stage_since=date(2026, 11, 21),
            )
        )
    hook = webhooks.start(people, SECRET, today=lambda: date(2026, 11, 30))
    try:
        for text in ("12月5日还", "STOP"):
            status, answer = post_signed(
                f"{gateway.url}/v1/replies",
                SECRET,
                {"from": "+86 13800000001", "text": text, "callback_url": hook.url},
            )
            assert status == 200 and answer["delivered_to_callback"] == 200, answer
    finally:
        hook.shutdown()
        hook.server_close()
    with unit_of_work(people) as s:
        replies = {r.kind: r for r in s.scalars(select(InboundReply))}
        assert (
            replies["promise"].promised_on == date(2026, 12, 5)
            and replies["promise"].case_id == "C-1"
        )
        notes = sorted((c.outcome, c.direction) for c in s.scalars(select(ContactRow)))
        assert notes == [("promise", "inbound"), ("refusal", "inbound")]
        assert s.get(ContactOptOut, ("B-CN", "sms")).source == "reply"


def test_a_reminder_the_worker_missed_expires_instead_of_going_out_late(
    engine, seed_loan, tmp_path
):
    from arrears.contact.worker import run

    class Never:
        channels = ("sms",)

        def send(self, message):
            raise AssertionError("a stale reminder must not be sent")

    with unit_of_work(engine) as s:
        seed_loan(s)
    _borrower_email(engine)
    close_business(engine, CATALOG, date(2024, 2, 15), tmp_path)
    assert plan_reminders(engine, date(2024, 2, 15)).queued == 1  # "due today"
    stats = run(
        engine, {"sms": Never()}, clock=lambda: datetime(2024, 2, 17, 9, 0, tzinfo=SH), once=True
    )
    assert stats.expired == 1 and stats.sent == 0
    with unit_of_work(engine) as s:
        assert s.scalars(select(OutboxMessage.status)).one() == "expired"
