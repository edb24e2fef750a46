"""The contact guard: the one question every outbound action asks before it is made — may we
contact this party, on this channel, for this purpose, at this moment?

    decision = guard.check(party, channel, purpose, at)
    if not decision.allowed: ...  # do not send; keep decision.reasons / rule_ids

Callers depend only on `check` and `Decision`. What answers is the installed `Guard`: by default
the real rules (`arrears.contact.compliance.ComplianceGuard`: hours, frequency, who may be
contacted, cease requests, opt-outs, disputes, legal stage), which read the contact ledger through
the database session the caller binds with `with guard.bound(session): …` and log every decision
in that same transaction. Asking without a bound session is an error, never a silent "allowed".
`PermissiveGuard` remains for tests that want to isolate other behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# collection's names (call, robot_call) and the contact module's (voice, robot, push)
CHANNELS = ("call", "sms", "email", "visit", "letter", "robot_call", "voice", "robot", "push")
PARTY_ROLES = ("debtor", "guarantor", "contact_person", "third_party")


@dataclass(frozen=True)
class Party:
    """Who would be contacted: a borrower's debtor, guarantor or contact person, about a debt."""

    borrower_id: str
    role: str = "debtor"
    case_id: str | None = None
    loan_id: str | None = None
    contact_id: str | None = None  # which contact person, when role is contact_person

    @property
    def key(self) -> str:
        """How the contact ledger names the party: debtor, guarantor, contact:<id>."""
        if self.role == "contact_person":
            return f"contact:{self.contact_id or '?'}"
        return self.role


@dataclass(frozen=True)
class Decision:
    """The guard's answer. `reasons` are bilingual text for people; `rule_ids` are stable ids of
    the rules that decided; `next_allowed_at` is when a blocked contact may be tried again, if
    the rules know."""

    allowed: bool
    reasons: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None
    decision_id: int | None = None  # the decision log row, when the guard logged one

    def to_dict(self) -> dict[str, Any]:
        """The keys of `arrears contact check --json`."""
        return {
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "rule_ids": list(self.rule_ids),
            "next_allowed_at": None
            if self.next_allowed_at is None
            else self.next_allowed_at.isoformat(),
            "decision_id": self.decision_id,
        }


class Guard(Protocol):
    def check(self, party: Party, channel: str, purpose: str, at: datetime) -> Decision: ...


class PermissiveGuard:
    """Allows every contact: the default until the contact rules are plugged in."""

    def check(self, party: Party, channel: str, purpose: str, at: datetime) -> Decision:
        if at.tzinfo is None:
            raise ValueError("the contact time must be timezone-aware")
        return Decision(allowed=True, rule_ids=("permissive-default",))


_installed: list[Guard] = []
_session: ContextVar[Any] = ContextVar("arrears_contact_guard_session", default=None)


@contextmanager
def bound(session: Any, **options: Any) -> Iterator[None]:
    """Let the guard read the ledger and write its decision log through `session` (the caller's
    transaction) for the calls made inside the block."""
    token = _session.set((session, options))
    try:
        yield
    finally:
        _session.reset(token)


def bound_session() -> tuple[Any, dict[str, Any]] | None:
    return _session.get()


def installed() -> Guard:
    if not _installed:
        from arrears.contact.compliance import ComplianceGuard  # the real rules by default

        _installed.append(ComplianceGuard())
    return _installed[0]


def check(party: Party, channel: str, purpose: str, at: datetime) -> Decision:
    """Ask the installed guard whether `party` may be contacted on `channel` for `purpose` at
    `at` (a timezone-aware time)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if party.role not in PARTY_ROLES:
        raise ValueError(f"party role {party.role!r} is not one of {', '.join(PARTY_ROLES)}")
    return installed().check(party, channel, purpose, at)


def install(guard: Guard) -> Guard:
    """Make `guard` answer every `check` from now on; returns the one it replaces."""
    previous = installed()
    _installed[0] = guard
    return previous
