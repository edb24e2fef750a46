"""Exact conversion of decimal text to minor units, vectorised, against Decimal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.imports.parse import amount_to_minor
from arrears.loans.money import MINOR_UNITS

CURRENCIES = sorted(MINOR_UNITS)


@st.composite
def amount_texts(draw: st.DrawFn) -> tuple[str, str]:
    currency = draw(st.sampled_from(CURRENCIES))
    exp = MINOR_UNITS[currency]
    whole = draw(st.integers(min_value=0, max_value=10**15 - 1))
    decimals = draw(st.integers(min_value=0, max_value=exp))
    frac = draw(st.integers(min_value=0, max_value=10**decimals - 1)) if decimals else 0
    sign = draw(st.sampled_from(["", "-", "+"]))
    zeros = "0" * draw(st.integers(0, 2))  # trailing zeros beyond the exponent are harmless
    text = f"{sign}{whole}" + (
        f".{frac:0{decimals}d}{zeros}" if decimals else (f".{zeros}" if zeros else "")
    )
    return text, currency


@given(amount_texts())
def test_amount_with_allowed_decimals_converts_exactly(case: tuple[str, str]) -> None:
    text, currency = case
    expected = int(Decimal(text).scaleb(MINOR_UNITS[currency]))
    assert amount_to_minor([text], currency) == [expected]


@given(
    st.sampled_from(CURRENCIES),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=9),
)
def test_too_many_decimals_is_refused(currency: str, whole: int, last: int) -> None:
    exp = MINOR_UNITS[currency]
    text = f"{whole}." + "0" * exp + str(last)  # one significant decimal too many
    assert amount_to_minor([text], currency) == [None]


def test_examples() -> None:
    assert amount_to_minor(["1234.56", "1.005", "1.50", ".5", "abc", None], "CNY") == [
        123456,
        None,
        150,
        50,
        None,
        None,
    ]
    assert amount_to_minor(["1.5", "12", "12.0"], "JPY") == [None, 12, 12]
    assert amount_to_minor(["1.005"], "KWD") == [1005]
