"""`arrears serve` builds the app on the configured database and hands it to uvicorn."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from arrears.cli import app as cli


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
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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
