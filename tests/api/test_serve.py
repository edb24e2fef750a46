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
