"""A local SMS / push / voice-robot gateway: a real HTTP server (stdlib, threaded) that checks
signatures, honours `Idempotency-Key`, posts signed delivery receipts to the sender's callback
URL, lets a test play a borrower replying, and injects failures on demand.

    python -m arrears.contact.channels.fake_gateway --port 8025 --secret s3cret

Endpoints: POST /v1/messages (send), GET /v1/messages (what was accepted, with replays counted),
POST /v1/faults {"fail_next": n, "status": 503, "accept_then_fail_next": n} (failure injection),
POST /v1/replies {"from": "+86…", "text": "paid", "callback_url": …} (a borrower answers).
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from arrears.contact.channels.gateway import post_signed, verify


class GatewayState:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}  # idempotency key → message
        self.order: list[str] = []
        self.replays = 0
        self.rejected_signatures = 0
        self.fail_next = 0
        self.fail_status = 503
        self.accept_then_fail_next = 0  # accept (and keep) the message, then answer 500
        self.receipts_sent = 0
        self.receipt_errors = 0


def _receipt(state: GatewayState, url: str, payload: dict[str, Any]) -> None:
    try:
        status, _ = post_signed(url, state.secret, payload, timeout=5)
        with state.lock:
            if status < 300:
                state.receipts_sent += 1
            else:
                state.receipt_errors += 1
    except OSError:
        with state.lock:
            state.receipt_errors += 1


class Handler(BaseHTTPRequestHandler):
    server: GatewayServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        state = self.server.state
        if self.path != "/v1/messages":
            return self._answer(404, {"error": "not found"})
        with state.lock:
            return self._answer(
                200,
                {
                    "messages": [state.accepted[k] for k in state.order],
                    "replays": state.replays,
                    "rejected_signatures": state.rejected_signatures,
                    "receipts_sent": state.receipts_sent,
                },
            )

    def do_POST(self) -> None:
        state = self.server.state
        raw = self._body()
        payload = json.loads(raw or b"{}")
        if self.path == "/v1/faults":
            with state.lock:
                state.fail_next = int(payload.get("fail_next", 0))
                state.fail_status = int(payload.get("status", 503))
                state.accept_then_fail_next = int(payload.get("accept_then_fail_next", 0))
            return self._answer(200, {"ok": True})
        if self.path == "/v1/replies":  # a borrower writes back
            reply = {
                "type": "reply",
                "id": payload.get("id") or f"R-{uuid.uuid4().hex[:12]}",
                "from": payload["from"],
                "channel": payload.get("channel", "sms"),
                "text": payload["text"],
            }
            status, answer = post_signed(payload["callback_url"], state.secret, reply)
            return self._answer(200, {"delivered_to_callback": status, "answer": answer})
        if self.path != "/v1/messages":
            return self._answer(404, {"error": "not found"})
        if not verify(
            state.secret,
            self.headers.get("X-Arrears-Timestamp"),
            raw,
            self.headers.get("X-Arrears-Signature"),
        ):
            with state.lock:
                state.rejected_signatures += 1
            return self._answer(401, {"error": "bad signature"})
        key = self.headers.get("Idempotency-Key")
        if not key:
            return self._answer(400, {"error": "Idempotency-Key required"})
        fail_after = False
        with state.lock:
            if state.fail_next > 0:
                state.fail_next -= 1
                return self._answer(state.fail_status, {"error": "injected failure"})
            if key in state.accepted:
                state.replays += 1
                message = state.accepted[key]
                return self._answer(200, {"id": message["id"], "replay": True})
            message = {
                "id": f"G-{uuid.uuid4().hex[:16]}",
                "key": key,
                "channel": payload.get("channel"),
                "to": payload.get("to"),
                "body": payload.get("body"),
                "reference": payload.get("reference"),
            }
            state.accepted[key] = message
            state.order.append(key)
            if state.accept_then_fail_next > 0:
                state.accept_then_fail_next -= 1
                fail_after = True
        callback = payload.get("callback_url")
        if callback:
            threading.Thread(
                target=_receipt,
                args=(
                    state,
                    callback,
                    {
                        "type": "receipt",
                        "id": message["id"],
                        "reference": message["reference"],
                        "status": "delivered",
                    },
                ),
                daemon=True,
            ).start()
        if fail_after:  # the message went out, but the sender never hears so
            return self._answer(500, {"error": "injected failure after accepting"})
        return self._answer(202, {"id": message["id"]})


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, secret: str) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = GatewayState(secret)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def start(secret: str, port: int = 0) -> GatewayServer:
    """A running gateway on loopback (port 0: any free port) in a background thread."""
    server = GatewayServer(port, secret)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="Local fake SMS/voice gateway 本地模拟短信网关")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    server = GatewayServer(args.port, args.secret)
    print(f"fake gateway on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
