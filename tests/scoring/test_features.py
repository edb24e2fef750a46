"""The B- and C-card characteristics on a history small enough to follow by hand."""

from datetime import date, timedelta

import polars as pl
import pytest

from arrears.scoring import features as f

MONTH_ENDS_2025 = [
    date(2025, m + 1, 1) - timedelta(days=1) if m < 12 else date(2025, 12, 31) for m in range(1, 13)
]
# L1's DPD at each 2025 month-end: late in April, July (45 days) and October, cured each time
L1_DPD = [0, 0, 0, 10, 0, 0, 45, 0, 0, 5, 0, 0]


def _history() -> f.History:
    snaps = []
    for day, dpd in zip(MONTH_ENDS_2025, L1_DPD, strict=True):
        snaps.append(("L1", day, "overdue" if dpd else "active", dpd, 400, 0))
    snaps += [
        ("L1", date(2026, 1, 31), "overdue", 20, 400, 50),
        ("L1", date(2026, 2, 28), "overdue", 61, 400, 150),
        ("L2", date(2025, 12, 31), "paid_off", 0, 0, 0),
        ("L3", date(2025, 11, 30), "active", 0, 800, 0),
        ("L3", date(2025, 12, 31), "overdue", 30, 800, 120),
        ("L3", date(2026, 1, 31), "active", 0, 700, 0),
        ("L3", date(2026, 2, 28), "active", 0, 600, 0),
    ]
    snapshots = pl.DataFrame(snaps, schema=f.SNAPSHOT_SCHEMA, orient="row")
    loans = pl.DataFrame(
        [
            ("L1", "B1", "consumer", 1000, 12, date(2025, 1, 15)),
            ("L2", "B2", "card", 500, 6, date(2025, 3, 1)),
            ("L3", "B3", "card", 1000, 12, date(2025, 10, 1)),
        ],
        schema=f.LOAN_SCHEMA,
        orient="row",
    )
    dues = pl.DataFrame(
        [("L1", date(2025, m, 15), 100) for m in range(2, 13)], schema=f.DUE_SCHEMA, orient="row"
    )
    paid = pl.DataFrame(
        [
            ("L1", date(2025, 7, 20), 100),
            ("L1", date(2025, 8, 29), 100),
            ("L1", date(2025, 9, 15), 100),
            ("L1", date(2025, 11, 3), 100),
            ("L1", date(2025, 12, 15), 100),
            ("L3", date(2025, 12, 20), 80),
        ],
        schema=f.PAID_SCHEMA,
        orient="row",
    )
    return f.History(snapshots, loans, dues, paid)


def test_the_repayment_history_of_one_loan():
    rows = f.account_features(_history(), date(2025, 12, 31))
    l1 = rows.filter(pl.col("loan_id") == "L1").row(0, named=True)
    assert l1["max_dpd_3m"] == 5  # October, November, December
    assert l1["max_dpd_6m"] == 45  # July
    assert l1["max_dpd_12m"] == 45
    assert l1["times_overdue_12m"] == 3  # April, July, October
    assert l1["times_30plus_12m"] == 1  # July
    assert l1["cures_12m"] == 3  # back to 0 DPD after each
    # due 15 Jul … 15 Dec: 6 × 100; paid in (1 Jul, 31 Dec]: 5 × 100
    assert l1["payment_ratio_6m"] == pytest.approx(500 / 600)
    assert l1["months_on_book"] == 11  # 350 days
    assert l1["balance_ratio"] == pytest.approx(0.4)


def test_closed_loans_are_not_scored():
    rows = f.account_features(_history(), date(2025, 12, 31))
    assert "L2" not in rows.get_column("loan_id").to_list()


def test_nothing_due_in_the_window_is_missing_not_zero():
    rows = f.account_features(_history(), date(2025, 12, 31))
    l3 = rows.filter(pl.col("loan_id") == "L3").row(0, named=True)
    assert l3["payment_ratio_6m"] is None
    assert l3["paid_30d"] == 80
    assert l3["overdue_ratio"] == pytest.approx(0.12)


def test_behaviour_target_is_reaching_bad_dpd_within_the_horizon():
    frame = f.behaviour_frame(_history(), date(2025, 12, 31), horizon_months=6, bad_dpd=60)
    # L3 is at 30 DPD, below 60, so it is in the population too
    assert dict(zip(frame["loan_id"], frame["bad"], strict=True)) == {"L1": 1, "L3": 0}
    short = f.behaviour_frame(_history(), date(2025, 12, 31), horizon_months=1, bad_dpd=60)
    assert dict(zip(short["loan_id"], short["bad"], strict=True))["L1"] == 0


def test_collection_population_is_the_overdue_and_bad_means_not_cured():
    frame = f.collection_frame(_history(), date(2025, 12, 31), cure_days=31)
    assert frame.get_column("loan_id").to_list() == ["L3"]
    assert frame.get_column("bad").to_list() == [0]  # cured by 31 January
    later = f.collection_frame(_history(), date(2026, 1, 31), cure_days=31)
    assert dict(zip(later["loan_id"], later["bad"], strict=True)) == {"L1": 1}


def test_observation_dates_need_their_outcome_window():
    # the history ends 28 Feb 2026: 31 January plus 31 days is not over yet
    dates = f.observation_dates(_history(), horizon_days=31, count=2)
    assert dates == [date(2025, 11, 30), date(2025, 12, 31)]
    assert f.observation_dates(_history(), horizon_days=28, count=1) == [date(2026, 1, 31)]
    with pytest.raises(f.NoHistory, match="no observation date"):
        f.observation_dates(_history(), horizon_days=400, count=2)


def test_simulated_applications_have_a_full_performance_window(sim_book):
    rows = f.simulated_applications(sim_book / "book")
    loans = pl.read_parquet(sim_book / "book" / "loans.parquet")
    last = loans.get_column("disbursed_on").max()
    assert rows.height > 0
    assert (rows.get_column("principal") > 0).all()
    # every row was disbursed at least 12 months before the last disbursement
    kept = loans.filter(pl.col("loan_id").is_in(rows.get_column("loan_id").implode()))
    assert kept.get_column("disbursed_on").max() <= last.replace(year=last.year - 1)
    assert set(rows.get_column("bad").unique().to_list()) == {0, 1}


def test_read_history_reads_the_same_book_on_every_database(engine, tmp_path):
    """The example book closed at three month-ends, read back on SQLite and PostgreSQL."""
    from pathlib import Path

    from arrears.catalog import load_catalog
    from arrears.cob.runner import close_business
    from arrears.imports import import_book

    examples = Path(__file__).resolve().parents[2] / "examples" / "book"
    catalog = load_catalog()
    import_book(engine, examples, catalog)
    closes = [date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)]
    for day in closes:
        close_business(engine, catalog, day, tmp_path / "data")
    history = f.read_history(engine)
    assert history.dates == closes
    assert history.snapshots.schema == pl.Schema(f.SNAPSHOT_SCHEMA)
    loans = history.loans.height
    assert loans > 0 and history.dues.height > loans
    overdue = history.snapshots.filter(pl.col("days_past_due") > 0)
    assert (overdue.get_column("overdue_amount") > 0).all()
    rows = f.account_features(history, closes[-1])
    assert (
        rows.height
        == history.snapshots.filter(
            (pl.col("as_of") == closes[-1]) & ~pl.col("status").is_in(f.CLOSED)
        ).height
    )
