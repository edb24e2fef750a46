"""The one adapter interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """A message ready to leave; `idempotency_key` is the same on every retry of this send."""

    message_id: str
    idempotency_key: str
    channel: str
    to: str
    body: str
    subject: str | None = None
    language: str = "zh"
    sent_on: date | None = None  # the day in the borrower's time zone (a letter is dated so)
    reference: str | None = None  # the loan or case it is about (a letter quotes it)


@dataclass(frozen=True)
class Sent:
    gateway_id: str
    delivered: bool = False  # some channels (letters) know at once


class TransientSendError(RuntimeError):
    """Worth retrying later (timeout, 5xx, connection refused)."""


class NotSentError(TransientSendError):
    """Worth retrying, and certainly not at the provider: the connection was refused, the mail
    server never greeted, the letter never reached the drop folder. Unlike a timeout or a 5xx,
    nothing can have gone out, so the retry is a new send that asks the guard again."""


class PermanentSendError(RuntimeError):
    """Retrying will not help (bad address, refused by the provider)."""


class Adapter(Protocol):
    channels: tuple[str, ...]

    def send(self, message: Outgoing) -> Sent: ...
