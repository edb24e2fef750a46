"""`arrears serve` builds the app on the configured database and hands it to uvicorn."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from arrears.cli import app as cli
from tests.net import free_port


def test_serve_runs_the_app_with_uvicorn(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("ARREARS_DATA_DIR", str(tmp_path / "data"))
    assert CliRunner().invoke(cli, ["--db", url, "db", "upgrade"]).exit_code == 0
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    result = CliRunner().invoke(cli, ["--db", url, "serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    ((application, options),) = calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8123
    assert "/api/v1/loans/{loan_id}" in application.openapi()["paths"]
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o077 == 0


def test_serve_refuses_a_database_without_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'none.db'}", "serve"])
    assert result.exit_code == 2 and "arrears db upgrade" in result.output


def test_serve_with_worker_processes_answers_on_loopback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`--workers 2` starts real worker processes that build the app from the same settings."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    port = free_port()
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    env = {**os.environ, "ARREARS_DATA_DIR": str(tmp_path / "data")}
    exe = str(Path(sys.executable).with_name("arrears"))
    subprocess.run([exe, "--db", url, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [exe, "--db", url, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=2).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert status == 401  # the API is up and refuses an anonymous caller
        assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


# ------------------------------------------------------------------ the serving supervisor


def _pids_behind(port: int, connections: int, timeout: float = 60.0) -> set[int]:
    """Open `connections` keep-alive connections and ask on each which worker serves it."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while True:  # until the workers listen
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(connections)]
    try:
        return {int(client.get("/").text) for client in clients}
    finally:
        for client in clients:
            client.close()


def _supervise(supervisor, check):  # type: ignore[no-untyped-def]
    """Run `supervisor` in this (main) thread, which its signal handlers need, while `check`
    runs beside it and stops it; returns the supervisor's exit code and `check`'s result."""
    import threading

    outcome: dict[str, object] = {}

    def beside() -> None:
        try:
            outcome["result"] = check()
        except BaseException as exc:  # reported below, in the test's thread
            outcome["error"] = exc
        finally:
            supervisor.stop()

    thread = threading.Thread(target=beside, daemon=True)
    thread.start()
    code = supervisor.run()
    thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return code, outcome.get("result")


def test_each_worker_listens_on_its_own_socket_and_gets_a_share_of_connections() -> None:
    """With one shared socket, the worker that woke first took most keep-alive connections
    (51 of 64 measured); each worker's own SO_REUSEPORT socket lets the kernel spread them."""
    from arrears.api.workers import Supervisor

    port = free_port()
    supervisor = Supervisor(
        "tests.api.tiny_asgi:pid_app", "127.0.0.1", port, 2, log_level="warning"
    )
    code, pids = _supervise(supervisor, lambda: _pids_behind(port, 40))
    assert code == 0
    # 40 connections all hashed to one of two sockets: a chance of 2 in 2**40.
    assert pids == {process.pid for process, _ in supervisor.processes}
    assert len(pids) == 2
    assert all(not process.is_alive() for process, _ in supervisor.processes)  # stopped


def test_a_worker_that_dies_while_serving_is_replaced() -> None:
    import os
    import signal
    import time

    from arrears.api import workers

    port = free_port()
    supervisor = workers.Supervisor(
        "tests.api.tiny_asgi:pid_app", "127.0.0.1", port, 2, log_level="warning"
    )

    def kill_one_and_wait() -> tuple[set[int], set[int]]:
        before = _pids_behind(port, 40)
        victim = min(before)  # killed by a signal: replaced, even within the start-up grace
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            after = _pids_behind(port, 40)
            if len(after) == 2 and victim not in after:
                return before, after
            time.sleep(0.3)
        raise AssertionError(f"no replacement for worker {victim}: {after}")

    code, (before, after) = _supervise(supervisor, kill_one_and_wait)
    assert code == 0
    assert len(before & after) == 1  # the survivor kept serving; the other is new


def test_a_worker_that_cannot_start_stops_the_server() -> None:
    import time

    from arrears.api.workers import Supervisor

    supervisor = Supervisor(
        "tests.api.tiny_asgi:broken_app", "127.0.0.1", free_port(), 2, log_level="critical"
    )
    began = time.monotonic()
    assert supervisor.run() == 1
    assert time.monotonic() - began < 60  # no restart loop
    assert all(not process.is_alive() for process, _ in supervisor.processes)


def test_serve_refuses_a_port_that_is_taken(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SO_REUSEPORT would let the workers join another server's port unnoticed; a plain bind
    first makes it an error, before any worker starts."""
    import socket

    url = f"sqlite:///{tmp_path / 'taken.db'}"
    monkeypatch.setenv("ARREARS_DATA_DIR", str(tmp_path / "data"))
    assert CliRunner().invoke(cli, ["--db", url, "db", "upgrade"]).exit_code == 0
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["--db", url, "serve", "--port", str(port), "--workers", "2"]
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "端口已被占用" in result.output


def test_workers_stop_when_the_supervisor_is_killed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL leaves the supervisor no chance to stop its workers: they notice and stop, rather
    than keep the port and serve on as orphans."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    code = (
        "from arrears.api.workers import Supervisor; "
        f"Supervisor('tests.api.tiny_asgi:pid_app', '127.0.0.1', {port}, 2, "
        "log_level='warning').run()"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", code], cwd=root)
    try:
        workers = _pids_behind(port, 40)
        assert len(workers) == 2
    finally:
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(timeout=30)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie (exited, not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"

    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers)
