"""The local fake bureau: a real HTTP server (the standard library's threading server) that
answers `GET /v1/{source}/{borrower_id}` with the deterministic reports of `fake_data`, and can
be told to misbehave so the adapters' timeouts, retries and circuit breaker meet real failures.

Faults are set on the running server with `POST /_faults` (JSON, any of `latency_ms`,
`fail_next`, `fail_status`, `fail_every`) or from Python through `FakeBureau.faults`;
`GET /_stats` counts the report requests served per source, so a test can show that a refused
pull never reached the bureau. `FakeBureau(port=0).start()` runs it in a thread for tests;
`arrears bureau fake-server --port P` runs it in the foreground."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from arrears.bureau.fake_data import FakeReports, load_features
from arrears.bureau.sources import SOURCES


@dataclass
class Faults:
    latency_ms: int = 0  # every report answer waits this long first
    fail_next: int = 0  # the next N report requests fail with `fail_status`
    fail_status: int = 503
    fail_every: int = 0  # every Nth report request fails (0: never)


@dataclass
class Stats:
    requests: int = 0
    failed: int = 0
    by_source: dict[str, int] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client's delayed
    # ACK then costs ~40 ms per answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo
        if self.server.bureau.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        bureau = self.server.bureau
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts == ["health"]:
            return self._send(200, {"status": "ok"})
        if parts == ["_stats"]:
            with bureau.lock:
                return self._send(200, asdict(bureau.stats))
        if len(parts) != 3 or parts[0] != "v1" or parts[1] not in SOURCES:
            return self._send(404, {"error": "no such resource", "path": self.path})
        if bureau.api_key and self.headers.get("X-Api-Key") != bureau.api_key:
            return self._send(401, {"error": "missing or wrong X-Api-Key"})
        source, borrower_id = parts[1], parts[2]
        with bureau.lock:
            bureau.stats.requests += 1
            bureau.stats.by_source[source] = bureau.stats.by_source.get(source, 0) + 1
            faults = bureau.faults
            fail = faults.fail_next > 0 or (
                faults.fail_every > 0 and bureau.stats.requests % faults.fail_every == 0
            )
            if faults.fail_next > 0:
                faults.fail_next -= 1
            if fail:
                bureau.stats.failed += 1
            latency, status = faults.latency_ms, faults.fail_status
        if latency:
            time.sleep(latency / 1000)
        if fail:
            return self._send(status, {"error": "injected failure"})
        report = bureau.reports.report(source, borrower_id)
        if report is None:
            return self._send(404, {"error": "no record", "subject_id": borrower_id})
        return self._send(200, report)

    def do_POST(self) -> None:
        bureau = self.server.bureau
        if self.path != "/_faults":
            return self._send(404, {"error": "no such resource"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            with bureau.lock:
                for key, value in body.items():
                    if not hasattr(bureau.faults, key):
                        raise ValueError(f"unknown fault {key!r}")
                    setattr(bureau.faults, key, int(value))
                answer = asdict(bureau.faults)
        except (ValueError, TypeError, AttributeError) as exc:
            return self._send(422, {"error": str(exc)})
        return self._send(200, answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    bureau: FakeBureau

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its timeout, during injected latency) closes the socket under
        # the answer: expected here, not worth a traceback on the test's output.
        if isinstance(sys.exc_info()[1], ConnectionError) and not self.bureau.verbose:
            return
        super().handle_error(request, client_address)


class FakeBureau:
    """The fake bureau server. `with FakeBureau(port=0) as bureau:` serves on a free loopback
    port in a thread; `bureau.url` is its base URL."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        features: Path | None = None,
        api_key: str | None = None,
        faults: Faults | None = None,
        verbose: bool = False,
    ) -> None:
        self.reports = FakeReports(load_features(features) if features else None)
        self.api_key = api_key
        self.faults = faults or Faults()
        self.stats = Stats()
        self.lock = threading.Lock()
        self.verbose = verbose
        self._server = _Server((host, port), _Handler)
        self._server.bureau = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def set_faults(self, **changes: int) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self.faults, key, value)

    def reset(self) -> None:
        with self.lock:
            self.faults = Faults()
            self.stats = Stats()

    def start(self) -> FakeBureau:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeBureau:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
