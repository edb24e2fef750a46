"""The internal blacklist (内部黑名单): people the lender will not lend to, whatever their score —
fraud, identity misuse, abusive conduct, a court's or the board's instruction.

An entry names a **national id** and/or a **phone** (at least one), the reason, and who added it;
removing it records who, when and why, and keeps the row (an entry is never deleted: the audit
must show what admission knew on any day). Each change is an event (`blacklist.added`,
`blacklist.removed`) in the same transaction.

How admission matches (docs/admission.md):

- **national id** — the identity a loan is contracted on. A hit is the hard rule `BLACKLISTED`:
  decline, whatever the score.
- **phone** — weaker: mobile numbers are recycled by carriers and shared in families, so a
  phone-only hit would decline strangers. It is `BLACKLIST_PHONE`: the application is referred
  to a person (never approved automatically), not declined.

National ids are compared upper-cased without spaces; phones by their digits (a leading `+86` or
`0086` country code dropped), so `+86 138-0013-8000` and `13800138000` are the same phone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, or_, select

from arrears.store.db import unit_of_work
from arrears.store.events import record_event
from arrears.store.tables import BlacklistEntry

_NATIONAL_ID = re.compile(r"^[0-9A-Z-]{4,64}$")


class BlacklistError(ValueError):
    """A blacklist change that cannot be made; message in English then Chinese."""


class EntryNotFound(BlacklistError, LookupError):
    pass


def normal_national_id(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = re.sub(r"\s+", "", value).upper()
    if not _NATIONAL_ID.match(text):
        raise BlacklistError(
            f"national id {value!r} must be 4–64 letters, digits or '-' / 证件号码格式不正确"
        )
    return text


def normal_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = re.sub(r"[\s()+.-]", "", value)
    if not digits.isdigit():
        raise BlacklistError(
            f"phone {value!r} has characters other than digits / 电话号码格式不正确"
        )
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    if not 5 <= len(digits) <= 20:
        raise BlacklistError(f"phone {value!r} must have 5–20 digits / 电话号码位数不正确")
    return digits


def _mask(value: str | None) -> str | None:
    # events are permanent (the ledger): they name the entry, not the whole identifier
    return None if value is None else "*" * max(len(value) - 4, 0) + value[-4:]


@dataclass(frozen=True)
class Entry:
    id: int
    national_id: str | None
    phone: str | None
    name: str | None
    reason: str
    added_by: str
    added_at: datetime
    removed_by: str | None = None
    removed_at: datetime | None = None
    removal_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "national_id": self.national_id,
            "phone": self.phone,
            "name": self.name,
            "reason": self.reason,
            "added_by": self.added_by,
            "added_at": self.added_at.isoformat(),
            "active": self.active,
            "removed_by": self.removed_by,
            "removed_at": None if self.removed_at is None else self.removed_at.isoformat(),
            "removal_reason": self.removal_reason,
        }


def _entry(row: BlacklistEntry) -> Entry:
    return Entry(
        row.id, row.national_id, row.phone, row.name, row.reason, row.added_by, row.added_at,
        row.removed_by, row.removed_at, row.removal_reason,
    )  # fmt: skip


def add(
    engine: Engine,
    *,
    reason: str,
    by: str,
    national_id: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    now: datetime | None = None,
) -> Entry:
    """Add an entry; an identifier already actively listed is refused (one entry per person)."""
    nid, tel = normal_national_id(national_id), normal_phone(phone)
    if nid is None and tel is None:
        raise BlacklistError("give a national id or a phone / 须提供证件号码或电话号码")
    if not reason or not reason.strip():
        raise BlacklistError("an entry needs a reason / 须填写列入黑名单的原因")
    if not by or not by.strip():
        raise BlacklistError("an entry needs who adds it / 须填写操作人")
    with unit_of_work(engine) as session:
        same = _matching(session, [nid] if nid else [], [tel] if tel else [])
        if same:
            raise BlacklistError(
                f"already listed as entry {same[0].id} / 已在黑名单中（条目 {same[0].id}）"
            )
        row = BlacklistEntry(
            national_id=nid,
            phone=tel,
            name=(name or "").strip() or None,
            reason=reason.strip(),
            added_by=by.strip(),
            added_at=now or datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            "blacklist.added",
            payload={
                "entry_id": row.id,
                "national_id": _mask(nid),
                "phone": _mask(tel),
                "reason": row.reason,
                "by": row.added_by,
            },
        )
        return _entry(row)


def remove(
    engine: Engine, entry_id: int, *, reason: str, by: str, now: datetime | None = None
) -> Entry:
    if not reason or not reason.strip():
        raise BlacklistError("a removal needs a reason / 须填写移出黑名单的原因")
    with unit_of_work(engine) as session:
        row = session.get(BlacklistEntry, entry_id)
        if row is None:
            raise EntryNotFound(f"blacklist entry {entry_id} not found / 黑名单条目不存在")
        if row.removed_at is not None:
            raise BlacklistError(
                f"entry {entry_id} was removed on {row.removed_at:%Y-%m-%d} / 该条目已移出"
            )
        row.removed_by, row.removed_at = by.strip(), now or datetime.now(UTC)
        row.removal_reason = reason.strip()
        record_event(
            session,
            "blacklist.removed",
            payload={"entry_id": row.id, "reason": row.removal_reason, "by": row.removed_by},
        )
        return _entry(row)


def entries(engine: Engine, *, include_removed: bool = False) -> list[Entry]:
    query = select(BlacklistEntry).order_by(BlacklistEntry.id)
    if not include_removed:
        query = query.where(BlacklistEntry.removed_at.is_(None))
    with unit_of_work(engine) as session:
        return [_entry(r) for r in session.scalars(query)]


def _matching(session, national_ids: list[str], phones: list[str]) -> list[BlacklistEntry]:
    conditions = []
    if national_ids:
        conditions.append(BlacklistEntry.national_id.in_(national_ids))
    if phones:
        conditions.append(BlacklistEntry.phone.in_(phones))
    if not conditions:
        return []
    return list(
        session.scalars(
            select(BlacklistEntry)
            .where(BlacklistEntry.removed_at.is_(None), or_(*conditions))
            .order_by(BlacklistEntry.id)
        )
    )


@dataclass(frozen=True)
class Hits:
    national_ids: frozenset[str]  # listed national ids among those asked
    phones: frozenset[str]  # listed phones among those asked


def lookup(
    engine: Engine, national_ids: Iterable[str | None], phones: Iterable[str | None]
) -> Hits:
    """Which of these identifiers are actively listed (one query; identifiers normalised; a
    malformed one simply matches nothing — it was validated where it came in)."""

    def clean(values: Iterable[str | None], normal) -> list[str]:  # type: ignore[no-untyped-def]
        out = set()
        for v in values:
            try:
                n = normal(v)
            except BlacklistError:
                continue
            if n is not None:
                out.add(n)
        return sorted(out)

    nids, tels = clean(national_ids, normal_national_id), clean(phones, normal_phone)
    found_n: set[str] = set()
    found_p: set[str] = set()
    with unit_of_work(engine) as session:
        for start in range(0, max(len(nids), len(tels), 1), 500):
            for row in _matching(session, nids[start : start + 500], tels[start : start + 500]):
                if row.national_id in nids:
                    found_n.add(row.national_id)
                if row.phone in tels:
                    found_p.add(row.phone)
    return Hits(frozenset(found_n), frozenset(found_p))
