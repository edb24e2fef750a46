"""`arrears serve --workers N`: N server processes on one port, each with a listening socket of
its own (SO_REUSEPORT), watched by this process.

Why not uvicorn's own `--workers`: it shares one listening socket among the workers, and the
worker that wakes first accepts every connection then waiting. Keep-alive connections (from a
reverse proxy, a load balancer, a load generator) stay where they landed: 51, 46 and 36 of 64
connections went to one worker of two in three starts, and that worker ran saturated while the
other idled. With one socket per worker the kernel spreads new connections over the sockets by a
hash of their addresses (29/35 measured). Figures under load: docs/api.md.

The supervisor restarts a worker that dies while serving (killed by a signal, or exited after
its start-up); a worker that exits with an error while starting (a bad setting, an unreachable
database) stops the whole server with an error instead of a restart loop. SIGINT/SIGTERM stop
the workers gracefully (uvicorn finishes the requests in flight); a worker whose supervisor was
killed outright stops by itself. Where the platform has no SO_REUSEPORT, uvicorn's own
supervisor is used.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess

log = logging.getLogger("arrears.serve")

# A worker that exits with an error sooner than this after its start failed to start (import,
# settings, database) and would fail again: the server stops rather than restart it forever.
# Generous, because importing everything took 13-18 s on a heavily loaded machine.
STARTUP_GRACE = 60.0  # seconds
POLL = 0.5  # seconds between checks of the workers
STOP_WAIT = 30.0  # seconds a worker gets to finish its requests before it is killed
BACKLOG = 2048


class AddressInUse(RuntimeError):
    """The host and port are taken by another program (or another `arrears serve`)."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_address(host: str, port: int) -> None:
    """Refuse a port another program listens on. The workers' sockets share the port with each
    other (SO_REUSEPORT), which would also let them join a second `arrears serve` on the same
    port silently; a plain bind first makes that an error."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AddressInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def worker_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that shares the port with the other workers' sockets."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _leave_with_parent() -> None:
    """Stop this worker (gracefully, as SIGTERM does) when the supervisor is gone: killed
    outright, it cannot stop its workers, and orphans would keep the port and serve on."""
    import os

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL)
        log.warning("the supervisor %s is gone; worker %s stops", parent, os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve_one(factory: str, host: str, port: int, access_log: bool, log_level: str) -> None:
    """One worker process: its own socket, its own app from the environment's settings."""
    import uvicorn

    _leave_with_parent()
    sock = worker_socket(host, port)
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        access_log=access_log,
        log_level=log_level,
        backlog=BACKLOG,
    )
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class Supervisor:
    """Starts `workers` processes serving `factory` (an import string of an app factory) on
    `host:port` and keeps them running until told to stop."""

    factory: str
    host: str
    port: int
    workers: int
    access_log: bool = False
    log_level: str = "info"
    processes: list[tuple[BaseProcess, float]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def _start(self) -> tuple[BaseProcess, float]:
        process = multiprocessing.get_context("spawn").Process(
            target=_serve_one,
            args=(self.factory, self.host, self.port, self.access_log, self.log_level),
            name="arrears-worker",
        )
        process.start()
        log.info("worker %s started", process.pid)
        return process, time.monotonic()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Serve until SIGINT/SIGTERM (0) or until a worker fails to start (1)."""
        check_address(self.host, self.port)
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            self.processes = [self._start() for _ in range(self.workers)]
            while not self.stopping.wait(POLL):
                for k, (process, started) in enumerate(self.processes):
                    if process.is_alive():
                        continue
                    # A negative code is a signal (the OOM killer, an operator): not a start-up
                    # failure, whenever it came.
                    failed = (process.exitcode or 0) > 0
                    if failed and time.monotonic() - started < STARTUP_GRACE:
                        log.error(
                            "worker %s exited while starting (code %s); stopping",
                            process.pid,
                            process.exitcode,
                        )
                        code = 1
                        self.stopping.set()
                        break
                    log.warning(
                        "worker %s exited (code %s); starting another",
                        process.pid,
                        process.exitcode,
                    )
                    self.processes[k] = self._start()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return code

    def _stop_all(self) -> None:
        for process, _ in self.processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_WAIT
        for process, _ in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %s did not stop in %.0f s; killed", process.pid, STOP_WAIT)
                process.kill()
                process.join()


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")
