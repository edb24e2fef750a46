"""A hypothesis state machine: random sequences of queued messages, dialled calls, worker runs,
clock moves, opt-outs, disputes opened and resolved, and conversations — against a real SQLite
database and the real guard, outbox and worker. After every step, an independent reading of what
actually left asserts: never outside the borrower's window, never over a cap (daily per channel,
CN's 3 effective calls a day, Reg F's 7 in 7, Massachusetts' 2 in 7), never after an opt-out of
that channel, never while a dispute is open."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from arrears.auth import add_user
from arrears.collection.work import open_dispute, resolve_dispute
from arrears.contact import guard
from arrears.contact.channels.base import Outgoing, Sent
from arrears.contact.outbox import enqueue
from arrears.contact.service import opt_out, record_attempt
from arrears.contact.worker import run
from arrears.store.db import make_engine, unit_of_work
from arrears.store.tables import Base, Borrower, CollectionCase

ZONES = {"B-CN": ZoneInfo("Asia/Shanghai"), "B-MA": ZoneInfo("America/New_York")}
WINDOWS = {"B-CN": (8, 22), "B-MA": (8, 21)}
EFFECTIVE = {"conversation", "refused"}
RUNS = {"programs": 0, "steps": 0, "left": 0}


class Recorder:
    """An in-process channel: what the worker hands it has left the building."""

    channels = ("sms", "email")

    def __init__(self, machine: ContactMachine) -> None:
        self.machine = machine

    def send(self, message: Outgoing) -> Sent:
        self.machine.left.append((message.to, message.channel, self.machine.clock, None))
        self.machine.order.append(self.machine.seq)
        return Sent(gateway_id=message.idempotency_key)


@pytest.fixture(scope="module")
def sm_engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sm') / 'sm.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    print(
        f"\nstate machine: {RUNS['programs']} programs, {RUNS['steps']} steps, "
        f"{RUNS['left']} messages and calls left"
    )


class ContactMachine(RuleBasedStateMachine):
    engine = None  # set by the test

    @initialize()
    def start(self):
        RUNS["programs"] += 1
        with self.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(text(f'DELETE FROM "{table.name}"'))
        add_user(self.engine, "ann", "collector", None)
        with unit_of_work(self.engine) as s:
            for bid, country, region, zone in (
                ("B-CN", "CN", None, "Asia/Shanghai"),
                ("B-MA", "US", "US-MA", "America/New_York"),
            ):
                s.add(
                    Borrower(
                        borrower_id=bid,
                        kind="individual",
                        name=bid,
                        phone=bid,
                        email=bid,
                        timezone=zone,
                        country=country,
                        region=region,
                    )
                )
                s.add(
                    CollectionCase(
                        case_id=f"C-{bid}",
                        borrower_id=bid,
                        status="open",
                        stage="early",
                        segment="individual",
                        product="consumer",
                        currency="CNY",
                        days_past_due=10,
                        amount_overdue=1,
                        outstanding_principal=1,
                        loans=1,
                        priority=1,
                        opened_on=date(2026, 11, 1),
                        updated_on=date(2026, 11, 1),
                        stage_since=date(2026, 11, 1),
                    )
                )
        self.clock = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
        self.left: list[tuple[str, str, datetime, str | None]] = []  # who, channel, at, outcome
        self.order: list[int] = []  # the step at which each of `left` left
        self.seq = 0  # steps, to tell "before" from "after" when the clock did not move
        self.opted: dict[tuple[str, str], int] = {}
        self.disputes: dict[str, int] = {}
        self.dispute_spans: list[tuple[str, int, int | None]] = []

    def _step(self):
        RUNS["steps"] += 1
        self.seq += 1

    @rule(minutes=st.integers(1, 6 * 60))
    def advance(self, minutes):
        self._step()
        self.clock += timedelta(minutes=minutes)

    @rule(
        borrower=st.sampled_from(sorted(ZONES)),
        channel=st.sampled_from(["sms", "email"]),
        defer=st.booleans(),
    )
    def queue(self, borrower, channel, defer):
        self._step()
        with unit_of_work(self.engine) as s:
            enqueue(
                s,
                guard.Party(borrower),
                channel,
                "reminder",
                "hello 你好",
                self.clock,
                defer_within=timedelta(hours=12 if defer else 0),
            )

    @rule()
    def work(self):
        self._step()
        run(
            self.engine,
            {"sms": Recorder(self), "email": Recorder(self)},
            clock=lambda: self.clock,
            once=True,
            backoff=60,
        )

    @rule(
        borrower=st.sampled_from(sorted(ZONES)),
        channel=st.sampled_from(["voice", "robot"]),
        outcome=st.sampled_from(["no_answer", "conversation", "refused", "wrong_number"]),
    )
    def dial(self, borrower, channel, outcome):
        self._step()
        r = record_attempt(self.engine, borrower, channel, self.clock, outcome)
        if r["allowed"]:
            self.left.append((borrower, channel, self.clock, outcome))
            self.order.append(self.seq)

    @rule(
        borrower=st.sampled_from(sorted(ZONES)), channel=st.sampled_from(["sms", "email", "voice"])
    )
    def opt_out(self, borrower, channel):
        self._step()
        if self.seq % 3:  # rarer than sends, or every program would end opted out at once
            return
        opt_out(self.engine, borrower, channel, at=self.clock)
        self.opted.setdefault((borrower, channel), self.seq)

    @rule(borrower=st.sampled_from(sorted(ZONES)))
    def dispute(self, borrower):
        self._step()
        if self.seq % 2:
            return
        if borrower in self.disputes:
            resolve_dispute(
                self.engine,
                self.disputes.pop(borrower),
                "ann",
                "explained",
                today=self.clock.date(),
            )
            i = max(i for i, span in enumerate(self.dispute_spans) if span[0] == borrower)
            self.dispute_spans[i] = (borrower, self.dispute_spans[i][1], self.seq)
        else:
            self.disputes[borrower] = open_dispute(
                self.engine, f"C-{borrower}", "ann", "not mine", today=self.clock.date()
            )
            self.dispute_spans.append((borrower, self.seq, None))

    # ------------------------------------------------------------ what actually left

    def teardown(self):
        RUNS["left"] += len(getattr(self, "left", ()))

    @invariant()
    def inside_the_window(self):
        for b, channel, at, _ in self.left:
            start, end = WINDOWS[b]
            local = at.astimezone(ZONES[b])
            assert start <= local.hour < end, (b, channel, local)

    @invariant()
    def under_every_cap(self):
        per_day = defaultdict(int)
        effective = defaultdict(int)
        for b, channel, at, outcome in self.left:
            day = at.astimezone(ZONES[b]).date()
            per_day[(b, channel, day)] += 1
            if channel in ("voice", "robot") and outcome in EFFECTIVE:
                effective[(b, day)] += 1
        for (b, channel, day), n in per_day.items():
            if channel in ("sms", "email"):
                assert n <= 3, (b, channel, day, n)
        for (b, day), n in effective.items():
            if b == "B-CN":
                assert n <= 3, (b, day, n)
        ma = sorted(
            at for b, c, at, _ in self.left if b == "B-MA" and c in ("voice", "robot", "sms")
        )
        for i, at in enumerate(ma):
            assert sum(1 for t in ma[i:] if t < at + timedelta(days=7)) <= 2, ma

    @invariant()
    def no_call_within_seven_days_of_a_conversation_in_the_us(self):
        calls = [(at, o) for b, c, at, o in self.left if b == "B-MA" and c in ("voice", "robot")]
        talks = [at for at, o in calls if o in ("conversation", "refused")]
        for at, _ in calls:
            assert not any(t < at < t + timedelta(days=7) for t in talks), (at, talks)

    @invariant()
    def never_after_opt_out_or_during_dispute(self):
        for (b, channel, at, _), step in zip(self.left, self.order, strict=True):
            since = self.opted.get((b, channel))
            assert since is None or step < since, (b, channel, at, since)
            for db, start, end in self.dispute_spans:
                if db == b and channel in ("sms", "email"):  # reminders stop during a dispute
                    assert not (start < step and (end is None or step < end)), (b, channel, at)


def test_no_message_leaves_outside_a_window_or_over_a_cap(sm_engine):
    ContactMachine.engine = sm_engine
    run_state_machine_as_test(
        ContactMachine,
        settings=settings(
            max_examples=200,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
