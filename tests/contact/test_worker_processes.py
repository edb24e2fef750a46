"""`arrears worker` as real processes: killed (SIGKILL) at each step of a send and restarted, it
never sends twice to the gateway (which honours the idempotency key) and never loses a message;
several workers on PostgreSQL share the outbox with SKIP LOCKED and no message is sent twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from arrears.contact import guard
from arrears.contact.outbox import enqueue
from arrears.contact.service import opt_out, set_flag
from arrears.store.db import unit_of_work
from arrears.store.tables import Borrower, ContactAttempt, OutboxMessage

from .conftest import SECRET, sh

T0 = sh(28, 10)


def worker(db_url, gateway, now, *extra, crash=None):
    env = {k: v for k, v in os.environ.items() if k != "ARREARS_WORKER_CRASH_AT"}
    if crash:
        env["ARREARS_WORKER_CRASH_AT"] = crash
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arrears",
            "--db",
            db_url,
            "worker",
            "--once",
            "--json",
            "--now",
            now.isoformat(),
            "--gateway",
            gateway.url,
            "--gateway-secret",
            SECRET,
            "--lease-seconds",
            "30",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def seed(engine, borrowers, per_borrower=1):
    with unit_of_work(engine) as s:
        for i in range(borrowers):
            s.add(
                Borrower(
                    borrower_id=f"K-{i:04d}",
                    kind="individual",
                    name=f"客户{i}",
                    phone=f"+86 139{i:08d}",
                    timezone="Asia/Shanghai",
                    country="CN",
                )
            )
    for i in range(borrowers):
        with unit_of_work(engine) as s:
            for n in range(per_borrower):
                q = enqueue(s, guard.Party(f"K-{i:04d}"), "sms", "reminder", f"提醒 {i}-{n}", T0)
                assert q.message_id, q.decision


def gateway_log(server):
    with urllib.request.urlopen(f"{server.url}/v1/messages") as r:
        return json.loads(r.read())


def statuses(engine):
    with unit_of_work(engine) as s:
        return sorted(s.scalars(select(OutboxMessage.status)))


@pytest.mark.parametrize("step", ["after_claim", "after_send", "after_mark"])
def test_killed_at_each_step_never_sends_twice_never_loses(engine, db_url, gateway, step):
    seed(engine, 3)
    killed = worker(db_url, gateway, T0, crash=step)
    killed.wait(timeout=120)
    assert killed.returncode == -9, killed.stderr  # really killed
    first = gateway_log(gateway)
    expected_at_gateway = {"after_claim": 0, "after_send": 1, "after_mark": 3}[
        step
    ]  # marks are per batch
    assert len(first["messages"]) == expected_at_gateway
    # a restart after the lease ran out finishes the job
    again = worker(db_url, gateway, T0 + timedelta(seconds=60))
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    log = gateway_log(gateway)
    bodies = sorted(m["body"] for m in log["messages"])
    assert len(bodies) == 3 and len(set(bodies)) == 3  # each once, none lost
    assert log["replays"] == (1 if step == "after_send" else 0)  # the retry reused the key
    assert statuses(engine) == ["sent"] * 3


@pytest.mark.parametrize("meanwhile", ["opt_out", "window_closed", "do_not_contact"])
def test_killed_after_the_send_the_retry_keeps_the_decision_that_let_it_out(
    engine, db_url, gateway, meanwhile
):
    """The gateway took the message, the worker died before marking it; before the restart the
    borrower opted out, or the window closed, or a do-not-contact flag was set. Asking the guard again
    would mark `blocked` (or hold till morning) a message already out; instead it is re-sent
    with its key under its logged decision: one message at the gateway, the row `sent`."""
    seed(engine, 1)
    start = T0.replace(hour=21, minute=59, second=40)
    killed = worker(db_url, gateway, start, crash="after_send")
    killed.wait(timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert len(gateway_log(gateway)["messages"]) == 1
    restart = start + timedelta(seconds=50)  # past the lease, and past 22:00 in Shanghai
    if meanwhile == "opt_out":
        opt_out(engine, "K-0000", "sms", at=start + timedelta(seconds=10))
    elif meanwhile == "do_not_contact":
        set_flag(engine, "K-0000", "do_not_contact", "ops")
    else:
        assert restart.hour == 22  # the guard would now say "not before 08:00"
    if meanwhile != "window_closed":
        restart = start + timedelta(seconds=35)
    again = worker(db_url, gateway, restart)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    stats = json.loads(out)
    assert stats["resumed"] == 1 and stats["sent"] == 1 and stats["blocked"] == 0
    log = gateway_log(gateway)
    assert len(log["messages"]) == 1 and log["replays"] == 1
    assert statuses(engine) == ["sent"]
    with unit_of_work(engine) as s:
        (attempt,) = s.scalars(select(ContactAttempt)).all()
        row = s.scalars(select(OutboxMessage)).one()
        assert attempt.message_id == row.message_id and attempt.at == start


def test_several_workers_share_the_outbox_with_skip_locked(engine, db_url, gateway, backend):
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    seed(engine, 150, per_borrower=2)
    procs = [worker(db_url, gateway, T0, "--batch", "10") for _ in range(3)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    log = gateway_log(gateway)
    assert len(log["messages"]) == 300 and log["replays"] == 0
    assert sum(r["sent"] for r in results) == 300
    assert sum(1 for r in results if r["sent"] > 0) >= 2  # the work was actually shared
    assert statuses(engine) == ["sent"] * 300
