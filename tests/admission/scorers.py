"""Scorers for the `--scorer MODULE:CALLABLE` tests: plain functions of the applications frame."""

from __future__ import annotations

import polars as pl


def by_income(frame: pl.DataFrame) -> list[float]:
    """700 for a monthly income of 10,000.00 or more, 500 below: enough to see it was used."""
    return [700.0 if income >= 10_000_00 else 500.0 for income in frame["monthly_income"]]
