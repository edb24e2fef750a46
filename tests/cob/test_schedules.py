"""`cob.schedules.build_schedules` equals `loans.schedule.build_schedule`, row for row, to the
minor unit, for random terms: every generated method, interest basis and rounding rule, month-end
dates, principals up to 10^11 minor units, rates with up to 4 decimals, terms up to 360 months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.cob.schedules import build_schedules
from arrears.loans.product import Product
from arrears.loans.schedule import build_schedule
from arrears.loans.terms import LoanTerms

PRODUCTS = {
    f"{basis}_{rounding}": Product(
        code=f"{basis}_{rounding}",
        name_zh="测试",
        name_en="test",
        interest_basis=basis,
        rounding=rounding,
    )
    for basis in ("monthly", "act365", "act360")
    for rounding in ("half_up", "half_even", "down")
}


@dataclass(frozen=True)
class FakeCatalog:
    def get(self, code: str) -> Product:
        return PRODUCTS[code]


METHODS = ("equal_installment", "equal_principal", "interest_only", "bullet")
MONTH_ENDS = [date(2023, m, 1) - timedelta(days=1) for m in range(2, 13)] + [
    date(2024, 1, 31),
    date(2024, 2, 29),
    date(2028, 1, 31),
]


@st.composite
def loan_terms(draw: st.DrawFn, index: int = 0) -> dict[str, object]:
    disbursed = draw(
        st.one_of(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
            st.sampled_from(MONTH_ENDS),
        )
    )
    first_due = draw(
        st.one_of(
            st.none(),
            st.integers(1, 70).map(lambda d: disbursed + timedelta(days=d)),
        )
    )
    digits = draw(st.integers(0, 4))
    rate_units = draw(st.integers(0, 36 * 10 ** max(digits - 2, 0) if digits >= 2 else 0))
    if digits < 2:
        rate = Decimal(draw(st.sampled_from(["0", "0.1", "0.2", "0.3", ".3"])))
    else:
        rate = Decimal(rate_units).scaleb(-digits)
    rate_text = draw(st.sampled_from([str(rate), f"{rate}0" if "." in str(rate) else str(rate)]))
    return {
        "principal": draw(
            st.one_of(st.integers(1, 10**4), st.integers(1, 10**8), st.integers(1, 10**11))
        ),
        "annual_rate": rate_text,
        "term_months": draw(st.one_of(st.integers(1, 36), st.integers(1, 360))),
        "repayment_method": draw(st.sampled_from(METHODS)),
        "disbursed_on": disbursed,
        "first_due_on": first_due,
        "interest_basis": draw(st.sampled_from([None, "monthly", "act365", "act360"])),
        "product": draw(st.sampled_from(sorted(PRODUCTS))),
    }


def _expected(loan_id: str, row: dict[str, object]) -> list[tuple[object, ...]]:
    product = PRODUCTS[row["product"]]  # type: ignore[index]
    terms = LoanTerms(
        principal=row["principal"],  # type: ignore[arg-type]
        annual_rate=Decimal(str(row["annual_rate"])),
        term_months=row["term_months"],  # type: ignore[arg-type]
        method=row["repayment_method"],  # type: ignore[arg-type]
        disbursed_on=row["disbursed_on"],  # type: ignore[arg-type]
        first_due_on=row["first_due_on"],  # type: ignore[arg-type]
        interest_basis=row["interest_basis"],  # type: ignore[arg-type]
    )
    return [
        (loan_id, i.seq, i.due_on, i.principal, i.interest, i.fee)
        for i in build_schedule(terms, product.interest_basis, product.rounding)
    ]


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"loan_id": f"L{i}", **row} for i, row in enumerate(rows)],
        schema={
            "loan_id": pl.String,
            "principal": pl.Int64,
            "annual_rate": pl.String,
            "term_months": pl.Int64,
            "repayment_method": pl.String,
            "disbursed_on": pl.Date,
            "first_due_on": pl.Date,
            "interest_basis": pl.String,
            "product": pl.String,
        },
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(loan_terms(), min_size=1, max_size=25))
def test_columnar_schedules_equal_build_schedule(rows: list[dict[str, object]]) -> None:
    got = build_schedules(_frame(rows), FakeCatalog())
    expected = [r for i, row in enumerate(rows) for r in _expected(f"L{i}", row)]
    assert got.rows() == expected


def test_annuity_near_rounding_boundary_falls_back_to_decimal() -> None:
    # Many loans of one shape with principals stepping by one minor unit: some annuities land
    # within float noise of x.5; every one must still match the Decimal rule.
    rows = [
        {
            "principal": 10**10 + p,
            "annual_rate": "0.0365",
            "term_months": 360,
            "repayment_method": "equal_installment",
            "disbursed_on": date(2024, 1, 31),
            "first_due_on": None,
            "interest_basis": None,
            "product": "monthly_half_even",
        }
        for p in range(400)
    ]
    got = build_schedules(_frame(rows), FakeCatalog())
    expected = [r for i, row in enumerate(rows) for r in _expected(f"L{i}", row)]
    assert got.rows() == expected


def test_empty_book() -> None:
    assert build_schedules(_frame([]), FakeCatalog()).height == 0


def test_month_end_anchor_and_default_first_due() -> None:
    rows = [
        {
            "principal": 300_00,
            "annual_rate": "0.12",
            "term_months": 4,
            "repayment_method": "equal_principal",
            "disbursed_on": date(2026, 1, 31),
            "first_due_on": None,
            "interest_basis": None,
            "product": "monthly_half_up",
        }
    ]
    got = build_schedules(_frame(rows), FakeCatalog())
    assert got.get_column("due_on").to_list() == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
