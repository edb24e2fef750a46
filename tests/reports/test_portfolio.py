"""Each portfolio metric on a hand-made frame, with the answer worked out by hand (RULES.md §2.2,
R3–R6). Money is in minor units; the numbers are small so the fractions can be checked."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from arrears.catalog import load_catalog
from arrears.loans.bands import table
from arrears.reports import portfolio as pf

from .helpers import snap

BUCKETS = ["M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"]

# A: current; B: 31 DPD; C: 95 DPD; D: written off; E: 10 DPD, restructured; F: paid off.
BOOK = snap(
    [
        ("A", "active", 0, "M0", "normal", 1, 1_000),
        ("B", "overdue", 31, "M2", "special_mention", 2, 2_000),
        ("C", "overdue", 95, "M4", "substandard", 3, 3_000),
        ("D", "written_off", 200, "M6+", "loss", 3, 4_000),
        ("E", "overdue", 10, "M1", "doubtful", 2, 5_000),
        ("F", "paid_off", 0, "M0", "normal", 1, 0),
    ]
).with_columns(restructured=pl.col("loan_id") == "E")


# ------------------------------------------------------------------------------ distributions


def test_by_bucket_counts_loans_on_book_in_catalog_order_with_zeros():
    frame = BOOK.pipe(pf.by_bucket, BUCKETS)
    assert frame.get_column("bucket").to_list() == BUCKETS
    rows = {r["bucket"]: (r["count"], r["balance"]) for r in frame.iter_rows(named=True)}
    # D (written off) and F (paid off) are off book
    assert rows["M0"] == (1, 1_000)
    assert rows["M1"] == (1, 5_000)
    assert rows["M2"] == (1, 2_000)
    assert rows["M4"] == (1, 3_000)
    assert rows["M6+"] == (0, 0)
    assert frame.get_column("count").sum() == 4


def test_by_classification_and_stage_have_every_category():
    classes = BOOK.pipe(pf.by_classification)
    assert classes.get_column("classification").to_list() == [
        "normal",
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    assert classes.filter(pl.col("classification") == "loss").row(0)[1:] == (0, 0)
    stages = BOOK.pipe(pf.by_stage)
    assert stages.get_column("ifrs9_stage").to_list() == [1, 2, 3]
    assert stages.get_column("balance").to_list() == [1_000, 7_000, 3_000]
    assert pf.written_off_totals(BOOK) == (1, 4_000)


# ------------------------------------------------------------------------------ PAR, NPL (R5)


def test_par_uses_full_balance_and_excludes_written_off():
    # live total = 1000 + 2000 + 3000 + 5000 = 11000 (D written off: in neither side)
    # PAR30 = (B 2000 + C 3000 + E 5000 restructured) / 11000
    assert pf.par(BOOK, 30) == pytest.approx(10_000 / 11_000)
    assert pf.par(BOOK, 90) == pytest.approx(8_000 / 11_000)


def test_par_restructured_flag():
    # excluded: only DPD counts → PAR30 = (2000 + 3000) / 11000, PAR90 = 3000 / 11000
    assert pf.par(BOOK, 30, include_restructured=False) == pytest.approx(5_000 / 11_000)
    assert pf.par(BOOK, 90, include_restructured=False) == pytest.approx(3_000 / 11_000)


def test_par_threshold_is_strictly_greater():
    book = snap(
        [
            ("A", "overdue", 30, "M1", "special_mention", 1, 100),
            ("B", "active", 0, "M0", "normal", 1, 100),
        ]
    )
    assert pf.par(book, 30) == 0.0
    assert pf.par(book, 29) == pytest.approx(0.5)


def test_npl_ratio_is_substandard_doubtful_loss_over_live_total():
    # NPL = C substandard 3000 + E doubtful 5000 (D loss is written off → excluded)
    assert pf.npl_ratio(BOOK) == pytest.approx(8_000 / 11_000)


def test_ratios_of_an_empty_book_are_none():
    empty = BOOK.filter(pl.col("status") == "written_off")
    assert pf.par(empty, 30) is None
    assert pf.npl_ratio(empty) is None


def test_trend_one_row_per_date():
    later = BOOK.with_columns(as_of=pl.lit(date(2026, 2, 28)), days_past_due=pl.lit(0, pl.Int64))
    frame = pl.concat([BOOK, later]).pipe(pf.trend, include_restructured=False)
    assert frame.get_column("as_of").to_list() == [date(2026, 1, 31), date(2026, 2, 28)]
    assert frame.get_column("par30").to_list() == pytest.approx([5 / 11, 0.0])
    assert frame.get_column("loans").to_list() == [4, 4]
    assert frame.get_column("outstanding_principal").to_list() == [11_000, 11_000]


# ------------------------------------------------------------------------------ roll rates (R4)

JAN = snap(
    [
        ("a", "active", 0, "M0", "normal", 1, 1_000),
        ("b", "active", 0, "M0", "normal", 1, 3_000),
        ("c", "overdue", 5, "M1", "special_mention", 1, 2_000),
        ("d", "overdue", 20, "M1", "special_mention", 1, 6_000),
        ("e", "overdue", 25, "M1", "special_mention", 1, 2_000),
        ("f", "overdue", 50, "M2", "special_mention", 2, 500),
    ],
    date(2026, 1, 31),
)
FEB = snap(
    [
        ("a", "active", 0, "M0", "normal", 1, 900),  # stays current
        ("b", "overdue", 10, "M1", "special_mention", 1, 3_000),  # rolls forward
        ("c", "active", 0, "M0", "normal", 1, 1_800),  # cures
        ("d", "overdue", 48, "M2", "special_mention", 2, 6_000),  # rolls forward
        # e: gone from the book (paid off)
        ("f", "written_off", 78, "M3", "loss", 3, 500),  # written off
        ("g", "active", 0, "M0", "normal", 1, 7_000),  # new loan: no row at t−1
    ],
    date(2026, 2, 28),
)


def _rate(matrix: pl.DataFrame, i: str, j: str) -> float | None:
    return matrix.filter((pl.col("from_bucket") == i) & (pl.col("to_state") == j)).item(0, "rate")


def test_roll_matrix_worked_example():
    m = pf.roll_matrix(JAN, FEB, BUCKETS)
    # row M0: B(t−1) = 1000 + 3000 → M0 1/4, M1 3/4
    assert _rate(m, "M0", "M0") == pytest.approx(0.25)
    assert _rate(m, "M0", "M1") == pytest.approx(0.75)
    # row M1: 2000 + 6000 + 2000 → M0 0.2 (c), M2 0.6 (d), paid_off 0.2 (e left the book)
    assert _rate(m, "M1", "M0") == pytest.approx(0.2)
    assert _rate(m, "M1", "M2") == pytest.approx(0.6)
    assert _rate(m, "M1", "paid_off") == pytest.approx(0.2)
    # row M2: f written off (absorbing)
    assert _rate(m, "M2", "written_off") == pytest.approx(1.0)
    # columns: the buckets then the absorbing states
    assert m.get_column("to_state").unique(maintain_order=True).to_list() == [
        *BUCKETS,
        "paid_off",
        "written_off",
    ]


def test_roll_matrix_rows_sum_to_one():
    m = pf.roll_matrix(JAN, FEB, BUCKETS)
    sums = m.group_by("from_bucket").agg(pl.col("rate").sum(), pl.col("row_total").first())
    for row in sums.filter(pl.col("row_total") > 0).iter_rows(named=True):
        assert abs(row["rate"] - 1) <= 1e-9, row
    # a bucket with no balance at t−1 has null rates, not a fake row
    assert m.filter(pl.col("from_bucket") == "M5").get_column("rate").null_count() == 10


def test_roll_matrix_count_weighted():
    m = pf.roll_matrix(JAN, FEB, BUCKETS, weight="count")
    assert _rate(m, "M1", "M0") == pytest.approx(1 / 3)
    assert _rate(m, "M0", "M1") == pytest.approx(1 / 2)


def test_roll_matrix_wide_is_a_table():
    wide = pf.roll_matrix_wide(pf.roll_matrix(JAN, FEB, BUCKETS))
    assert wide.columns == ["from_bucket", "row_total", *BUCKETS, "paid_off", "written_off"]
    assert wide.filter(pl.col("from_bucket") == "M1").item(0, "row_total") == 10_000


def test_flow_rates_are_the_next_bucket_column():
    flows = pf.flow_rates(pf.roll_matrix(JAN, FEB, BUCKETS), BUCKETS)
    rows = {r["from_bucket"]: r for r in flows.iter_rows(named=True)}
    assert rows["M0"]["to_bucket"] == "M1"
    assert rows["M0"]["rate"] == pytest.approx(0.75)  # 3000 / 4000
    assert rows["M1"]["rate"] == pytest.approx(0.6)  # 6000 / 10000
    assert rows["M2"]["rate"] == 0.0  # f was written off, not rolled to M3
    assert rows["M3"]["rate"] is None  # nothing in M3 at t−1
    assert "M6+" not in rows


def test_cure_rates_by_bucket_and_overall():
    matrix = pf.roll_matrix(JAN, FEB, BUCKETS)
    cures = {r["bucket"]: r for r in pf.cure_rates(matrix, BUCKETS).iter_rows(named=True)}
    assert cures["M1"]["rate"] == pytest.approx(0.2)  # c: 2000 of 10000 back to M0
    assert cures["M1"]["cured"] == 2_000
    assert cures["M2"]["rate"] == 0.0
    assert "M0" not in cures
    # overall: 2000 cured / (10000 + 500) delinquent at t−1; paid-off e is not a cure
    assert pf.overall_cure_rate(matrix, BUCKETS) == pytest.approx(2_000 / 10_500)


# ------------------------------------------------------------------------------ vintage (R6)

VLOANS = pl.DataFrame(
    {
        "loan_id": ["X", "Y"],
        "principal": [1_000, 3_000],
        "disbursed_on": [date(2026, 1, 10), date(2026, 1, 20)],
    }
)


def _points() -> pl.DataFrame:
    month_ends = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    x = [0, 0, 35, 0]  # X is 35 DPD at the end of March, cured in April
    y = [0, 0, 0, 0]
    frames = []
    for loan, dpds in (("X", x), ("Y", y)):
        for d, dpd in zip(month_ends, dpds, strict=True):
            bucket = "M0" if dpd == 0 else "M2"
            frames.append(
                snap([(loan, "active" if dpd == 0 else "overdue", dpd, bucket, "normal", 1, 1)], d)
            )
    return pl.concat(frames)


def test_vintage_ever_versus_current():
    v = pf.vintage(_points(), VLOANS, days=30)
    assert v.get_column("cohort").unique().to_list() == ["2026-01"]
    assert v.get_column("mob").to_list() == [0, 1, 2, 3]
    by_mob = {r["mob"]: r for r in v.iter_rows(named=True)}
    # MOB2 (March): X is 35 DPD → ever = current = 1000 / 4000 by amount, 1/2 by count
    assert by_mob[2]["ever_amount"] == pytest.approx(0.25)
    assert by_mob[2]["current_amount"] == pytest.approx(0.25)
    assert by_mob[2]["ever_count"] == pytest.approx(0.5)
    # MOB3 (April): X cured — still "ever", no longer "current"
    assert by_mob[3]["ever_amount"] == pytest.approx(0.25)
    assert by_mob[3]["current_amount"] == 0.0
    assert by_mob[3]["current_count"] == 0.0
    assert by_mob[0]["ever_amount"] == 0.0
    assert by_mob[3]["principal"] == 4_000  # original principal is the denominator


def test_vintage_ever_sees_history_between_month_ends():
    # Y was 31 DPD mid-February and paid before the month end
    history = pl.concat(
        [_points(), snap([("Y", "overdue", 31, "M2", "special_mention", 2, 1)], date(2026, 2, 15))]
    )
    v = pf.vintage(_points(), VLOANS, days=30, history=history)
    by_mob = {r["mob"]: r for r in v.iter_rows(named=True)}
    assert by_mob[0]["ever_amount"] == 0.0
    assert by_mob[1]["ever_amount"] == pytest.approx(0.75)  # Y 3000 / 4000
    assert by_mob[1]["current_amount"] == 0.0
    assert by_mob[2]["ever_amount"] == pytest.approx(1.0)  # X joins in March


# ------------------------------------------------------------------------------ FPD


def test_first_payment_default():
    first = pl.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3"],
            "first_due_on": [date(2026, 1, 15), date(2026, 1, 20), date(2026, 3, 10)],
            "second_due_on": [date(2026, 2, 15), date(2026, 2, 20), date(2026, 4, 10)],
            "principal": [1_000, 3_000, 5_000],
        }
    )
    history = pl.concat(
        [
            # L1: 44 DPD on Feb 28 → oldest unpaid due = Jan 15, its first instalment → FPD30
            snap([("L1", "overdue", 44, "M2", "special_mention", 2, 1)], date(2026, 2, 28)),
            # L2: 39 DPD on Mar 31 → oldest unpaid due = Feb 20, its SECOND instalment → not FPD
            snap([("L2", "overdue", 39, "M2", "special_mention", 2, 1)], date(2026, 3, 31)),
            # L3: first due Mar 10, not x+1 = 31 days before Mar 31 → not eligible
            snap([("L3", "overdue", 21, "M1", "special_mention", 1, 1)], date(2026, 3, 31)),
        ]
    )
    fpd = pf.first_payment_default(history, first, date(2026, 3, 31), days=30)
    assert fpd["eligible_loans"] == 2
    assert fpd["defaulted_loans"] == 1
    assert fpd["rate_count"] == pytest.approx(0.5)
    assert fpd["rate_amount"] == pytest.approx(1_000 / 4_000)
    # a 60-day threshold: L1 at 44 DPD never passed it
    assert (
        pf.first_payment_default(history, first, date(2026, 3, 31), days=60)["defaulted_loans"] == 0
    )


# ------------------------------------------------------------------------------ movers, dates, R3


def test_top_movers_by_bucket_steps_then_balance():
    movers = pf.top_movers(JAN, FEB, BUCKETS, limit=5)
    # d M1→M2 and b M0→M1 both fell one bucket: d (6000) before b (3000); c cured, g is new
    # and current, f was written off (off book)
    assert movers.get_column("loan_id").to_list() == ["d", "b"]
    d = movers.row(0, named=True)
    assert (d["from_dpd"], d["to_dpd"], d["dpd_increase"], d["steps"]) == (20, 48, 28, 1)


def test_month_ends():
    days = [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2028, 2, 28),
        date(2028, 2, 29),
    ]
    assert pf.month_ends(days, date(2030, 1, 1)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2028, 2, 29),
    ]
    assert pf.month_ends(days, date(2026, 2, 27)) == [date(2026, 1, 31)]


def test_bucket_names_and_version_come_from_the_catalog():
    catalog = load_catalog()
    products = list(catalog.products.values())
    assert pf.bucket_names(products) == BUCKETS
    version = pf.bucket_version(products)
    assert version == pf.bucket_version(products[:1])  # same table → same version
    other = products[0].model_copy(
        update={"buckets": table(("C", 0, 0), ("X1", 1, 29), ("X2", 30, None))}
    )
    assert pf.bucket_version([other]) != version
    assert pf.bucket_tables([other])[other.code][1] == ["X1", 1, 29]
