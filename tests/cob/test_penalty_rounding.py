"""The column engine rounds a day's penalty exactly as the single-loan rule does, exact halves
included (they are too rare for random tests to find)."""

from decimal import Decimal

import polars as pl
import pytest
from tests.loans.helpers import product

from arrears.cob.engine import daily_penalty
from arrears.cob.params import ROUNDING_CODE, rate_numerator
from arrears.loans import allocation


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "down"])
@pytest.mark.parametrize(
    ("base", "rate"),
    [
        (1000, "0.1825"),
        (3000, "0.1825"),
        (1, "0.365"),
        (999, "0.1825"),
        (123456789, "0.0599"),
        (10**12, "0.24"),
        (0, "0.1"),
        (7, "0"),
    ],
)
def test_daily_penalty_matches_the_rule(rounding, base, rate):
    """1,000 × 18.25% / 365 = 0.5 exactly: half-up 1, half-even 0, down 0 (and 3,000 → 1.5)."""
    expected = allocation.daily_penalty(base, Decimal(rate), product(rounding=rounding))
    got = pl.select(
        daily_penalty(
            pl.lit(base, pl.Int64),
            pl.lit(rate_numerator(rate), pl.Int64),
            pl.lit(ROUNDING_CODE[rounding]),
        )
    ).item()
    assert got == expected
