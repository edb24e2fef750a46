"""`arrears simulate` writes a book that `arrears import` accepts unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from arrears.cli import app
from arrears.store.db import upgrade

runner = CliRunner()


def test_simulate_then_import(tmp_path: Path) -> None:
    out = tmp_path / "book"
    result = runner.invoke(
        app,
        [
            "--business-date",
            "2026-11-30",
            "simulate",
            "--loans",
            "500",
            "--months",
            "6",
            "--seed",
            "9",
            "--out",
            str(out),
            "--format",
            "parquet",
            "--stress",
            "2026-09",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["loans"] == 500
    assert summary["end"] == "2026-11-30"
    assert summary["files"]["truth"]["rows"] == 500
    assert (out / "features.parquet").exists()
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    upgrade(url)
    imported = runner.invoke(app, ["--db", url, "import", str(out), "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["loans"] == 500


def test_simulate_refuses_a_bad_stress_month(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "--loans", "5", "--months", "2", "--out", str(tmp_path), "--stress", "March"],
    )
    assert result.exit_code == 2
    assert "--stress" in result.output
