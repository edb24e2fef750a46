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


SIM_END = "2026-11-30"


@pytest.fixture(scope="session")
def sim_book(tmp_path_factory):
    """A simulated book of 2500 loans over 24 months, imported into SQLite and closed at every
    month-end: `dir/book` (the files) and `dir/arrears.db`."""
    from datetime import date

    from arrears.catalog import load_catalog
    from arrears.cob.book import load_book
    from arrears.cob.runner import business_days, close_business
    from arrears.config import Settings
    from arrears.imports.book import import_book
    from arrears.sim import SimConfig, simulate, write_book
    from arrears.store.db import make_engine, upgrade

    root = tmp_path_factory.mktemp("scoring-book")
    catalog = load_catalog(Settings.from_env().products_file)
    book = simulate(SimConfig(loans=2500, months=24, seed=11, end=date(2026, 11, 30)), catalog)
    write_book(book, root / "book", "parquet")
    url = f"sqlite:///{root / 'arrears.db'}"
    upgrade(url)
    engine = make_engine(url)
    import_book(engine, root / "book", catalog, allow_extra=True)
    loaded = load_book(engine, catalog)
    for day in business_days(date(2024, 11, 30), date(2026, 11, 30), True):
        close_business(engine, catalog, day, root / "data", book=loaded)
    engine.dispose()
    return root
