"""The contact rules as one pure function: `decide(policies, facts, history, …) → Decision`.

No database, no clock: the facts about the borrower and the contact history come in, the answer
goes out. Every rule of every applicable policy is checked (so the strictest wins) and each
blocking rule says when it would next allow the contact — or that it never will by itself (a
dispute, an opt-out). `next_allowed_at` is the first moment at which *all* rules allow it, found
by moving to the latest of the blockers' times and asking again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.contact.guard import Decision
from arrears.contact.policy import ContactPolicy, Window, canonical

# outcomes in which someone spoke with the party (a telephone conversation about the debt)
CONVERSATION = frozenset(
    {
        "conversation",
        "right_party_contact",
        "promise",
        "refusal",
        "refused",
        "dispute",
        "paid",
        "hardship",
    }
)
_NEVER = None  # a blocker that lifts only when a fact changes (opt-out, dispute, flag)


@dataclass(frozen=True)
class Facts:
    """What the guard knows about the borrower at the moment of the decision."""

    borrower_id: str
    country: str | None = "CN"
    region: str | None = None
    timezones: tuple[ZoneInfo, ...] = (ZoneInfo("Asia/Shanghai"),)
    flags: frozenset[str] = frozenset()
    opt_outs: frozenset[str] = frozenset()  # canonical channels, or "all"
    disputed: bool = False  # an open dispute on the debt in question
    stage: str | None = None  # the open collection case's stage
    contact_refused: bool = False  # the contact person asked (asked) has refused


@dataclass(frozen=True)
class Attempt:
    """One contact made, from the shared ledger (`at` is UTC)."""

    at: datetime
    channel: str
    party: str = "debtor"
    loan_id: str | None = None
    outcome: str | None = None


def party_kind(party: str) -> str:
    if party.startswith("contact"):
        return "contact"
    return party if party in ("debtor", "guarantor") else "third_party"


def _inside(at: datetime, zone: ZoneInfo, w: Window) -> bool:
    local = at.astimezone(zone).time()
    return w.start <= local < w.end


def window_next(at: datetime, zones: Sequence[ZoneInfo], w: Window) -> datetime | None:
    """The first moment ≥ `at` inside the window in every zone (their intersection), or None if
    the zones share no hour of the window."""
    if all(_inside(at, z, w) for z in zones):
        return at
    candidates = []
    for z in zones:
        local_day = at.astimezone(z).date()
        for d in range(0, 3):
            opening = datetime.combine(local_day + timedelta(days=d), w.start, z)
            if opening >= at:
                candidates.append(opening.astimezone(UTC))
    for c in sorted(candidates):
        if all(_inside(c, z, w) for z in zones):
            return c
    return None


def _local_day_bounds(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    day = at.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


class _History:
    """The attempts sorted by time, with the few counts the rules ask for."""

    __slots__ = ("items", "times")

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        self.items = sorted(attempts, key=lambda a: a.at)
        self.times = [a.at for a in self.items]

    def between(self, start: datetime, end: datetime) -> list[Attempt]:
        """Attempts with start < at ≤ end."""
        return self.items[bisect_right(self.times, start) : bisect_right(self.times, end)]


def _same_debt(a: Attempt, loan_id: str | None) -> bool:
    return loan_id is None or a.loan_id is None or a.loan_id == loan_id


def _blockers(
    policies: Sequence[ContactPolicy],
    facts: Facts,
    history: _History,
    party: str,
    loan_id: str | None,
    channel: str,
    purpose: str,
    at: datetime,
    checked: list[str] | None,
) -> list[tuple[str, str, datetime | None]]:
    """(rule id, reason, when it would next allow) for every rule that blocks now."""
    kind = party_kind(party)
    zones = facts.timezones
    out: list[tuple[str, str, datetime | None]] = []
    bounds: list[tuple[datetime, datetime]] = []  # the local day, computed once when needed

    def day_bounds() -> tuple[datetime, datetime]:
        if not bounds:
            bounds.append(_local_day_bounds(at, zones[0]))
        return bounds[0]

    for p in policies:
        for f in p.flags:
            if (
                f.flag in facts.flags
                and kind in f.parties
                and (not f.purposes or purpose in f.purposes)
            ):
                out.append((f.id, f"borrower flagged {f.flag} (客户已标记 {f.flag})", _NEVER))
        if p.third_parties is not None and kind == "third_party":
            out.append(
                (
                    p.third_parties.id,
                    "no contact of unrelated third parties (不得联系无关第三方)",
                    _NEVER,
                )
            )
        if p.opt_out is not None and (channel in facts.opt_outs or "all" in facts.opt_outs):
            out.append(
                (p.opt_out.id, f"borrower opted out of {channel} (客户已退订该渠道)", _NEVER)
            )
        d = p.dispute
        if d is not None and facts.disputed and (not d.purposes or purpose in d.purposes):
            out.append((d.id, "debt under dispute (债务存在争议，暂停催收)", _NEVER))
        legal = p.legal_stage
        if legal is not None and facts.stage in legal.stages and channel not in legal.channels:
            only = ", ".join(legal.channels)
            out.append((legal.id, f"legal stage: only {only} (诉讼阶段仅限法律渠道)", _NEVER))
        c = p.cease
        if c is not None and c.flag in facts.flags and purpose not in c.permitted_purposes:
            out.append((c.id, "written cease request (书面要求停止联系)", _NEVER))
        if p.contact_persons is not None and kind == "contact":
            rule = p.contact_persons
            if rule.refusal_final and facts.contact_refused:
                out.append(
                    (
                        rule.id,
                        "contact person refused; never again (联系人已拒绝，永久停止)",
                        _NEVER,
                    )
                )
            if rule.when_flags and not facts.flags.intersection(rule.when_flags):
                out.append(
                    (
                        rule.id,
                        "contact persons only when the debtor is unreachable (仅在债务人失联时可联系联系人)",
                        _NEVER,
                    )
                )
            if rule.purposes and purpose not in rule.purposes:
                out.append(
                    (
                        rule.id,
                        f"contact persons only for {', '.join(rule.purposes)} (联系人仅限查找下落)",
                        _NEVER,
                    )
                )
        if p.window is not None and channel in p.window.channels:
            zs = zones + tuple(ZoneInfo(z) for z in p.region_timezones.get(facts.region or "", ()))
            nxt = window_next(at, zs, p.window)
            if nxt != at:
                out.append(
                    (
                        p.window.id,
                        f"outside {p.window.start:%H:%M}–{p.window.end:%H:%M} local time (不在允许联系时段)",
                        nxt,
                    )
                )
        if p.holidays is not None and p.holidays.enabled:
            day = at.astimezone(zones[0]).date()
            if day in p.holidays.dates:
                d = day
                while d in p.holidays.dates:
                    d += timedelta(days=1)
                out.append(
                    (
                        p.holidays.id,
                        f"public holiday {day} (法定节假日不催收)",
                        datetime.combine(d, time(0), zones[0]).astimezone(UTC),
                    )
                )
        for cap in p.daily_caps:
            if cap.channel != channel:
                continue
            start, end = day_bounds()
            n = sum(
                1
                for a in history.between(start - timedelta(microseconds=1), at)
                if a.channel == channel and a.party == party and a.at < end
            )
            if n >= cap.max:
                out.append((cap.id, f"{channel} cap {cap.max} per day reached (已达每日上限)", end))
        if p.daily_voice is not None and channel in p.daily_voice.channels:
            rule = p.daily_voice
            start, end = day_bounds()
            n = sum(
                1
                for a in history.between(start - timedelta(microseconds=1), at)
                if a.channel in rule.channels
                and a.party == party
                and a.outcome in rule.effective_outcomes
            )
            if n >= rule.max:
                out.append(
                    (
                        rule.id,
                        f"{rule.max} effective calls today already (当日有效通话已达上限)",
                        end,
                    )
                )
        for rule in p.rolling:
            if channel not in rule.channels:
                continue
            span = timedelta(days=rule.days)
            times = [
                a.at
                for a in history.between(at - span, at)
                if a.channel in rule.channels and a.party == party and _same_debt(a, loan_id)
            ]
            if len(times) >= rule.max:
                nxt = times[len(times) - rule.max] + span if rule.max else _NEVER
                out.append(
                    (
                        rule.id,
                        f"{rule.max} attempts in {rule.days} days reached (滚动期内联系次数已达上限)",
                        nxt,
                    )
                )
        lock = p.conversation_lockout
        if lock is not None and channel in lock.channels:
            span = timedelta(days=lock.days)
            talks = [
                a.at
                for a in history.between(at - span, at)
                if a.channel in lock.channels
                and a.party == party
                and a.outcome in CONVERSATION
                and _same_debt(a, loan_id)
            ]
            if talks:
                out.append(
                    (
                        lock.id,
                        f"telephone conversation within {lock.days} days (通话后{lock.days}天内不得再致电)",
                        talks[-1] + span,
                    )
                )
    return out


# key → (the policies, kept alive so their ids are never reused; the rule ids)
_CHECKED: dict[tuple[object, ...], tuple[tuple[ContactPolicy, ...], tuple[str, ...]]] = {}


def checked_rules(policies: Sequence[ContactPolicy], channel: str, kind: str) -> tuple[str, ...]:
    """The ids of the rules that apply to `channel` for a party of `kind` — what an allowed
    decision passed. Cached: policies are loaded once and never change in place."""
    key = (*map(id, policies), channel, kind)
    cached = _CHECKED.get(key)
    if cached is None:
        ids: list[str] = []
        for p in policies:
            ids += [f.id for f in p.flags]
            ids += [
                r.id for r in (p.third_parties, p.opt_out, p.dispute, p.legal_stage, p.cease) if r
            ]
            if p.contact_persons is not None and kind == "contact":
                ids.append(p.contact_persons.id)
            if p.window is not None and channel in p.window.channels:
                ids.append(p.window.id)
            if p.holidays is not None and p.holidays.enabled:
                ids.append(p.holidays.id)
            ids += [c.id for c in p.daily_caps if c.channel == channel]
            if p.daily_voice is not None and channel in p.daily_voice.channels:
                ids.append(p.daily_voice.id)
            ids += [r.id for r in p.rolling if channel in r.channels]
            lock = p.conversation_lockout
            if lock is not None and channel in lock.channels:
                ids.append(lock.id)
        cached = _CHECKED[key] = (tuple(policies), tuple(dict.fromkeys(ids)))
    return cached[1]


def decide(
    policies: Sequence[ContactPolicy],
    facts: Facts,
    history: Sequence[Attempt] | _History,
    party: str,
    loan_id: str | None,
    channel: str,
    purpose: str,
    at: datetime,
) -> Decision:
    """May `party` of `facts.borrower_id` be contacted on `channel` for `purpose` at `at`?"""
    if at.tzinfo is None:
        raise ValueError("the contact time must be timezone-aware")
    channel = canonical(channel)
    at = at.astimezone(UTC)
    hist = history if isinstance(history, _History) else _History(history)
    blocks = _blockers(policies, facts, hist, party, loan_id, channel, purpose, at, None)
    if not blocks:
        return Decision(True, (), checked_rules(policies, channel, party_kind(party)), None)
    nxt = _next_allowed(policies, facts, hist, party, loan_id, channel, purpose, blocks)
    return Decision(
        False,
        tuple(r for _, r, _ in blocks),
        tuple(dict.fromkeys(i for i, _, _ in blocks)),
        nxt,
    )


def _next_allowed(
    policies, facts, hist, party, loan_id, channel, purpose, blocks
) -> datetime | None:  # type: ignore[no-untyped-def]
    for _ in range(12):
        if any(t is None for _, _, t in blocks):
            return None
        t = max(t for _, _, t in blocks)  # type: ignore[type-var]
        blocks = _blockers(policies, facts, hist, party, loan_id, channel, purpose, t, None)
        if not blocks:
            return t
    return None


def local_day(at: datetime, facts: Facts) -> date:
    return at.astimezone(facts.timezones[0]).date()
