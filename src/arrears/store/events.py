"""The append-only event log: every change that moves money or a credit record leaves a row.

An event is added to the caller's session and so commits or rolls back with the change it
records; this module never commits. Payloads are stored as JSON, so dates and decimals are
converted to their text form first (`to_json_payload`) rather than left for a driver to guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.store.tables import Event

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def _convert(value: Any, path: str) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"payload{path}: {value!r} has no JSON form")
        return value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"payload{path}: naive datetime {value!r}, give a UTC timestamp")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _convert(value.value, path)
    if isinstance(value, Mapping):
        out: dict[str, JsonValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"payload{path}: key {key!r} is not a string")
            out[key] = _convert(item, f"{path}.{key}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_convert(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"payload{path}: {type(value).__name__} is not JSON-serialisable")


def to_json_payload(payload: Mapping[str, Any]) -> dict[str, JsonValue]:
    """`payload` with dates as ISO text, Decimals (and UUIDs) as text, tuples as lists and
    timestamps as UTC ISO text. Raises TypeError/ValueError naming the offending key, so a bad
    event fails where it is built rather than inside a flush."""
    converted = _convert(payload, "")
    if not isinstance(converted, dict):
        raise TypeError(f"payload must be a mapping, not {type(payload).__name__}")
    return converted


def record_event(
    session: Session,
    type: str,
    *,
    loan_id: str | None = None,
    borrower_id: str | None = None,
    payload: Mapping[str, Any],
) -> Event:
    """Add an event to `session`'s transaction and return it with its `seq` assigned.

    The session is flushed (not committed) so `seq` is known at once: the ledger appends the
    event as a leaf in the same transaction and needs it.
    """
    row = Event(
        type=type,
        loan_id=loan_id,
        borrower_id=borrower_id,
        payload=to_json_payload(payload),
        occurred_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row


def list_events(
    session: Session, loan_id: str | None = None, after_seq: int = 0, limit: int = 100
) -> list[Event]:
    """Events in `seq` order after `after_seq` (a reader's cursor), optionally for one loan.

    `seq` is taken at insert time, so on PostgreSQL two concurrent transactions may commit out
    of `seq` order: a cursor can move past an event that becomes visible later, and a consumer
    that must see every event has to allow for that.
    """
    query = select(Event).where(Event.seq > after_seq)
    if loan_id is not None:
        query = query.where(Event.loan_id == loan_id)
    return list(session.scalars(query.order_by(Event.seq).limit(limit)))
