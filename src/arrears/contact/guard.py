"""The contact guard: the one question every outbound action asks before it is made — may we
contact this party, on this channel, for this purpose, at this moment?

    decision = guard.check(party, channel, purpose, at)
    if not decision.allowed: ...  # do not send; keep decision.reasons / rule_ids

Callers depend only on `check` and `Decision`. What answers is the installed `Guard`: today the
permissive default (every contact allowed), which the contact-compliance issue replaces with the
real rules (hours, frequency, who may be contacted, cease requests) through `install` — without
changing a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CHANNELS = ("call", "sms", "email", "visit", "letter", "robot_call")
PARTY_ROLES = ("debtor", "guarantor", "contact_person")


@dataclass(frozen=True)
class Party:
    """Who would be contacted: a borrower's debtor, guarantor or contact person, about a debt."""

    borrower_id: str
    role: str = "debtor"
    case_id: str | None = None
    loan_id: str | None = None


@dataclass(frozen=True)
class Decision:
    """The guard's answer. `reasons` are bilingual text for people; `rule_ids` are stable ids of
    the rules that decided; `next_allowed_at` is when a blocked contact may be tried again, if
    the rules know."""

    allowed: bool
    reasons: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None


class Guard(Protocol):
    def check(self, party: Party, channel: str, purpose: str, at: datetime) -> Decision: ...


class PermissiveGuard:
    """Allows every contact: the default until the contact rules are plugged in."""

    def check(self, party: Party, channel: str, purpose: str, at: datetime) -> Decision:
        if at.tzinfo is None:
            raise ValueError("the contact time must be timezone-aware")
        return Decision(allowed=True, rule_ids=("permissive-default",))


_installed: list[Guard] = [PermissiveGuard()]


def check(party: Party, channel: str, purpose: str, at: datetime) -> Decision:
    """Ask the installed guard whether `party` may be contacted on `channel` for `purpose` at
    `at` (a timezone-aware time)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if party.role not in PARTY_ROLES:
        raise ValueError(f"party role {party.role!r} is not one of {', '.join(PARTY_ROLES)}")
    return _installed[0].check(party, channel, purpose, at)


def install(guard: Guard) -> Guard:
    """Make `guard` answer every `check` from now on; returns the one it replaces."""
    previous, _installed[0] = _installed[0], guard
    return previous
