"""The outbox and the worker against real servers: the local HTTP gateway (signed requests,
idempotency keys, injected failures, delivery receipts over a webhook) and an SMTP server."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from sqlalchemy import func, select

from arrears.contact import guard, webhooks
from arrears.contact.channels.email import SmtpEmail
from arrears.contact.channels.gateway import HttpGateway, post_signed
from arrears.contact.outbox import enqueue
from arrears.contact.service import opt_out
from arrears.contact.worker import WorkerStats, run
from arrears.store.db import unit_of_work
from arrears.store.tables import ContactAttempt, ContactDecision, OutboxMessage

from .conftest import SECRET, sh


def queue(engine, borrower="B-CN", channel="sms", at=None, purpose="reminder", **kw):
    with unit_of_work(engine) as s:
        return enqueue(
            s, guard.Party(borrower), channel, purpose, "您好，请按时还款。", at or sh(28, 10), **kw
        )


def gateway_log(server):
    with urllib.request.urlopen(f"{server.url}/v1/messages") as r:
        return json.loads(r.read())


def faults(server, **values):
    post_signed(f"{server.url}/v1/faults", SECRET, values)


def rows(engine):
    with unit_of_work(engine) as s:
        return {
            m.message_id: (m.status, m.tries, m.not_before)
            for m in s.scalars(select(OutboxMessage))
        }


def send_all(engine, adapters, at):
    return run(engine, adapters, clock=lambda: at, once=True, backoff=60)


def test_blocked_decision_queues_nothing_but_is_logged(people):
    q = queue(people, at=sh(28, 23))
    assert q.message_id is None and q.decision.rule_ids == ("CN-C1",)
    assert rows(people) == {}
    with unit_of_work(people) as s:
        assert s.scalar(select(func.count()).select_from(ContactDecision)) == 1


def test_a_reminder_at_night_goes_out_when_the_window_opens(people, gateway):
    q = queue(people, at=sh(28, 23), defer_within=timedelta(hours=12))
    assert q.message_id and q.decision.allowed
    ((status, _, not_before),) = rows(people).values()
    assert status == "pending"
    assert not_before == sh(29, 8)
    adapters = {"sms": HttpGateway(gateway.url, SECRET)}
    assert send_all(people, adapters, sh(28, 23, 30)).sent == 0  # not due yet
    assert send_all(people, adapters, sh(29, 8)).sent == 1
    assert gateway_log(gateway)["messages"][0]["body"].endswith("回复TD退订")  # opt-out line


def test_worker_sends_marks_and_a_receipt_makes_it_delivered(people, gateway):
    hook = webhooks.start(people, SECRET)
    try:
        q = queue(people)
        adapters = {"sms": HttpGateway(gateway.url, SECRET, callback_url=hook.url)}
        stats = send_all(people, adapters, sh(28, 10))
        assert stats.sent == 1
        with unit_of_work(people) as s:
            attempt = s.scalars(select(ContactAttempt)).one()
            assert attempt.message_id == q.message_id and attempt.channel == "sms"
        import time

        for _ in range(200):  # the receipt comes back on the gateway's own thread
            if rows(people)[q.message_id][0] == "delivered":
                break
            time.sleep(0.05)
        assert rows(people)[q.message_id][0] == "delivered", gateway_log(gateway)
        # an unsigned webhook is refused and changes nothing
        req = urllib.request.Request(hook.url, data=b'{"type":"receipt"}', method="POST")
        try:
            urllib.request.urlopen(req)
            raise AssertionError("unsigned webhook accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
    finally:
        hook.shutdown()
        hook.server_close()


def test_an_opt_out_after_queuing_wins_before_the_send(people, gateway):
    q = queue(people)
    opt_out(people, "B-CN", "sms")
    stats = send_all(people, {"sms": HttpGateway(gateway.url, SECRET)}, sh(28, 10, 5))
    assert stats.blocked == 1 and stats.sent == 0
    assert rows(people)[q.message_id][0] == "blocked"
    assert gateway_log(gateway)["messages"] == []


def test_retries_with_backoff_then_the_worker_reschedules(people, gateway):
    q = queue(people)
    adapters = {"sms": HttpGateway(gateway.url, SECRET, retries=2, backoff=0.01)}
    faults(gateway, fail_next=2)  # two 503s: the adapter's own retries get through
    assert send_all(people, adapters, sh(28, 10)).sent == 1
    q2 = queue(people, at=sh(28, 11))
    faults(gateway, fail_next=10)  # longer outage: the worker puts it back with backoff
    stats = send_all(people, adapters, sh(28, 11))
    # still `dispatching`: the gateway may have taken it, so the retry keeps its decision
    assert stats.retried == 1 and rows(people)[q2.message_id][0] == "dispatching"
    assert rows(people)[q2.message_id][2] == sh(28, 11, 1)  # 60 s backoff
    faults(gateway, fail_next=0)
    assert send_all(people, adapters, sh(28, 11, 2)).sent == 1
    assert len(gateway_log(gateway)["messages"]) == 2 and q.message_id != q2.message_id


def test_accepted_but_no_answer_is_retried_with_the_same_key_and_sent_once(people, gateway):
    queue(people)
    faults(gateway, accept_then_fail_next=1)
    stats = send_all(people, {"sms": HttpGateway(gateway.url, SECRET, backoff=0.01)}, sh(28, 10))
    log = gateway_log(gateway)
    assert stats.sent == 1 and len(log["messages"]) == 1 and log["replays"] == 1


def test_bad_signature_is_refused_by_the_gateway(people, gateway):
    queue(people)
    stats = send_all(people, {"sms": HttpGateway(gateway.url, "wrong", retries=0)}, sh(28, 10))
    assert stats.failed == 1 and gateway_log(gateway)["rejected_signatures"] == 1


def test_email_over_smtp_arrives_with_opt_out_and_message_id(people, smtp):
    q = queue(people, channel="email", subject="还款提醒 Reminder")
    stats = send_all(people, {"email": SmtpEmail("127.0.0.1", smtp.port)}, sh(28, 10))
    assert stats.sent == 1
    (mail,) = smtp.messages
    assert mail["To"] == "b-cn@example.test" and mail["Subject"] == "还款提醒 Reminder"
    assert "回复TD退订" in mail.get_content()
    with unit_of_work(people) as s:
        key = s.get(OutboxMessage, q.message_id).idempotency_key
    assert key in mail["Message-ID"]


def test_worker_stats_count_by_channel(people, gateway, smtp):
    queue(people)
    queue(people, channel="email")
    stats = send_all(
        people,
        {"sms": HttpGateway(gateway.url, SECRET), "email": SmtpEmail("127.0.0.1", smtp.port)},
        sh(28, 10),
    )
    assert isinstance(stats, WorkerStats) and stats.by_channel == {"sms": 1, "email": 1}


def _begun_long_ago(engine, message_id, hours=3):
    """As if a worker began this send `hours` ago and every worker has been down since."""
    with unit_of_work(engine) as s:
        row = s.get(OutboxMessage, message_id)
        attempt = s.scalars(
            select(ContactAttempt).where(ContactAttempt.message_id == message_id)
        ).one()
        attempt.at -= timedelta(hours=hours)
        row.status, row.not_before = "dispatching", attempt.at


def test_a_begun_send_found_after_the_grace_is_asked_again(people, gateway):
    """Past RESEND_GRACE the logged decision is too old to cover a message that may never have
    reached the gateway: allowed now, it is re-sent with its key; at night it waits (still
    begun); refused for good, it ends `failed` saying the outcome is unknown — never `blocked`."""
    adapters = {"sms": HttpGateway(gateway.url, SECRET)}
    sent = [queue(people, at=sh(28, 10)).message_id for _ in range(3)]
    assert send_all(people, adapters, sh(28, 10)).sent == 3
    for m in sent:
        _begun_long_ago(people, m)
    # 1. allowed now: re-sent with the same key, the attempt moved to now under the new decision
    stats = send_all(people, {"sms": HttpGateway(gateway.url, SECRET)}, sh(28, 13))
    assert stats.resumed == 3 and stats.sent == 3 and gateway_log(gateway)["replays"] == 3
    with unit_of_work(people) as s:
        assert {a.at for a in s.scalars(select(ContactAttempt))} == {sh(28, 13)}
    # 2. at night: deferred to the window's opening, still begun (not asked as a new send)
    for m in sent[:1]:
        _begun_long_ago(people, m)
    stats = send_all(people, adapters, sh(28, 23))
    assert stats.deferred == 1 and stats.sent == 0
    assert rows(people)[sent[0]][:1] == ("dispatching",)
    assert rows(people)[sent[0]][2] == sh(29, 8)
    # 3. refused for good (an opt-out): failed with the reason, not blocked, nothing re-sent
    opt_out(people, "B-CN", "sms")
    stats = send_all(people, adapters, sh(29, 8))
    assert stats.failed == 1 and stats.blocked == 0
    with unit_of_work(people) as s:
        row = s.get(OutboxMessage, sent[0])
        assert row.status == "failed" and "never confirmed" in row.last_error
    assert gateway_log(gateway)["replays"] == 3


def test_a_transient_error_after_the_decision_keeps_it_even_if_an_opt_out_follows(people, gateway):
    """The gateway took the message and answered 500; the borrower opts out before the retry.
    The retry (within the grace) re-sends with the key under the first decision: one message."""
    q = queue(people)
    faults(gateway, accept_then_fail_next=1)
    adapters = {"sms": HttpGateway(gateway.url, SECRET, retries=0)}
    assert send_all(people, adapters, sh(28, 10)).retried == 1
    opt_out(people, "B-CN", "sms")
    stats = send_all(people, adapters, sh(28, 10, 5))
    assert stats.sent == 1 and stats.blocked == 0 and stats.resumed == 1
    log = gateway_log(gateway)
    assert len(log["messages"]) == 1 and log["replays"] == 1
    assert rows(people)[q.message_id][0] == "sent"


def test_a_contact_person_is_reached_only_where_an_address_is_on_file(people):
    """A contact person has a phone and a name, nothing else: an SMS goes to the phone, a letter
    to the name, and an email has no address (it used to be sent to the phone number)."""
    from arrears.contact.service import add_contact_person, set_flag

    add_contact_person(people, "B-CN", "P-1", "李四", relation="friend", phone="+86 13900000000")
    set_flag(people, "B-CN", "unreachable", "ops")  # CN-C5: contact persons only then
    who = guard.Party("B-CN", "contact_person", contact_id="P-1")
    with unit_of_work(people) as s:
        sms = enqueue(s, who, "sms", "location", "请转告回电。", sh(28, 10))
        letter = enqueue(s, who, "letter", "location", "请转告回电。", sh(28, 10))
        email = enqueue(s, who, "email", "location", "请转告回电。", sh(28, 10))
        assert s.get(OutboxMessage, sms.message_id).to_address == "+86 13900000000"
        assert s.get(OutboxMessage, letter.message_id).to_address == "李四"
    assert email.message_id is None and email.decision.rule_ids == ("NO-ADDRESS",)


def test_a_send_that_never_reached_the_gateway_asks_the_guard_again(people, gateway):
    """Connection refused: nothing can have gone out, so the begun-send rule does not apply. The
    ledger attempt is withdrawn, the row is `pending` again, and an opt-out before the retry wins:
    the message is blocked and the gateway never sees it."""
    import socket

    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    q = queue(people)
    down = {"sms": HttpGateway(dead, SECRET, retries=1, backoff=0.01)}
    stats = send_all(people, down, sh(28, 10))
    assert stats.retried == 1 and stats.sent == 0
    status, _tries, not_before = rows(people)[q.message_id]
    assert status == "pending" and not_before == sh(28, 10, 1)
    with unit_of_work(people) as s:
        attempts = s.scalars(
            select(ContactAttempt).where(ContactAttempt.message_id == q.message_id)
        ).all()
        assert attempts == []  # the guard must not count a contact that never happened
    opt_out(people, "B-CN", "sms")
    up = {"sms": HttpGateway(gateway.url, SECRET)}
    stats = send_all(people, up, sh(28, 10, 5))
    assert stats.blocked == 1 and stats.sent == 0 and stats.resumed == 0
    assert rows(people)[q.message_id][0] == "blocked"
    assert gateway_log(gateway)["messages"] == []


def test_a_send_that_never_reached_the_gateway_goes_out_on_retry_under_a_new_decision(
    people, gateway
):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    q = queue(people)
    send_all(people, {"sms": HttpGateway(dead, SECRET, retries=0)}, sh(28, 10))
    stats = send_all(people, {"sms": HttpGateway(gateway.url, SECRET)}, sh(28, 10, 5))
    assert stats.sent == 1 and rows(people)[q.message_id][0] == "sent"
    assert len(gateway_log(gateway)["messages"]) == 1
    with unit_of_work(people) as s:
        attempts = s.scalars(
            select(ContactAttempt).where(ContactAttempt.message_id == q.message_id)
        ).all()
        assert len(attempts) == 1 and attempts[0].at == sh(28, 10, 5)  # the send that happened


class _ReceiptFirst:
    """The real gateway adapter, and its receipt lands before the worker marks the row: the
    race of a fast gateway."""

    channels = ("sms",)

    def __init__(self, engine, inner, status):  # type: ignore[no-untyped-def]
        self.engine, self.inner, self.status = engine, inner, status

    def send(self, message):  # type: ignore[no-untyped-def]
        from arrears.contact.replies import handle_receipt

        sent = self.inner.send(message)
        payload = {"id": sent.gateway_id, "reference": message.message_id, "status": self.status}
        assert handle_receipt(self.engine, payload)
        return sent


def test_a_receipt_before_the_mark_is_kept(people, gateway):
    q = queue(people)
    adapter = _ReceiptFirst(people, HttpGateway(gateway.url, SECRET), "delivered")
    assert send_all(people, {"sms": adapter}, sh(28, 10)).sent == 1
    assert rows(people)[q.message_id][0] == "delivered"


def test_a_failed_receipt_is_not_a_delivery(people, gateway):
    q = queue(people)
    adapter = _ReceiptFirst(people, HttpGateway(gateway.url, SECRET), "failed")
    assert send_all(people, {"sms": adapter}, sh(28, 10)).sent == 1
    assert rows(people)[q.message_id][0] == "sent"
    with unit_of_work(people) as s:
        assert s.get(OutboxMessage, q.message_id).delivered_at is None
