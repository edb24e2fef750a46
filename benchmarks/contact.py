"""Benchmark of contact compliance: guard decisions per second and the worker's send rate.

- `decisions_per_second`: the rules (`arrears.contact.rules.decide`) on one core, for random
  (borrower, channel, party, time) questions over a realistic contact history — B borrowers
  (80% CN, 15% US, 5% Massachusetts), each with 0–40 calls, robot calls, texts and emails in the
  last 30 days, a few with opt-outs, disputes, flags or the legal stage. History is loaded per
  borrower as the database guard loads it, then asked many times (a dialler's question).
- `db_checks_per_second`: the whole database guard (facts, history, the decision-log row) on
  SQLite, for comparison.
- `worker_sends_per_second`: `arrears worker`'s loop (claim, re-check, send, mark) on SQLite (or
  PostgreSQL with --postgres) against the local HTTP gateway on loopback, M queued messages.

Prints JSON lines. Usage:
    python benchmarks/contact.py [--borrowers 10000] [--decisions 200000] [--messages 2000]
                                 [--postgres URL-of-an-empty-database] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from arrears.contact import guard
from arrears.contact.channels import fake_gateway
from arrears.contact.channels.gateway import HttpGateway
from arrears.contact.outbox import enqueue
from arrears.contact.policy import applicable, load_policies
from arrears.contact.rules import Attempt, Facts, _History, decide
from arrears.contact.worker import run
from arrears.store.db import make_engine, unit_of_work, upgrade
from arrears.store.tables import Borrower

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 21:00 the day before in NY
CHANNELS = ("voice", "robot", "sms", "email", "push", "letter")
OUTCOMES = ("no_answer", "no_answer", "conversation", "refused", "wrong_number", None)


def population(borrowers: int, seed: int = 7):
    rng = random.Random(seed)
    policies = load_policies()
    people = []
    for i in range(borrowers):
        r = rng.random()
        if r < 0.80:
            country, region, zone = "CN", None, ZoneInfo("Asia/Shanghai")
        elif r < 0.95:
            country, region, zone = (
                "US",
                rng.choice(["US-NY", "US-TN", "US-CA"]),
                ZoneInfo("America/New_York"),
            )
        else:
            country, region, zone = "US", "US-MA", ZoneInfo("America/New_York")
        flags = (
            frozenset(rng.sample(["unreachable", "hardship", "cease_written"], 1))
            if rng.random() < 0.05
            else frozenset()
        )
        facts = Facts(
            borrower_id=f"B{i:07d}",
            country=country,
            region=region,
            timezones=(zone,),
            flags=flags,
            opt_outs=frozenset({"sms"}) if rng.random() < 0.03 else frozenset(),
            disputed=rng.random() < 0.02,
            stage="legal"
            if rng.random() < 0.02
            else rng.choice([None, "reminder", "early", "mid"]),
        )
        history = [
            Attempt(
                NOW - timedelta(minutes=rng.randint(1, 30 * 24 * 60)),
                rng.choice(CHANNELS[:4]),
                "debtor",
                rng.choice([None, "L1", "L2"]),
                rng.choice(OUTCOMES),
            )
            for _ in range(rng.randint(0, 40))
        ]
        people.append((applicable(policies, country, region), facts, _History(history)))
    return people


def bench_decisions(borrowers: int, decisions: int) -> dict:
    people = population(borrowers)
    rng = random.Random(11)
    questions = [
        (
            people[rng.randrange(borrowers)],
            rng.choice(CHANNELS),
            NOW + timedelta(minutes=rng.randint(-720, 720)),
            rng.choice(["debtor", "debtor", "debtor", "contact:P1"]),
            rng.choice([None, "L1"]),
        )
        for _ in range(decisions)
    ]
    allowed = 0
    started = time.perf_counter()
    for (policies, facts, history), channel, at, party, loan in questions:
        allowed += decide(policies, facts, history, party, loan, channel, "collection", at).allowed
    seconds = time.perf_counter() - started
    return {
        "bench": "contact_guard",
        "borrowers": borrowers,
        "decisions": decisions,
        "allowed_share": round(allowed / decisions, 3),
        "seconds": round(seconds, 3),
        "decisions_per_second": round(decisions / seconds),
    }


def seed_borrowers(engine, n: int) -> None:
    with unit_of_work(engine) as s:
        for i in range(n):
            s.add(
                Borrower(
                    borrower_id=f"W{i:07d}",
                    kind="individual",
                    name=f"客户{i}",
                    phone=f"+86 139{i:08d}",
                    email=f"w{i}@example.test",
                    timezone="Asia/Shanghai",
                    country="CN",
                )
            )


def bench_db_checks(url: str, checks: int) -> dict:
    engine = make_engine(url)
    seed_borrowers(engine, 200)
    rng = random.Random(3)
    started = time.perf_counter()
    for _ in range(checks):
        with unit_of_work(engine) as s, guard.bound(s):
            guard.check(
                guard.Party(f"W{rng.randrange(200):07d}"), rng.choice(CHANNELS), "collection", NOW
            )
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "bench": "contact_guard_db",
        "database": url.split(":")[0],
        "checks": checks,
        "seconds": round(seconds, 3),
        "db_checks_per_second": round(checks / seconds),
    }


def bench_worker(url: str, messages: int) -> dict:
    engine = make_engine(url)
    seed_borrowers(engine, messages)
    with unit_of_work(engine) as s:
        for i in range(messages):
            q = enqueue(s, guard.Party(f"W{i:07d}"), "sms", "reminder", f"提醒 {i}", NOW)
            assert q.message_id, q.decision
    server = fake_gateway.start("bench")
    try:
        started = time.perf_counter()
        stats = run(
            engine,
            {"sms": HttpGateway(server.url, "bench")},
            clock=lambda: NOW,
            once=True,
            batch=100,
        )
        seconds = time.perf_counter() - started
        accepted = len(server.state.accepted)
    finally:
        server.shutdown()
        server.server_close()
        engine.dispose()
    assert stats.sent == messages == accepted, (stats, accepted)
    return {
        "bench": "contact_worker",
        "database": url.split(":")[0],
        "messages": messages,
        "seconds": round(seconds, 3),
        "worker_sends_per_second": round(messages / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database for the worker")
    parser.add_argument("--json", action="store_true", help="JSON lines (the default output too)")
    args = parser.parse_args()
    print(json.dumps(bench_decisions(args.borrowers, args.decisions)), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'contact.db'}"
        upgrade(url)
        print(json.dumps(bench_db_checks(url, args.checks)), flush=True)
        url2 = f"sqlite:///{Path(tmp) / 'worker.db'}"
        upgrade(url2)
        print(json.dumps(bench_worker(url2, args.messages)), flush=True)
    if args.postgres:
        upgrade(args.postgres)
        print(json.dumps(bench_worker(args.postgres, args.messages)), flush=True)


if __name__ == "__main__":
    main()
