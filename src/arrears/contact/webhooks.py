"""The webhook receiver the gateway calls back: a small signed-JSON HTTP server (stdlib) that
`arrears worker --webhook-port` runs beside the worker. Unsigned or stale requests get 401 and
change nothing; a body that is not a receipt or a reply gets 422."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine

from arrears.contact.channels.gateway import verify
from arrears.contact.replies import handle_receipt, handle_reply


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.server.activity(+1)
        try:
            self._post()
        finally:
            self.server.activity(-1)

    def _post(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not verify(
            self.server.secret,
            self.headers.get("X-Arrears-Timestamp"),
            raw,
            self.headers.get("X-Arrears-Signature"),
        ):
            return self._answer(401, {"error": "bad signature 签名无效"})
        try:
            payload = json.loads(raw)
            kind = payload["type"]
        except (ValueError, KeyError, TypeError):
            return self._answer(422, {"error": "expected JSON with type receipt|reply 格式无效"})
        if kind == "receipt":
            return self._answer(200, {"matched": handle_receipt(self.server.engine, payload)})
        if kind == "reply" and {"id", "from", "text"} <= set(payload):
            return self._answer(
                200, handle_reply(self.server.engine, payload, today=self.server.today())
            )
        return self._answer(422, {"error": f"unknown webhook {kind!r} 未知回调"})


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, engine: Engine, secret: str, port: int, today: Callable[[], date]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.engine, self.secret, self.today = engine, secret, today
        self._lock = threading.Lock()
        self.busy = 0  # requests being handled now
        self.last = time.monotonic()  # when a request last began or ended

    def activity(self, change: int) -> None:
        with self._lock:
            self.busy += change
            self.last = time.monotonic()

    def wait_quiet(self, quiet: float, limit: float) -> bool:
        """Wait until no request has been handled for `quiet` seconds (the receipts in flight
        have landed), at most `limit` seconds; True when it went quiet."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self._lock:
                if not self.busy and time.monotonic() - self.last >= quiet:
                    return True
            time.sleep(0.05)
        return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/gateway"


def start(
    engine: Engine, secret: str, port: int = 0, today: Callable[[], date] = date.today
) -> WebhookServer:
    server = WebhookServer(engine, secret, port, today)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
