"""Vectorised parsing of the text columns: exact decimal amounts, dates, integers, rates.

Every parser returns Polars expressions; a value that does not parse becomes null, and a separate
expression says why, so checks can report the failing rows only. No floats touch money: an amount
is split into its integer and fraction digits and assembled as integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from arrears.loans.money import MINOR_UNITS

DECIMAL_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
INTEGER_RE = r"^\+?\d{1,9}$"
MAX_INTEGER_DIGITS = 15  # 10^15 major units × 1000 still fits in a signed 64-bit integer
MAX_EXPONENT = max(MINOR_UNITS.values())  # 3

# currency code → exponent, as a frame for joins
CURRENCIES = pl.DataFrame(
    {"__currency": list(MINOR_UNITS), "__exp": list(MINOR_UNITS.values())},
    schema={"__currency": pl.String, "__exp": pl.Int64},
)


@dataclass(frozen=True)
class Amount:
    """Expressions for one amount column, given an exponent expression (null: unknown currency)."""

    well_formed: pl.Expr  # null value → null
    too_large: pl.Expr
    decimals: pl.Expr  # significant decimals (trailing zeros do not count)
    minor: pl.Expr  # exact integer minor units, null when not representable


def amount(column: str, exponent: pl.Expr) -> Amount:
    text = pl.col(column)
    well_formed = text.str.contains(DECIMAL_RE)
    body = text.str.strip_chars_start("+-")
    negative = text.str.starts_with("-")
    whole = body.str.extract(r"^(\d*)", 1).str.strip_chars_start("0")
    fraction = body.str.extract(r"\.(\d*)$", 1).fill_null("").str.strip_chars_end("0")
    decimals = fraction.str.len_chars().cast(pl.Int64)
    too_large = well_formed & (whole.str.len_chars() > MAX_INTEGER_DIGITS)
    ok = well_formed & ~too_large & (decimals <= exponent)
    whole_value = (
        pl.when(whole == "").then(pl.lit(0, pl.Int64)).otherwise(whole.cast(pl.Int64, strict=False))
    )
    # fraction padded to three digits, then scaled down to the currency's exponent: exact,
    # because `decimals <= exponent` leaves only zeros to drop.
    frac3 = fraction.str.pad_end(MAX_EXPONENT, "0").str.slice(0, MAX_EXPONENT).cast(pl.Int64)
    scale = exponent.replace_strict(
        {0: 1, 1: 10, 2: 100, 3: 1000}, default=None, return_dtype=pl.Int64
    )
    drop = exponent.replace_strict(
        {0: 1000, 1: 100, 2: 10, 3: 1}, default=None, return_dtype=pl.Int64
    )
    magnitude = whole_value * scale + frac3 // drop
    minor = pl.when(ok).then(pl.when(negative).then(-magnitude).otherwise(magnitude))
    return Amount(well_formed, too_large, decimals, minor)


def amount_to_minor(values: list[str | None], currency: str) -> list[int | None]:
    """Convenience for tests and single values: text amounts → minor units (None: not exact)."""
    frame = pl.DataFrame({"a": values}, schema={"a": pl.String})
    exp = pl.lit(MINOR_UNITS[currency], pl.Int64)
    return frame.select(amount("a", exp).minor.alias("m")).get_column("m").to_list()


def date_(column: str) -> pl.Expr:
    """ISO `YYYY-MM-DD` → Date; null when malformed or not a calendar date."""
    text = pl.col(column)
    return pl.when(text.str.contains(DATE_RE)).then(text.str.to_date("%Y-%m-%d", strict=False))


def integer(column: str) -> pl.Expr:
    text = pl.col(column)
    return pl.when(text.str.contains(INTEGER_RE)).then(
        text.str.strip_chars_start("+").cast(pl.Int64, strict=False)
    )


# Exact range checks on decimal text, without floats.
NON_NEGATIVE_RE = r"^\+?(\d+(\.\d*)?|\.\d+)$"
AT_MOST_ONE_RE = r"^\+?(0*(\.\d*)?|0*1(\.0*)?|\.\d+)$"
