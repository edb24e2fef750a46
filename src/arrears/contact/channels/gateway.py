"""SMS, push and voice-robot messages over an HTTP gateway.

Requests are signed: `X-Arrears-Timestamp` and `X-Arrears-Signature` =
hex(HMAC-SHA256(secret, timestamp + "." + body)); the gateway signs its webhooks (delivery
receipts, borrowers' replies) the same way and `verify` checks them (with a freshness limit, so
an old request cannot be replayed). Every send carries `Idempotency-Key`; a gateway that honours
it answers a repeat with the first result instead of sending again. 5xx and connection errors are
retried with exponential backoff; 4xx is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.request

from arrears.contact.channels.base import (
    NotSentError,
    Outgoing,
    PermanentSendError,
    Sent,
    TransientSendError,
)

MAX_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
) -> bool:
    if not timestamp or not signature:
        return False
    try:
        age = abs((now if now is not None else time.time()) - float(timestamp))
    except ValueError:
        return False
    if age > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_signed(
    url: str, secret: str, payload: dict, *, headers: dict | None = None, timeout: float = 5
) -> tuple[int, dict]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = f"{time.time():.3f}"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Arrears-Timestamp": ts,
            "X-Arrears-Signature": sign(secret, ts, body),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}")
        except ValueError:
            detail = {}
        return exc.code, detail


def _never_connected(exc: BaseException) -> bool:
    """The request cannot have reached the gateway: no connection was made (refused, no such
    host). A reset or a timeout after connecting may have come after the gateway took it."""
    reason = getattr(exc, "reason", exc)  # urllib wraps the socket error in URLError
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class HttpGateway:
    channels = ("sms", "push", "robot", "voice")

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        callback_url: str | None = None,
        retries: int = 3,
        backoff: float = 0.2,
        timeout: float = 5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret, self.callback_url = secret, callback_url
        self.retries, self.backoff, self.timeout = retries, backoff, timeout

    def send(self, message: Outgoing) -> Sent:
        payload = {
            "channel": message.channel,
            "to": message.to,
            "body": message.body,
            "reference": message.message_id,
            "callback_url": self.callback_url,
        }
        last = ""
        reached = False  # whether any try may have reached the gateway (then the key must hold)
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                status, answer = post_signed(
                    f"{self.base_url}/v1/messages",
                    self.secret,
                    payload,
                    headers={"Idempotency-Key": message.idempotency_key},
                    timeout=self.timeout,
                )
            except (OSError, ValueError) as exc:  # refused, reset, timeout, garbled answer
                last = f"{type(exc).__name__}: {exc}"
                reached = reached or not _never_connected(exc)
                continue
            if status < 300:
                return Sent(gateway_id=str(answer.get("id", "")))
            if status >= 500 or status == 429:
                last = f"HTTP {status} {answer.get('error', '')}"
                reached = reached or status != 429  # a 429 turned the message away
                continue
            raise PermanentSendError(
                f"gateway refused 网关拒绝: HTTP {status} {answer.get('error', '')}"
            )
        error = TransientSendError if reached else NotSentError
        raise error(f"gateway unavailable after {self.retries + 1} tries 网关不可用: {last}")
