import numpy as np
import polars as pl
import pytest


@pytest.fixture(scope="session")
def credit_data():
    """A synthetic application book whose true log-odds are known: risk rises with inquiries,
    falls with income, `gig` work is riskier, and `noise` carries nothing."""
    rng = np.random.default_rng(7)
    n = 12000
    income = rng.lognormal(9.1, 0.5, n)
    inquiries = rng.poisson(1.2, n).astype(float)
    employment = rng.choice(["salaried", "self_employed", "gig"], n, p=[0.6, 0.25, 0.15])
    noise = rng.normal(size=n)
    z = (
        -2.6
        + 0.45 * inquiries
        - 0.9 * np.log(income / 9000)
        + np.where(employment == "gig", 0.9, 0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int8)
    inquiries[:300] = np.nan  # no bureau file
    income[300:400] = -1  # a special code: "declined to state"
    frame = pl.DataFrame(
        {
            "monthly_income": income,
            "inquiries_6m": inquiries,
            "employment": employment,
            "noise": noise,
        }
    )
    return frame, y, z
